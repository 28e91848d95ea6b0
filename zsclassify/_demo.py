"""``zsclassify demo``: zero-shot vs refined accuracy on the bundled intent set."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import NamedTuple

from ._estimator import ZeroShotClassifier
from ._judging import OrderProbe
from .datasets import DemoData, load_demo, load_demo_judge
from .judges import AnthropicJudge, GoldJudge, Judge, OpenAICompatibleJudge

__all__ = ["DemoJudge", "DemoResult", "choose_demo_judge", "run_demo"]

DEFAULT_BUDGET = 20


@dataclass(frozen=True)
class DemoResult:
    """What :func:`run_demo` measured."""

    n_labels: int
    n_pool: int
    n_test: int
    judge: str  # what the judge is, in words
    zero_shot_accuracy: float
    refined_accuracy: float
    judging: str  # "choice" or "yes_no"
    judged_pairs: int  # judged units: utterances (choice) or pairs (yes/no)
    order_probe: str | None  # what judging="auto"'s order probe found, in words (None when none ran)
    judge_quality: str | None  # the judge's estimated quality and the fit's decision, in words
    fit_seconds: float
    total_seconds: float


class DemoJudge(NamedTuple):
    """The demo's judge, a sentence saying what it is, and the budget it answers for."""

    judge: Judge
    note: str
    judge_budget: int = DEFAULT_BUDGET


def choose_demo_judge(data: DemoData) -> DemoJudge:
    """The best judge reachable, and a sentence saying what it is.

    Claude when ``ANTHROPIC_API_KEY`` is set; else an OpenAI-compatible server when
    ``ZSCLASSIFY_JUDGE_URL`` (and ``ZSCLASSIFY_JUDGE_MODEL``) are set; else a replay of
    judgments recorded from a real LLM, shipped with the demo; else a GoldJudge.
    """
    if os.environ.get("ANTHROPIC_API_KEY"):
        judge = AnthropicJudge()
        return DemoJudge(judge, f"{judge!r}: Claude, live (ANTHROPIC_API_KEY is set)")
    url = os.environ.get("ZSCLASSIFY_JUDGE_URL")
    if url:
        model = os.environ.get("ZSCLASSIFY_JUDGE_MODEL", "default")
        return DemoJudge(OpenAICompatibleJudge(model, base_url=url), f"OpenAICompatibleJudge({model!r}) at {url}, live")
    recorded = load_demo_judge()
    if recorded is not None:
        replay, header = recorded
        probes = len(list(replay.order_probes))
        answers = ", ".join(
            part
            for part, count in (
                (f"an order probe of {probes} questions in both orders", probes),
                (f"{len(list(replay.choices)) - probes} multiple choices", len(list(replay.choices)) - probes),
                (f"{len(list(replay.records))} yes/no pairs", len(list(replay.records))),
            )
            if count
        )
        note = (
            f"{replay!r}: replays {answers} recorded from {header['model']} ({header['server']}, {header['scoring']}); "
            "set ANTHROPIC_API_KEY or ZSCLASSIFY_JUDGE_URL for a live LLM"
        )
        return DemoJudge(replay, note, header.get("judge_budget", DEFAULT_BUDGET))
    gold = GoldJudge(data.pool_texts, data.pool_labels)
    return DemoJudge(gold, f"{gold!r}: answers from the pool's known labels; it is not an LLM")


def run_demo(
    judge: Judge | None = None,
    *,
    judge_budget: int | None = None,
    random_state: int = 0,
    show_progress: bool | None = None,
) -> DemoResult:
    """Fit a zero-shot and a refined classifier on the demo pool and score both on its test split.

    Parameters
    ----------
    judge : Judge, optional
        The judge; by default :func:`choose_demo_judge` picks one.
    judge_budget : int, optional
        Judged questions (or pairs) per label; by default the budget the shipped recording
        covers (its header's ``judge_budget``) when it is the judge, else 20.
    random_state : int
        Seed of the sample the judge sees.
    show_progress : bool, optional
        Progress bars, as in :class:`~zsclassify.ZeroShotClassifier`.
    """
    start = time.perf_counter()
    data = load_demo()
    chosen = choose_demo_judge(data) if judge is None else DemoJudge(judge, repr(judge))
    judge, judge_note = chosen.judge, chosen.note
    judge_budget = chosen.judge_budget if judge_budget is None else judge_budget
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
        judging=refined.judging_,
        judged_pairs=refined.n_judged_pairs_,
        order_probe=None if refined.order_probe_ is None else _describe(refined.order_probe_),
        judge_quality=None if refined.judge_quality_ is None else refined.judge_quality_.describe(),
        fit_seconds=fit_seconds,
        total_seconds=time.perf_counter() - start,
    )


def _describe(probe: OrderProbe) -> str:
    """The order probe's finding in one line."""
    question = {"choice": "multiple-choice questions", "yes_no": "yes/no questions"}[probe.judging]
    return (
        f"the same answer with the options reversed for {probe.consistency:.0%} of {len(probe.choices)} questions, "
        f"position bias {probe.position_bias:.2f} -> {question}"
    )
