"""The judgment cache: one SQLite store, one key scheme, one lookup-ask-store loop for every judge.

:func:`judge_with_cache` is the only place judgments are read from and written to the
cache: :class:`~zsclassify.judges.LLMJudge` runs its requests through it, and
:class:`CachedJudge` gives any other judge the same.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..exceptions import InvalidJudgeResponseError
from ._base import Judge, JudgeRequest

__all__ = ["CacheNamespace", "CachedJudge", "JudgmentCache", "default_cache_path", "judge_with_cache", "judgment_key"]


def default_cache_path() -> Path:
    """``$ZSCLASSIFY_CACHE_DIR`` or ``$XDG_CACHE_HOME/zsclassify`` (``~/.cache/zsclassify``), file judgments.sqlite."""
    root = os.environ.get("ZSCLASSIFY_CACHE_DIR")
    if root is None:
        root = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "zsclassify"
    return Path(root) / "judgments.sqlite"


def judgment_key(backend: str, model: str, prompt_version: str, label: str, description: str, text: str) -> str:
    """Hash of everything that changes an answer."""
    payload = json.dumps([backend, model, prompt_version, label, description, text], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CacheNamespace:
    """What, besides the pair, changes an answer: the judge's backend, its model and its prompt version."""

    backend: str
    model: str
    version: str

    def key(self, label: str, description: str, text: str) -> str:
        """The cache key of one pair."""
        return judgment_key(self.backend, self.model, self.version, label, description, text)


class JudgmentCache:
    """Judgments stored on disk, keyed by :func:`judgment_key`.

    Every write is committed at once, so a fit killed halfway keeps what it paid
    for. SQLite's write-ahead log and a busy timeout make it safe to share between
    threads and processes. Inspect it with any SQLite client (table ``judgments``).

    Parameters
    ----------
    path : str or Path
        The database file; created with its folder when missing.

    Attributes
    ----------
    hits, misses : int
        Lookups answered and not answered by the cache, in this process.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.hits = 0
        self.misses = 0
        self._local = threading.local()
        self._counter_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"JudgmentCache({str(self.path)!r})"

    def __getstate__(self) -> dict:
        return {"path": self.path, "hits": self.hits, "misses": self.misses}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["path"])
        self.hits, self.misses = state["hits"], state["misses"]

    def __deepcopy__(self, memo: dict) -> JudgmentCache:
        return self  # clones of an estimator share one cache (and its counters)

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=60.0)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute(
                "CREATE TABLE IF NOT EXISTS judgments (key TEXT PRIMARY KEY, backend TEXT, model TEXT, "
                "prompt_version TEXT, label TEXT, description TEXT, utterance TEXT, score REAL, created REAL)"
            )
            connection.commit()
            self._local.connection = connection
        return connection

    def get_many(self, keys: Iterable[str]) -> dict[str, float]:
        """Scores of the keys found in the cache."""
        keys = list(keys)
        found: dict[str, float] = {}
        connection = self._connection()
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = connection.execute(f"SELECT key, score FROM judgments WHERE key IN ({marks})", chunk)
            found.update(rows.fetchall())
        with self._counter_lock:
            self.hits += len(found)
            self.misses += len(keys) - len(found)
        return found

    def put_many(self, rows: Mapping[str, tuple[str, str, str, str, str, str, float]]) -> None:
        """Store ``key -> (backend, model, prompt_version, label, description, utterance, score)``."""
        if not rows:
            return
        now = time.time()
        connection = self._connection()
        with connection:
            connection.executemany(
                "INSERT OR REPLACE INTO judgments VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(key, *values, now) for key, values in rows.items()],
            )

    def save(self, namespace: CacheNamespace, request: JudgeRequest, scores: Sequence[float]) -> None:
        """Store the scores in [0, 1] of ``request``'s texts (NaN and out-of-range answers are not kept)."""
        self.put_many(
            {
                namespace.key(request.label, request.description, text): (
                    namespace.backend, namespace.model, namespace.version,
                    request.label, request.description, text, float(score),
                )
                for text, score in zip(request.texts, scores)
                if 0.0 <= score <= 1.0
            }
        )  # fmt: skip

    def __len__(self) -> int:
        return self._connection().execute("SELECT COUNT(*) FROM judgments").fetchone()[0]

    def clear(self) -> None:
        """Delete every stored judgment."""
        connection = self._connection()
        with connection:
            connection.execute("DELETE FROM judgments")


Ask = Callable[[list[JudgeRequest]], Iterator[tuple[int, Sequence[float]]]]


