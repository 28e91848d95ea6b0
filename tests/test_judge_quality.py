"""The judge measured from its own answers: the answer model, the judge weight, and what a fit does with them."""

import pickle
import warnings

import numpy as np
import pytest

from zsclassify import JudgeError, WeakJudgeError, ZeroShotClassifier, load_model, save_model
from zsclassify._judge_quality import (
    MIN_SEPARATION,
    assess_judge,
    bounded_rates,
    decide_multilabel,
    fit_answer_model,
    judge_weight,
    position_bias,
)
from zsclassify.judges import CallableJudge, GoldJudge
from zsclassify.reporting import report_judge


def simulated_answers(rng, n, false_yes, false_no, shares=(0.7, 0.12, 0.08, 0.1)):
    """Yes/no answers about 3 candidates of ``n`` utterances, and each one's right position (3 = none)."""
    truth = rng.choice(4, size=n, p=shares)
    right = truth[:, None] == np.arange(3)[None, :]
    p_yes = np.where(right, 1.0 - false_no, false_yes)
    return (rng.random((n, 3)) < p_yes).astype(float), truth


@pytest.mark.parametrize(("false_yes", "false_no"), [(0.0, 0.0), (0.45, 0.13), (0.6, 0.13), (0.2, 0.3)])
def test_the_answer_model_recovers_the_rates(false_yes, false_no):
    rng = np.random.default_rng(0)
    answers, _ = simulated_answers(rng, 400, false_yes, false_no)
    model = fit_answer_model([answers], rng)
    assert abs(model.false_yes - false_yes) < 0.07
    assert abs(model.false_no - false_no) < 0.1
    assert model.false_yes_interval[0] <= model.false_yes <= model.false_yes_interval[1]
    assert model.n_utterances == 400 and model.n_pairs == 1200


@pytest.mark.parametrize(
    "answers",
    [
        np.ones((60, 3)),  # always yes
        np.zeros((60, 3)),  # always no: not "no candidate was ever right"
        (np.random.default_rng(1).random((60, 3)) < 0.5).astype(float),  # random
    ],
    ids=["always yes", "always no", "random"],
)
def test_answers_that_do_not_depend_on_the_label_have_no_separation(answers):
    model = fit_answer_model([answers], np.random.default_rng(0))
    assert model.separation < MIN_SEPARATION


def simulated_choices(rng, truth, n_candidates, accuracy):
    """One multiple choice per utterance: its right position with probability ``accuracy``, else any other."""
    other = (truth + rng.integers(1, n_candidates + 1, size=len(truth))) % (n_candidates + 1)
    return np.where(rng.random(len(truth)) < accuracy, truth, other)[:, None]


@pytest.mark.parametrize(("accuracy", "follows"), [(0.8, True), (0.5, True), (0.25, False)])
def test_the_answer_model_rates_choices_against_the_yes_no_answers(accuracy, follows):
    rng = np.random.default_rng(0)
    yes_no, truth = simulated_answers(rng, 300, 0.2, 0.2)  # right positions 0-2, or 3: none of the 3
    model = fit_answer_model([yes_no], rng, picks=[simulated_choices(rng, truth, 3, accuracy)])
    assert abs(model.choice_accuracy - accuracy) < 0.07 and model.n_choices == 300 and model.n_choice_options == 4
    low, high = model.choice_accuracy_interval
    assert low <= model.choice_accuracy <= high
    assert (model.choice_separation >= MIN_SEPARATION) == follows  # 0.25 on 4 options: choices at random
    assert abs(model.false_yes - 0.2) < 0.07 and abs(model.false_no - 0.2) < 0.1
    without = fit_answer_model([yes_no], rng)
    assert without.choice_accuracy is None and without.choice_separation is None


def test_twice_asked_choices_rate_a_chooser_where_yes_no_answers_are_noisy():
    """The order probe's questions (two choices each, no yes/no) sharpen the choices' rating."""
    rng = np.random.default_rng(1)
    yes_no, truth = simulated_answers(rng, 12, 0.3, 0.3)  # a check's dozen utterances, noisy yes/no
    picks = simulated_choices(rng, truth, 3, 0.75)
    probe_truth = rng.choice(4, size=30, p=(0.6, 0.2, 0.1, 0.1))
    probe = np.hstack([simulated_choices(rng, probe_truth, 3, 0.75), simulated_choices(rng, probe_truth, 3, 0.75)])
    model = fit_answer_model([yes_no, np.full((30, 3), np.nan)], rng, picks=[picks, probe])
    assert model.n_choices == 72 and model.choice_separation >= MIN_SEPARATION
    assert abs(model.choice_accuracy - 0.75) < 0.15


