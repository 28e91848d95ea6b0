"""The persistent embedding cache: vectors on disk, keyed by model, prompt and text, with a size bound."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ._storage import cache_root, connect_sqlite

__all__ = ["EmbeddingCache", "default_embedding_cache_path"]

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS embeddings "
    "(key TEXT PRIMARY KEY, model TEXT, prompt TEXT, dim INTEGER, vector BLOB, used REAL)"
)


def default_embedding_cache_path() -> Path:
    """``embeddings.sqlite`` in the cache folder (``$ZSCLASSIFY_CACHE_DIR`` or ``~/.cache/zsclassify``)."""
    return cache_root() / "embeddings.sqlite"


def _key(model: str, prompt: str | None, text: str) -> str:
    return hashlib.sha256(json.dumps([model, prompt, text], ensure_ascii=False).encode("utf-8")).hexdigest()


class EmbeddingCache:
    """Embeddings stored on disk (SQLite), so a new process never re-embeds a text a model already embedded.

    Keys hash the model (its path and a fingerprint of its files, and the backend),
    the prompt and the text; texts themselves are not stored. Safe to share between
    threads and processes. When it holds more than ``max_entries`` vectors, the
    least recently used tenth is dropped.

    Parameters
    ----------
    path : str or Path, optional
        The database file; default :func:`default_embedding_cache_path`.
    max_entries : int
        Most vectors kept (a 384-d vector takes about 1.7 KB: the default is about 430 MB).

    Attributes
    ----------
    hits, misses : int
        Texts found and not found, in this process.
    """

    def __init__(self, path: str | os.PathLike | None = None, *, max_entries: int = 250_000) -> None:
        if not isinstance(max_entries, int) or max_entries < 1:
            raise ValueError(f"max_entries must be a positive integer; got {max_entries!r}.")
        self.path = Path(path) if path is not None else default_embedding_cache_path()
        self.max_entries = max_entries
        self.hits = 0
        self.misses = 0
        self._local = threading.local()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"EmbeddingCache({str(self.path)!r}, max_entries={self.max_entries})"

    def __getstate__(self) -> dict:
        return {"path": self.path, "max_entries": self.max_entries}

    def __setstate__(self, state: dict) -> None:
        EmbeddingCache.__init__(self, state["path"], max_entries=state["max_entries"])

    def __deepcopy__(self, memo: dict) -> EmbeddingCache:
        return self  # clones of an estimator share one cache

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = connect_sqlite(self.path, _SCHEMA)
        return connection

    def get_many(self, model: str, prompt: str | None, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Vectors of the ``texts`` found for ``model`` and ``prompt``, by text."""
        keys = {_key(model, prompt, text): text for text in dict.fromkeys(texts)}
        found: dict[str, np.ndarray] = {}
        connection = self._connection()
        chunks = [list(keys)[start : start + 500] for start in range(0, len(keys), 500)]
        for chunk in chunks:
            marks = ",".join("?" * len(chunk))
            for key, dim, blob in connection.execute(
                f"SELECT key, dim, vector FROM embeddings WHERE key IN ({marks})", chunk
            ):
                found[keys[key]] = np.frombuffer(blob, dtype=np.float32, count=dim)
        if found:
            now = time.time()
            with connection:
                connection.executemany(
                    "UPDATE embeddings SET used = ? WHERE key = ?",
                    [(now, _key(model, prompt, text)) for text in found],
                )
        with self._lock:
            self.hits += len(found)
            self.misses += len(keys) - len(found)
        return found

    def put_many(self, model: str, prompt: str | None, vectors: Mapping[str, np.ndarray]) -> None:
        """Store ``text -> vector`` for ``model`` and ``prompt``; then keep within ``max_entries``."""
        if not vectors:
            return
        now = time.time()
        rows = [
            (_key(model, prompt, text), model, prompt, len(vector), np.asarray(vector, np.float32).tobytes(), now)
            for text, vector in vectors.items()
        ]
        connection = self._connection()
        with connection:
            connection.executemany("INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?, ?, ?, ?)", rows)
            excess = len(self) - self.max_entries
            if excess > 0:  # drop the least recently used, with slack so not every write evicts
                connection.execute(
                    "DELETE FROM embeddings WHERE key IN (SELECT key FROM embeddings ORDER BY used LIMIT ?)",
                    (excess + self.max_entries // 10,),
                )

    def __len__(self) -> int:
        return self._connection().execute("SELECT COUNT(*) FROM embeddings").fetchone()[0]

    def clear(self) -> None:
        """Delete every stored embedding."""
        connection = self._connection()
        with connection:
            connection.execute("DELETE FROM embeddings")
        connection.execute("VACUUM")
