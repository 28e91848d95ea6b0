"""Replay recorded real-LLM answers: what the estimator makes of them, in seconds, without the LLM.

``benchmarks/llm_judge.py`` records every answer of its real-LLM fits in
``benchmarks/results/llm_recordings/<dataset>_<judging>.jsonl``. This script refits the same
datasets with the same settings (the recording's ``judge_budget``, 20 by default, ``random_state=0``) from a
:class:`~zsclassify.judges.RecordedJudge`, so that a change in how answers are *read*
(refinement, noise model, calibration) can be measured against a real judge's mistakes.
A change in which questions are *asked* makes questions the recording lacks: they are
counted as "not recorded" (the fit leaves them out), and a new LLM run is needed.

Usage: python benchmarks/llm_replay.py [--name llm_replay]
"""

from __future__ import annotations

import argparse
import time
import warnings

from _common import table, write_results
from llm_judge import DATASETS, RECORDINGS, agreement, gold_map, load_recording, recorded_judge

from zsclassify import JudgeError, ZeroShotClassifier


def replay(name: str, judging: str) -> dict:
    labels, pool, test = DATASETS[name]()
    header, rows = load_recording(name, judging)
    budget = header.get("judge_budget", 20)
    start = time.perf_counter()
    row = {"dataset": name, "judging": judging, "model": header["model"], "judge budget": budget}
    row["recorded answers"] = len(rows)
    with warnings.catch_warnings(record=True):  # unrecorded questions warn; they are counted below
        warnings.simplefilter("always")
        try:
            clf = ZeroShotClassifier(
                labels, judge=recorded_judge(name, judging), judging=judging, judge_budget=budget, random_state=0
            ).fit(pool[0])
        except JudgeError as error:  # this code asks other questions than the recorded run: re-record
            return {**row, "not recorded": f"more than half ({error.failed_pairs}): the run must be re-recorded"}
    return {
        **row,
        "not recorded": clf.n_failed_pairs_,
        "judge agreement with gold": agreement(clf, gold_map(*pool)),
        "zero-shot acc": ZeroShotClassifier(labels).fit(pool[0]).score(*test),
        "refined acc (replayed LLM)": clf.score(*test),
        "fit s": time.perf_counter() - start,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--name", default="llm_replay", help="results file name")
    args = parser.parse_args()
    rows = []
    for path in sorted(RECORDINGS.glob("*.jsonl")):
        name, judging = next(
            ((path.stem.removesuffix(f"_{j}"), j) for j in ("yes_no", "choice", "auto") if path.stem.endswith(f"_{j}")),
            (None, None),
        )
        if name in DATASETS:
            rows.append(replay(name, judging))
            print(rows[-1], flush=True)
    print(table(rows))
    write_results(args.name, {"replays": rows})


if __name__ == "__main__":
    main()