def test_choices_nothing_else_rates_are_not_rated_nor_followed():
    """Constant yes/no answers and no order probe leave the choices' accuracy unidentified: a judge that
    always picks the last option fits as a perfect chooser whose right labels all sit last."""
    rng = np.random.default_rng(0)
    yes_to_all = np.column_stack([np.ones((12, 2)), np.full(12, np.nan)])  # yes/no about 2 of 3 candidates
    model = fit_answer_model([yes_to_all], rng, picks=[np.full((12, 1), 2)])  # always the third
    assert model.choice_accuracy > 0.9  # the unidentified fit, as the answer model sees it
    rates = dict(checks=(), budget=140, noise_rates=(0.6, 0.02), judging="choice")
    quality = assess_judge(model, probe=None, **rates)
    assert quality.judge_weight == 0.0 and quality.decision == "zero-shot"
    assert quality.choice_accuracy is None and quality.choice_separation is None
    assert "nothing rates its choices" in quality.reason and "choices right" not in quality.describe()
    probed = assess_judge(model, probe=([0, 1], [1, 0], [4, 4]), **rates)  # twice-asked questions anchor them
    assert probed.choice_accuracy is not None
    yes_no, truth = simulated_answers(rng, 12, 0.0, 0.0, shares=(0.5, 0.3, 0.1, 0.1))
    informative = fit_answer_model([np.column_stack([yes_no[:, :2], np.full(12, np.nan)])], rng, picks=[truth[:, None]])
    followed = assess_judge(informative, probe=None, **rates)
    assert followed.decision == "refined" and followed.choice_accuracy > 0.9


def test_failed_answers_are_left_out_and_too_few_give_no_model():
    answers = np.array([[1.0, 0.0, np.nan], [np.nan, np.nan, np.nan], [0.0, 1.0, 0.0]])
    model = fit_answer_model([answers], np.random.default_rng(0))
    assert model.n_pairs == 5 and model.n_utterances == 2 and len(model.posteriors[0]) == 3
    assert fit_answer_model([np.array([[1.0, np.nan, np.nan]])], np.random.default_rng(0)) is None


def test_a_judge_is_followed_from_the_least_separation_on_and_never_blended_with_zero_shot():
    assert judge_weight(0.1, min_separation=0.15) == 0.0
    assert judge_weight(0.15, min_separation=0.15) == judge_weight(0.2, min_separation=0.15) == 1.0


def test_with_far_labels_the_weight_rests_on_right_against_far_answers():
    """Multi-label: a judge that says yes to near misses is still followed if it says no to far labels."""
    rng = np.random.default_rng(0)
    near_miss, _ = simulated_answers(rng, 300, 0.45, 0.13)
    model = fit_answer_model([near_miss], rng)
    plain = assess_judge(model, probe=None, checks=(), budget=1000, noise_rates=(0.45, 0.13))
    reading = assess_judge(model, probe=None, checks=(), budget=1000, noise_rates=(0.45, 0.13), far_false_yes=0.05)
    assert reading.judge_weight == 1.0 and reading.far_false_yes == 0.05 and "far labels" in reading.reason
    assert reading.separation == plain.separation  # still 1 - false_yes - false_no, as reported
    random = assess_judge(model, probe=None, checks=(), budget=1000, noise_rates=(0.45, 0.13), far_false_yes=0.8)
    assert random.judge_weight == 0.0 and random.decision == "zero-shot"


