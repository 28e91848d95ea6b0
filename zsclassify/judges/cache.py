"""A persistent judgment cache in SQLite, safe across threads and processes."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

__all__ = ["JudgmentCache", "default_cache_path", "judgment_key"]


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
