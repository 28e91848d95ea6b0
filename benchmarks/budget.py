"""Accuracy and calibration against the judge budget: zero-shot, the paper's KL, yes/no and choice judging.

Same data, seeds and GoldJudge for every row. Datasets: the demo's 30 CLINC150
banking/credit-card intents (shipped with the package), SNIPS and Banking77 (pool = train
texts, GoldJudge on the train labels, test split).
Usage: python benchmarks/budget.py [--budgets 2 5 20] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse

import numpy as np
from _common import label_spec, load_split, table, write_results

from zsclassify import ZeroShotClassifier
from zsclassify.datasets import load_demo
from zsclassify.judges import GoldJudge
from zsclassify.metrics import expected_calibration_error

METHODS = {
    "zero-shot": dict(judge_budget=0),
    "paper KL": dict(refinement="kl"),
    "yes/no judging": dict(judging="yes_no"),
    "choice judging": dict(judging="choice"),
    "auto (default)": dict(),
}


def load(dataset: str) -> tuple:
    if dataset == "demo30":
        data = load_demo()
        return data.labels, data.pool_texts, data.pool_labels, data.test_texts, data.test_labels
    pool, pool_labels = load_split(dataset, "train")
    test, test_labels = load_split(dataset, "test")
    return label_spec(dataset), pool, pool_labels, test, test_labels


def evaluate(data: tuple, method: str, budget: int, seed: int) -> dict:
    labels, pool, pool_labels, test, test_labels = data
    params = {"judge": GoldJudge(pool, pool_labels), "judge_budget": budget, "random_state": seed, **METHODS[method]}
    clf = ZeroShotClassifier(labels, show_progress=False, **params).fit(pool)
    proba = clf.predict_proba(test)
    return {
        "accuracy": clf.score(test, test_labels),
        "ECE": expected_calibration_error(test_labels, proba, clf.classes_),
        "judging": clf.judging_,
        "order probe": clf.order_probe_ is not None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["demo30", "snips", "banking77"])
    parser.add_argument("--budgets", type=int, nargs="+", default=[2, 5, 20])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--name", default="budget", help="results file name")
    args = parser.parse_args()
    summary, runs = [], []
    for dataset in args.datasets:
        data = load(dataset)
        for budget in args.budgets:
            for method in args.methods:
                seeds = [0] if method == "zero-shot" else args.seeds  # zero-shot has nothing random
                results = [{**evaluate(data, method, budget, seed), "seed": seed} for seed in seeds]
                runs += [{"dataset": dataset, "budget": budget, "method": method, **r} for r in results]
                accuracy = [r["accuracy"] for r in results]
                row = {
                    "dataset": dataset,
                    "budget": budget,
                    "method": method,
                    "accuracy": float(np.median(accuracy)),
                    "accuracy min-max": f"{min(accuracy):.3f}-{max(accuracy):.3f}",
                    "ECE": float(np.median([r["ECE"] for r in results])),
                    "judging": "/".join(sorted({r["judging"] for r in results})),
                    "order probe": any(r["order probe"] for r in results),
                }
                summary.append(row)
                print(row, flush=True)
    print(f"\nMedians over seeds {args.seeds}:\n")
    print(table(summary))
    path = write_results(args.name, {"seeds": args.seeds, "summary": summary, "runs": runs})
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
