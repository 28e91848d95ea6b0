"""Fits with a real LLM's own yes/no scores, in seconds and over many seeds, without the LLM.

``benchmarks/llm_replay.py`` replays one recorded fit exactly, so it can only measure how
answers are *read*. A change in which questions are *asked* (sampling, rounds, the cut on
the score) needs answers to new questions. :class:`~simulated_judge.ScoreReplayJudge` gives
them: every yes/no answer the LLM gave in any run (``results/llm_recordings/<name>_pairs.jsonl``,
written by ``llm_judge.py`` with ``--cache-dir``) is replayed as it was, and a question it never
answered gets the score of a recorded question of the same kind (right label, or wrong label
of the same near-miss rank), of the same label when it has enough of them.

For each dataset the table sets the score replay beside the live LLM fits of the same
seeds (read from ``llm_judge.py``'s results files) and a GoldJudge, so that the replay's
own error is in view. Fits use ``judging="yes_no"``: what ``"auto"`` settles on with this
LLM, without its order probe (4-24 questions of the budget).

Usage: python benchmarks/score_replay.py [--seeds 0 1 2 ...] [--datasets snips clinc150-20 demo30]
"""

from __future__ import annotations

import argparse
import json
import warnings

import numpy as np
from _common import RESULTS_DIR, table, write_results
from llm_judge import DATASETS, load_recording
from simulated_judge import ScoreReplayJudge, similarity_for

from zsclassify import ZeroShotClassifier
from zsclassify.judges import GoldJudge

LIVE_RESULTS = {  # live fits of llm_judge.py (judging="auto"): results file, key of its rows, accuracy column
    "snips": [("llm_judge_snips_cached_refit", "datasets", "refined acc (LLM judge)")],  # seeds 0-5, current code
    "clinc150-20": [("llm_judge_auto_steps", "datasets", "refined acc (LLM judge)"),  # seed 0
                    ("llm_judge_clinc150-20_seeds", "datasets", "refined acc (LLM judge)"),
                    ("llm_judge_clinc150-20_seeds_3to5", "datasets", "refined acc (LLM judge)")],
    "demo30": [("llm_demo_recording", "demo_recording", "demo refined acc (LLM)")],
}  # fmt: skip


def live_accuracies(name: str) -> dict[int, float]:
    """Accuracy of each live LLM fit of ``name`` by seed (judging="auto"), from the results files."""
    found = {}
    for stem, key, column in LIVE_RESULTS[name]:
        path = RESULTS_DIR / f"{stem}.json"
        if path.is_file():
            for row in json.loads(path.read_text())[key]:
                if row.get("dataset", name) == name and str(row["judging"]).startswith("auto"):
                    found[row.get("random_state", 0)] = row[column]
    return found


def replay_fits(name: str, seeds: list[int]) -> list[dict]:
    """One row per seed: accuracy with the score replay and with a GoldJudge, and the share of replayed answers."""
    labels, (texts, gold), test = DATASETS[name]()
    _, rows = load_recording(name, "pairs")
    recorded = {(row["label"], row["text"]): row["score"] for row in rows}
    similarity = similarity_for(labels, texts)
    names = list(labels)
    fits = []
    for seed in seeds:
        judge = ScoreReplayJudge(texts, gold, similarity, names, recorded)
        accuracy = {}
        for which, fit_judge in (("score replay", judge), ("GoldJudge", GoldJudge(texts, gold))):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the fit's notes on the judge; the table has what matters
                clf = ZeroShotClassifier(
                    labels, judge=fit_judge, judging="yes_no", judge_budget=20, random_state=seed, show_progress=False
                ).fit(texts)
            accuracy[which] = clf.score(*test)
        fits.append({"dataset": name, "random_state": seed, "acc (score replay)": accuracy["score replay"],
                     "acc (GoldJudge)": accuracy["GoldJudge"],
                     "replayed share": judge.n_replayed / max(judge.n_replayed + judge.n_drawn, 1)})  # fmt: skip
        print(fits[-1], flush=True)
    return fits


def summary(name: str, fits: list[dict]) -> dict:
    """Medians of the replay, of GoldJudge and of the live LLM fits, on the seeds the live runs had and on all."""
    live = live_accuracies(name)
    common = [f for f in fits if f["random_state"] in live]

    def median(rows, column):
        return float(np.median([r[column] for r in rows])) if rows else float("nan")

    accuracies = [f["acc (score replay)"] for f in fits]
    return {
        "dataset": name,
        "live LLM seeds": sorted(live),
        "live LLM median": float(np.median(list(live.values()))) if live else float("nan"),
        "replay median, same seeds": median(common, "acc (score replay)"),
        "replay seeds": len(fits),
        "replay median": float(np.median(accuracies)),
        "replay min-max": f"{min(accuracies):.3f}-{max(accuracies):.3f}",
        "GoldJudge median": median(fits, "acc (GoldJudge)"),
        "replayed share": median(fits, "replayed share"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--datasets", nargs="+", choices=sorted(LIVE_RESULTS), default=["snips", "clinc150-20", "demo30"]
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--name", default="score_replay", help="results file name")
    args = parser.parse_args()
    fits, summaries = [], []
    for name in args.datasets:
        rows = replay_fits(name, args.seeds)
        fits += rows
        summaries.append(summary(name, rows))
    print("\n## Score replay of the real LLM's yes/no answers vs live LLM fits\n")
    print(table(summaries))
    write_results(args.name, {"summary": summaries, "fits": fits})


if __name__ == "__main__":
    main()
