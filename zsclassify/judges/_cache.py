"""The judgment cache: one SQLite store, one key scheme, one lookup-ask-store loop for every judge.

:func:`judge_with_cache` is the only place judgments are read from and written to the
cache: :class:`~zsclassify.judges.LLMJudge` runs its requests through it, and
:class:`CachedJudge` gives any other judge the same.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import sqlite3
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from .._storage import cache_root
from ..exceptions import CacheError, InvalidJudgeResponseError
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
    "settings_text",
]

logger = logging.getLogger(__name__)

_NOTHING_SENT = "; nothing was sent to the judge for these pairs."

LOCK_TIMEOUT = 10.0
"""Seconds a cache waits for another process's write lock before :class:`~zsclassify.CacheError`."""

CLAIM_SECONDS = 1800.0
"""How long a claim on pairs in flight holds when its process cannot be checked (another host)."""

_POLL_SECONDS = 0.2
_COLUMNS = ("key", "backend", "model", "prompt_version", "label", "description", "utterance", "score", "created")
_OLD_COLUMNS = _COLUMNS  # the layout before ``settings`` was added; upgraded in place
_LAYOUT = (*_COLUMNS, "settings")
_HOST = socket.gethostname()


def default_cache_path() -> Path:
    """``$ZSCLASSIFY_CACHE_DIR`` or ``$XDG_CACHE_HOME/zsclassify`` (``~/.cache/zsclassify``), file judgments.sqlite.

    An empty variable counts as unset, and so does a relative ``XDG_CACHE_HOME`` (as the XDG
    specification says), so the cache never lands in the current directory by accident.
    """
    return cache_root() / "judgments.sqlite"


def judgment_key(
    backend: str, model: str, prompt_version: str, label: str, description: str, text: str, settings: str = ""
) -> str:
    """Hash of everything that changes an answer (``settings``: server and scoring options, when any)."""
    parts = [backend, model, prompt_version, label, description, text] + ([settings] if settings else [])
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CacheNamespace:
    """What, besides the pair, changes an answer.

    Attributes
    ----------
    backend, model, version : str
        The judge's backend, its model and its prompt version.
    settings : str
        Everything else that could change an answer (the server's URL, scoring options),
        serialised; see :func:`settings_text`.
    """

    backend: str
    model: str
    version: str
    settings: str = ""

    def key(self, label: str, description: str, text: str) -> str:
        """The cache key of one pair."""
        return judgment_key(self.backend, self.model, self.version, label, description, text, self.settings)


def settings_text(settings: Mapping[str, object]) -> str:
    """``settings`` as the stable text a :class:`CacheNamespace` holds (``None`` values left out)."""
    kept = {name: value for name, value in settings.items() if value is not None}
    return json.dumps(kept, sort_keys=True, ensure_ascii=False) if kept else ""


def _select(connection: sqlite3.Connection, query: str, keys: Sequence[str]) -> list[tuple]:
    """Rows of ``query`` (ending in ``WHERE key IN``) for ``keys``, 500 keys per statement."""
    rows: list[tuple] = []
    for start in range(0, len(keys), 500):
        chunk = list(keys[start : start + 500])
        rows += connection.execute(f"{query} ({','.join('?' * len(chunk))})", chunk).fetchall()
    return rows


def claim_key(keys: Sequence[str]) -> str:
    """The key under which one answer (the scores stored under ``keys``) is claimed while in flight."""
    return keys[0] if len(keys) == 1 else hashlib.sha256("\x00".join(sorted(keys)).encode("utf-8")).hexdigest()


def _process_alive(host: str, pid: int) -> bool:
    """False only when ``pid`` on this host is known to be gone (a killed fit's claims are stale)."""
    if host != _HOST:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


