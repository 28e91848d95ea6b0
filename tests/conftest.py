"""Shared fixtures: offline settings, a tiny deterministic embedder, toy data.

Tests that need real data use the bundled demo set (``zsclassify.datasets.load_demo``), so a fresh
clone runs every test; the benchmark data sets are for ``benchmarks/`` only.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Spark's JVM (tests/test_batch_prediction.py, the README's Spark block) with the client compiler only and the serial
# collector: it starts ~5 s sooner, and the tests' Spark jobs are too small to gain from the optimising compiler
os.environ.setdefault("JDK_JAVA_OPTIONS", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
# pytest-xdist runs one worker per core: each worker, and every process it starts (CLI, notebook kernel, Dask and
# Spark workers), encodes on its share of the cores. A thread per core in every worker oversubscribes them: the
# threads spin waiting for each other (2 processes embedding the demo pool at once on 2 cores: 27 s of CPU each with
# 2 threads, 8 s with 1).
if os.environ.get("PYTEST_XDIST_WORKER_COUNT"):  # a worker (the controller runs no test, its value would be inherited)
    os.environ.setdefault(
        "OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // int(os.environ["PYTEST_XDIST_WORKER_COUNT"])))
    )

import numpy as np
import pytest

# where tempfile put files before the tests' temporary files moved to memory (passed on to the xdist workers)
DISK_TEMP = os.environ.setdefault("ZSCLASSIFY_TESTS_DISK_TEMP", tempfile.gettempdir())


def _temporary_files_in_memory(folder: str = "/dev/shm", room: int = 4 << 30) -> None:
    """Temporary files (``tmp_path``, and ``tempfile`` in the tests and the processes they start) on a RAM file
    system when there is one with ``room`` free and ``TMPDIR`` is not set.

    The tests commit many small SQLite transactions (judgment and embedding caches), each waiting for an fsync:
    2.6 ms on this project's machine, 6848 of them in a run (18 s), half of the time of some tests (the grid-search
    notebook: 12 s, 5.5 s in memory). A process killed by a test leaves the same files on either file system; a
    test that needs a disk's timing uses :func:`disk_tmp_path`.
    """
    if os.environ.get("TMPDIR") or not os.path.isdir(folder) or not os.access(folder, os.W_OK):
        return
    stat = os.statvfs(folder)
    if stat.f_bavail * stat.f_frsize >= room:
        os.environ["TMPDIR"] = folder
        tempfile.tempdir = None  # gettempdir() reads TMPDIR again


_temporary_files_in_memory()


@pytest.fixture(autouse=True)
def _keep_the_ctrl_c_handler():
    """Restore the SIGINT handler after each test: PySpark's SparkContext (Spark tests, the README's Spark block) and
    the notebook kernel test replace it, and a later test in the same worker would run under their handler."""
    handler = signal.getsignal(signal.SIGINT)
    yield
    signal.signal(signal.SIGINT, handler)


class HashingEmbedder:
    """Bag-of-words embedder: fast and deterministic, no model. Counts its calls."""

    def __init__(self, dim: int = 64) -> None:
        self.dim = dim
        self.calls = 0

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dim)
        for word in re.findall(r"[a-z]+", text.lower()):
            digest = hashlib.md5(word.encode()).digest()
            vector[digest[0] % self.dim] += 1.0 if digest[1] % 2 else -1.0
        norm = np.linalg.norm(vector)
        return vector / norm if norm else vector

    def encode_query(self, texts):
        self.calls += 1
        return np.array([self._vector(t) for t in texts])

    encode_document = encode_query


TOY_LABELS = {
    "weather": "questions about the weather forecast rain sun temperature",
    "music": "requests to play music songs albums playlist",
    "food": "ordering food pizza restaurant dinner",
}
TOY_TEXTS = {
    "weather": [
        "will it rain tomorrow",
        "what is the temperature today",
        "sun forecast for the weekend",
        "is it going to rain in paris",
        "weather forecast please",
        "how hot is it outside",
    ],
    "music": [
        "play some jazz music",
        "put on my playlist",
        "play the new album by adele",
        "i want to hear songs by queen",
        "play music",
        "shuffle my songs",
    ],
    "food": [
        "order a pizza",
        "book a restaurant for dinner",
        "i want sushi for dinner tonight",
        "find a pizza place",
        "order food to my home",
        "reserve a table at the restaurant",
    ],
}


def pytest_collection_modifyitems(items):
    """Tests marked ``slow`` run first, so that the xdist workers, which take one test at a time
    (``--maxschedchunk=1``), share them out and the short tests fill in behind: both workers finish together."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture
def toy():
    texts = [t for label in TOY_TEXTS for t in TOY_TEXTS[label]]
    labels = [label for label in TOY_TEXTS for _ in TOY_TEXTS[label]]
    return TOY_LABELS, texts, labels


@pytest.fixture
def empty_embedding_cache():
    """The process's embedding cache, empty during the test and refilled after it (later tests embed nothing again)."""
    from zsclassify import embedding

    saved = embedding._CACHE.copy()
    embedding.clear_embedding_cache()
    yield
    embedding._CACHE.update(saved)


@pytest.fixture
def disk_tmp_path():
    """A temporary folder where ``tempfile`` put files before they moved to memory (a disk, usually)."""
    folder = Path(tempfile.mkdtemp(prefix="zsclassify-test-", dir=DISK_TEMP))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def hashing_embedder():
    return HashingEmbedder()


class SlowEmbedder(HashingEmbedder):
    """A :class:`HashingEmbedder` that takes ``seconds`` per call: for requests still in flight."""

    def __init__(self, dim: int = 64, seconds: float = 0.0) -> None:
        super().__init__(dim)
        self.seconds = seconds

    def encode_query(self, texts):
        time.sleep(self.seconds)
        return super().encode_query(texts)

    encode_document = encode_query
