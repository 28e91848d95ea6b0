"""warm_start: a refit after an intent edit judges only the edited intent."""

import numpy as np
import pytest
from conftest import TOY_LABELS, TOY_TEXTS, HashingEmbedder

from zsclassify import ZeroShotClassifier, load_model, save_model
from zsclassify.judges import GoldJudge, Judge

ALARM = {"alarm": "set an alarm or a timer to wake me up"}
ALARM_TEXTS = ["wake me up at seven", "set an alarm for 6am", "timer for ten minutes", "alarm tomorrow morning"]


class Counting(Judge):
    """A GoldJudge that records what it is asked."""

    def __init__(self, gold: GoldJudge) -> None:
        self.gold, self.pairs, self.choices = gold, [], []

    def judge(self, requests):
        self.pairs += [(r.label, text) for r in requests for text in r.texts]
        return self.gold.judge(requests)

    def choose(self, requests):
        self.choices += [(r.text, tuple(o.name for o in r.options)) for r in requests]
        return self.gold.choose(requests)


@pytest.fixture
def pool():
    texts = [t for label in TOY_TEXTS for t in TOY_TEXTS[label]] + ALARM_TEXTS
    labels = [label for label in TOY_TEXTS for _ in TOY_TEXTS[label]] + ["alarm"] * len(ALARM_TEXTS)
    return texts, Counting(GoldJudge(texts, labels))


def fit(labels, texts, judge, embedder, judging, clf=None, **params):
    if clf is None:
        settings = {"judge_budget": 3, "n_candidates": 3, "n_rounds": 2, "random_state": 0, **params}
        clf = ZeroShotClassifier(labels, embedder=embedder, judge=judge, judging=judging, warm_start=True, **settings)
    return clf.set_params(labels=labels).fit(texts)


def asked(judge, judging):
    return judge.choices if judging == "choice" else judge.pairs


@pytest.mark.parametrize("judging, suffix", [("choice", ".skops"), ("yes_no", ".joblib")])
def test_adding_an_intent_judges_only_that_intent(pool, hashing_embedder, judging, suffix, tmp_path):
    texts, judge = pool
    clf = fit(dict(TOY_LABELS), texts, judge, hashing_embedder, judging)
    first, first_choices = len(asked(judge, judging)), list(clf.choices_)
    assert first > 0 and clf.n_reused_judgments_ == 0
    # as a new process would: the saved model keeps its answers, not its judge
    saved = save_model(clf, tmp_path / f"bot{suffix}")
    clf = load_model(saved, trusted=[f"{HashingEmbedder.__module__}.HashingEmbedder"]).set_params(judge=judge)
    fit({**TOY_LABELS, **ALARM}, texts, judge, hashing_embedder, judging, clf)
    new = asked(judge, judging)[first:]
    assert 0 < len(new) <= 3  # one label's budget
    assert clf.n_judged_pairs_ == len(new) and clf.n_reused_judgments_ == first
    if judging == "choice":
        assert all("alarm" in options for _, options in new)
        assert clf.choices_[:first] == first_choices  # kept as asked, with their rounds
    else:
        assert {label for label, _ in new} == {"alarm"}
    assert (clf.predict(ALARM_TEXTS) == "alarm").mean() >= 0.5


@pytest.mark.parametrize("judging", ["choice", "yes_no"])
def test_an_unchanged_refit_asks_nothing_and_gives_the_same_model(pool, hashing_embedder, judging):
    texts, judge = pool
    clf = fit(dict(TOY_LABELS), texts, judge, hashing_embedder, judging)
    coef, first = clf.coef_.copy(), len(asked(judge, judging))
    fit(dict(TOY_LABELS), texts, judge, hashing_embedder, judging, clf)
    assert len(asked(judge, judging)) == first and clf.n_judge_requests_ == 0
    np.testing.assert_allclose(clf.coef_, coef)


def test_a_redescribed_intent_is_judged_again_and_its_old_questions_dropped(pool, hashing_embedder):
    texts, judge = pool
    clf = fit(dict(TOY_LABELS), texts, judge, hashing_embedder, "choice", n_candidates=2)
    first = len(judge.choices)
    showing_food = sum("food" in options for _, options in judge.choices)
    assert 0 < showing_food < first
    fit({**TOY_LABELS, "food": "ordering a meal or booking a table"}, texts, judge, hashing_embedder, "choice", clf)
    assert clf.n_reused_judgments_ == first - showing_food
    assert all("food" in options for _, options in judge.choices[first:])
    assert all("food" not in choice.options for choice in clf.choices_[: clf.n_reused_judgments_])


def test_a_removed_intent_leaves_the_options_of_the_answers_that_stand(pool, hashing_embedder):
    texts, judge = pool
    clf = fit(dict(TOY_LABELS), texts, judge, hashing_embedder, "choice")
    before = list(clf.choices_)
    fit({name: TOY_LABELS[name] for name in ("weather", "music")}, texts, judge, hashing_embedder, "choice", clf)
    assert clf.n_judge_requests_ == 0  # nothing new to judge
    kept = [c for c in before if c.answer != "food"]
    assert clf.n_reused_judgments_ == len(kept) < len(before)
    for old, new in zip(kept, clf.choices_):
        assert new.text == old.text and new.answer == old.answer and "food" not in new.options
        assert abs(sum(new.probabilities) - 1) < 1e-9


def test_other_settings_keep_nothing_with_a_warning(pool, hashing_embedder):
    texts, judge = pool
    clf = fit(dict(TOY_LABELS), texts, judge, hashing_embedder, "choice")
    with pytest.warns(UserWarning, match="none of its answers is kept"):
        clf.set_params(judge_budget=4).fit(texts)
    assert clf.n_reused_judgments_ == 0 and clf.n_judged_pairs_ > 0


def test_warm_start_is_checked(pool, hashing_embedder):
    texts, judge = pool
    with pytest.raises(ValueError, match="warm_start keeps answers for refinement='joint'"):
        ZeroShotClassifier(TOY_LABELS, embedder=hashing_embedder, judge=judge, refinement="kl", warm_start=True).fit(
            texts
        )
    with pytest.raises(TypeError, match="warm_start must be True or False"):
        ZeroShotClassifier(TOY_LABELS, embedder=hashing_embedder, judge=judge, warm_start="yes").fit(texts)


def test_a_failed_refit_does_not_pass_off_old_answers_as_answers_to_its_labels(pool, hashing_embedder):
    texts, judge = pool

    class FailingOnce(type(hashing_embedder)):
        fail = False

        def encode_query(self, texts):
            if FailingOnce.fail:
                FailingOnce.fail = False
                raise RuntimeError("the embedding server is down")
            return super().encode_query(texts)

    clf = fit(dict(TOY_LABELS), texts, judge, FailingOnce(), "choice", n_candidates=2)
    redescribed = {**TOY_LABELS, "food": "ordering a meal or booking a table"}
    FailingOnce.fail = True
    with pytest.raises(RuntimeError, match="server is down"):
        clf.set_params(labels=redescribed).fit(texts)  # fails after reading the new labels
    fit(redescribed, texts, judge, None, "choice", clf)
    kept = clf.choices_[: clf.n_reused_judgments_]
    assert kept and all("food" not in choice.options for choice in kept)  # answers about the old "food" are gone
