"""Metrics for intent detection: calibration and out-of-scope rejection."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["expected_calibration_error"]


def expected_calibration_error(
    y_true: Sequence[str], proba: np.ndarray, classes: Sequence[str], n_bins: int = 15
) -> float:
    """Expected calibration error of the top-label confidence, with equal-width bins.

    Parameters
    ----------
    y_true : sequence of str
        True labels.
    proba : ndarray of shape (n_samples, n_classes)
        Predicted probabilities, columns in the order of ``classes``.
    classes : sequence of str
    n_bins : int
        Number of confidence bins in [0, 1].

    Returns
    -------
    float
        Sum over bins of (bin share) * ``|accuracy in bin - mean confidence in bin|``.
    """
    proba = np.asarray(proba, dtype=float)
    confidence = proba.max(axis=1)
    correct = np.asarray(classes, dtype=object)[proba.argmax(axis=1)] == np.asarray(y_true, dtype=object)
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    error = 0.0
    for b in range(n_bins):
        inside = bins == b
        if inside.any():
            error += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(error)
