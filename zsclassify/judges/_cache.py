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
from ._base import ChoiceRequest, Judge, JudgeRequest, LabelOption

__all__ = [
    "CacheNamespace",
    "CachedJudge",
    "JudgmentCache",
    "answer_with_cache",
    "choose_with_cache",
    "default_cache_path",
    "judge_with_cache",
    "judgment_key",
]


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

    def save(self, namespace: CacheNamespace, triples: Sequence[Triple], scores: Sequence[float]) -> None:
        """Store one answer: the score of each (label, description, utterance) triple.

        An answer with a NaN or out-of-range score is not kept (it would be read back whole).
        """
        if not all(0.0 <= score <= 1.0 for score in scores):
            return
        self.put_many(
            {
                namespace.key(*triple): (namespace.backend, namespace.model, namespace.version, *triple, float(score))
                for triple, score in zip(triples, scores)
            }
        )

    def __len__(self) -> int:
        return self._connection().execute("SELECT COUNT(*) FROM judgments").fetchone()[0]

    def clear(self) -> None:
        """Delete every stored judgment."""
        connection = self._connection()
        with connection:
            connection.execute("DELETE FROM judgments")


Ask = Callable[[list[JudgeRequest]], Iterator[tuple[int, Sequence[float]]]]
AskChoices = Callable[[list[tuple[ChoiceRequest, ...]]], Iterator[tuple[int, Sequence[Sequence[float]]]]]
Triple = tuple[str, str, str]  # (label, description, utterance): one stored score


def answer_with_cache(
    store: JudgmentCache | None,
    namespace: CacheNamespace,
    items: Sequence[Sequence[Triple]],
    ask: Callable[[list[int]], Iterator[tuple[int, Sequence[float]]]],
) -> list[np.ndarray]:
    """The one lookup-ask-store loop: answer ``items`` from ``store``, ``ask`` about the rest.

    An item is the list of (label, description, utterance) triples whose scores form one
    answer: one triple for a yes/no pair, one per option (and one for "none") for a
    multiple choice. An item is read from the cache only whole.

    Parameters
    ----------
    store : JudgmentCache or None
        ``None`` caches nothing (every item is asked).
    namespace : CacheNamespace
        The judge's part of the key.
    items : sequence of sequences of (label, description, utterance)
    ask : callable
        Gets the indices of the items missing from the cache and yields ``(item index,
        scores)`` as answers arrive; each answer is stored at once. An item it does not
        yield stays NaN.

    Returns
    -------
    list of ndarray
        One score array per item.
    """
    keys = [[namespace.key(*triple) for triple in item] for item in items]
    cached = store.get_many([key for item_keys in keys for key in item_keys]) if store is not None else {}
    results, missing = [], []
    for index, item_keys in enumerate(keys):
        if item_keys and all(key in cached for key in item_keys):
            results.append(np.array([cached[key] for key in item_keys], dtype=float))
        else:
            results.append(np.full(len(item_keys), np.nan))
            missing.append(index)
    for index, scores in ask(missing) if missing else ():
        results[index] = np.asarray(scores, dtype=float)
        if store is not None:
            store.save(namespace, items[index], results[index])  # saved as soon as answered (and paid for)
    return results


def judge_with_cache(
    store: JudgmentCache | None,
    namespace: CacheNamespace,
    requests: Sequence[JudgeRequest],
    ask: Ask,
    batch_size: int | None = None,
) -> list[np.ndarray]:
    """Yes/no scores of ``requests``: from ``store`` where known, else from ``ask``.

    ``ask`` gets requests of pairs missing from the cache (at most ``batch_size`` texts
    each, by default one request per label) and yields ``(index into them, scores)``.
    """
    pairs = [(index, position) for index, request in enumerate(requests) for position in range(len(request.texts))]
    items = [[(requests[i].label, requests[i].description, requests[i].texts[p])] for i, p in pairs]

    def ask_pairs(missing: list[int]) -> Iterator[tuple[int, Sequence[float]]]:
        by_request: dict[int, list[int]] = {}
        for m in missing:
            by_request.setdefault(pairs[m][0], []).append(m)
        groups: list[list[int]] = []  # pair numbers of each asked request
        for of_request in by_request.values():
            step = batch_size or len(of_request)
            groups += [of_request[start : start + step] for start in range(0, len(of_request), step)]
        asked = [replace(requests[pairs[group[0]][0]], texts=tuple(items[m][0][2] for m in group)) for group in groups]
        for number, scores in ask(asked):
            for m, score in zip(groups[number], scores):
                yield m, [score]

    answers = answer_with_cache(store, namespace, items, ask_pairs)
    results = [np.full(len(request.texts), np.nan) for request in requests]
    for (index, position), answer in zip(pairs, answers):
        results[index][position] = answer[0]
    return results