class JudgmentCache:
    """Judgments stored on disk, keyed by :func:`judgment_key`.

    Every write is committed at once, so a fit killed halfway keeps what it paid
    for. SQLite's write-ahead log and a bounded wait for locks make it safe to share
    between threads and processes. Inspect it with any SQLite client (table ``judgments``).

    Opening checks, before any request is paid for, that the file can be written and has
    the expected layout; otherwise :class:`~zsclassify.CacheError` names the file and what to
    do. Pairs in flight are *claimed* (table ``claims``) so that another process fitting on
    the same cache waits for their answers instead of buying them again.

    Parameters
    ----------
    path : str or Path
        The database file; created with its folder when missing.
    lock_timeout : float
        Seconds to wait for another process's write lock before giving up.

    Attributes
    ----------
    hits, misses : int
        Lookups answered and not answered by the cache, in this process.
    """

    def __init__(self, path: str | os.PathLike, lock_timeout: float = LOCK_TIMEOUT) -> None:
        self.path = Path(path)
        self.lock_timeout = lock_timeout
        self.hits = 0
        self.misses = 0
        self._local = threading.local()
        self._counter_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"JudgmentCache({str(self.path)!r})"

    def __getstate__(self) -> dict:
        return {"path": self.path, "lock_timeout": self.lock_timeout, "hits": self.hits, "misses": self.misses}

    def __setstate__(self, state: dict) -> None:
        JudgmentCache.__init__(self, state["path"], state.get("lock_timeout", LOCK_TIMEOUT))
        self.hits, self.misses = state["hits"], state["misses"]

    def __deepcopy__(self, memo: dict) -> JudgmentCache:
        return self  # clones of an estimator share one cache (and its counters)

    # ---------------------------------------------------------- opening and errors
    def _error(self, error: BaseException) -> CacheError:
        """A :class:`CacheError` that names the file and says what to do about ``error``."""
        text = str(error).lower()
        where = f"The judgment cache {str(self.path)!r}"
        if "not a database" in text or "malformed" in text or "corrupt" in text:
            advice = "is not a readable SQLite file (corrupted?). Delete it (its judgments are lost) or pass cache="
            advice += "<another file>"
        elif "locked" in text or "busy" in text:
            advice = (
                f"is locked by another process for more than {self.lock_timeout:g} s. Wait for it to finish, "
                "stop it, or pass cache=<another file>"
            )
        elif "readonly" in text or "read-only" in text or "permission" in text or "unable to open" in text:
            advice = "cannot be written. Fix the permissions of the file and its folder, or pass cache=<another file>"
        else:
            advice = f"cannot be used ({type(error).__name__}: {error}). Pass cache=<another file> or cache=None"
        return CacheError(f"{where} {advice}{_NOTHING_SENT}", path=str(self.path))

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                connection = sqlite3.connect(self.path, timeout=self.lock_timeout)
                self._prepare_when_free(connection)
            except (sqlite3.Error, OSError) as error:
                if connection is not None:
                    connection.close()
                if isinstance(error, CacheError):
                    raise
                raise self._error(error) from error
            self._local.connection = connection
        return connection

    def _prepare_when_free(self, connection: sqlite3.Connection) -> None:
        """:meth:`_prepare`, retried while another process holds the file, for up to ``lock_timeout`` seconds.

        Switching to WAL and upgrading a read to a write can fail with "database is locked" at once, without
        SQLite's busy handler, when two processes open a new file at the same moment.
        """
        deadline = time.monotonic() + self.lock_timeout
        pause = 0.01
        while True:
            try:
                self._prepare(connection)
                return
            except sqlite3.OperationalError as error:
                text = str(error).lower()
                if not ("locked" in text or "busy" in text) or time.monotonic() + pause > deadline:
                    raise
                if connection.in_transaction:
                    connection.rollback()
                time.sleep(pause)
                pause = min(2 * pause, 0.5)

    def _prepare(self, connection: sqlite3.Connection) -> None:
        """WAL mode, tables in the expected layout (an older one is upgraded), and a test write."""
        connection.execute("PRAGMA journal_mode=WAL")
        with connection:
            connection.execute("BEGIN IMMEDIATE")  # take the write lock first: a read upgraded later can deadlock
            columns = tuple(row[1] for row in connection.execute("PRAGMA table_info(judgments)"))
            if not columns:
                connection.execute(
                    "CREATE TABLE IF NOT EXISTS judgments (key TEXT PRIMARY KEY, backend TEXT, model TEXT, "
                    "prompt_version TEXT, label TEXT, description TEXT, utterance TEXT, score REAL, created REAL, "
                    "settings TEXT DEFAULT '')"
                )
            elif columns == _OLD_COLUMNS:
                connection.execute("ALTER TABLE judgments ADD COLUMN settings TEXT DEFAULT ''")
            elif columns != _LAYOUT:
                raise CacheError(
                    f"The judgment cache {str(self.path)!r} has a table 'judgments' with columns {list(columns)}, "
                    f"not the layout this version writes ({list(_LAYOUT)}). Pass cache=<another file>, or move this "
                    "one away; nothing was sent to the judge.",
                    path=str(self.path),
                )
            connection.execute(
                "CREATE TABLE IF NOT EXISTS claims (key TEXT PRIMARY KEY, owner TEXT, host TEXT, pid INTEGER, "
                "expires REAL)"
            )
        # a real write, so that a read-only file or a held lock shows now and not after paying
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("DELETE FROM claims WHERE expires < ?", (time.time(),))
        connection.execute("INSERT OR REPLACE INTO claims VALUES ('', '', '', 0, 0)")
        connection.execute("DELETE FROM claims WHERE key = ''")
        connection.execute("COMMIT")

    def check(self) -> None:
        """Open the file now: raise :class:`~zsclassify.CacheError` unless it can be read and written."""
        self._connection()

    def _write(self, statements: Sequence[tuple[str, Sequence]]) -> None:
        connection = self._connection()
        try:
            with connection:
                for sql, rows in statements:
                    connection.executemany(sql, rows)
        except sqlite3.Error as error:
            raise self._error(error) from error

    # ---------------------------------------------------------- judgments
    def _lookup(self, keys: Sequence[str]) -> dict[str, float]:
        try:
            return dict(_select(self._connection(), "SELECT key, score FROM judgments WHERE key IN", keys))
        except sqlite3.Error as error:
            raise self._error(error) from error

    def get_many(self, keys: Iterable[str]) -> dict[str, float]:
        """Scores of the keys found in the cache."""
        keys = list(keys)
        found = self._lookup(keys)
        with self._counter_lock:
            self.hits += len(found)
            self.misses += len(keys) - len(found)
        return found

    def put_many(self, rows: Mapping[str, tuple]) -> None:
        """Store ``key -> (backend, model, prompt_version, label, description, utterance, score[, settings])``."""
        if not rows:
            return
        now = time.time()
        values = [(key, *row[:7], now, row[7] if len(row) > 7 else "") for key, row in rows.items()]
        columns, marks = ", ".join(_LAYOUT), ", ".join("?" * len(_LAYOUT))
        self._write([(f"INSERT OR REPLACE INTO judgments ({columns}) VALUES ({marks})", values)])

    def save(
        self,
        namespace: CacheNamespace,
        answers: Sequence[tuple[Sequence[Triple], Sequence[float] | np.ndarray]],
        owner: str | None = None,
    ) -> None:
        """Store the answers of one request in one transaction: the scores of each answer's triples.

        An answer with a NaN or out-of-range score is not kept (it would be read back whole).
        With ``owner``, that owner's claims on the answers are released. When the write
        fails, the answers go to a side file named by the :class:`~zsclassify.CacheError`.
        """
        row = (namespace.backend, namespace.model, namespace.version)
        rows: dict[str, tuple] = {}
        claims: list[str] = []
        for triples, scores in answers:
            if all(0.0 <= score <= 1.0 for score in scores):
                keys = [namespace.key(*triple) for triple in triples]
                rows.update(
                    (key, (*row, *triple, float(score), namespace.settings))
                    for key, triple, score in zip(keys, triples, scores)
                )
                claims.append(claim_key(keys))
        try:
            self.put_many(rows)
        except CacheError as error:
            raise self._rescue(rows, error) from error
        if owner is not None and claims:
            self.release(claims, owner)

    def _rescue(self, rows: Mapping[str, tuple], error: CacheError) -> CacheError:
        """Append answers the cache could not store to a JSON Lines file; the error to raise names it.

        The file goes next to the cache, or to the system's temporary folder when that fails
        too; :meth:`restore` stores its answers once the cache works again.
        """
        lines = "".join(json.dumps({"key": key, "row": list(row)}) + "\n" for key, row in rows.items())
        for folder in (self.path.parent, Path(tempfile.gettempdir())):
            rescue = folder / f"{self.path.name}.unsaved.jsonl"
            try:
                with rescue.open("a", encoding="utf-8") as handle:
                    handle.write(lines)
            except OSError:
                continue
            message = (
                f"{str(error).removesuffix(_NOTHING_SENT)}. The answer being stored ({len(rows)} scores, paid for) "
                f"was written to {str(rescue)!r}: JudgmentCache({str(self.path)!r}).restore({str(rescue)!r}) "
                "stores it once the cache works again; nothing more was sent."
            )
            return CacheError(message, path=error.path, unsaved_file=str(rescue))
        logger.error("could not store %d paid-for scores anywhere: %s", len(rows), lines)
        return error

    def restore(self, path: str | os.PathLike) -> int:
        """Store the answers of a file written when a save failed (see :class:`~zsclassify.CacheError`).

        Returns the number of scores stored; the file can be deleted afterwards.
        """
        rows = {}
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                rows[record["key"]] = tuple(record["row"])
        self.put_many(rows)
        return len(rows)

    # ---------------------------------------------------------- claims on pairs in flight
    def claim(self, keys: Sequence[str], owner: str, seconds: float = CLAIM_SECONDS) -> set[str]:
        """Claim the keys no live owner holds; return those now held by ``owner``."""
        if not keys:
            return set()
        connection = self._connection()
        now = time.time()
        try:
            connection.execute("BEGIN IMMEDIATE")
            try:
                rows = _select(connection, "SELECT key, owner, host, pid, expires FROM claims WHERE key IN", keys)
                held = {
                    key
                    for key, holder, host, pid, expires in rows
                    if holder != owner and expires > now and _process_alive(host, pid)
                }
                mine = [key for key in dict.fromkeys(keys) if key not in held]
                connection.executemany(
                    "INSERT OR REPLACE INTO claims VALUES (?, ?, ?, ?, ?)",
                    [(key, owner, _HOST, os.getpid(), now + seconds) for key in mine],
                )
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        except sqlite3.Error as error:
            raise self._error(error) from error
        return set(mine)

    def release(self, keys: Iterable[str], owner: str) -> None:
        """Drop ``owner``'s claims on ``keys`` (pairs it will not answer after all)."""
        self._write([("DELETE FROM claims WHERE key = ? AND owner = ?", [(key, owner) for key in keys])])

    def claimed(self, keys: Sequence[str]) -> set[str]:
        """The keys some live owner still claims."""
        now = time.time()
        rows = _select(self._connection(), "SELECT key, host, pid, expires FROM claims WHERE key IN", keys)
        return {key for key, host, pid, expires in rows if expires > now and _process_alive(host, pid)}

    def __len__(self) -> int:
        return self._connection().execute("SELECT COUNT(*) FROM judgments").fetchone()[0]

    def clear(self) -> None:
        """Delete every stored judgment."""
        self._write([("DELETE FROM judgments", [()])])


