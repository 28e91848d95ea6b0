"""Run a sentence-transformers model through ONNX Runtime: export once, cache, encode.

sentence-transformers' own ``backend="onnx"`` needs ``optimum-onnx``, whose releases pin
``transformers<4.58`` and so cannot share an environment with transformers 5. This
module does the same job with ``torch.onnx`` and ``onnxruntime`` alone: the whole
``SentenceTransformer`` forward (transformer, pooling, normalisation) is exported to
one graph, from the local model, offline; ``"onnx-int8"`` adds ONNX Runtime's dynamic
int8 quantisation of the weights. Exported files live in the user cache directory
(``$ZSCLASSIFY_CACHE_DIR/onnx``), keyed by the model's files, and are built once.
Tokenisation stays the model's own, so texts, prompts and truncation are as in PyTorch.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ._storage import cache_root

__all__ = ["BACKENDS", "OnnxEncoder", "model_fingerprint"]

logger = logging.getLogger(__name__)

BACKENDS = ("torch", "onnx", "onnx-int8")
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_EXPORT_VERSION = "1"  # change when the export below changes what it writes


def model_fingerprint(path: str) -> str:
    """A short hash of a local model folder's file names, sizes and modification times.

    A reinstalled or updated model gets a new fingerprint, so nothing derived from
    the old files (an export, cached embeddings) is reused. A name that is not a local
    folder is its own fingerprint.
    """
    root = Path(path)
    if not root.is_dir():
        return hashlib.sha256(path.encode("utf-8")).hexdigest()[:16]
    digest = hashlib.sha256(str(root.resolve()).encode("utf-8"))
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        stat = file.stat()
        digest.update(f"{file.relative_to(root)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def _require_onnxruntime():
    try:
        import onnxruntime
    except ImportError:
        raise ImportError(
            "backend='onnx' needs ONNX Runtime: pip install 'zsclassify[onnx]' (onnxruntime, onnx, onnxscript)."
        ) from None
    return onnxruntime


class OnnxEncoder:
    """Encode texts with an ONNX export of a loaded ``SentenceTransformer``.

    Parameters
    ----------
    model : SentenceTransformer
        The loaded PyTorch model: exported on first use, and its tokenizer is kept.
    model_path : str
        Where the model was loaded from (the export's cache key).
    quantize : bool
        Quantise the weights to int8 (ONNX Runtime dynamic quantisation).
    n_threads : int, optional
        ONNX Runtime intra-op threads; ``None`` follows ``torch.get_num_threads()``.
    """

    def __init__(self, model, model_path: str, *, quantize: bool = False, n_threads: int | None = None) -> None:
        ort = _require_onnxruntime()
        self.model = model
        self._check_supported(model)
        path = self._exported(model_path, quantize)
        options = ort.SessionOptions()
        if n_threads is None:
            import torch

            n_threads = torch.get_num_threads()
        options.intra_op_num_threads = n_threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._inputs = [item.name for item in self.session.get_inputs()]

    @staticmethod
    def _check_supported(model) -> None:
        for module in model:
            if getattr(module, "include_prompt", True) is False:
                raise ValueError(
                    "backend='onnx' does not support models whose pooling leaves out the prompt "
                    "(include_prompt=False); use backend='torch' for this model."
                )

    def _exported(self, model_path: str, quantize: bool) -> Path:
        import sentence_transformers
        import torch

        versions = f"{_EXPORT_VERSION}-{torch.__version__}-{sentence_transformers.__version__}"
        tag = f"{versions}-{model_fingerprint(model_path)}"
        folder = cache_root() / "onnx" / hashlib.sha256(tag.encode()).hexdigest()[:20]
        plain, quantized = folder / "model.onnx", folder / "model_int8.onnx"
        if not plain.exists():
            logger.info("Exporting %s to ONNX in %s (once)", model_path, folder)
            self._export(plain)
        if quantize and not quantized.exists():
            from onnxruntime.quantization import QuantType, quantize_dynamic

            logger.info("Quantising the ONNX export of %s to int8", model_path)
            with _atomic_target(quantized) as target:
                quantize_dynamic(str(plain), str(target), weight_type=QuantType.QInt8)
        return quantized if quantize else plain

    def _export(self, target: Path) -> None:
        import torch

        model = self.model

        class Forward(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.model = model

            def forward(self, input_ids, attention_mask, token_type_ids):
                features = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids}
                return self.model({**features, "modality": "text"})["sentence_embedding"]

        features = self._features(["an example sentence", "a second, longer example sentence to trace"])
        axes = {name: {0: "batch", 1: "tokens"} for name in _INPUTS} | {"embedding": {0: "batch"}}
        with _atomic_target(target) as path, torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer warnings about shapes the dynamic axes cover
            torch.onnx.export(
                Forward().eval(),
                tuple(torch.as_tensor(features[name]) for name in _INPUTS),
                str(path),
                input_names=list(_INPUTS),
                output_names=["embedding"],
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,
            )

    def _features(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        tokenize = getattr(self.model, "preprocess", None) or self.model.tokenize
        features = tokenize(list(texts))
        out = {name: np.asarray(features[name], dtype=np.int64) for name in _INPUTS if name in features}
        out.setdefault("token_type_ids", np.zeros_like(out["input_ids"]))
        return out

    def encode(self, texts: Sequence[str], prompt: str | None, batch_size: int) -> np.ndarray:
        """Unit-length float32 embeddings of ``texts``, each prefixed with ``prompt``.

        Texts are encoded in batches of similar length (as sentence-transformers does),
        so short messages are not padded to the longest one.
        """
        prefixed = [f"{prompt}{text}" for text in texts] if prompt else list(texts)
        order = np.argsort([-len(text) for text in prefixed], kind="stable")
        parts = []
        for start in range(0, len(order), batch_size):
            features = self._features([prefixed[i] for i in order[start : start + batch_size]])
            (embedding,) = self.session.run(None, {name: features[name] for name in self._inputs})
            parts.append(embedding)
        vectors = np.empty((len(prefixed), parts[0].shape[1]), dtype=np.float32)
        vectors[order] = np.concatenate(parts)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0.0, 1.0, norms)


@contextmanager
def _atomic_target(target: Path) -> Iterator[Path]:
    """A temporary path in the target's folder, renamed onto the target on success.

    Two processes exporting at once each write their own file; the last rename wins
    and a reader never sees half a file.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(suffix=".onnx", dir=target.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