def test_a_multi_label_fit_follows_a_judge_or_drops_it_whole():
    rng = np.random.default_rng(0)
    model = fit_answer_model([simulated_answers(rng, 300, 0.45, 0.13)[0]], rng)
    rates = {"probe": None, "checks": (), "budget": 1000, "noise_rates": (0.45, 0.13)}
    weak = assess_judge(model, **rates, far_false_yes=0.8)  # a check that misjudges a reading judge
    assert weak.judge_weight == 0.0
    reads = decide_multilabel(weak, n_yes=50, n_no=50, held_out_auc=0.67)
    assert reads.judge_weight == 1.0 and reads.decision == "refined" and reads.held_out_auc == 0.67
    coin_flips = decide_multilabel(assess_judge(model, **rates, far_false_yes=0.0), n_yes=50, n_no=50, held_out_auc=0.4)
    assert coin_flips.judge_weight == 0.0 and coin_flips.decision == "zero-shot" and "AUC 0.40" in coin_flips.reason
    contrary = decide_multilabel(assess_judge(model, **rates, far_false_yes=0.99), n_yes=50, n_no=50, held_out_auc=0.9)
    assert contrary.judge_weight == 0.0 and "far labels at least as readily" in contrary.reason
    unmeasured = assess_judge(None, probe=None, checks=(), budget=1000, noise_rates=(0.0, 0.0))
    assert decide_multilabel(unmeasured, n_yes=30, n_no=30, held_out_auc=0.9).decision == "not measured"
    always_yes = decide_multilabel(unmeasured, n_yes=60, n_no=0, held_out_auc=None)
    assert always_yes.judge_weight == 0.0 and "yes to all 60" in always_yes.reason
    assert bounded_rates(0.2, 0.1) == (0.2, 0.1)
    assert sum(bounded_rates(0.5, 0.45)) == pytest.approx(0.7) and bounded_rates(0.5, 0.5)[0] == pytest.approx(0.35)


def test_position_bias_is_the_first_option_both_times_less_the_last_both_times():
    bias, low, high = position_bias([0, 0, 0, 0], [0, 0, 0, 0], [4, 4, 4, 4])
    assert bias == 1.0 and low < 1.0 == high
    assert position_bias([2, 2, 1, 0], [2, 2, 1, 0], [4, 4, 4, 4])[0] == -0.25  # 2 last-last, 1 first-first
    bias, low, high = position_bias([0, 1, 2, 3], [2, 1, 0, 3], [4, 4, 4, 4])  # one first-first, one last-last
    assert bias == 0.0 and -1.0 < low < 0.0 < high < 1.0
    assert position_bias([0], [0], [2])[0] == 0.0  # one candidate: both orders are the same question


def test_a_judge_blind_to_positions_has_no_position_bias_however_noisy():
    # answers drawn from the options alone (the right one 50% of the time, else any other at random): the
    # first option of one order is the last of the other, so "first both times" and "last both times" are alike
    rng = np.random.default_rng(0)
    n_options, n = 6, 4000  # 5 labels and "none"
    right = rng.integers(0, n_options, size=n)  # in forward positions

    def answer(reverse):
        picked = np.where(rng.random(n) < 0.5, right, rng.integers(0, n_options, size=n))
        return np.where(reverse & (picked < n_options - 1), n_options - 2 - picked, picked)

    bias, low, high = position_bias(answer(False), answer(True), [n_options] * n)
    assert low < 0.0 < high and abs(bias) < 0.02


def always(answer):
    return CallableJudge(lambda label, description, texts: [answer] * len(texts))


def test_a_judge_that_says_yes_to_everything_leaves_the_fit_at_zero_shot_and_warns_once(toy, hashing_embedder):
    labels, texts, _ = toy
    params = dict(embedder=hashing_embedder, judge_budget=60, random_state=0, show_progress=False)
    with pytest.warns(RuntimeWarning, match="too weak to trust") as caught:
        clf = ZeroShotClassifier(labels, judge=always(1.0), **params).fit(texts)
    assert sum("too weak to trust" in str(w.message) for w in caught) == 1
    quality = clf.judge_quality_
    assert quality.decision == "zero-shot" and quality.judge_weight == 0.0
    assert quality.false_yes > 0.9 and quality.n_check_pairs == 3 * quality.n_check_utterances > 0
    assert clf.refined_weight_ == 0.0  # the scores are the zero-shot cosines alone
    with pytest.raises(WeakJudgeError, match="too weak to trust") as raised:
        ZeroShotClassifier(labels, judge=always(1.0), on_weak_judge="raise", **params).fit(texts)
    assert raised.value.quality.judge_weight == 0.0