Ask = Callable[[list[JudgeRequest]], Iterator[tuple[int, Any]]]  # one score list (or array) per request
AskChoices = Callable[[list[tuple[ChoiceRequest, ...]]], Iterator[tuple[int, Any]]]  # per batch: a list per choice
Triple = tuple[str, str, str]  # (label, description, utterance): one stored score


def answer_with_cache(
    store: JudgmentCache | None,
    namespace: CacheNamespace,
    items: Sequence[Sequence[Triple]],
    ask: Callable[[list[int]], Iterator[list[tuple[int, Sequence[float]]]]],
    *,
    claim_seconds: float = CLAIM_SECONDS,
    wait_until: float | None = None,
) -> list[np.ndarray]:
    """The one lookup-ask-store loop: answer ``items`` from ``store``, ``ask`` about the rest.

    An item is the list of (label, description, utterance) triples whose scores form one
    answer: one triple for a yes/no pair, one per option (and one for "none") for a
    multiple choice. An item is read from the cache only whole.

    Before asking, the missing items are claimed in the store: items another live process
    has in flight are not asked but waited for (read from the store as they land), and
    asked only if that process gives them up unanswered. Claims are released as answers are
    stored, and all of them when this call ends, however it ends.

    Parameters
    ----------
    store : JudgmentCache or None
        ``None`` caches nothing (every item is asked).
    namespace : CacheNamespace
        The judge's part of the key.
    items : sequence of sequences of (label, description, utterance)
    ask : callable
        Gets the indices of the items missing from the cache and yields, as each request's
        answer arrives, its ``(item index, scores)`` pairs; they are stored at once, in one
        transaction. An item it does not yield stays NaN. It may be called again, for items
        another process gave up. When the loop stops early (an error, Ctrl-C), ``ask``'s
        generator is closed, so it sends nothing more.
    claim_seconds : float
        How long this call's claims hold if its process cannot be checked.
    wait_until : float, optional
        ``time.monotonic()`` after which items claimed by others are no longer waited for.

    Returns
    -------
    list of ndarray
        One score array per item.
    """
    keys = [[namespace.key(*triple) for triple in item] for item in items]
    results = [np.full(len(item_keys), np.nan) for item_keys in keys]

    def lookup(indices: Iterable[int], count: bool = False) -> list[int]:
        """Fill the items found whole in the store; return the others."""
        indices = list(indices)
        if store is None or not indices:
            return indices
        wanted = [key for index in indices for key in keys[index]]
        found = store.get_many(wanted) if count else store._lookup(wanted)
        missing = []
        for index in indices:
            if keys[index] and all(key in found for key in keys[index]):
                results[index] = np.array([found[key] for key in keys[index]], dtype=float)
            else:
                missing.append(index)
        return missing

    def ask_and_store(indices: list[int], owner: str | None) -> None:
        if not indices:
            return
        answers = ask(indices)
        try:
            for answered in answers:
                for index, scores in answered:
                    results[index] = np.asarray(scores, dtype=float)
                if store is not None:  # saved as soon as answered (and paid for)
                    store.save(namespace, [(items[index], results[index]) for index, _ in answered], owner)
        finally:
            close = getattr(answers, "close", None)
            if close is not None:
                close()  # whatever stopped the loop, nothing more is sent

    todo = lookup(range(len(items)), count=True)
    if store is None or not todo:
        ask_and_store(todo, None)
        return results
    owner = uuid.uuid4().hex
    claims = {index: claim_key(keys[index]) for index in todo}
    try:
        while todo:
            mine = store.claim([claims[index] for index in todo], owner, claim_seconds)
            ask_and_store(lookup(index for index in todo if claims[index] in mine), owner)
            theirs = [index for index in todo if claims[index] not in mine]
            todo = _wait_for_others(store, theirs, claims, lookup, wait_until)
    finally:
        store.release(list(claims.values()), owner)
    return results


