"""Input checks that name the problem, so users can act on it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["check_encodable", "check_labels", "check_texts", "words_of_label_name"]

_SEPARATORS = re.compile(r"[_\-\s]+")
_CASE_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def _as_sequence(values: Any, name: str) -> list:
    if values is None:
        raise TypeError(f"{name} is None; pass a list, array or pandas Series of strings.")
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{name} must be a collection of strings, not a single {type(values).__name__}.")
    if isinstance(values, (set, frozenset)):
        raise TypeError(
            f"{name} is a {type(values).__name__}, whose order is arbitrary (it changes between runs); "
            "pass a list, or sorted(...) of it."
        )
    if hasattr(values, "__dask_graph__") or type(values).__module__.startswith("pyspark"):
        raise TypeError(
            f"{name} is a distributed collection ({type(values).__name__}); predict on its partitions with "
            "dask_ml.wrappers.ParallelPostFit or zsclassify.batch_prediction.PartitionPredictor."
        )
    if hasattr(values, "columns"):  # pandas DataFrame with one text column
        columns = list(values.columns)
        if len(columns) != 1:
            raise ValueError(f"{name} is a DataFrame with {len(columns)} columns; pass the text column only.")
        values = values[columns[0]]
    if hasattr(values, "to_numpy"):
        values = values.to_numpy()
    if isinstance(values, np.ndarray):
        if values.ndim == 2 and values.shape[1] == 1:
            values = values[:, 0]
        if values.ndim != 1:
            raise ValueError(f"{name} must be one-dimensional (one text per sample); got shape {values.shape}.")
    try:
        return list(values)
    except TypeError:
        raise TypeError(f"{name} must be an iterable of strings; got {type(values).__name__}.") from None


def check_encodable(text: str, where: str) -> None:
    """Raise if ``text`` holds a lone surrogate, which no tokenizer or API can encode."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError(
            f"{where} holds an invalid character {text[error.start]!r} at position {error.start} (a lone surrogate, "
            "often from decoding bytes with errors='surrogateescape'); decode the input with errors='replace'."
        ) from None


def check_texts(values: object, name: str = "X", *, allow_empty: bool = False) -> list[str]:
    """Return ``values`` as a list of non-blank strings or raise an error naming the bad entry."""
    texts = _as_sequence(values, name)
    if not texts and not allow_empty:
        raise ValueError(f"{name} is empty; at least one text is needed.")
    for index, text in enumerate(texts):
        if text is None or (isinstance(text, float) and np.isnan(text)):
            raise ValueError(f"{name}[{index}] is missing (None/NaN); every entry must be a non-empty string.")
        if not isinstance(text, str):
            raise TypeError(f"{name}[{index}] is a {type(text).__name__} ({text!r}), not a string.")
        if not text.strip():
            raise ValueError(f"{name}[{index}] is empty or whitespace only; remove it or fill it in.")
        check_encodable(text, f"{name}[{index}]")
    return [str(text) for text in texts]


def words_of_label_name(name: str) -> str:
    """The description a bare label name stands for: its words, split and lower-cased.

    ``snake_case``, ``kebab-case``, ``camelCase`` and ``PascalCase`` are split into words
    (``"AddToPlaylist"`` -> ``"add to playlist"``, ``"card-arrival"`` -> ``"card arrival"``);
    words in capitals are kept as acronyms (``"getATMLocation"`` -> ``"get ATM location"``).
    Embedders read words, not identifiers: on SNIPS, zero-shot accuracy with the default
    embedder rises from 0.55 (names with ``_`` as a space) to 0.76 (benchmarks/HISTORY.md).
    A name with no letters or digits is kept as it is.
    """
    words = _CASE_BOUNDARY.sub(" ", _SEPARATORS.sub(" ", name)).split()
    if not words:
        return name
    return " ".join(word if len(word) > 1 and word.isupper() else word.lower() for word in words)


def check_labels(labels: object) -> tuple[list[str], list[str]]:
    """Validate the ``labels`` parameter.

    Returns
    -------
    names : list of str
    descriptions : list of str
        The given description (never changed), or for a bare name its words
        (:func:`words_of_label_name`).
    """
    if isinstance(labels, Mapping):
        items = list(labels.items())
    else:
        items = [(name, None) for name in _as_sequence(labels, "labels")]
    if len(items) < 2:
        raise ValueError(f"labels must name at least two labels; got {len(items)}.")
    names, descriptions = [], []
    seen_names: dict[str, str] = {}
    seen_descriptions: dict[str, str] = {}
    for name, description in items:
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"Every label name must be a non-empty string; got {name!r}.")
        check_encodable(name, f"label {name!r}")
        normal = " ".join(name.split())
        if normal in seen_names:
            other = seen_names[normal]
            if other == name:
                raise ValueError(f"Duplicate label {name!r} in labels.")
            raise ValueError(f"Labels {other!r} and {name!r} differ only by whitespace; merge or rename them.")
        seen_names[normal] = name
        if description is None:
            description = words_of_label_name(name)
        elif not isinstance(description, str) or not description.strip():
            raise ValueError(f"The description of label {name!r} must be a non-empty string; got {description!r}.")
        check_encodable(description, f"the description of label {name!r}")
        text = " ".join(description.lower().split())
        if text in seen_descriptions:
            raise ValueError(
                f"Labels {seen_descriptions[text]!r} and {name!r} have the same description {description!r}; "
                "one of them could never be predicted. Describe how they differ, or merge them."
            )
        seen_descriptions[text] = name
        names.append(name)
        descriptions.append(description)
    return names, descriptions
