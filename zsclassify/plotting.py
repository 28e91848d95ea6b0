"""Figures of a fitted classifier (matplotlib; ``pip install zsclassify[plot]``).

Each function draws on the given axes (or new ones) and returns them; the numbers
come from :mod:`zsclassify.reporting`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from sklearn.metrics import confusion_matrix

from .reporting import _check_labelled, label_similarities, report_confusions, report_out_of_scope

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from .estimator import ZeroShotClassifier

__all__ = ["plot_confusions", "plot_out_of_scope", "plot_similarity_distributions"]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:  # pragma: no cover - matplotlib is a test dependency
        raise ImportError("zsclassify's plots need matplotlib: pip install 'zsclassify[plot]'") from error
    return plt


def _axes(ax, ncols: int = 1, width: float = 5.0, height: float = 4.0):
    if ax is not None:
        return ax
    _, created = _pyplot().subplots(1, ncols, figsize=(width * ncols, height), squeeze=False, layout="constrained")
    return created[0] if ncols > 1 else created[0, 0]


def plot_similarity_distributions(
    clf: ZeroShotClassifier, X: Sequence[str], y: Sequence[str], ax: Sequence[Axes] | None = None, bins: int = 60
) -> Sequence[Axes]:
    """Histograms of utterance-label cosine similarity, own label vs other labels, before and after refining.

    The paper's "clearer binary separation": after refinement an utterance's own
    label should sit further from every other label. Each panel is annotated with
    the ROC AUC of own vs other pairs.

    Parameters
    ----------
    clf : ZeroShotClassifier
        A fitted classifier.
    X, y : sequences of str
        Labelled utterances (e.g. a held-out test set).
    ax : pair of Axes, optional
        Where to draw "before" and "after"; new axes by default.
    bins : int
        Histogram bins.

    Returns
    -------
    the two Axes
    """
    from sklearn.metrics import roc_auc_score

    texts, truth = _check_labelled(clf, X, y)
    own = truth[:, None] == clf.classes_[None, :]
    axes = _axes(ax, ncols=2)
    for axis, refined, title in zip(axes, (False, True), ("before: label descriptions", "after: refined labels")):
        similarity = label_similarities(clf, texts, refined=refined)
        edges = np.linspace(similarity.min(), similarity.max(), bins + 1)
        axis.hist(similarity[~own], bins=edges, density=True, alpha=0.6, label="other labels")
        axis.hist(similarity[own], bins=edges, density=True, alpha=0.6, label="own label")
        auroc = roc_auc_score(own.ravel(), similarity.ravel())
        axis.set_title(f"{title}\nROC AUC own vs other = {auroc:.3f}")
        axis.set_xlabel("cosine similarity")
        axis.set_ylabel("density")
        axis.legend()
    return axes


def plot_confusions(y_true: Sequence[str], y_pred: Sequence[str], top: int = 10, ax: Axes | None = None) -> Axes:
    """Row-normalised confusion matrix over the labels in the ``top`` most frequent mistakes.

    Parameters
    ----------
    y_true, y_pred : sequences of str
        True and predicted labels (predictions may include an out-of-scope label).
    top : int
        How many (true, predicted) mistakes choose the labels shown.
    ax : Axes, optional
        Where to draw; new axes by default.
    """
    mistakes = report_confusions(y_true, y_pred, top=top)
    shown = list(dict.fromkeys([*mistakes["true"], *mistakes["predicted"]]))
    axis = _axes(ax, width=max(5.0, 0.45 * len(shown) + 2), height=max(4.0, 0.45 * len(shown) + 1.5))
    if not shown:
        axis.set_title("no mistakes")
        return axis
    truth, predicted = np.asarray(list(y_true), dtype=object), np.asarray(list(y_pred), dtype=object)
    keep = np.isin(truth, shown)
    matrix = confusion_matrix(truth[keep], predicted[keep], labels=shown).astype(float)
    support = np.array([(truth == label).sum() for label in shown], dtype=float)
    share = np.divide(matrix, support[:, None], out=np.zeros_like(matrix), where=support[:, None] > 0)
    image = axis.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0)
    for (row, column), value in np.ndenumerate(matrix):
        if value:
            colour = "white" if share[row, column] > 0.5 else "black"
            axis.text(column, row, int(value), ha="center", va="center", fontsize=8, color=colour)
    axis.set_xticks(range(len(shown)), shown, rotation=60, ha="right", fontsize=8)
    axis.set_yticks(range(len(shown)), shown, fontsize=8)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    axis.set_title(f"most confused labels (top {len(mistakes)} mistakes; colour = share of the true label)")
    axis.figure.colorbar(image, ax=axis, shrink=0.8)
    return axis


def plot_out_of_scope(
    clf: ZeroShotClassifier, X: Sequence[str], y: Sequence[str], oos_X: Sequence[str], ax: Axes | None = None
) -> Axes:
    """In-scope accuracy and out-of-scope recall against the rejection threshold, with the fitted threshold marked.

    Parameters
    ----------
    clf : ZeroShotClassifier
        A fitted classifier.
    X, y : sequences of str
        In-scope utterances and their labels.
    oos_X : sequence of str
        Utterances that belong to no label.
    ax : Axes, optional
        Where to draw; new axes by default.
    """
    thresholds = np.linspace(0.0, 1.0, 101)
    table = report_out_of_scope(clf, X, y, oos_X, thresholds=thresholds)
    axis = _axes(ax)
    axis.plot(table["threshold"], table["in_scope_accuracy"], label="in-scope accuracy (rejection = error)")
    axis.plot(table["threshold"], table["oos_recall"], label="out-of-scope recall")
    if clf.oos_threshold_ is not None:
        axis.axvline(clf.oos_threshold_, color="grey", linestyle="--", label=f"fitted {clf.oos_threshold_:.2f}")
    axis.set_xlabel("threshold on the top probability")
    axis.set_ylim(0.0, 1.02)
    axis.legend(loc="lower left")
    return axis
