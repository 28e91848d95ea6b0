"""Multi-label (multi-intent) accuracy: zero-shot, refined with a judge, and labelled-data one-vs-rest LR.

For each multi-label set in ``../shared/data`` (MixATIS, MixSNIPS: one to three intents per
utterance) and seeds 0-2, in the same run:

* zero-shot: :class:`~zsclassify.MultiLabelZeroShotClassifier` without a judge (each text's
  best label: no threshold can be learned without answers);
* refined with GoldJudge at budgets 20 and 5, and with the near-miss judge (the real 1.5B
  LLM's yes/no rates, ``simulated_judge.py``) at budget 20; pool = the train texts;
* judges that must leave the fit at zero-shot (its judge-quality check rates them useless):
  random yes/no answers, always yes, always no (asked yes/no; clause scoring only);
* one-vs-rest logistic regression on frozen MiniLM embeddings of 20 labelled utterances per
  label (C by 4-fold CV on micro-F1).

Each scored two ways: clause by clause, a label on a text's best clause (the default,
``segmenter="clauses"``; the LR trained on whole texts and scored the same way), and whole
(``segmenter=None``, one embedding per text, as the paper scores).

Metrics on the test split: micro-, macro- and samples-F1, exact match, per-label MAP (mean of
each label's average precision of ``predict_proba``, labels present in the test split) and the
expected calibration error of all per-label probabilities (10 bins).

Usage: python benchmarks/multilabel.py [--datasets mixatis mixsnips] [--seeds 0 1 2] [--name multilabel]
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from functools import partial

import numpy as np
from _common import DATA_DIR, table, write_results
from simulated_judge import ConstantJudge, NearMissJudge, RandomJudge, load_rates, similarity_for
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, f1_score
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.multiclass import OneVsRestClassifier

from zsclassify import MultiLabelZeroShotClassifier
from zsclassify._multilabel import binarize_labels
from zsclassify.embedding import resolve_embedder
from zsclassify.judges import GoldJudge
from zsclassify.segmenting import max_by_owner, split_clauses, split_texts

DATASETS = ("mixatis", "mixsnips")
BASELINE_CS = (0.1, 1.0, 10.0, 100.0)
SHOTS = 20
SCORINGS = {"clauses": "clauses", "whole": None}
"""How texts are scored: each label on a text's best clause (the default), or one embedding per text."""


def load(dataset: str, split: str) -> tuple[list[str], list[list[str]]]:
    rows = [json.loads(line) for line in (DATA_DIR / dataset / f"{split}.jsonl").open()]
    return [r["text"] for r in rows], [r["labels"] for r in rows]


def label_names(dataset: str) -> list[str]:
    return [item["name"] for item in json.loads((DATA_DIR / dataset / "labels.json").read_text())["labels"]]


def expected_calibration_error(truth: np.ndarray, proba: np.ndarray, n_bins: int = 10) -> float:
    """ECE over every (text, label) probability: |mean probability - share positive|, weighted by bin size."""
    p, y = proba.ravel(), truth.ravel()
    bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
    return float(sum(abs(p[bins == b].mean() - y[bins == b].mean()) * (bins == b).mean() for b in np.unique(bins)))


def metrics(truth: np.ndarray, predicted: np.ndarray, proba: np.ndarray) -> dict:
    present = truth.sum(axis=0) > 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # labels never predicted: F1 0 by definition
        return {
            "micro-F1": float(f1_score(truth, predicted, average="micro", zero_division=0)),
            "macro-F1": float(f1_score(truth[:, present], predicted[:, present], average="macro", zero_division=0)),
            "samples-F1": float(f1_score(truth, predicted, average="samples", zero_division=0)),
            "exact match": float((truth == predicted).all(axis=1).mean()),
            "MAP": float(np.mean([average_precision_score(truth[:, k], proba[:, k]) for k in np.flatnonzero(present)])),
            "ECE": expected_calibration_error(truth, proba),
        }


