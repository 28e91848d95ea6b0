"""A persistent judgment cache in SQLite, safe across threads and processes."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from .base import Judge, JudgeRequest

__all__ = ["CachedJudge", "JudgmentCache", "default_cache_path", "judgment_key"]


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

    def __len__(self) -> int:
        return self._connection().execute("SELECT COUNT(*) FROM judgments").fetchone()[0]

    def clear(self) -> None:
        """Delete every stored judgment."""
        connection = self._connection()
        with connection:
            connection.execute("DELETE FROM judgments")


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

    def _key(self, label: str, description: str, text: str) -> str:
        return judgment_key(self.backend, self.name, "", label, description, text)

    def judge(self, requests: Sequence[JudgeRequest]) -> list[np.ndarray]:
        """Answer from the cache; ask the wrapped judge about the rest and store its answers."""
        if not isinstance(self.wrapped, Judge):
            raise TypeError(f"CachedJudge wraps a zsclassify Judge; got {type(self.wrapped).__name__}.")
        store = self.store
        results, missing = [], []  # missing: (request index, positions of uncached texts)
        for index, request in enumerate(requests):
            keys = [self._key(request.label, request.description, text) for text in request.texts]
            cached = store.get_many(keys)
            results.append(np.array([cached.get(key, np.nan) for key in keys], dtype=float))
            positions = [p for p, key in enumerate(keys) if key not in cached]
            if positions:
                missing.append((index, positions))
        if not missing:
            return results
        asked = [
            JudgeRequest(requests[i].label, requests[i].description, tuple(requests[i].texts[p] for p in positions))
            for i, positions in missing
        ]
        answers = self.wrapped.judge(asked)
        if len(answers) != len(asked):
            raise ValueError(f"{self.wrapped!r} returned {len(answers)} score lists for {len(asked)} requests.")
        self.n_requests += len(asked)
        for (index, positions), request, answer in zip(missing, asked, answers):
            scores = np.asarray(answer, dtype=float).ravel()
            if len(scores) != len(positions):
                raise ValueError(f"{self.wrapped!r} returned {len(scores)} scores for {len(positions)} texts.")
            self.n_pairs_sent += len(scores)
            results[index][positions] = scores
            store.put_many(
                {
                    self._key(request.label, request.description, text): (
                        self.backend, self.name, "", request.label, request.description, text, float(score)
                    )
                    for text, score in zip(request.texts, scores)
                    if 0.0 <= score <= 1.0  # NaN and out-of-range answers are not kept
                }
            )  # fmt: skip
        return results