def test_a_warm_refit_measures_the_judge_again_from_the_earlier_check(toy, hashing_embedder):
    # adding an intent to a model fitted with a yes-to-everything judge must not hand that judge full weight
    labels, texts, _ = toy
    params = dict(embedder=hashing_embedder, judge_budget=60, random_state=0, show_progress=False, warm_start=True)
    with pytest.warns(RuntimeWarning, match="too weak to trust"):
        clf = ZeroShotClassifier(labels, judge=always(1.0), judging="yes_no", **params).fit(texts)
    earlier = clf.judge_quality_
    first_label = next(iter(labels))
    with pytest.warns(RuntimeWarning, match="too weak to trust"):
        clf.set_params(labels={**labels, first_label: labels[first_label] + " or forecasts"}).fit(texts)
    quality = clf.judge_quality_
    assert quality.check_reused and quality.check_share == 0.0 and quality.decision == "zero-shot"
    assert "earlier fit" in quality.describe() and "warm start" in quality.reason
    # the re-described label's answers are dropped from the checked utterances' options; the rest stand
    assert quality.n_check_pairs < earlier.n_check_pairs and quality.n_check_utterances == earlier.n_check_utterances
    assert all(first_label not in check.options for check in quality.checks)
    assert clf.refined_weight_ == 0.0
    # a re-description of every label leaves nothing of the check: not measured, as before
    renamed = {name: description + " (new)" for name, description in labels.items()}
    clf.set_params(labels=renamed).fit(texts)
    assert clf.judge_quality_.decision == "not measured" and not clf.judge_quality_.check_reused