NONE_OPTION = LabelOption("<none of these>", "")
"""Stored as the last option of every cached choice: the probability that no candidate fits."""


def choice_items(requests: Sequence[ChoiceRequest]) -> list[list[Triple]]:
    """The stored triples of each choice: one per option, then "none".

    The namespace of a choice already names the question; the options' order is part
    of each triple's label so that the same options in another order are asked anew.
    """
    items = []
    for request in requests:
        context = json.dumps([option.name for option in request.options], ensure_ascii=False)
        items.append(
            [
                (f"{option.name}\x00{context}", option.description, request.text)
                for option in (*request.options, NONE_OPTION)
            ]
        )
    return items


def choose_with_cache(
    store: JudgmentCache | None,
    namespace: CacheNamespace,
    requests: Sequence[ChoiceRequest],
    ask: AskChoices,
    batch_size: int | None = None,
) -> list[np.ndarray]:
    """Choice probabilities of ``requests``: from ``store`` where known, else from ``ask``.

    ``ask`` gets the uncached choices in batches (at most ``batch_size`` each, by default
    one batch) and yields ``(batch number, answers)``: for each choice of the batch, a
    probability per option and one for "none".
    """
    choice_space = replace(namespace, version=f"{namespace.version}:choice")

    def ask_choices(missing: list[int]) -> Iterator[tuple[int, Sequence[float]]]:
        step = batch_size or len(missing)
        batches = [missing[start : start + step] for start in range(0, len(missing), step)]
        for number, answers in ask([tuple(requests[m] for m in batch) for batch in batches]):
            yield from zip(batches[number], answers)

    return answer_with_cache(store, choice_space, choice_items(requests), ask_choices)


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

    @property
    def supports_choice(self) -> bool:
        """Whether the wrapped judge answers multiple-choice questions."""
        return isinstance(self.wrapped, Judge) and self.wrapped.supports_choice

    def _namespace(self) -> CacheNamespace:
        if not isinstance(self.wrapped, Judge):
            raise TypeError(f"CachedJudge wraps a zsclassify Judge; got {type(self.wrapped).__name__}.")
        return CacheNamespace(self.backend, self.name, "")

    def judge(self, requests: Sequence[JudgeRequest]) -> list[np.ndarray]:
        """Answer from the cache; ask the wrapped judge about the rest and store its answers."""
        return judge_with_cache(self.store, self._namespace(), requests, self._ask)

    def choose(self, requests: Sequence[ChoiceRequest]) -> list[np.ndarray]:
        """Choices from the cache; the wrapped judge's :meth:`~Judge.choose` for the rest, stored."""
        return choose_with_cache(self.store, self._namespace(), requests, self._ask_choices)

    def _ask(self, asked: list[JudgeRequest]) -> Iterator[tuple[int, np.ndarray]]:
        answers = self.wrapped.judge(asked)
        for number, scores in enumerate(self._checked(answers, [len(request.texts) for request in asked])):
            self.n_pairs_sent += len(scores)
            yield number, scores

    def _ask_choices(self, batches: list[tuple[ChoiceRequest, ...]]) -> Iterator[tuple[int, list[np.ndarray]]]:
        (asked,) = batches  # one batch: the wrapped judge gets every uncached choice at once
        yield 0, self._checked(self.wrapped.choose(asked), [len(request.options) + 1 for request in asked])

    def _checked(self, answers: Sequence, lengths: list[int]) -> list[np.ndarray]:
        """The wrapped judge's answers as arrays, after checking their count and lengths."""
        if len(answers) != len(lengths):
            raise InvalidJudgeResponseError(
                f"{self.wrapped!r} returned {len(answers)} answers for {len(lengths)} requests."
            )
        self.n_requests += len(lengths)
        arrays = [np.asarray(answer, dtype=float).ravel() for answer in answers]
        for array, length in zip(arrays, lengths):
            if len(array) != length:
                raise InvalidJudgeResponseError(
                    f"{self.wrapped!r} returned {len(array)} scores where {length} were due."
                )
        return arrays