def judge_with_cache(
    store: JudgmentCache | None,
    namespace: CacheNamespace,
    requests: Sequence[JudgeRequest],
    ask: Ask,
    batch_size: int | None = None,
) -> list[np.ndarray]:
    """Answer ``requests`` from ``store``; ``ask`` about the rest, storing each answer as it arrives.

    Parameters
    ----------
    store : JudgmentCache or None
        ``None`` caches nothing (every pair is asked).
    namespace : CacheNamespace
        The judge's part of the key.
    requests : sequence of JudgeRequest
    ask : callable
        Gets the requests of pairs missing from the cache (at most ``batch_size`` texts
        each) and yields ``(index into them, scores)`` as answers arrive; a request it
        does not yield stays NaN.
    batch_size : int, optional
        Most texts per asked request; by default one request per label.

    Returns
    -------
    list of ndarray
        One score array per request, NaN where neither the cache nor ``ask`` answered.
    """
    results = [np.full(len(request.texts), np.nan) for request in requests]
    asked: list[JudgeRequest] = []
    where: list[tuple[int, list[int]]] = []
    for index, request in enumerate(requests):
        keys = [namespace.key(request.label, request.description, text) for text in request.texts]
        cached = store.get_many(keys) if store is not None else {}
        todo = []
        for position, key in enumerate(keys):
            if key in cached:
                results[index][position] = cached[key]
            else:
                todo.append(position)
        step = batch_size or max(len(todo), 1)
        for start in range(0, len(todo), step):
            positions = todo[start : start + step]
            asked.append(replace(request, texts=tuple(request.texts[p] for p in positions)))
            where.append((index, positions))
    for number, scores in ask(asked):
        index, positions = where[number]
        results[index][positions] = scores
        if store is not None:
            store.save(namespace, asked[number], scores)  # saved as soon as answered (and paid for)
    return results


class CachedJudge(Judge):
    """Give any judge the persistent cache: only pairs never judged before reach it.

    LLM judges (:class:`~zsclassify.judges.AnthropicJudge`,
    :class:`~zsclassify.judges.OpenAICompatibleJudge`) cache on their own; wrap
    your own judge, e.g. a :class:`~zsclassify.judges.CallableJudge` calling an
    in-house service, to get the same: a second fit, or a grid search's refits,
    send it nothing already answered.

    Parameters
    ----------
    wrapped : Judge
        The judge asked about pairs missing from the cache.
    name : str
        Part of the cache key: change it whenever the wrapped judge could answer
        differently (another model, prompt or threshold).
    cache : str, Path or JudgmentCache, default "auto"
        The SQLite file (``"auto"``: :func:`default_cache_path`) or a shared cache.

    Attributes
    ----------
    n_requests, n_pairs_sent : int
        Requests (one per label and call) and pairs passed to ``wrapped``.
        Clones of an estimator share the wrapper, so these count over a whole grid search.
    """

    backend = "cached"

    def __init__(self, wrapped: Judge, name: str, cache: str | os.PathLike | JudgmentCache = "auto") -> None:
        self.wrapped = wrapped
        self.name = name
        self.cache = cache
        self.n_requests = 0
        self.n_pairs_sent = 0

    def __repr__(self) -> str:
        return f"CachedJudge({self.wrapped!r}, name={self.name!r})"

    def __deepcopy__(self, memo: dict) -> CachedJudge:
        return self  # clones of an estimator share one wrapper, its cache and its counters

    @property
    def store(self) -> JudgmentCache:
        """The cache, opened on first use."""
        if not isinstance(self.cache, JudgmentCache):
            self.cache = JudgmentCache(default_cache_path() if self.cache == "auto" else self.cache)
        return self.cache

    def judge(self, requests: Sequence[JudgeRequest]) -> list[np.ndarray]:
        """Answer from the cache; ask the wrapped judge about the rest and store its answers."""
        if not isinstance(self.wrapped, Judge):
            raise TypeError(f"CachedJudge wraps a zsclassify Judge; got {type(self.wrapped).__name__}.")
        return judge_with_cache(self.store, CacheNamespace(self.backend, self.name, ""), requests, self._ask)

    def _ask(self, asked: list[JudgeRequest]) -> Iterator[tuple[int, np.ndarray]]:
        if not asked:
            return
        answers = self.wrapped.judge(asked)
        if len(answers) != len(asked):
            raise InvalidJudgeResponseError(
                f"{self.wrapped!r} returned {len(answers)} score lists for {len(asked)} requests."
            )
        self.n_requests += len(asked)
        for number, (request, answer) in enumerate(zip(asked, answers)):
            scores = np.asarray(answer, dtype=float).ravel()
            if len(scores) != len(request.texts):
                raise InvalidJudgeResponseError(
                    f"{self.wrapped!r} returned {len(scores)} scores for {len(request.texts)} texts.",
                    label=request.label,
                )
            self.n_pairs_sent += len(scores)
            yield number, scores