def _wait_for_others(store, indices: list[int], claims: dict[int, str], lookup, wait_until: float | None) -> list[int]:
    """Wait while other processes answer the items ``indices``; return those they gave up unanswered."""
    if indices:
        logger.info("%d answers are being bought by another process; waiting for them", len(indices))
    while indices:
        indices = lookup(indices)
        held = store.claimed([claims[index] for index in indices])
        given_up = [index for index in indices if claims[index] not in held]
        if given_up:
            return given_up
        if indices and wait_until is not None and time.monotonic() >= wait_until:
            logger.warning("stopped waiting for %d answers another process is buying", len(indices))
            return []
        if indices:
            time.sleep(_POLL_SECONDS)
    return []


def judge_with_cache(
    store: JudgmentCache | None,
    namespace: CacheNamespace,
    requests: Sequence[JudgeRequest],
    ask: Ask,
    batch_size: int | None = None,
    **options: Any,
) -> list[np.ndarray]:
    """Yes/no scores of ``requests``: from ``store`` where known, else from ``ask``.

    ``ask`` gets requests of pairs missing from the cache (at most ``batch_size`` texts
    each, by default one request per label) and yields ``(index into them, scores)``.
    ``options`` (``claim_seconds``, ``wait_until``) go to :func:`answer_with_cache`.
    """
    pairs = [(index, position) for index, request in enumerate(requests) for position in range(len(request.texts))]
    items = [[(requests[i].label, requests[i].description, requests[i].texts[p])] for i, p in pairs]

    def ask_pairs(missing: list[int]) -> Iterator[list[tuple[int, Sequence[float]]]]:
        by_request: dict[int, list[int]] = {}
        for m in missing:
            by_request.setdefault(pairs[m][0], []).append(m)
        groups: list[list[int]] = []  # pair numbers of each asked request
        for of_request in by_request.values():
            step = batch_size or len(of_request)
            groups += [of_request[start : start + step] for start in range(0, len(of_request), step)]
        asked = [replace(requests[pairs[group[0]][0]], texts=tuple(items[m][0][2] for m in group)) for group in groups]
        for number, scores in ask(asked):
            yield [(m, [score]) for m, score in zip(groups[number], scores)]

    answers = answer_with_cache(store, namespace, items, ask_pairs, **options)
    results = [np.full(len(request.texts), np.nan) for request in requests]
    for (index, position), answer in zip(pairs, answers):
        results[index][position] = answer[0]
    return results


