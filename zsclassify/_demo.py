"""``zsclassify demo``: zero-shot vs refined accuracy on the bundled intent set."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from ._estimator import ZeroShotClassifier
from .datasets import DemoData, load_demo, load_demo_judge
from .judges import AnthropicJudge, GoldJudge, Judge, OpenAICompatibleJudge

__all__ = ["DemoResult", "choose_demo_judge", "run_demo"]


@dataclass(frozen=True)
class DemoResult:
    """What :func:`run_demo` measured."""

    n_labels: int
    n_pool: int
    n_test: int
    judge: str  # what the judge is, in words
    zero_shot_accuracy: float
    refined_accuracy: float
    judged_pairs: int
    fit_seconds: float
    total_seconds: float


def choose_demo_judge(data: DemoData) -> tuple[Judge, str]:
    """The best judge reachable, and a sentence saying what it is.

    Claude when ``ANTHROPIC_API_KEY`` is set; else an OpenAI-compatible server when
    ``ZSCLASSIFY_JUDGE_URL`` (and ``ZSCLASSIFY_JUDGE_MODEL``) are set; else a replay of
    judgments recorded from a real LLM, shipped with the demo; else a GoldJudge.
    """
    if os.environ.get("ANTHROPIC_API_KEY"):
        judge = AnthropicJudge()
        return judge, f"{judge!r}: Claude, live (ANTHROPIC_API_KEY is set)"
    url = os.environ.get("ZSCLASSIFY_JUDGE_URL")
    if url:
        model = os.environ.get("ZSCLASSIFY_JUDGE_MODEL", "default")
        return OpenAICompatibleJudge(model, base_url=url), f"OpenAICompatibleJudge({model!r}) at {url}, live"
    recorded = load_demo_judge()
    if recorded is not None:
        judge, header = recorded
        return judge, (
            f"{judge!r}: replays {len(judge.records)} judgments recorded from {header['model']} "
            f"({header['server']}, {header['scoring']}); set ANTHROPIC_API_KEY or ZSCLASSIFY_JUDGE_URL for a live LLM"
        )
    judge = GoldJudge(data.pool_texts, data.pool_labels)
    return judge, f"{judge!r}: answers from the pool's known labels; it is not an LLM"


def run_demo(
    judge: Judge | None = None, *, judge_budget: int = 20, random_state: int = 0, show_progress: bool | None = None
) -> DemoResult:
    """Fit a zero-shot and a refined classifier on the demo pool and score both on its test split.

    Parameters
    ----------
    judge : Judge, optional
        The judge; by default :func:`choose_demo_judge` picks one.
    judge_budget : int
        Judged pairs per label.
    random_state : int
        Seed of the sample the judge sees.
    show_progress : bool, optional
        Progress bars, as in :class:`~zsclassify.ZeroShotClassifier`.
    """
    start = time.perf_counter()
    data = load_demo()
    if judge is None:
        judge, judge_note = choose_demo_judge(data)
    else:
        judge_note = repr(judge)
    refined = ZeroShotClassifier(
        data.labels, judge=judge, judge_budget=judge_budget, random_state=random_state, show_progress=show_progress
    )
    refined._check_params()  # a bad budget fails now, not after the zero-shot fit has embedded the pool
    zero_shot = ZeroShotClassifier(data.labels, show_progress=show_progress).fit(data.pool_texts)
    zero_shot_accuracy = zero_shot.score(data.test_texts, data.test_labels)
    fit_start = time.perf_counter()
    refined.fit(data.pool_texts)
    fit_seconds = time.perf_counter() - fit_start
    return DemoResult(
        n_labels=len(data.labels),
        n_pool=len(data.pool_texts),
        n_test=len(data.test_texts),
        judge=judge_note,
        zero_shot_accuracy=zero_shot_accuracy,
        refined_accuracy=refined.score(data.test_texts, data.test_labels),
        judged_pairs=refined.n_judged_pairs_,
        fit_seconds=fit_seconds,
        total_seconds=time.perf_counter() - start,
    )