def test_a_warm_refit_rates_the_earlier_checks_choices_while_their_options_stand(toy, hashing_embedder):
    labels, texts, truth = toy
    params = dict(embedder=hashing_embedder, judge_budget=60, random_state=0, show_progress=False, warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the toy pool is smaller than the budget
        clf = ZeroShotClassifier(labels, judge=GoldJudge(texts, truth), judging="choice", **params).fit(texts)
        assert clf.judge_quality_.n_check_choices == clf.judge_quality_.n_check_utterances
        clf.set_params(labels={**labels, "greeting": "saying hello"}).fit(texts)  # every checked option stands
        quality = clf.judge_quality_
        assert quality.check_reused and quality.choice_accuracy > 0.9 and "choice separation" in quality.reason
        first_label = next(iter(labels))
        clf.set_params(labels={**labels, first_label: labels[first_label] + " or forecasts"}).fit(texts)
    quality = clf.judge_quality_  # a re-described option (each check showed all 3): no choice stands
    assert quality.choice_accuracy is None and quality.n_check_choices == 0


def test_a_good_judge_is_measured_as_good_and_followed(toy, hashing_embedder, tmp_path):
    labels, texts, truth = toy
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no weak-judge warning
        clf = ZeroShotClassifier(
            labels, embedder=hashing_embedder, judge=GoldJudge(texts, truth), judge_budget=60, random_state=0,
            show_progress=False,
        ).fit(texts)  # fmt: skip
    quality = clf.judge_quality_
    assert quality.decision == "refined" and quality.judge_weight == 1.0
    assert quality.false_yes < 0.05 and quality.false_no < 0.05
    assert quality.false_yes_used == quality.false_no_used == 0.02  # the bounded rates the final fit used
    assert "judge weight 1 (refined)" in quality.describe()
    summary = quality.summary()
    assert summary["decision"] == "refined" and isinstance(summary["false_yes_interval"], list)
    table = report_judge(clf)
    assert table["measure"].str.startswith("false-yes").any() and table["estimate"].iloc[-1] == 1.0
    assert table.set_index("measure").loc["choice accuracy (right option picked)", "estimate"] > 0.9
    for path in (tmp_path / "m.skops", tmp_path / "m.joblib"):
        save_model(clf, path)
        assert load_model(path, trusted=["conftest.HashingEmbedder"]).judge_quality_ == quality
    assert pickle.loads(pickle.dumps(clf)).judge_quality_ == quality


class ChoosesButFailsYesNo(GoldJudge):
    """Answers every multiple choice and fails every yes/no pair: the single-label check's questions."""

    def judge(self, requests):
        return [np.full(len(request.texts), np.nan) for request in requests]


def test_a_judge_that_fails_the_check_stops_the_fit_instead_of_going_unmeasured(toy, hashing_embedder):
    labels, texts, truth = toy
    clf = ZeroShotClassifier(
        labels, embedder=hashing_embedder, judge=ChoosesButFailsYesNo(texts, truth), judge_budget=60,
        judging="choice", show_progress=False,
    )  # fmt: skip
    with pytest.raises(JudgeError, match="could not score") as raised:
        clf.fit(texts)  # the check comes first: every pair asked so far failed
    assert raised.value.failed_pairs == 2 * 6  # a choice fit's check after its order probe: 6 utterances, 2 pairs each


class ChoosesWrongByName(GoldJudge):
    """Right about every yes/no pair; its choices read the options (the same label whatever their order)
    but always pick a wrong one: the first wrong candidate by name."""

    def choose(self, requests):
        answers = []
        for request in requests:
            names = [option.name for option in request.options]
            wrong = sorted(name for name in names if name not in self._labels_of(request.text))
            probabilities = np.zeros(len(names) + 1)
            probabilities[names.index(wrong[0]) if wrong else len(names)] = 1.0
            answers.append(probabilities)
        return answers


def test_choices_the_check_finds_wrong_send_an_auto_fit_to_yes_no(toy, hashing_embedder, caplog):
    labels, texts, truth = toy
    params = dict(embedder=hashing_embedder, judge_budget=60, random_state=0, show_progress=False)
    judge = ChoosesWrongByName(texts, truth)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the toy pool is smaller than the budget
        clf = ZeroShotClassifier(labels, judge=judge, **params).fit(texts)
    assert "check finds the judge's choices right 0%" in caplog.text
    assert clf.order_probe_.judging == "choice" and clf.order_probe_.consistency == 1.0  # the probe passed it
    quality = clf.judge_quality_
    assert clf.judging_ == "yes_no" and quality.decision == "refined" and quality.choice_accuracy < 0.1
    assert quality.n_check_choices == quality.n_check_utterances and "choices right" in quality.describe()
    assert clf.choices_ == [] and all(len(check.choice) == 4 for check in quality.checks)  # kept in the check
    assert {(j.label, j.text) for j in clf.judgments_} >= {
        (name, check.text) for check in quality.checks for name in check.options[:2]
    }  # the check's yes/no answers are kept for the rounds
    zero_shot = ZeroShotClassifier(labels, embedder=hashing_embedder).fit(texts)
    assert clf.score(texts, truth) > zero_shot.score(texts, truth)
    # asked for multiple choice, the fit keeps it and ends at zero-shot, warned, on the choices' rating
    with pytest.warns(RuntimeWarning, match="judging='yes_no' asks it those instead"):
        forced = ZeroShotClassifier(labels, judge=judge, judging="choice", **params).fit(texts)
    assert forced.judge_quality_.decision == "zero-shot" and "choice separation" in forced.judge_quality_.reason


class LastOptionYesToAll(GoldJudge):
    """Says yes to every pair and picks the last option of every multiple choice."""

    def judge(self, requests):
        return [np.ones(len(request.texts)) for request in requests]

    def choose(self, requests):
        return [np.eye(len(request.options) + 1)[len(request.options) - 1] for request in requests]


def test_a_choice_fit_whose_order_probe_finds_positions_ends_at_zero_shot(toy, hashing_embedder):
    """``judging="choice"`` runs the order probe too, without switching: a judge that reads positions is
    not followed (rated from its constant yes/no answers alone, it looked like a perfect chooser)."""
    labels, texts, truth = toy
    judge = LastOptionYesToAll(texts, truth)
    params = dict(embedder=hashing_embedder, judge=judge, judge_budget=60, random_state=0, show_progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the toy pool is smaller than the budget
        with pytest.warns(RuntimeWarning, match="order probe .* finds its choices follow the options' positions"):
            clf = ZeroShotClassifier(labels, judging="choice", **params).fit(texts)
        auto = ZeroShotClassifier(labels, **params).fit(texts)  # the same probe sends it to yes/no
    assert clf.judging_ == "choice" and clf.order_probe_.judging == "yes_no" and clf.order_probe_.position_bias < 0
    assert clf.judge_quality_.decision == "zero-shot" and clf.judge_quality_.n_check_choices > 0
    assert "judging='yes_no' asks it" not in clf.judge_quality_.reason
    assert auto.judging_ == "yes_no" and auto.judge_quality_.decision == "zero-shot"


def test_no_check_without_room_in_the_budget(toy, hashing_embedder):
    labels, texts, truth = toy
    clf = ZeroShotClassifier(
        labels, embedder=hashing_embedder, judge=GoldJudge(texts, truth), judge_budget=2, show_progress=False
    ).fit(texts)
    assert clf.judge_quality_.decision == "not measured" and clf.judge_quality_.judge_weight == 1.0
    assert clf.judge_quality_.false_yes is None and "not measured" in clf.judge_quality_.describe()
    assert ZeroShotClassifier(labels, embedder=hashing_embedder).fit(texts).judge_quality_ is None
    with pytest.raises(ValueError, match="nothing to report"):
        report_judge(ZeroShotClassifier(labels, embedder=hashing_embedder).fit(texts))


def test_on_weak_judge_is_validated(toy, hashing_embedder):
    labels, texts, _ = toy
    with pytest.raises(ValueError, match="on_weak_judge"):
        ZeroShotClassifier(labels, embedder=hashing_embedder, on_weak_judge="ignore").fit(texts)
