import numpy as np
import pytest

from zsclassify.judges import CallableJudge, GoldJudge, JudgeRequest


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
