"""Shared helpers of the benchmarks: data loading, result files, tables."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def _limit_torch_threads() -> None:
    """One torch thread by default: on a shared 2-core machine two threads under load ran 5-10x slower."""
    import torch

    torch.set_num_threads(int(os.environ.get("ZSCLASSIFY_BENCH_TORCH_THREADS", "1")))


_limit_torch_threads()

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = Path(os.environ.get("ZSCLASSIFY_DATA", ROOT.parent / "shared" / "data"))
RESULTS_DIR = ROOT / "benchmarks" / "results"


def load_split(dataset: str, split: str) -> tuple[list[str], list[str]]:
    """Texts and labels of ``DATA_DIR/dataset/split.jsonl``."""
    rows = [json.loads(line) for line in (DATA_DIR / dataset / f"{split}.jsonl").open()]
    return [r["text"] for r in rows], [r["label"] for r in rows]


def load_labels(dataset: str) -> dict[str, str | None]:
    """Label name -> description (None where the dataset has none: the name is used)."""
    labels = json.loads((DATA_DIR / dataset / "labels.json").read_text())["labels"]
    return {item["name"]: item["description"] for item in labels}


def label_spec(dataset: str) -> dict[str, str] | list[str]:
    """The ``labels`` parameter: descriptions where the dataset has them, names otherwise."""
    labels = load_labels(dataset)
    return labels if all(labels.values()) else list(labels)


def write_results(name: str, payload: dict) -> Path:
    """Write ``payload`` with machine facts to ``benchmarks/results/<name>.json``."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": name,
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        **payload,
    }
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path


def publish(name: str, heading: str, summary: list[dict], payload: dict) -> Path:
    """Print ``heading`` and ``summary`` as a table, write ``payload`` to ``results/<name>.json`` and say where."""
    print(f"\n{heading}\n")
    print(table(summary))
    path = write_results(name, payload)
    print(f"\nwritten to {path}")
    return path


def table(rows: list[dict], columns: list[str] | None = None) -> str:
    """A Markdown table of ``rows`` (floats with 3 decimals); columns default to the first row's keys."""
    columns = list(rows[0]) if columns is None else columns

    def cell(value):
        return f"{value:.3f}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row.get(c, "")) for c in columns) + " |" for row in rows]
    return "\n".join(lines)
