"""Tables that explain a fitted classifier: what the judge said, how labels moved, what gets confused.

Every ``report_*`` function returns a :class:`pandas.DataFrame` (install pandas, e.g.
``pip install zsclassify[plot]``); the displays in :mod:`zsclassify.plotting`
draw the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.utils.validation import check_is_fitted

from ._multilabel import MultiLabelZeroShotClassifier
from ._validation import check_texts
from .embedding import center_and_normalize, normalize_rows

if TYPE_CHECKING:
    import pandas as pd

    from ._estimator import ZeroShotClassifier

__all__ = [
    "label_similarities",
    "report_confusions",
    "report_judge",
    "report_labels",
    "report_out_of_scope",
    "report_separation",
]


def _pandas():
    try:
        import pandas
    except ImportError as error:  # pragma: no cover - pandas is a test dependency
        raise ImportError("zsclassify's reports are pandas DataFrames: pip install 'zsclassify[plot]'") from error
    return pandas


def _check_labelled(clf: ZeroShotClassifier, X: Sequence[str], y: Sequence[str]) -> tuple[list[str], np.ndarray]:
    check_is_fitted(clf, "coef_")
    texts = check_texts(X, "X")
    truth = np.asarray(list(y), dtype=object)
    if len(truth) != len(texts):
        raise ValueError(f"y has {len(truth)} entries but X has {len(texts)}.")
    unknown = sorted({str(t) for t in truth} - set(clf.classes_))
    if unknown:
        raise ValueError(f"y holds labels the classifier does not know: {unknown[:10]}.")
    return texts, truth


def label_similarities(clf: ZeroShotClassifier, X: Sequence[str], refined: bool = True) -> np.ndarray:
    """Cosine similarity of each utterance to each label, shape (n_samples, n_labels).

    Parameters
    ----------
    clf : ZeroShotClassifier
        A fitted classifier.
    X : sequence of str
        Utterances.
    refined : bool
        True: to the refined label embeddings, in the space the classifier scores in
        (pool-centred for ``refinement="joint"``). False: to the description
        embeddings in the raw embedding space, as plain zero-shot scores them.
    """
    check_is_fitted(clf, "coef_")
    texts = check_texts(X, "X")
    if refined:
        return normalize_rows(clf.transform(texts)) @ clf.label_embeddings_.T
    documents = np.asarray(clf.embedder_.encode_document(texts), dtype=np.float64)
    return normalize_rows(documents) @ clf.initial_label_embeddings_.T


def report_labels(clf: ZeroShotClassifier | MultiLabelZeroShotClassifier) -> pd.DataFrame:
    """Per label: what the judge answered and how far the label embedding moved.

    Columns: ``label``, ``judged``, ``accepted`` (score >= 0.5), ``rejected``,
    ``failed`` (no answer) and ``cosine_to_initial``, the cosine between the
    description embedding and the refined embedding, measured in the space the
    classifier scores in (1.0: the label did not move). Sorted by movement, largest first.

    A :class:`~zsclassify.MultiLabelZeroShotClassifier` adds ``threshold`` (the cosine at which
    the label applies) and ``ap_zero_shot`` / ``ap_refined``: the average precision with which
    the zero-shot and the refined scores (held out: from fits that did not see the answer) rank
    the judge's answers for the label; NaN when its answers were all alike. They measure the
    refinement without labelled data.
    """
    check_is_fitted(clf, "coef_")
    initial = clf.initial_label_embeddings_
    if clf.center_ is not None:
        initial = center_and_normalize(initial, clf.center_)
    rows = {label: {"judged": 0, "accepted": 0, "rejected": 0, "failed": 0} for label in clf.classes_}
    for judgment in clf.judgments_:
        counts = rows[judgment.label]
        counts["judged"] += 1
        if np.isnan(judgment.score):
            counts["failed"] += 1
        else:
            counts["accepted" if judgment.score >= 0.5 else "rejected"] += 1
    table = _pandas().DataFrame([{"label": label, **counts} for label, counts in rows.items()])
    table["cosine_to_initial"] = np.sum(normalize_rows(initial) * clf.label_embeddings_, axis=1)
    if isinstance(clf, MultiLabelZeroShotClassifier):
        table["threshold"] = np.nan if clf.thresholds_ is None else clf.thresholds_
        table["ap_zero_shot"] = clf.label_stats_["ap_zero_shot"]
        table["ap_refined"] = clf.label_stats_["ap_refined"]
    return table.sort_values("cosine_to_initial", kind="stable").reset_index(drop=True)


def report_judge(clf: ZeroShotClassifier | MultiLabelZeroShotClassifier) -> pd.DataFrame:
    """How good the judge was, as the fit estimated it from the judge's own answers (``judge_quality_``).

    One row per estimate: ``measure`` (false-yes rate on near misses, false-no rate, for a
    multiple-choice fit the choices' accuracy, for a multi-label fit the share of far labels
    accepted, position bias, the zero-shot accuracy on the checked utterances, the judge weight),
    ``estimate``, ``low`` and ``high`` (90% interval, NaN where none) and ``based_on`` (the
    questions behind it).
    The fit's decision and its reason are in ``clf.judge_quality_.decision`` / ``.reason``.
    """
    check_is_fitted(clf, "coef_")
    quality = getattr(clf, "judge_quality_", None)
    if quality is None:
        raise ValueError("This classifier was fitted without judging (no judge_quality_): nothing to report.")
    check = f"{quality.n_check_pairs} yes/no pairs about {quality.n_check_utterances} random pool utterances"
    probe = f"{quality.n_probe_questions} order-probe questions asked in both orders"
    rows = [
        ("false-yes rate (near-miss labels)", quality.false_yes, quality.false_yes_interval, check),
        ("false-no rate (right labels)", quality.false_no, quality.false_no_interval, check),
        *(
            [
                (
                    "choice accuracy (right option picked)",
                    quality.choice_accuracy,
                    quality.choice_accuracy_interval,
                    f"{quality.n_check_choices} check choices"
                    + (f" and {quality.n_probe_questions} order-probe questions" if quality.n_probe_questions else ""),
                )
            ]
            if quality.choice_accuracy is not None
            else []
        ),
        *(
            [("yes to far labels (multi-label)", quality.far_false_yes, None, check)]
            if quality.far_false_yes is not None
            else []
        ),
        ("position bias (first option both ways)", quality.position_bias, quality.position_bias_interval, probe),
        ("zero-shot accuracy on the checked utterances", quality.zero_shot_accuracy, None, check),
        ("judge weight (0 zero-shot, 1 as refined)", quality.judge_weight, None, quality.decision),
    ]
    nan = float("nan")
    return _pandas().DataFrame(
        [
            {
                "measure": measure,
                "estimate": nan if value is None else float(value),
                "low": nan if interval is None else interval[0],
                "high": nan if interval is None else interval[1],
                "based_on": based_on,
            }
            for measure, value, interval, based_on in rows
        ]
    )


def report_separation(clf: ZeroShotClassifier, X: Sequence[str], y: Sequence[str]) -> pd.DataFrame:
    """How well similarity separates an intent's own utterances from the others, before and after refining.

    For every label with utterances in ``y``: the mean cosine of its own utterances
    and of all others, and the ROC AUC of that split (1.0: every own utterance is
    more similar than every other), for the description embedding (``*_initial``)
    and the refined one (``*_refined``). The last row, ``"(all labels)"``, pools every pair.
    """
    texts, truth = _check_labelled(clf, X, y)
    member = truth[:, None] == clf.classes_[None, :]
    columns = {name: label_similarities(clf, texts, refined=name == "refined") for name in ("initial", "refined")}
    rows = []
    for k, label in enumerate([*clf.classes_, "(all labels)"]):
        own = member[:, k] if k < len(clf.classes_) else member
        if not own.any():
            continue
        row = {"label": label, "utterances": int(own.sum()) if k < len(clf.classes_) else len(texts)}
        for name, similarity in columns.items():
            scores = similarity[:, k] if k < len(clf.classes_) else similarity
            row[f"own_mean_{name}"] = float(scores[own].mean())
            row[f"other_mean_{name}"] = float(scores[~own].mean())
            row[f"auroc_{name}"] = float(roc_auc_score(own.ravel(), scores.ravel()))
        rows.append(row)
    return _pandas().DataFrame(rows)


def report_confusions(y_true: Sequence[str], y_pred: Sequence[str], top: int = 10) -> pd.DataFrame:
    """The ``top`` most frequent (true, predicted) mistakes.

    Columns: ``true``, ``predicted``, ``count`` and ``share_of_true`` (the fraction
    of the true label's utterances that went to ``predicted``).
    """
    truth = np.asarray(list(y_true), dtype=object)
    predicted = np.asarray(list(y_pred), dtype=object)
    if len(truth) != len(predicted):
        raise ValueError(f"y_true has {len(truth)} entries but y_pred has {len(predicted)}.")
    frame = _pandas().DataFrame({"true": truth, "predicted": predicted})
    support = frame["true"].value_counts()
    mistakes = frame[frame["true"] != frame["predicted"]]
    table = mistakes.value_counts(["true", "predicted"]).rename("count").reset_index()
    table = table.sort_values(["count", "true", "predicted"], ascending=[False, True, True], kind="stable").head(top)
    table["share_of_true"] = table["count"] / support[table["true"]].to_numpy()
    return table.reset_index(drop=True)


def report_out_of_scope(
    clf: ZeroShotClassifier,
    X: Sequence[str],
    y: Sequence[str],
    oos_X: Sequence[str],
    thresholds: Sequence[float] | np.ndarray | None = None,
) -> pd.DataFrame:
    """In-scope accuracy against out-of-scope recall as the rejection threshold varies.

    Parameters
    ----------
    clf : ZeroShotClassifier
        A fitted classifier.
    X, y : sequences of str
        In-scope utterances and their labels.
    oos_X : sequence of str
        Utterances that belong to no label.
    thresholds : sequence of float, optional
        Probability thresholds; by default 0 to 1 in steps of 0.05 plus the fitted ``oos_threshold_``.

    Returns
    -------
    DataFrame
        One row per threshold: ``threshold``, ``in_scope_accuracy`` (a rejected
        in-scope utterance counts as an error), ``in_scope_rejected``,
        ``oos_recall``, ``oos_precision`` and ``fitted`` (the classifier's own threshold).
    """
    texts, truth = _check_labelled(clf, X, y)
    outside = check_texts(oos_X, "oos_X")
    if thresholds is None:
        thresholds = np.round(np.arange(0.0, 1.0001, 0.05), 2).tolist()
        if clf.oos_threshold_ is not None:
            thresholds = sorted({*thresholds, float(clf.oos_threshold_)})
    proba_in, proba_out = clf.predict_proba(texts), clf.predict_proba(outside)
    correct = clf.classes_[proba_in.argmax(axis=1)] == truth
    confidence_in, confidence_out = proba_in.max(axis=1), proba_out.max(axis=1)
    rows = []
    for threshold in thresholds:
        rejected_in, rejected_out = confidence_in < threshold, confidence_out < threshold
        n_rejected = int(rejected_in.sum() + rejected_out.sum())
        rows.append(
            {
                "threshold": float(threshold),
                "in_scope_accuracy": float(np.mean(correct & ~rejected_in)),
                "in_scope_rejected": float(rejected_in.mean()),
                "oos_recall": float(rejected_out.mean()),
                "oos_precision": float(rejected_out.sum() / n_rejected) if n_rejected else float("nan"),
                "fitted": clf.oos_threshold_ is not None and np.isclose(threshold, clf.oos_threshold_),
            }
        )
    return _pandas().DataFrame(rows)