NONE_OPTION = LabelOption("<none of these>", "")
"""Stored as the last option of every cached choice: the probability that no candidate fits."""


def choice_items(requests: Sequence[ChoiceRequest]) -> list[list[Triple]]:
    """The stored triples of each choice: one per option, then "none".

    The namespace of a choice already names the question; the set of options is part of
    each triple's label, their order is not: the same options shown in another order
    (two labels swap places after a refit moved their scores) are the same question, and
    its stored answer is read back option by option. An order probe (see
    :class:`~zsclassify.judges.ChoiceRequest`) asks whether the order matters, so its key
    holds the order too.
    """
    items = []
    for request in requests:
        names = [option.name for option in request.options]
        if request.order_probe:
            context = json.dumps({"order probe": names}, ensure_ascii=False)
        elif request.multiple:
            context = json.dumps({"any of": sorted(names)}, ensure_ascii=False)
        else:
            context = json.dumps(sorted(names), ensure_ascii=False)
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
    **options: Any,
) -> list[np.ndarray]:
    """Choice probabilities of ``requests``: from ``store`` where known, else from ``ask``.

    ``ask`` gets the uncached choices in batches (at most ``batch_size`` each, by default
    one batch) and yields ``(batch number, answers)``: for each choice of the batch, a
    probability per option and one for "none".
    """
    choice_space = replace(namespace, version=f"{namespace.version}:choice")

    def ask_choices(missing: list[int]) -> Iterator[list[tuple[int, Sequence[float]]]]:
        step = batch_size or len(missing)
        batches = [missing[start : start + step] for start in range(0, len(missing), step)]
        for number, answers in ask([tuple(requests[m] for m in batch) for batch in batches]):
            yield list(zip(batches[number], answers))

    return answer_with_cache(store, choice_space, choice_items(requests), ask_choices, **options)


