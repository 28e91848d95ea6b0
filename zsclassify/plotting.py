"""Figures of a fitted classifier, as scikit-learn Display objects (matplotlib; ``pip install zsclassify[plot]``).

Each display is built with ``from_estimator`` (or ``from_predictions``), which computes
the numbers (those of :mod:`zsclassify.reporting`) and draws them on the given axes or
new ones; the numbers stay on the display, and ``plot`` draws them again elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from sklearn.metrics import confusion_matrix, roc_auc_score

from .reporting import _check_labelled, label_similarities, report_confusions, report_out_of_scope

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

    from ._estimator import ZeroShotClassifier

__all__ = ["ConfusionsDisplay", "OutOfScopeDisplay", "SimilarityDisplay"]


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


class SimilarityDisplay:
    """Histograms of utterance-label cosine similarity, own label vs other labels, before and after refining.

    The paper's "clearer binary separation": after refinement an utterance's own
    label should sit further from every other label. Each panel is annotated with
    the ROC AUC of own vs other pairs. Build it with :meth:`from_estimator`.

    Parameters
    ----------
    initial, refined : ndarray of shape (n_samples, n_labels)
        Cosine similarities to the description and to the refined label embeddings.
    own : ndarray of bool, shape (n_samples, n_labels)
        True where the label is the utterance's own.

    Attributes
    ----------
    axes_ : pair of Axes
        "Before" and "after", once drawn.
    """

    def __init__(self, initial: np.ndarray, refined: np.ndarray, own: np.ndarray) -> None:
        self.initial = initial
        self.refined = refined
        self.own = own

    @classmethod
    def from_estimator(
        cls,
        clf: ZeroShotClassifier,
        X: Sequence[str],
        y: Sequence[str],
        *,
        ax: Sequence[Axes] | None = None,
        bins: int = 60,
    ) -> SimilarityDisplay:
        """Compute the similarities of labelled utterances (e.g. a held-out test set) and draw them.

        Parameters
        ----------
        clf : ZeroShotClassifier
            A fitted classifier.
        X, y : sequences of str
            Labelled utterances.
        ax : pair of Axes, optional
            Where to draw "before" and "after"; new axes by default.
        bins : int
            Histogram bins.
        """
        texts, truth = _check_labelled(clf, X, y)
        own = truth[:, None] == clf.classes_[None, :]
        initial = label_similarities(clf, texts, refined=False)
        refined = label_similarities(clf, texts, refined=True)
        return cls(initial, refined, own).plot(ax=ax, bins=bins)

    def plot(self, ax: Sequence[Axes] | None = None, bins: int = 60) -> SimilarityDisplay:
        """Draw the two histograms on ``ax`` (two Axes) or new axes; returns ``self``."""
        self.axes_ = _axes(ax, ncols=2)
        panels = zip(self.axes_, (self.initial, self.refined), ("before: label descriptions", "after: refined labels"))
        for axis, similarity, title in panels:
            edges = np.linspace(similarity.min(), similarity.max(), bins + 1)
            axis.hist(similarity[~self.own], bins=edges, density=True, alpha=0.6, label="other labels")
            axis.hist(similarity[self.own], bins=edges, density=True, alpha=0.6, label="own label")
            auroc = roc_auc_score(self.own.ravel(), similarity.ravel())
            axis.set_title(f"{title}\nROC AUC own vs other = {auroc:.3f}")
            axis.set_xlabel("cosine similarity")
            axis.set_ylabel("density")
            axis.legend()
        return self


class ConfusionsDisplay:
    """Row-normalised confusion matrix over the labels in the most frequent mistakes.

    Build it with :meth:`from_predictions`.

    Parameters
    ----------
    counts : ndarray of shape (n_shown, n_shown)
        Utterances of each true label (rows) predicted as each label (columns).
    support : ndarray of shape (n_shown,)
        Utterances of each true label in all.
    labels : list of str
        The labels shown, in row and column order.
    n_mistakes : int
        How many (true, predicted) mistakes chose the labels.

    Attributes
    ----------
    ax_ : Axes
        Where it was drawn.
    """

    def __init__(self, counts: np.ndarray, support: np.ndarray, labels: list[str], n_mistakes: int) -> None:
        self.counts = counts
        self.support = support
        self.labels = labels
        self.n_mistakes = n_mistakes

    @classmethod
    def from_predictions(
        cls, y_true: Sequence[str], y_pred: Sequence[str], *, top: int = 10, ax: Axes | None = None
    ) -> ConfusionsDisplay:
        """Count the labels of the ``top`` most frequent mistakes and draw the matrix.

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
        truth, predicted = np.asarray(list(y_true), dtype=object), np.asarray(list(y_pred), dtype=object)
        keep = np.isin(truth, shown)
        counts = (
            confusion_matrix(truth[keep], predicted[keep], labels=shown).astype(float) if shown else np.zeros((0, 0))
        )
        support = np.array([(truth == label).sum() for label in shown], dtype=float)
        return cls(counts, support, shown, len(mistakes)).plot(ax=ax)

    def plot(self, ax: Axes | None = None) -> ConfusionsDisplay:
        """Draw the matrix on ``ax`` or new axes; returns ``self``."""
        shown = self.labels
        axis = self.ax_ = _axes(ax, width=max(5.0, 0.45 * len(shown) + 2), height=max(4.0, 0.45 * len(shown) + 1.5))
        if not shown:
            axis.set_title("no mistakes")
            return self
        share = np.divide(
            self.counts, self.support[:, None], out=np.zeros_like(self.counts), where=self.support[:, None] > 0
        )
        image = axis.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0)
        for (row, column), value in np.ndenumerate(self.counts):
            if value:
                colour = "white" if share[row, column] > 0.5 else "black"
                axis.text(column, row, int(value), ha="center", va="center", fontsize=8, color=colour)
        axis.set_xticks(range(len(shown)), shown, rotation=60, ha="right", fontsize=8)
        axis.set_yticks(range(len(shown)), shown, fontsize=8)
        axis.set_xlabel("predicted")
        axis.set_ylabel("true")
        axis.set_title(f"most confused labels (top {self.n_mistakes} mistakes; colour = share of the true label)")
        axis.figure.colorbar(image, ax=axis, shrink=0.8)
        return self


