"""Saving and loading fitted classifiers, in a format that loads without running code.

A pickle or joblib file is a program: loading one runs whatever code its author put in
it, so load only files you made yourself. A ``.skops`` file (the format of the
`skops <https://skops.readthedocs.io>`_ project, made for scikit-learn models) is data:
:func:`load_model` rebuilds only types it trusts, and refuses a file that names any other
(a function such as ``os.system``, an unknown class) without running anything from it.

Either way, a fitted classifier is saved without its judge (see
:class:`~zsclassify.ZeroShotClassifier`): the loaded model predicts, with ``judge=None``.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path

from .exceptions import ModelFileError, UnsafeModelFileError

__all__ = ["SAFE_SUFFIX", "TRUSTED_TYPES", "load_model", "save_model"]

SAFE_SUFFIX = ".skops"
"""Files with this suffix are written and read with skops; others with joblib (pickle)."""

TRUSTED_TYPES = (
    "zsclassify._estimator.ZeroShotClassifier",
    "zsclassify._judge_quality.CandidateCheck",
    "zsclassify._judge_quality.JudgeQuality",
    "zsclassify._judging.Choice",
    "zsclassify._judging.Judgment",
    "zsclassify._judging.OrderProbe",
    "zsclassify._multilabel.MultiLabelZeroShotClassifier",
    "zsclassify._usage.JudgeUsage",
    "zsclassify.embedding.SentenceTransformerEmbedder",
    "zsclassify.judges._llm.JudgeUsage",  # where files saved before 2026-12-06 name it
)
"""zsclassify's own types a fitted classifier holds; :func:`load_model` rebuilds these (and NumPy, builtins)."""


def _is_safe(path: Path) -> bool:
    return path.suffix.lower() == SAFE_SUFFIX


def save_model(model: object, path: str | os.PathLike) -> Path:
    """Write ``model`` to ``path``: skops for a ``.skops`` file, joblib otherwise.

    The file is written next to ``path`` and renamed into place, so a failure never
    leaves a half-written model where a good one was.

    Parameters
    ----------
    model : ZeroShotClassifier
        A fitted classifier (saved without its judge).
    path : str or Path

    Returns
    -------
    Path
        Where the model is.
    """
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        if _is_safe(path):
            import skops.io

            # deflated: the schema spells out every judged answer in JSON (5x the joblib file unpacked)
            skops.io.dump(model, temporary, compression=zipfile.ZIP_DEFLATED, compresslevel=6)
        else:
            import joblib

            joblib.dump(model, temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return path


def load_model(path: str | os.PathLike, *, trusted: Iterable[str] = ()) -> object:
    """Read a model written by :func:`save_model` (or ``joblib.dump``).

    Parameters
    ----------
    path : str or Path
        A ``.skops`` file is loaded without running code from it. Any other file is
        unpickled by joblib, which runs whatever code the file holds: load only your own.
    trusted : iterable of str
        Further type names a ``.skops`` file may hold, e.g. your own embedder class
        (``"mypackage.MyEmbedder"``), when you trust its author.

    Returns
    -------
    object
        The saved model.

    Raises
    ------
    UnsafeModelFileError
        The ``.skops`` file names a type that is neither zsclassify's, NumPy's, a builtin
        container nor in ``trusted``; nothing was loaded.
    ModelFileError
        The file is not a readable model file (truncated, corrupt, another format).
    FileNotFoundError
        There is no file at ``path``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {path}")
    if not _is_safe(path):
        import joblib

        return _read(path, "joblib", joblib.load)
    import skops.io

    allowed = {*TRUSTED_TYPES, *trusted}
    found = _read(path, "skops", lambda p: skops.io.get_untrusted_types(file=p))
    untrusted = [name for name in found if name not in allowed]
    if untrusted:
        raise UnsafeModelFileError(
            f"{path} holds types that loading would have to trust: {untrusted[:10]}. It was not loaded. "
            "If you know who made the file and these types are theirs, pass them: "
            "load_model(path, trusted=[...])."
        )
    return _read(path, "skops", lambda p: skops.io.load(p, trusted=sorted(set(found))))


def _read(path: Path, kind: str, reader):
    """``reader(path)``; any failure inside the format's reader becomes one :class:`ModelFileError`."""
    try:
        return reader(path)
    except (UnsafeModelFileError, MemoryError, KeyboardInterrupt):
        raise
    except Exception as error:  # a truncated, corrupt or foreign file fails anywhere inside the reader
        raise ModelFileError(
            f"{path} is not a readable {kind} model file (truncated, corrupt or another format: "
            f"{type(error).__name__}: {error})."
        ) from None
