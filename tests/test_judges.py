import numpy as np
import pytest

from zsclassify.judges import CachedJudge, CallableJudge, GoldJudge, JudgeRequest


def test_callable_judge_calls_once_per_request():
    seen = []

    def fn(label, description, texts):
        seen.append((label, description, texts))
        return [0.5] * len(texts)

    out = CallableJudge(fn).judge([JudgeRequest("a", "desc a", ("x", "y")), JudgeRequest("b", "desc b", ("z",))])
    assert [len(o) for o in out] == [2, 1]
    assert seen == [("a", "desc a", ["x", "y"]), ("b", "desc b", ["z"])]


def test_gold_judge_answers_only_the_asked_pair():
    judge = GoldJudge(["hi", "bye", "hi"], ["greet", "leave", "hello"])
    (scores,) = judge.judge([JudgeRequest("greet", "d", ("hi", "bye"))])
    np.testing.assert_array_equal(scores, [1.0, 0.0])
    (scores,) = judge.judge([JudgeRequest("hello", "d", ("hi",))])  # a text under two labels belongs to both
    np.testing.assert_array_equal(scores, [1.0])


def test_gold_judge_unknown_text_is_a_clear_error():
    with pytest.raises(KeyError, match="no label for the utterance 'unseen'"):
        GoldJudge(["hi"], ["greet"]).judge([JudgeRequest("greet", "d", ("unseen",))])


def test_gold_judge_flip_rate_is_close_and_repeatable():
    texts = [f"text {i}" for i in range(4000)]
    judge = GoldJudge(texts, ["a"] * len(texts), flip_rate=0.15, random_state=3)
    request = [JudgeRequest("a", "d", tuple(texts))]
    first, second = judge.judge(request)[0], judge.judge(request)[0]
    np.testing.assert_array_equal(first, second)
    assert abs((first == 0).mean() - 0.15) < 0.02
    other_seed = GoldJudge(texts, ["a"] * len(texts), flip_rate=0.15, random_state=4).judge(request)[0]
    assert not np.array_equal(first, other_seed)


@pytest.mark.parametrize(
    ("texts", "labels", "flip", "message"),
    [(["a"], ["x", "y"], 0.0, "1 texts but 2 labels"), (["a"], ["x"], 1.5, "flip_rate must be in")],
)
def test_gold_judge_bad_arguments(texts, labels, flip, message):
    with pytest.raises(ValueError, match=message):
        GoldJudge(texts, labels, flip_rate=flip).judge([JudgeRequest("x", "d", ("a",))])


def test_recorded_judge_replays_and_marks_unrecorded_pairs():
    from zsclassify.judges import RecordedJudge

    judge = RecordedJudge([("a", "x", 1.0), ("a", "y", 0.25)], source="qwen")
    (scores,) = judge.judge([JudgeRequest("a", "d", ("x", "y", "z"))])
    np.testing.assert_array_equal(scores[:2], [1.0, 0.25])
    assert np.isnan(scores[2]) and "qwen" in repr(judge)


class CountingJudge(CallableJudge):
    """Answers 1.0 for texts containing the label's name; counts the pairs it was asked."""

    def __init__(self, answer=None):
        self.pairs = []
        super().__init__(answer or (lambda label, description, texts: [float(label in t) for t in texts]))

    def judge(self, requests):
        self.pairs.extend((r.label, t) for r in requests for t in r.texts)
        return super().judge(requests)


def test_cached_judge_asks_only_for_pairs_never_answered(tmp_path):
    inner = CountingJudge()
    judge = CachedJudge(inner, name="counting-v1", cache=tmp_path / "c.sqlite")
    first = judge.judge([JudgeRequest("rain", "d", ("rain today", "play jazz")), JudgeRequest("jazz", "d", ("x",))])
    assert [list(s) for s in first] == [[1.0, 0.0], [0.0]]
    assert judge.n_requests == 2 and judge.n_pairs_sent == 3
    again = judge.judge([JudgeRequest("rain", "d", ("play jazz", "new text", "rain today"))])
    np.testing.assert_array_equal(again[0], [0.0, 0.0, 1.0])  # order kept around the one new pair
    assert inner.pairs[3:] == [("rain", "new text")] and judge.n_pairs_sent == 4
    assert judge.store.hits == 2
    reopened = CachedJudge(CountingJudge(), name="counting-v1", cache=tmp_path / "c.sqlite")
    reopened.judge([JudgeRequest("rain", "d", ("rain today",))])
    assert reopened.n_pairs_sent == 0  # persisted on disk
    renamed = CachedJudge(CountingJudge(), name="counting-v2", cache=tmp_path / "c.sqlite")
    renamed.judge([JudgeRequest("rain", "d", ("rain today",))])
    assert renamed.n_pairs_sent == 1  # the name is part of the key


def test_cached_judge_does_not_keep_failed_or_invalid_answers(tmp_path):
    answers = iter([[np.nan, 7.0, 1.0], [0.5, 0.5]])
    inner = CountingJudge(lambda label, description, texts: next(answers))
    judge = CachedJudge(inner, name="n", cache=tmp_path / "c.sqlite")
    judge.judge([JudgeRequest("a", "d", ("x", "y", "z"))])
    (scores,) = judge.judge([JudgeRequest("a", "d", ("x", "y", "z"))])
    np.testing.assert_array_equal(scores, [0.5, 0.5, 1.0])  # x and y asked again
    assert len(judge.store) == 3


def test_cached_judge_is_shared_by_clones_and_rejects_non_judges(tmp_path):
    from sklearn.base import clone

    from zsclassify import ZeroShotClassifier

    judge = CachedJudge(CountingJudge(), name="n", cache=tmp_path / "c.sqlite")
    assert clone(ZeroShotClassifier(["a", "b"], judge=judge)).judge is judge
    with pytest.raises(TypeError, match="wraps a zsclassify Judge"):
        CachedJudge(lambda *a: [1.0], name="n", cache=tmp_path / "c.sqlite").judge([JudgeRequest("a", "d", ("x",))])
