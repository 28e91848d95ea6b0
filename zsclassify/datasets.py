"""Bundled demo data, loaded as scikit-learn's ``load_*`` functions load theirs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources

from .judges import RecordedJudge

__all__ = ["DemoData", "load_demo", "load_demo_judge"]

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


def _read_jsonl(name: str) -> list[dict]:
    text = resources.files("zsclassify.data").joinpath(name).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def load_demo() -> DemoData:
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


def load_demo_judge() -> tuple[RecordedJudge, dict] | None:
    """The judgments a real LLM gave in the demo's fit, and how they were recorded; None if not shipped.

    They cover the questions a fit on the demo pool asks with the default settings and
    the header's ``judge_budget`` and ``random_state``: the order probe of ``judging="auto"``
    (its questions in both orders), then the multiple choices or yes/no pairs it settled on.
    """
    resource = resources.files("zsclassify.data").joinpath(RECORDING)
    if not resource.is_file():
        return None
    header, *rows = [json.loads(line) for line in resource.read_text(encoding="utf-8").splitlines() if line]
    return _judge_from_recording(rows, header["model"]), header


def _judge_from_recording(rows: list[dict], source: str) -> RecordedJudge:
    """A :class:`RecordedJudge` replaying recorded answers, one dict per answer with its ``text``.

    A yes/no pair has ``label`` and ``score``; a multiple choice ``options`` and
    ``probabilities``, and ``probe: "reversed"`` when it is an order probe's second question.
    """
    records = [(r["label"], r["text"], r["score"]) for r in rows if "label" in r]
    asked = [r for r in rows if "options" in r]  # multiple choices, the order probe's among them
    choices = [(r["text"], r["options"], r["probabilities"]) for r in asked if r.get("probe") != "reversed"]
    probes = [(r["text"], r["options"], r["probabilities"]) for r in asked if r.get("probe") == "reversed"]
    return RecordedJudge(records, source=source, choices=choices, order_probes=probes)
