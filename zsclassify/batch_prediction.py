"""Prediction at scale: streamed chunks with flat memory, and partitions of Dask or Spark.

A fitted :class:`~zsclassify.ZeroShotClassifier` pickles to a few hundred KB (no model
weights, no clients); each worker process loads the embedding model once, on first use,
and reuses it for every partition it receives.

Dask (see the documentation, "Predict at scale")::

    from dask_ml.wrappers import ParallelPostFit
    labels = ParallelPostFit(clf).predict(ddf["text"])           # a lazy dask Series

Spark::

    predictor = PartitionPredictor(clf, text_column="text")
    out = df.mapInPandas(predictor, schema=predictor.spark_schema(df.schema))
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._validation import check_texts
from .embedding import no_embedding_cache

if TYPE_CHECKING:
    import pandas as pd

    from ._estimator import ZeroShotClassifier

__all__ = ["PartitionPredictor", "PredictionChunk", "predict_in_chunks", "release_free_memory"]


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None on other C libraries."""
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None


def release_free_memory() -> None:
    """Hand memory the process has freed back to the OS (glibc only; elsewhere a no-op).

    The model's tensors of every batch are freed, but glibc keeps the pages, so the
    resident size of a long stream creeps up (about 180 MB over 60k texts here)
    before it levels off; trimming after each chunk keeps it flat.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


class PredictionChunk(NamedTuple):
    """Predictions for one chunk of a stream."""

    texts: list[str]
    labels: np.ndarray
    confidence: np.ndarray


def predict_in_chunks(
    clf: ZeroShotClassifier, texts: Iterable[str], chunk_size: int = 4096, cache: bool = False
) -> Iterator[PredictionChunk]:
    """Predict over any iterable of texts, e.g. the lines of a file, one chunk at a time.

    Only one chunk is held in memory, and by default its embeddings are not kept in
    the embedding cache, so memory stays flat however long the stream is.

    Parameters
    ----------
    clf : ZeroShotClassifier
        A fitted classifier.
    texts : iterable of str
        The utterances; consumed lazily.
    chunk_size : int
        Texts per chunk (one call of the embedding model).
    cache : bool
        Keep the chunk's embeddings in the per-process cache (useful only if the same
        texts are predicted again).

    Yields
    ------
    PredictionChunk
        ``texts``, ``labels`` and ``confidence`` (top probability) of each chunk, in input order.
    """
    check_is_fitted(clf, "coef_")
    if not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer; got {chunk_size!r}.")
    iterator = iter(texts)
    while chunk := list(islice(iterator, chunk_size)):
        if cache:
            labels, confidence = clf.predict_with_confidence(chunk)
        else:
            with no_embedding_cache():
                labels, confidence = clf.predict_with_confidence(chunk)
        release_free_memory()
        yield PredictionChunk(chunk, labels, confidence)


ON_ERROR = ("raise", "record")


class PartitionPredictor:
    """Adds a label and a confidence column to pandas partitions: for Spark's ``mapInPandas`` and Dask.

    Picklable and small: it carries the fitted classifier, whose embedding model is
    loaded once per worker process on first use.

    Parameters
    ----------
    clf : ZeroShotClassifier or MultiLabelZeroShotClassifier
        A fitted classifier.
    text_column : str
        The column holding the utterances.
    label_column, confidence_column : str
        Names of the columns added: the label and its probability, or for a multi-label model a
        list of the labels that apply and a list of their probabilities.
    on_error : {"raise", "record"}
        What a row whose text cannot be classified (missing, not a string, blank, a lone
        surrogate) does: ``"raise"`` stops with a ``ValueError`` naming the row's index;
        ``"record"`` gives that row no label (None), a NaN confidence and the reason in
        ``error_column``, and the partition goes on (a large job is not lost to one bad row).
    error_column : str
        The column added with ``on_error="record"``: None for rows classified.

    Examples
    --------
    Spark: ``df.mapInPandas(predictor, schema=predictor.spark_schema(df.schema))``.
    Dask: ``ddf.map_partitions(predictor.predict_frame, meta=predictor.meta(ddf._meta))``.
    """

    def __init__(
        self,
        clf: ZeroShotClassifier,
        text_column: str = "text",
        label_column: str = "label",
        confidence_column: str = "confidence",
        on_error: str = "raise",
        error_column: str = "error",
    ) -> None:
        check_is_fitted(clf, "coef_")
        if on_error not in ON_ERROR:
            raise ValueError(f"on_error must be one of {ON_ERROR}; got {on_error!r}.")
        self.clf = clf
        self.text_column = text_column
        self.label_column = label_column
        self.confidence_column = confidence_column
        self.on_error = on_error
        self.error_column = error_column

    def predict_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` with the label and confidence columns (and, with ``on_error="record"``, the error column) added."""
        if self.text_column not in frame.columns:
            raise KeyError(f"no column {self.text_column!r}; columns are {list(frame.columns)}")
        errors = [_text_error(text) for text in frame[self.text_column]]
        bad = [position for position, error in enumerate(errors) if error is not None]
        if bad and self.on_error == "raise":
            raise ValueError(
                f"{len(bad)} row(s) of the partition cannot be classified; the first, index "
                f"{frame.index.tolist()[bad[0]]!r}: {self.text_column} {str(errors[bad[0]]).rstrip('.')}. "
                "Pass on_error='record' to classify the others and keep the reasons."
            )
        good = np.array([error is None for error in errors], dtype=bool)
        labels = np.full(len(frame), None, dtype=object)
        confidence = np.full(len(frame), None, dtype=object) if self._multi_label else np.full(len(frame), np.nan)
        if good.any():
            with no_embedding_cache():
                labels[good], confidence[good] = self.clf.predict_with_confidence(
                    frame[self.text_column][good].tolist()
                )
            release_free_memory()
        columns: dict[str, Any]
        if self._multi_label:  # a list of labels and one of their probabilities per row (None for a bad row)
            columns = {
                self.label_column: [None if label is None else list(label) for label in labels],
                self.confidence_column: [None if p is None else list(p) for p in confidence],
            }
        else:
            columns = {self.label_column: [None if label is None else str(label) for label in labels],
                       self.confidence_column: confidence}  # fmt: skip
        if self.on_error == "record":
            columns[self.error_column] = errors
        return frame.assign(**columns)

    def __call__(self, frames: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        """Spark's ``mapInPandas`` protocol: an iterator of frames in, one out per frame."""
        for frame in frames:
            yield self.predict_frame(frame)

    def meta(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The empty output frame for an input like ``frame`` (Dask's ``meta``)."""
        confidence_type = object if self._multi_label else float
        columns = {self.label_column: np.array([], dtype=object),
                   self.confidence_column: np.array([], dtype=confidence_type)}  # fmt: skip
        if self.on_error == "record":
            columns[self.error_column] = np.array([], dtype=object)
        return frame.iloc[:0].assign(**columns)

    @property
    def _multi_label(self) -> bool:
        from ._multilabel import MultiLabelZeroShotClassifier

        return isinstance(self.clf, MultiLabelZeroShotClassifier)

    def spark_schema(self, schema):
        """The Spark output schema: ``schema`` plus the label (string) and confidence (double) columns (and error).

        For a multi-label model the two are arrays: the labels that apply and their probabilities.
        """
        from pyspark.sql.types import ArrayType, DoubleType, StringType, StructField, StructType

        label_type, confidence_type = StringType(), DoubleType()
        if self._multi_label:
            label_type, confidence_type = ArrayType(StringType()), ArrayType(DoubleType())
        added = [StructField(self.label_column, label_type), StructField(self.confidence_column, confidence_type)]
        if self.on_error == "record":
            added.append(StructField(self.error_column, StringType()))
        return StructType([*schema.fields, *added])


def _text_error(text: object) -> str | None:
    """Why ``text`` cannot be classified, as the estimator's input check words it (None: it can)."""
    try:
        check_texts([text], "text")
    except (TypeError, ValueError) as error:
        return str(error).removeprefix("text[0] ")
    return None
