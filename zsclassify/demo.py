"""The README's main job: zero-shot vs refined accuracy on a bundled intent set."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from importlib import resources

from .estimator import ZeroShotClassifier
from .judges import AnthropicJudge, GoldJudge, Judge, OpenAICompatibleJudge, RecordedJudge

__all__ = ["DemoData", "DemoResult", "choose_demo_judge", "load_demo_data", "recorded_demo_judge", "run_demo"]

RECORDING = "demo_judgments.jsonl"


@dataclass(frozen=True)
class DemoData:
    """The bundled CLINC150 subset (banking and credit-card intents)."""

    labels: dict[str, str]
    pool_texts: list[str]
    pool_labels: list[str]
    test_texts: list[str]
    test_labels: list[str]
    oos_texts: list[str]


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


def _read_jsonl(name: str) -> list[dict]:
    text = resources.files("zsclassify.data").joinpath(name).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def load_demo_data() -> DemoData:
    """Load the bundled demo set (see ``zsclassify/data/README.md`` for its source and licence)."""
    labels = json.loads(resources.files("zsclassify.data").joinpath("demo_labels.json").read_text(encoding="utf-8"))
    pool, test = _read_jsonl("demo_pool.jsonl"), _read_jsonl("demo_test.jsonl")
    return DemoData(
        labels={item["name"]: item["description"] for item in labels["labels"]},
        pool_texts=[r["text"] for r in pool],
        pool_labels=[r["label"] for r in pool],
        test_texts=[r["text"] for r in test],
        test_labels=[r["label"] for r in test],
        oos_texts=[r["text"] for r in _read_jsonl("demo_oos.jsonl")],
    )


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
    recorded = recorded_demo_judge()
    if recorded is not None:
        judge, header = recorded
        return judge, (
            f"{judge!r}: replays {len(judge.records)} judgments recorded from {header['model']} "
            f"({header['server']}, {header['scoring']}); set ANTHROPIC_API_KEY or ZSCLASSIFY_JUDGE_URL for a live LLM"
        )
    judge = GoldJudge(data.pool_texts, data.pool_labels)
    return judge, f"{judge!r}: answers from the pool's known labels; it is not an LLM"


def recorded_demo_judge() -> tuple[RecordedJudge, dict] | None:
    """The judgments a real LLM gave in the demo's fit, and how they were recorded; None if not shipped.

    They cover the pairs a fit on the demo pool asks with the default settings,
    ``judge_budget=20`` and ``random_state=0``.
    """
    resource = resources.files("zsclassify.data").joinpath(RECORDING)
    if not resource.is_file():
        return None
    header, *rows = [json.loads(line) for line in resource.read_text(encoding="utf-8").splitlines() if line]
    records = [(r["label"], r["text"], r["score"]) for r in rows]
    return RecordedJudge(records, source=header["model"]), header


def run_demo(judge: Judge | None = None, *, judge_budget: int = 20, random_state: int = 0) -> DemoResult:
    """Fit a zero-shot and a refined classifier on the demo pool and score both on its test split.

    Parameters
    ----------
    judge : Judge, optional
        The judge; by default :func:`choose_demo_judge` picks one.
    judge_budget : int
        Judged pairs per label.
    random_state : int
        Seed of the sample the judge sees.
    """
    start = time.perf_counter()
    data = load_demo_data()
    if judge is None:
        judge, judge_note = choose_demo_judge(data)
    else:
        judge_note = repr(judge)
    zero_shot = ZeroShotClassifier(data.labels).fit(data.pool_texts)
    zero_shot_accuracy = zero_shot.score(data.test_texts, data.test_labels)
    refined = ZeroShotClassifier(data.labels, judge=judge, judge_budget=judge_budget, random_state=random_state)
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
