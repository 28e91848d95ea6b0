"""Reports and plots explain a fitted classifier with numbers that can be checked by hand."""

import matplotlib
import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from zsclassify import ZeroShotClassifier
from zsclassify.judges import GoldJudge
from zsclassify.plotting import ConfusionsDisplay, OutOfScopeDisplay, SimilarityDisplay
from zsclassify.reporting import (
    label_similarities,
    report_confusions,
    report_labels,
    report_out_of_scope,
    report_separation,
)

matplotlib.use("Agg")


@pytest.fixture(params=["yes_no", "choice"])
def fitted(toy, hashing_embedder, request):
    labels, texts, y = toy
    judge = GoldJudge(texts, y)
    clf = ZeroShotClassifier(
        labels,
        embedder=hashing_embedder,
        judge=judge,
        judging=request.param,
        judge_budget=4,
        oos_label="oos",
        oos_threshold=0.5,
        random_state=0,
    ).fit(texts)
    return clf, texts, y


def test_label_similarities_are_cosines_in_each_space(fitted, hashing_embedder):
    clf, texts, _ = fitted
    raw = hashing_embedder.encode_document(texts)
    np.testing.assert_allclose(label_similarities(clf, texts, refined=False), raw @ clf.initial_label_embeddings_.T)
    refined = label_similarities(clf, texts)
    assert refined.shape == (len(texts), 3) and np.all(np.abs(refined) <= 1 + 1e-9)
    # the refined scores are the classifier's own, up to the intercept and a per-label scale
    scale = np.linalg.norm(clf.coef_, axis=1)
    np.testing.assert_allclose(refined * scale + clf.intercept_, clf.decision_function(texts), atol=1e-9)


def test_report_labels_counts_the_judgments(fitted):
    clf, _, _ = fitted
    table = report_labels(clf)
    assert set(table["label"]) == set(clf.classes_)
    assert table["judged"].sum() == len(clf.judgments_)  # a choice counts for each of its candidates
    assert clf.n_judged_pairs_ == (len(clf.choices_) if clf.choices_ else len(clf.judgments_))
    accepted = sum(j.score >= 0.5 for j in clf.judgments_)
    assert table["accepted"].sum() == accepted and table["rejected"].sum() == len(clf.judgments_) - accepted
    assert table["cosine_to_initial"].is_monotonic_increasing and table["cosine_to_initial"].le(1 + 1e-9).all()


def test_report_labels_without_a_judge_shows_no_movement(toy, hashing_embedder):
    labels, texts, _ = toy
    table = report_labels(ZeroShotClassifier(labels, embedder=hashing_embedder).fit(texts))
    np.testing.assert_allclose(table["cosine_to_initial"], 1.0)
    assert table["judged"].sum() == 0


def test_report_separation_matches_a_hand_computed_auroc(fitted):
    clf, texts, y = fitted
    table = report_separation(clf, texts, y).set_index("label")
    similarity = label_similarities(clf, texts)
    own = np.array(y) == "music"
    assert table.loc["music", "auroc_refined"] == pytest.approx(roc_auc_score(own, similarity[:, 1]))
    assert table.loc["music", "own_mean_refined"] == pytest.approx(similarity[own, 1].mean())
    assert table.loc["(all labels)", "utterances"] == len(texts)
    assert table.loc["(all labels)", "auroc_refined"] >= table.loc["(all labels)", "auroc_initial"]


def test_report_confusions_ranks_mistakes():
    truth = ["a", "a", "a", "b", "b", "c"]
    predicted = ["a", "b", "b", "c", "b", "a"]
    table = report_confusions(truth, predicted, top=2)
    assert table[["true", "predicted", "count"]].values.tolist() == [["a", "b", 2], ["b", "c", 1]]
    assert table["share_of_true"].tolist() == pytest.approx([2 / 3, 1 / 2])
    with pytest.raises(ValueError, match="y_true has 6 entries but y_pred has 1"):
        report_confusions(truth, ["a"])


def test_report_out_of_scope_trades_accuracy_for_recall(fitted):
    clf, texts, y = fitted
    oos = ["zebra xylophone quantum", "tax return deadline", "install linux kernel"]
    table = report_out_of_scope(clf, texts, y, oos)
    assert table["fitted"].sum() == 1 and table.loc[table["fitted"], "threshold"].item() == clf.oos_threshold_
    assert table["oos_recall"].is_monotonic_increasing and table["in_scope_accuracy"].is_monotonic_decreasing
    assert table.iloc[0]["oos_recall"] == 0.0 and table.iloc[-1]["oos_recall"] == 1.0
    fitted_row = table[table["fitted"]].iloc[0]
    predicted = clf.predict(texts)
    assert fitted_row["in_scope_accuracy"] == pytest.approx(np.mean(predicted == np.array(y)))
    assert fitted_row["oos_recall"] == pytest.approx(np.mean(clf.predict(oos) == "oos"))


def test_reports_reject_bad_input(fitted):
    clf, texts, _ = fitted
    with pytest.raises(ValueError, match="labels the classifier does not know"):
        report_separation(clf, texts, ["nope"] * len(texts))
    with pytest.raises(ValueError, match="y has 1 entries"):
        report_separation(clf, texts, ["music"])


def test_plots_draw_what_the_reports_say(fitted):
    clf, texts, y = fitted
    before, after = SimilarityDisplay.from_estimator(clf, texts, y).axes_
    pooled = report_separation(clf, texts, y).set_index("label").loc["(all labels)"]
    assert (
        f"{pooled['auroc_refined']:.3f}" in after.get_title() and f"{pooled['auroc_initial']:.3f}" in before.get_title()
    )
    assert [t.get_text() for t in after.get_legend().get_texts()] == ["other labels", "own label"]

    truth, predicted = ["a", "a", "b", "c"], ["b", "a", "a", "c"]
    axis = ConfusionsDisplay.from_predictions(truth, predicted, top=5).ax_
    assert [t.get_text() for t in axis.get_yticklabels()] == ["a", "b"]
    assert sorted(t.get_text() for t in axis.texts) == ["1", "1", "1"]
    assert ConfusionsDisplay.from_predictions(["a"], ["a"]).ax_.get_title() == "no mistakes"

    axis = OutOfScopeDisplay.from_estimator(clf, texts, y, ["zebra xylophone"]).ax_
    assert len(axis.get_lines()) == 3  # accuracy, recall, the fitted threshold
    matplotlib.pyplot.close("all")
