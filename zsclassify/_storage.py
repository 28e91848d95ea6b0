"""Where zsclassify keeps files between runs, and the SQLite connection its caches share."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

__all__ = ["cache_root", "connect_sqlite"]


def cache_root() -> Path:
    """``$ZSCLASSIFY_CACHE_DIR``, else ``$XDG_CACHE_HOME/zsclassify`` (``~/.cache/zsclassify``).

    An empty variable counts as unset, and so does a relative ``XDG_CACHE_HOME`` (as the XDG
    specification says), so a cache never lands in the current directory by accident.
    """
    root = os.environ.get("ZSCLASSIFY_CACHE_DIR")
    if not root:
        base = os.environ.get("XDG_CACHE_HOME")
        if not base or not os.path.isabs(base):
            base = str(Path.home() / ".cache")
        root = str(Path(base) / "zsclassify")
    return Path(root)


def connect_sqlite(path: Path, schema: str) -> sqlite3.Connection:
    """Open (and create, with its folder) a database shared by threads and processes.

    Write-ahead logging lets readers go on while one process writes; the busy timeout
    makes concurrent writers wait instead of failing.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, timeout=60.0)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(schema)
    connection.commit()
    return connection
