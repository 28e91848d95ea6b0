"""Accuracy, macro-F1 and per-label MAP: zero-shot, the paper's KL, yes/no and choice judging, and few-shot baselines.

Protocol (REFERENCE.md section 2): the pool is the train split without labels, the judge
answers from the train labels, judge_budget=20, default embedder, evaluation on the test
split. ``--judge gold`` is a perfect GoldJudge; ``--judge near-miss`` is the simulator of
benchmarks/simulated_judge.py (rates from recorded real-LLM answers). Beside them, in the
same run and with the same seeds: logistic regression on frozen embeddings with K true
labels per label (K=8, 20), C chosen by 4-fold cross-validation on those K-shot sets.
The default (``judging="auto"``) pays an order probe from the budget and then asks
multiple choice or, for a judge that answers by position, yes/no; the "judging" column
says which it chose. Usage: python benchmarks/accuracy.py [--judge gold|near-miss] [--seeds 0 1 2] [--datasets ...]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from _common import label_spec, load_split, table, write_results
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, f1_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from zsclassify import ZeroShotClassifier
from zsclassify._validation import check_labels
from zsclassify.embedding import resolve_embedder
from zsclassify.judges import GoldJudge

DATASETS = ("clinc150", "banking77", "snips")
METHODS = {
    "zero-shot": dict(judge_budget=0),
    "paper KL (top-20, lr 1e-4)": dict(refinement="kl"),
    "yes/no judging": dict(judging="yes_no"),
    "choice judging": dict(judging="choice"),
    "auto (default): order probe, then choice or yes/no": dict(),
}
SHOTS = (8, 20)
BASELINE_CS = (0.1, 0.3, 1, 3, 10, 30, 100, 300, 1000)


def per_label_map(scores: np.ndarray, classes: np.ndarray, y: np.ndarray) -> float:
    """Mean over labels of the average precision of ranking the test set by that label's score."""
    return float(np.mean([average_precision_score(y == label, scores[:, k]) for k, label in enumerate(classes)]))


def make_judge(kind: str, dataset: str, pool: list[str], pool_labels: list[str], seed: int):
    if kind == "gold":
        return GoldJudge(pool, pool_labels, random_state=seed)
    from simulated_judge import NearMissJudge, load_rates, similarity_for

    labels = label_spec(dataset)
    names, _ = check_labels(labels)
    return NearMissJudge(pool, pool_labels, similarity_for(labels, pool), names, load_rates(), random_state=seed)


def evaluate(dataset: str, method: str, judge, seed: int, test, test_labels, pool) -> dict:
    params = {"judge": judge, "judge_budget": 20, "random_state": seed, **METHODS[method]}
    clf = ZeroShotClassifier(label_spec(dataset), **params)
    start = time.perf_counter()
    clf.fit(pool)
    fit_seconds = time.perf_counter() - start
    scores = clf.decision_function(test)
    predicted = clf.classes_[scores.argmax(axis=1)]
    y = np.asarray(test_labels, dtype=object)
    return {
        "accuracy": float(np.mean(predicted == y)),
        "macro_f1": float(f1_score(y, predicted, average="macro")),
        "map": per_label_map(scores, clf.classes_, y),
        "judged": clf.n_judged_pairs_,
        "requests": clf.n_judge_requests_,
        "judging": clf.judging_,
        "fit_seconds": fit_seconds,
    }


def few_shot_baseline(pool, pool_labels, test, test_labels, shots: int, seed: int) -> dict:
    """Logistic regression on frozen embeddings of ``shots`` random true labels per label, C by 4-fold CV."""
    embedder = resolve_embedder(None)
    y = np.asarray(pool_labels)
    rng = np.random.default_rng(seed)
    rows = np.concatenate(
        [rng.choice(np.flatnonzero(y == label), min(shots, int((y == label).sum())), replace=False)
         for label in np.unique(y)]
    )  # fmt: skip
    features = np.asarray(embedder.encode_document([pool[i] for i in rows]))
    search = GridSearchCV(
        LogisticRegression(max_iter=2000), {"C": BASELINE_CS}, cv=StratifiedKFold(4, shuffle=True, random_state=seed)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.fit(features, y[rows])
    predicted = search.predict(np.asarray(embedder.encode_document(test)))
    truth = np.asarray(test_labels)
    return {
        "accuracy": float(np.mean(predicted == truth)),
        "macro_f1": float(f1_score(truth, predicted, average="macro")),
        "map": float("nan"),
        "judged": len(rows),
        "fit_seconds": float("nan"),
        "C": search.best_params_["C"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--judge", choices=("gold", "near-miss"), default="gold")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--no-baselines", action="store_true", help="skip the few-shot logistic regressions")
    parser.add_argument("--name", help="results file name (default accuracy_<judge>)")
    args = parser.parse_args()
    name = args.name or f"accuracy_{args.judge}"
    runs = []
    for dataset in args.datasets:
        pool, pool_labels = load_split(dataset, "train")
        test, test_labels = load_split(dataset, "test")
        for seed in args.seeds:
            judge = make_judge(args.judge, dataset, pool, pool_labels, seed)
            for method in args.methods:
                if method == "zero-shot" and seed != args.seeds[0]:
                    continue  # deterministic
                result = evaluate(dataset, method, judge, seed, test, test_labels, pool)
                runs.append({"dataset": dataset, "method": method, "judge": args.judge, "seed": seed, **result})
                print(runs[-1], flush=True)
            for shots in () if args.no_baselines else SHOTS:
                result = few_shot_baseline(pool, pool_labels, test, test_labels, shots, seed)
                runs.append({"dataset": dataset, "method": f"LR on {shots} true labels/label, C by CV",
                             "judge": "-", "seed": seed, **result})  # fmt: skip
                print(runs[-1], flush=True)
            write_results(name, {"seeds": args.seeds, "runs": runs})
    summary = []
    for key in dict.fromkeys((r["dataset"], r["method"]) for r in runs):
        group = [r for r in runs if (r["dataset"], r["method"]) == key]
        accuracy = [r["accuracy"] for r in group]
        summary.append(
            {
                "dataset": key[0],
                "method": key[1],
                "judge": group[0]["judge"],
                "accuracy": float(np.median(accuracy)),
                "min-max": f"{min(accuracy):.3f}-{max(accuracy):.3f}",
                "macro_f1": float(np.median([r["macro_f1"] for r in group])),
                "map": float(np.median([r["map"] for r in group])),
                "judging": "/".join(sorted({r.get("judging", "-") for r in group})),
                "judged (or labelled)": group[0]["judged"],
                "fit s": float(np.median([r["fit_seconds"] for r in group])),
            }
        )
    print(f"\nMedians over seeds {args.seeds}:\n")
    print(table(summary))
    path = write_results(name, {"seeds": args.seeds, "summary": summary, "runs": runs})
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