class OutOfScopeDisplay:
    """In-scope accuracy and out-of-scope recall against the rejection threshold, with the fitted threshold marked.

    Build it with :meth:`from_estimator`.

    Parameters
    ----------
    table : DataFrame
        :func:`~zsclassify.reporting.report_out_of_scope` over the thresholds drawn.
    threshold : float or None
        The classifier's threshold, marked with a line.

    Attributes
    ----------
    ax_ : Axes
        Where it was drawn.
    """

    def __init__(self, table: pd.DataFrame, threshold: float | None) -> None:
        self.table = table
        self.threshold = threshold

    @classmethod
    def from_estimator(
        cls,
        clf: ZeroShotClassifier,
        X: Sequence[str],
        y: Sequence[str],
        oos_X: Sequence[str],
        *,
        ax: Axes | None = None,
    ) -> OutOfScopeDisplay:
        """Sweep the threshold from 0 to 1 on in-scope ``X, y`` and out-of-scope ``oos_X``, and draw it.

        Parameters
        ----------
        clf, X, y, oos_X
            As :func:`~zsclassify.reporting.report_out_of_scope`.
        ax : Axes, optional
            Where to draw; new axes by default.
        """
        table = report_out_of_scope(clf, X, y, oos_X, thresholds=np.linspace(0.0, 1.0, 101))
        return cls(table, clf.oos_threshold_).plot(ax=ax)

    def plot(self, ax: Axes | None = None) -> OutOfScopeDisplay:
        """Draw the two curves on ``ax`` or new axes; returns ``self``."""
        axis = self.ax_ = _axes(ax)
        table = self.table
        axis.plot(table["threshold"], table["in_scope_accuracy"], label="in-scope accuracy (rejection = error)")
        axis.plot(table["threshold"], table["oos_recall"], label="out-of-scope recall")
        if self.threshold is not None:
            axis.axvline(self.threshold, color="grey", linestyle="--", label=f"fitted {self.threshold:.2f}")
        axis.set_xlabel("threshold on the top probability")
        axis.set_ylim(0.0, 1.02)
        axis.legend(loc="lower left")
        return self
