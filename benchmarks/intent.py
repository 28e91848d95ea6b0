"""Intent detection: out-of-scope rejection, calibration and single-message latency.

1. CLINC150 out-of-scope (test.jsonl + oos_test.jsonl; pool = train texts; GoldJudge on the
   train labels; judge_budget=20): AUROC of the max probability, and at the automatic
   threshold the in-scope accuracy (a rejected in-scope utterance is an error),
   out-of-scope recall and precision.
2. Calibration on the CLINC150 and Banking77 test sets: ECE (15 bins) and log-loss,
   zero-shot vs refined (refined probabilities are fitted without test labels).
   The demo (30 CLINC150 intents) with its recorded real-LLM judge, too.
3. A 50-utterance pool with 5 demo intents (GoldJudge, default budget), seeds 0-2: the
   highest confidence on the test texts, the learned out-of-scope threshold.
4. Latency of ``predict`` on one utterance vs the embedder's own ``encode`` of it
   (p50 / p95 over 1,000 calls each, interleaved).

Usage: python benchmarks/intent.py [--parts oos calibration small_pool latency] [--suffix _before]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _common import label_spec, load_split, table, write_results
from sklearn.metrics import log_loss, roc_auc_score

from zsclassify import ZeroShotClassifier
from zsclassify._demo import choose_demo_judge
from zsclassify.datasets import load_demo
from zsclassify.embedding import clear_embedding_cache
from zsclassify.judges import GoldJudge
from zsclassify.metrics import expected_calibration_error


def fit(dataset: str, judged: bool, **params) -> ZeroShotClassifier:
    pool, labels = load_split(dataset, "train")
    judge = GoldJudge(pool, labels) if judged else None
    return ZeroShotClassifier(label_spec(dataset), judge=judge, random_state=0, **params).fit(pool)


def out_of_scope() -> list[dict]:
    test, y = load_split("clinc150", "test")
    oos, _ = load_split("clinc150", "oos_test")
    texts, is_oos = test + oos, np.r_[np.zeros(len(test)), np.ones(len(oos))]
    rows = []
    for name, judged in (("zero-shot (max cosine)", False), ("refined (default)", True)):
        clf = fit("clinc150", judged, **({"oos_label": "oos"} if judged else {}))
        # zero-shot: the max cosine (decision_function is 20 x cosine); refined: the max probability
        score = clf.predict_proba(texts).max(axis=1) if judged else clf.decision_function(texts).max(axis=1)
        row = {"model": name, "oos AUROC": roc_auc_score(is_oos, -score)}
        if judged:
            predicted = clf.predict(texts)
            rejected = predicted == "oos"
            row |= {
                "threshold": clf.oos_threshold_,
                "in-scope acc": float(np.mean(predicted[: len(test)] == np.asarray(y, dtype=object))),
                "oos recall": float(rejected[len(test) :].mean()),
                "oos precision": float(rejected[len(test) :].sum() / max(rejected.sum(), 1)),
            }
        rows.append(row)
    return rows


def _calibration_row(dataset: str, name: str, clf: ZeroShotClassifier, test: list[str], y: list[str]) -> dict:
    proba = clf.predict_proba(test)
    return {
        "dataset": dataset,
        "model": name,
        "accuracy": clf.score(test, y),
        "ECE (15 bins)": expected_calibration_error(y, proba, clf.classes_),
        "log-loss": log_loss(y, proba, labels=list(clf.classes_)),
        "max confidence": float(proba.max()),
        "blend weights (zero-shot, refined)": f"{clf.zero_shot_weight_:.2f}, {clf.refined_weight_:.2f}",
        "smoothing": getattr(clf, "probability_smoothing_", 0.0),  # absent before it existed
    }


def calibration() -> list[dict]:
    """ECE and log-loss on CLINC150, Banking77 (GoldJudge) and the demo (its recorded real-LLM judge)."""
    rows = []
    for dataset in ("clinc150", "banking77"):
        test, y = load_split(dataset, "test")
        for name, judged in (("zero-shot", False), ("refined (default)", True)):
            rows.append(_calibration_row(dataset, name, fit(dataset, judged), test, y))
    demo = load_demo()
    judge = choose_demo_judge(demo)
    clf = ZeroShotClassifier(demo.labels, judge=judge.judge, judge_budget=judge.judge_budget, random_state=0)
    test, y = list(demo.test_texts), list(demo.test_labels)
    rows.append(_calibration_row("demo", "refined (recorded LLM)", clf.fit(demo.pool_texts), test, y))
    return rows


def small_pool(seeds: tuple[int, ...] = (0, 1, 2)) -> list[dict]:
    """5 demo intents fitted on a 50-utterance pool (GoldJudge, default budget): how confident can it get?"""
    demo = load_demo()
    names = list(demo.labels)[:5]
    pool = [(t, label) for t, label in zip(demo.pool_texts, demo.pool_labels) if label in names][:50]
    test = [(t, label) for t, label in zip(demo.test_texts, demo.test_labels) if label in names]
    texts, labels = map(list, zip(*pool))
    test_texts, test_labels = map(list, zip(*test))
    rows = []
    for seed in seeds:
        clf = ZeroShotClassifier({n: demo.labels[n] for n in names}, judge=GoldJudge(texts, labels), oos_label="other",
                                 random_state=seed).fit(texts)  # fmt: skip
        proba = clf.predict_proba(test_texts)
        wrong = clf.classes_[proba.argmax(axis=1)] != np.asarray(test_labels, dtype=object)
        rows.append({
            "seed": seed,
            "accuracy": float(1 - wrong.mean()),
            "max confidence": float(proba.max()),
            "max confidence, wrong": float(proba.max(axis=1)[wrong].max()) if wrong.any() else float("nan"),
            "oos threshold": clf.auto_oos_threshold_,
            "in-scope rejected": float(np.mean(clf.predict(test_texts) == "other")),
            "blend weights (zero-shot, refined)": f"{clf.zero_shot_weight_:.2f}, {clf.refined_weight_:.2f}",
        })  # fmt: skip
    return rows


def latency(n_calls: int = 1000) -> dict:
    clf = fit("clinc150", True)
    test, _ = load_split("clinc150", "test")
    model = clf.embedder_.load()
    ours, raw = [], []
    for text in test[:n_calls]:
        start = time.perf_counter()
        model.encode([text], normalize_embeddings=True, convert_to_numpy=True)
        raw.append(time.perf_counter() - start)
        clear_embedding_cache()  # every predict embeds anew: no cache hit
        start = time.perf_counter()
        clf.predict([text])
        ours.append(time.perf_counter() - start)
    raw_p50, ours_p50 = np.median(raw), np.median(ours)
    return {
        "calls": n_calls,
        "encode p50 ms": 1e3 * raw_p50,
        "encode p95 ms": 1e3 * np.quantile(raw, 0.95),
        "predict p50 ms": 1e3 * ours_p50,
        "predict p95 ms": 1e3 * np.quantile(ours, 0.95),
        "p50 ratio": ours_p50 / raw_p50,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parts = ("oos", "calibration", "small_pool", "latency")
    parser.add_argument("--parts", nargs="+", choices=parts, default=list(parts))
    parser.add_argument("--suffix", default="", help="appended to the results files' names, e.g. _before")
    args = parser.parse_args()
    if "oos" in args.parts:
        oos = out_of_scope()
        print("\n## CLINC150 out-of-scope\n")
        print(table(oos, ["model", "oos AUROC", "threshold", "in-scope acc", "oos recall", "oos precision"]))
        write_results(f"intent_oos{args.suffix}", {"out_of_scope": oos})
    if "calibration" in args.parts:
        calib = calibration()
        print("\n## Calibration\n")
        print(table(calib))
        write_results(f"intent_calibration{args.suffix}", {"calibration": calib})
    if "small_pool" in args.parts:
        small = small_pool()
        print("\n## A 50-utterance pool, 5 labels\n")
        print(table(small))
        write_results(f"intent_small_pool{args.suffix}", {"small_pool": small})
    if "latency" in args.parts:
        speed = latency()
        print("\n## Single-utterance latency\n")
        print(table([speed]))
        write_results(f"intent_latency{args.suffix}", {"latency": speed})


if __name__ == "__main__":
    main()
