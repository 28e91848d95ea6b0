"""Accuracy, macro-F1 and per-label MAP: zero-shot vs the paper's KL vs the default refinement.

Protocol (REFERENCE.md section 2): the pool is the train split without labels, a GoldJudge
answers from the train labels (optionally flipping answers), judge_budget=20, default
embedder, evaluation on the test split. Usage: python benchmarks/accuracy.py [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _common import label_spec, load_split, table, write_results
from sklearn.metrics import average_precision_score, f1_score

from zsclassify import ZeroShotClassifier
from zsclassify.judges import GoldJudge

DATASETS = ("clinc150", "banking77", "snips")
METHODS = {
    "zero-shot": dict(judge_budget=0),
    "paper KL (top-20, lr 1e-4)": dict(refinement="kl"),
    "default": dict(),
}


def per_label_map(scores: np.ndarray, classes: np.ndarray, y: np.ndarray) -> float:
    """Mean over labels of the average precision of ranking the test set by that label's score."""
    return float(np.mean([average_precision_score(y == label, scores[:, k]) for k, label in enumerate(classes)]))


def evaluate(dataset: str, method: str, flip_rate: float, seed: int) -> dict:
    pool, pool_labels = load_split(dataset, "train")
    test, test_labels = load_split(dataset, "test")
    judge = GoldJudge(pool, pool_labels, flip_rate=flip_rate, random_state=seed)
    params = {"judge": judge, "judge_budget": 20, "random_state": seed, **METHODS[method]}
    clf = ZeroShotClassifier(label_spec(dataset), **params)
    start = time.perf_counter()
    clf.fit(pool)
    fit_seconds = time.perf_counter() - start
    scores = clf.decision_function(test)
    predicted = clf.classes_[scores.argmax(axis=1)]
    y = np.asarray(test_labels, dtype=object)
    return {
        "dataset": dataset,
        "method": method,
        "flip_rate": flip_rate,
        "seed": seed,
        "accuracy": float(np.mean(predicted == y)),
        "macro_f1": float(f1_score(y, predicted, average="macro")),
        "map": per_label_map(scores, clf.classes_, y),
        "judged_pairs": clf.n_judged_pairs_,
        "fit_seconds": fit_seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    args = parser.parse_args()
    runs = []
    for dataset in args.datasets:
        for method in METHODS:
            for flip_rate in (0.0, 0.15) if method != "zero-shot" else (0.0,):
                for seed in args.seeds:
                    runs.append(evaluate(dataset, method, flip_rate, seed))
                    print(runs[-1], flush=True)
    summary = []
    for dataset in args.datasets:
        for method in METHODS:
            for flip_rate in sorted({r["flip_rate"] for r in runs if r["method"] == method}):
                group = [r for r in runs if (r["dataset"], r["method"], r["flip_rate"]) == (dataset, method, flip_rate)]
                summary.append(
                    {
                        "dataset": dataset,
                        "method": method,
                        "flip_rate": flip_rate,
                        **{k: float(np.median([r[k] for r in group])) for k in ("accuracy", "macro_f1", "map")},
                        "accuracy min-max": f"{min(r['accuracy'] for r in group):.3f}-"
                        f"{max(r['accuracy'] for r in group):.3f}",
                        "judged pairs": group[0]["judged_pairs"],
                        "fit s (median)": float(np.median([r["fit_seconds"] for r in group])),
                    }
                )
    columns = ["dataset", "method", "flip_rate", "accuracy", "accuracy min-max", "macro_f1", "map", "judged pairs"]
    print(f"\nMedians over seeds {args.seeds}:\n")
    print(table(summary, columns))
    path = write_results("accuracy", {"seeds": args.seeds, "summary": summary, "runs": runs})
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
