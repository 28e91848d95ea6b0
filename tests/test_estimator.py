"""The estimator's behaviour and scikit-learn contract, on a fast model-free embedder."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from zsclassify import ZeroShotClassifier
from zsclassify.judges import CallableJudge, GoldJudge


def make(labels, embedder, **params):
    return ZeroShotClassifier(labels, embedder=embedder, **params)


def test_zero_shot_without_judge(toy, hashing_embedder):
    labels, texts, y = toy
    clf = make(labels, hashing_embedder).fit(texts)
    assert list(clf.classes_) == list(labels)
    assert clf.n_judged_pairs_ == 0 and clf.judgments_ == []
    np.testing.assert_allclose(clf.label_embeddings_, clf.initial_label_embeddings_)
    proba = clf.predict_proba(texts)
    assert proba.shape == (len(texts), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert list(clf.predict(texts)) == list(clf.classes_[proba.argmax(axis=1)])
    assert clf.score(texts, y) > 0.5


def test_labels_as_names_use_name_as_description(hashing_embedder):
    clf = make(["play_music", "get_weather"], hashing_embedder).fit(["play a song", "rain today"])
    assert clf.descriptions_ == ["play music", "get weather"]


def test_label_names_in_any_case_style_become_words_and_descriptions_stay(hashing_embedder):
    names = ["AddToPlaylist", "playMusic", "card-arrival", "Refund_not_showing_up", "getATMLocation", "42"]
    clf = make(names, hashing_embedder).fit(["add it to my playlist", "where is an atm"])
    assert clf.descriptions_ == [
        "add to playlist", "play music", "card arrival", "refund not showing up", "get ATM location", "42"
    ]  # fmt: skip
    given = {"AddToPlaylist": "AddToPlaylist requests", "play_music": "Play_Music-Now"}
    assert make(given, hashing_embedder).fit(["play a song"]).descriptions_ == list(given.values())


@pytest.mark.parametrize("refinement", ["joint", "kl", "none"])
def test_budget_is_enforced_and_recorded(toy, hashing_embedder, refinement):
    labels, texts, y = toy
    gold = GoldJudge(texts, y)
    clf = make(
        labels, hashing_embedder, judge=gold, judging="yes_no", judge_budget=4, refinement=refinement, random_state=0
    ).fit(texts)
    assert clf.n_judged_pairs_ == len(clf.judgments_) <= 4 * len(labels)
    assert clf.n_judged_pairs_ == 4 * len(labels)
    pairs = [(j.label, j.text) for j in clf.judgments_]
    assert len(set(pairs)) == len(pairs), "a pair was judged twice"
    for judgment in clf.judgments_:
        assert judgment.score == float(y[texts.index(judgment.text)] == judgment.label)
    assert clf.n_judge_requests_ >= len(labels)


@pytest.mark.parametrize("judging", ["yes_no", "choice"])
def test_refinement_changes_label_embeddings_and_helps(toy, hashing_embedder, judging):
    labels, texts, y = toy
    zero_shot = make(labels, hashing_embedder).fit(texts)
    gold = GoldJudge(texts, y)
    refined = make(labels, hashing_embedder, judge=gold, judging=judging, judge_budget=6, random_state=0).fit(texts)
    assert not np.allclose(refined.label_embeddings_, refined.initial_label_embeddings_)
    assert refined.score(texts, y) > zero_shot.score(texts, y)
    accepted = [j for j in refined.judgments_ if j.score == 1.0]
    agreement = np.mean(refined.predict([j.text for j in accepted]) == np.array([j.label for j in accepted]))
    # choices place more (and harder) utterances than yes/no answers; the 64-d hashing embedder fits most of them
    assert agreement == 1.0 if judging == "yes_no" else agreement >= 0.75


def test_callable_judge_called_once_per_label_per_round(toy, hashing_embedder):
    labels, texts, y = toy
    calls = []

    def fn(label, description, batch):
        calls.append(label)
        assert description == labels[label]
        return [1.0 if y[texts.index(t)] == label else 0.0 for t in batch]

    clf = make(labels, hashing_embedder, judge=CallableJudge(fn), judge_budget=4, n_rounds=2, random_state=0)
    clf.fit(texts)
    assert sorted(calls) == sorted(list(labels) * 2)
    assert clf.n_judge_requests_ == 6
    assert {j.round for j in clf.judgments_} == {0, 1}


def test_random_state_makes_fit_reproducible(toy, hashing_embedder):
    labels, texts, y = toy
    params = dict(judge=GoldJudge(texts, y), judge_budget=3, random_state=7)
    first = make(labels, hashing_embedder, **params).fit(texts)
    second = make(labels, hashing_embedder, **params).fit(texts)
    assert first.judgments_ == second.judgments_
    np.testing.assert_allclose(first.coef_, second.coef_)


@pytest.mark.parametrize(
    ("answer", "error", "message"),
    [
        (lambda texts: [1.0] * (len(texts) + 1), ValueError, "returned 2 scores for label 'weather' but was asked"),
        (lambda texts: [1.5] * len(texts), ValueError, r"outside \[0, 1\]"),
        (lambda texts: ["yes"] * len(texts), ValueError, "non-numeric scores"),
    ],
)
def test_bad_judge_replies_are_clear_errors(toy, hashing_embedder, answer, error, message):
    labels, texts, _ = toy
    clf = make(labels, hashing_embedder, judge=CallableJudge(lambda label, d, t: answer(t)), judge_budget=2)
    with pytest.raises(error, match=message):
        clf.fit(texts)


def test_nan_scores_are_skipped_with_a_warning(toy, hashing_embedder):
    labels, texts, y = toy

    def fn(label, description, batch):
        return [np.nan if i == 0 else float(y[texts.index(t)] == label) for i, t in enumerate(batch)]

    clf = make(labels, hashing_embedder, judge=CallableJudge(fn), judge_budget=4, n_rounds=1)
    with pytest.warns(RuntimeWarning, match="could not score 3 of 12 pairs"):
        clf.fit(texts)
    assert clf.n_failed_pairs_ == 3
    assert sum(np.isnan(j.score) for j in clf.judgments_) == 3


@pytest.mark.parametrize(
    ("X", "error", "message"),
    [
        ([], ValueError, "X is empty"),
        (None, TypeError, "X is None"),
        ("just one string", TypeError, "not a single str"),
        (["ok", None], ValueError, r"X\[1\] is missing"),
        (["ok", 3], TypeError, r"X\[1\] is a int"),
        (["ok", "   "], ValueError, r"X\[1\] is empty or whitespace"),
        (np.zeros((3, 2)), ValueError, "one-dimensional"),
    ],
)
def test_bad_texts(hashing_embedder, X, error, message):
    with pytest.raises(error, match=message):
        make(["a", "b"], hashing_embedder).fit(X)


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (["only"], "at least two labels"),
        (["a", "a"], "Duplicate label 'a'"),
        (["a", ""], "non-empty string"),
        ({"a": "x", "b": "  "}, "description of label 'b'"),
        ({"a": "x", "b": 3}, "description of label 'b'"),
    ],
)
def test_bad_labels(hashing_embedder, labels, message):
    with pytest.raises(ValueError, match=message):
        make(labels, hashing_embedder).fit(["some text"])


def test_y_with_unknown_labels_is_rejected(toy, hashing_embedder):
    labels, texts, y = toy
    with pytest.raises(ValueError, match=r"not in labels: \['sports'\]"):
        make(labels, hashing_embedder).fit(texts, ["sports", *y[1:]])
    with pytest.raises(ValueError, match="y has 2 entries but X has 18"):
        make(labels, hashing_embedder).fit(texts, y[:2])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (dict(refinement="magic"), "refinement must be one of"),
        (dict(sampling="best"), "sampling must be one of"),
        (dict(judge_budget=-1), "judge_budget must be an integer >= 0"),
        (dict(n_rounds=0), "n_rounds must be an integer >= 1"),
        (dict(C=0.0), "C must be a positive number"),
    ],
)
def test_bad_params_fail_at_fit(toy, hashing_embedder, params, message):
    labels, texts, _ = toy
    clf = make(labels, hashing_embedder, **params)  # __init__ does not validate
    with pytest.raises(ValueError, match=message):
        clf.fit(texts)


def test_judge_must_be_a_judge(toy, hashing_embedder):
    labels, texts, _ = toy
    with pytest.raises(TypeError, match="CallableJudge"):
        make(labels, hashing_embedder, judge=lambda *a: [1.0]).fit(texts)


def test_not_fitted_error(toy, hashing_embedder):
    labels, _, _ = toy
    for method in ("predict", "predict_proba", "decision_function"):
        with pytest.raises(NotFittedError):
            getattr(make(labels, hashing_embedder), method)(["hello"])


def test_predict_on_empty_input_and_bad_input(toy, hashing_embedder):
    labels, texts, _ = toy
    clf = make(labels, hashing_embedder).fit(texts)
    assert clf.predict([]).shape == (0,)
    assert clf.predict_proba([]).shape == (0, 3)
    with pytest.raises(ValueError, match=r"X\[0\] is missing"):
        clf.predict([None])


def test_clone_get_set_params(toy, hashing_embedder):
    labels, texts, y = toy
    clf = make(labels, hashing_embedder, judge=GoldJudge(texts, y), judge_budget=5)
    params = clf.get_params()
    assert params["judge_budget"] == 5 and params["labels"] is labels
    copy = clone(clf)
    assert copy.get_params()["judge_budget"] == 5
    copy.set_params(judge_budget=2, refinement="kl")
    assert copy.judge_budget == 2 and clf.judge_budget == 5
    clf.fit(texts)
    assert not hasattr(clone(clf), "coef_")


def test_pipeline_and_grid_search(toy, hashing_embedder):
    labels, texts, y = toy
    pipe = make_pipeline(
        FunctionTransformer(lambda xs: [x.lower() for x in xs]),
        make(labels, hashing_embedder, judge=GoldJudge(texts, y), random_state=0),
    )
    search = GridSearchCV(
        pipe,
        {"zeroshotclassifier__judge_budget": [0, 4], "zeroshotclassifier__refinement": ["joint", "kl"]},
        cv=3,
    )
    search.fit(texts, y)
    scores = search.cv_results_["mean_test_score"]
    assert len(scores) == 4 and np.all(np.isfinite(scores)) and scores.max() > 0.5
    refitted = search.best_estimator_[-1]
    assert refitted.n_judged_pairs_ == 4 * 3 * (search.best_params_["zeroshotclassifier__judge_budget"] > 0)
    assert search.predict(["play some music"]).shape == (1,)


def test_pickle_round_trip_without_refit(toy, hashing_embedder):
    labels, texts, y = toy
    clf = make(labels, hashing_embedder, judge=GoldJudge(texts, y), judge_budget=4, random_state=0).fit(texts)
    loaded = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(loaded.predict_proba(texts), clf.predict_proba(texts))


def test_fit_does_not_warn_on_clean_input(toy, hashing_embedder):
    labels, texts, y = toy
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make(labels, hashing_embedder, judge=GoldJudge(texts, y), judge_budget=4).fit(texts)


def test_out_of_scope_with_a_fixed_threshold(toy, hashing_embedder):
    labels, texts, _ = toy
    clf = make(labels, hashing_embedder, oos_label="oos", oos_threshold=0.999).fit(texts)
    assert set(clf.predict(["completely unrelated words here"])) == {"oos"}
    assert clf.set_params(oos_threshold=0.0).fit(texts).predict(["play music"])[0] == "music"
    assert clf.predict_proba(["play music"]).shape == (1, 3)  # probabilities stay available


def test_automatic_threshold_and_blend_come_from_held_out_answers(toy, hashing_embedder):
    labels, texts, y = toy
    texts, y = (
        [f"{t} {w}" for t in texts for w in ("now", "please", "today", "again")],
        [label for label in y for _ in range(4)],
    )
    clf = make(labels, hashing_embedder, judge=GoldJudge(texts, y), judge_budget=16, oos_label="none", random_state=0)
    clf.fit(texts)
    assert (clf.zero_shot_weight_, clf.refined_weight_) != (0.0, 1.0)
    assert 0.0 <= clf.oos_threshold_ <= 1.0


@pytest.mark.parametrize(
    ("params", "error", "message"),
    [
        (dict(oos_label="music", oos_threshold=0.5), ValueError, "oos_label .music. is one of the labels"),
        (dict(oos_label="oos"), ValueError, "oos_threshold='auto' is learned from judge answers"),
        (dict(oos_label="oos", oos_threshold=1.5), ValueError, "probability in"),
        (dict(oos_label=3), TypeError, "oos_label must be a string"),
    ],
)
def test_bad_out_of_scope_settings(toy, hashing_embedder, params, error, message):
    labels, texts, _ = toy
    with pytest.raises(error, match=message):
        make(labels, hashing_embedder, **params).fit(texts)


def _answers_drawn_from(logits: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    said_yes = np.zeros(logits.shape, dtype=bool)
    said_yes[np.arange(len(logits)), [rng.choice(logits.shape[1], p=row) for row in p]] = True
    return said_yes


def test_fit_blend_recovers_known_weights():
    from zsclassify._calibration import fit_blend

    rng = np.random.default_rng(0)
    zero_shot, refined = rng.uniform(-1, 1, size=(4000, 5)), rng.normal(scale=3.0, size=(4000, 5))
    said_yes = _answers_drawn_from(4.0 * zero_shot + 0.4 * refined, rng)
    weights = fit_blend(zero_shot, refined, said_yes, np.zeros_like(said_yes))
    assert weights == pytest.approx((4.0, 0.4), rel=0.15)


def test_fit_blend_drops_scores_that_do_not_explain_the_answers():
    from zsclassify._calibration import fit_blend

    rng = np.random.default_rng(1)
    zero_shot, noise = rng.uniform(-1, 1, size=(3000, 4)), rng.normal(scale=3.0, size=(3000, 4))
    said_yes = _answers_drawn_from(6.0 * zero_shot, rng)
    said_no = ~said_yes & (rng.random(said_yes.shape) < 0.3)  # "no" answers use the other branch of the loss
    zero_shot_weight, refined_weight = fit_blend(zero_shot, noise, said_yes, said_no)
    assert refined_weight < 0.05 and zero_shot_weight == pytest.approx(6.0, rel=0.15)
    # refined scores that are the truth take all the weight
    zero_shot_weight, refined_weight = fit_blend(noise, zero_shot, said_yes, said_no)
    assert zero_shot_weight < 0.05 and refined_weight == pytest.approx(6.0, rel=0.15)


def test_fit_blend_stays_bounded_when_a_few_answers_are_all_explained():
    # 40 held-out answers that the refined scores all get right: without a prior the weight runs to its bound
    from zsclassify._calibration import MAX_REFINED_WEIGHT, fit_blend

    rng = np.random.default_rng(2)
    zero_shot, refined = rng.uniform(-1, 1, size=(40, 5)), rng.normal(size=(40, 5))
    said_yes = np.zeros_like(refined, dtype=bool)
    said_yes[np.arange(40), refined.argmax(axis=1)] = True
    refined_weight = fit_blend(zero_shot, refined, said_yes, ~said_yes)[1]
    assert 1.0 < refined_weight < MAX_REFINED_WEIGHT / 2  # 6.7 (20 without the prior)


def test_a_small_pool_warns_and_never_claims_certainty(toy, hashing_embedder):
    labels, texts, y = toy
    clf = make(labels, hashing_embedder, judge=GoldJudge(texts, y), judge_budget=20, oos_label="none", random_state=0)
    with pytest.warns(UserWarning, match=f"pool has {len(texts)} distinct utterances, fewer than the 60 questions"):
        clf.fit(texts)
    n_judged = len({choice.text for choice in clf.choices_})
    assert clf.probability_smoothing_ == pytest.approx(1 / (n_judged + 1))
    ceiling = 1 - clf.probability_smoothing_ * (1 - 1 / 3)  # one pseudo-answer spread over 3 labels
    proba = clf.predict_proba([*texts, "play the weather pizza", "zzz"])
    assert proba.max() <= ceiling + 1e-12 and np.allclose(proba.sum(axis=1), 1.0)
    assert clf.oos_threshold_ < ceiling  # a threshold that can still be met
    assert make(labels, hashing_embedder).fit(texts).probability_smoothing_ == 0.0  # zero-shot: nothing learned


def test_expected_calibration_error():
    from zsclassify.metrics import expected_calibration_error

    proba = np.array([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.6, 0.4]])
    # bin 0.9: accuracy 1/2 vs 0.9 -> 0.4 * 0.5; bin 0.6: accuracy 1 vs 0.6 -> 0.4 * 0.5
    assert expected_calibration_error(["a", "b", "a", "a"], proba, ["a", "b"]) == pytest.approx(0.4)


def test_too_few_answers_for_a_threshold_warns_and_rejects_nothing(toy, hashing_embedder):
    labels, texts, y = toy
    clf = make(labels, hashing_embedder, judge=GoldJudge(texts, y), judge_budget=2, oos_label="oos", random_state=0)
    with pytest.warns(RuntimeWarning, match="Too few accepted pairs to learn an out-of-scope threshold"):
        clf.fit(texts)
    assert clf.oos_threshold_ == 0.0
    assert "oos" not in set(clf.predict(texts))


def test_predict_with_confidence_matches_predict_and_predict_proba(toy, hashing_embedder):
    labels, texts, y = toy
    clf = make(labels, hashing_embedder, judge=GoldJudge(texts, y), judge_budget=4, random_state=0).fit(texts)
    clf.set_params(oos_label="oos", oos_threshold=0.5)  # read at predict time: no refit
    inputs = [*texts, "zebra xylophone"]
    predicted, confidence = clf.predict_with_confidence(inputs)
    np.testing.assert_array_equal(predicted, clf.predict(inputs))
    np.testing.assert_allclose(confidence, clf.predict_proba(inputs).max(axis=1))
    assert (predicted == "oos").sum() == (confidence < 0.5).sum() > 0
    empty_labels, empty_confidence = clf.predict_with_confidence([])
    assert empty_labels.shape == empty_confidence.shape == (0,)


def test_a_blend_with_no_weight_left_warns_and_keeps_the_refined_fit(toy, hashing_embedder, monkeypatch):
    from zsclassify import _calibration

    labels, texts, y = toy
    params = dict(judge=GoldJudge(texts, y), judge_budget=16, random_state=0)
    monkeypatch.setattr(_calibration, "fit_blend", lambda *args: (0.0, 0.0))
    with pytest.warns(RuntimeWarning, match="blend weights are 0"):
        clf = make(labels, hashing_embedder, **params).fit(texts)
    assert (clf.zero_shot_weight_, clf.refined_weight_) == (0.0, 1.0)
    assert len(set(clf.predict(texts))) == len(labels)  # not one label for everything


@pytest.mark.parametrize(
    ("labels", "texts", "error", "match"),
    [
        ({"weather", "music"}, ["hi"], TypeError, "is a set, whose order is arbitrary"),
        ({"a": "play music", "b": "Play  music"}, ["hi"], ValueError, "have the same description"),
        (["music", " music"], ["hi"], ValueError, "differ only by whitespace"),
        (["music", "weather"], ["fine", "bad \udc80 byte"], ValueError, r"X\[1\] holds an invalid character"),
        ({"music": "songs \ud800", "weather": "rain"}, ["hi"], ValueError, "description of label 'music'"),
    ],
    ids=["set", "same-description", "whitespace-names", "surrogate-text", "surrogate-description"],
)
def test_ambiguous_labels_and_unencodable_text_are_rejected(labels, texts, error, match, hashing_embedder):
    with pytest.raises(error, match=match):
        ZeroShotClassifier(labels, embedder=hashing_embedder).fit(texts)