class CachedJudge(Judge):
    """Give any judge the persistent cache: only pairs never judged before reach it.

    LLM judges (:class:`~zsclassify.judges.AnthropicJudge`,
    :class:`~zsclassify.judges.OpenAICompatibleJudge`) cache on their own; wrap
    your own judge, e.g. a :class:`~zsclassify.judges.CallableJudge` calling an
    in-house service, to get the same: a second fit, or a grid search's refits,
    send it nothing already answered. Questions reach the wrapped judge one request
    (one label's utterances, or one multiple choice) at a time, each answer stored
    before the next request, so an error or a killed process loses none of the answers
    already given.

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
        Requests (one per label and call, or one per choice) and pairs passed to ``wrapped``.
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
    def supports_multiple_choice(self) -> bool:
        """Whether the wrapped judge answers multi-label questions."""
        return isinstance(self.wrapped, Judge) and self.wrapped.supports_multiple_choice

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
        return choose_with_cache(self.store, self._namespace(), requests, self._ask_choices, batch_size=1)

    def _ask(self, asked: list[JudgeRequest]) -> Iterator[tuple[int, np.ndarray]]:
        """One request (one label's utterances) at a time: each answer is stored before the next is asked."""
        for number, request in enumerate(asked):
            (scores,) = self._checked(self.wrapped.judge([request]), [len(request.texts)])
            self.n_pairs_sent += len(scores)
            yield number, scores

    def _ask_choices(self, batches: list[tuple[ChoiceRequest, ...]]) -> Iterator[tuple[int, list[np.ndarray]]]:
        """One choice at a time, as :meth:`_ask`: each answer is stored before the next is asked."""
        for number, asked in enumerate(batches):
            yield number, self._checked(self.wrapped.choose(asked), [len(request.options) + 1 for request in asked])

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