def one_vs_rest_baselines(pool, pool_truth, test, test_truth, seed: int) -> dict[str, dict]:
    """One-vs-rest LR on frozen embeddings of ``SHOTS`` labelled utterances per label, C by CV on micro-F1.

    Scored on whole test texts and, as the default estimator scores, on each text's best clause.
    """
    embedder = resolve_embedder(None)
    rng = np.random.default_rng(seed)
    rows = set()
    for label in range(pool_truth.shape[1]):
        having = np.flatnonzero(pool_truth[:, label])
        rows.update(rng.choice(having, min(SHOTS, len(having)), replace=False).tolist())
    rows = np.array(sorted(rows))
    features = np.asarray(embedder.encode_document([pool[i] for i in rows]))
    search = GridSearchCV(
        OneVsRestClassifier(LogisticRegression(max_iter=2000)),
        {"estimator__C": BASELINE_CS},
        scoring="f1_micro",
        cv=KFold(4, shuffle=True, random_state=seed),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a label absent from a fold's training part
        search.fit(features, pool_truth[rows])
        whole = search.predict_proba(np.asarray(embedder.encode_document(test)))
        owners, pieces = split_texts(test, split_clauses)
        clauses = max_by_owner(search.predict_proba(np.asarray(embedder.encode_document(pieces))), owners)
    fitted = {"labelled": len(rows), "C": search.best_params_["estimator__C"]}
    return {scoring: {**metrics(test_truth, (proba >= 0.5).astype(int), proba), **fitted}
            for scoring, proba in (("clauses", clauses), ("whole", whole))}  # fmt: skip


def _quality_columns(quality) -> dict:
    """The judge-quality check's estimates and decision (NaN and "-" without a judge or a measurement)."""
    if quality is None:
        return {"decision": "-"}
    nan = float("nan")
    return {
        "est. false-yes": nan if quality.false_yes is None else quality.false_yes,
        "yes to far": nan if quality.far_false_yes is None else quality.far_false_yes,
        "judge weight": quality.judge_weight,
        "decision": quality.decision,
    }


def _median_or_nan(group: list[dict], key: str) -> float:
    values = [r[key] for r in group if key in r and not np.isnan(r[key])]
    return float(np.median(values)) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--name", default="multilabel")
    args = parser.parse_args()
    rows = []
    for dataset in args.datasets:
        names = label_names(dataset)
        pool, pool_labels = load(dataset, "train")
        test, test_labels = load(dataset, "test")
        pool_truth, test_truth = binarize_labels(pool_labels, names), binarize_labels(test_labels, names)
        flat_texts = [text for text, labels in zip(pool, pool_labels) for _ in labels]
        flat_labels = [label for labels in pool_labels for label in labels]
        similarity = similarity_for(names, pool)
        judges = {
            "gold": partial(GoldJudge, flat_texts, flat_labels),
            "near-miss, 1.5B rates": partial(NearMissJudge, flat_texts, flat_labels, similarity, names, load_rates()),
            "random": partial(RandomJudge, flat_texts, flat_labels),
            "always yes": partial(ConstantJudge, flat_texts, flat_labels, 1.0),
            "always no": partial(ConstantJudge, flat_texts, flat_labels, 0.0),
        }
        runs = [("zero-shot", None, 0), ("gold", "gold", 20), ("gold", "gold", 5),
                ("near-miss", "near-miss, 1.5B rates", 20)]  # fmt: skip
        useless = [(name, name, 20) for name in ("random", "always yes", "always no")]
        for seed in args.seeds:
            for scoring in SCORINGS:
                for method, judge_name, budget in runs + (useless if scoring == "clauses" else []):
                    start = time.perf_counter()
                    judge = None if judge_name is None else judges[judge_name](random_state=seed)
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")  # a useless judge's warning: the row's decision says it
                        clf = MultiLabelZeroShotClassifier(
                            names, judge=judge, judge_budget=budget, segmenter=SCORINGS[scoring], random_state=seed,
                            judging="yes_no" if (method, judge_name, budget) in useless else "auto",
                            show_progress=False,
                        ).fit(pool)  # fmt: skip
                    fit_seconds = time.perf_counter() - start
                    proba = clf.predict_proba(test)
                    quality = clf.judge_quality_
                    row = {"dataset": dataset, "scoring": scoring, "method": method, "budget": budget, "seed": seed,
                           **metrics(test_truth, clf.decide(proba), proba), "fit s": fit_seconds,
                           **_quality_columns(quality)}  # fmt: skip
                    rows.append(row)
                    print(json.dumps(row), flush=True)
            baselines = one_vs_rest_baselines(pool, pool_truth, test, test_truth, seed)
            for scoring, figures in baselines.items():
                row = {"dataset": dataset, "scoring": scoring, "method": f"one-vs-rest LR, {SHOTS} labelled/label",
                       "budget": 0, "seed": seed, **figures}  # fmt: skip
                rows.append(row)
                print(json.dumps(row), flush=True)
    summary = []
    for key in dict.fromkeys((r["dataset"], r["scoring"], r["method"], r["budget"]) for r in rows):
        group = [r for r in rows if (r["dataset"], r["scoring"], r["method"], r["budget"]) == key]
        summary.append({"dataset": key[0], "scoring": key[1], "method": key[2], "budget": key[3],
                        **{m: float(np.median([r[m] for r in group]))
                           for m in ("micro-F1", "macro-F1", "samples-F1", "exact match", "MAP", "ECE")},
                        "min micro-F1": float(min(r["micro-F1"] for r in group)),
                        "est. false-yes": _median_or_nan(group, "est. false-yes"),
                        "yes to far": _median_or_nan(group, "yes to far"),
                        "judge weight": _median_or_nan(group, "judge weight"),
                        "decision": "/".join(sorted({r.get("decision", "-") for r in group}))})  # fmt: skip
    print(table(summary))
    path = write_results(args.name, {"seeds": args.seeds, "shots": SHOTS, "summary": summary, "runs": rows})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
