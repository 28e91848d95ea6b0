"""What a refit costs after editing one intent, against a first fit, in one run (CLINC150).

A first fit on 149 intents (one held out), then three edits, each refitted as a new
process would (the in-process embedding cache is cleared first, so only the disk caches
help): add the held-out intent, re-describe one intent, remove one intent. The judge is a
GoldJudge wrapped in ``CachedJudge`` (the persistent judgment cache), the embedder has
``disk_cache`` on; both caches start empty in a temporary folder. Reported per step:
requests and pairs that reached the judge, texts the model embedded, wall time, and test
accuracy on the test utterances of the step's intents. The GoldJudge answers at once, so
wall time is embedding + fitting; with an LLM, each request adds its latency and price.

``--judging`` is the estimator's parameter: with ``"choice"`` (what ``"auto"`` picks for a
judge that can choose) a question shows an utterance with several intents, so adding an
intent changes the questions of the utterances near it.

With ``--warm-start`` every step refits the same estimator with ``warm_start=True``: the
earlier fit's answers to unchanged questions are kept and only the edited intent is judged.

Usage: python benchmarks/refit.py [--judging auto|choice|yes_no] [--warm-start]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from _common import label_spec, load_split, table, write_results

from zsclassify import ZeroShotClassifier
from zsclassify.embedding import SentenceTransformerEmbedder, clear_embedding_cache, encoder_stats
from zsclassify.judges import CachedJudge, GoldJudge

ADDED, REDESCRIBED, REMOVED = "card_declined", "balance", "travel_alert"


def step(name: str, clf: ZeroShotClassifier, labels: dict, pool, judge: CachedJudge, test, test_labels) -> dict:
    clear_embedding_cache()  # as in a new process: only the disk caches remain
    requests, pairs, texts = judge.n_requests, judge.n_pairs_sent, encoder_stats().texts
    start = time.perf_counter()
    clf.set_params(labels=labels).fit(pool)
    wall = time.perf_counter() - start
    keep = [i for i, label in enumerate(test_labels) if label in labels]
    accuracy = float(np.mean(clf.predict([test[i] for i in keep]) == np.array(test_labels)[keep]))
    return {
        "step": name,
        "intents": len(labels),
        "judging": clf.judging_,
        "warm_start": clf.warm_start,
        "judge_requests": judge.n_requests - requests,
        "answers_kept": clf.n_reused_judgments_,
        "judged_pairs_sent": judge.n_pairs_sent - pairs,
        "texts_embedded": encoder_stats().texts - texts,
        "wall_s": wall,
        "accuracy": accuracy,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--judging", default="auto", choices=("auto", "choice", "yes_no"))
    parser.add_argument(
        "--warm-start", action="store_true", help="refit the same estimator with warm_start=True (else a new one)"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    labels = label_spec("clinc150")
    pool, pool_labels = load_split("clinc150", "train")
    test, test_labels = load_split("clinc150", "test")
    folder = Path(tempfile.mkdtemp(prefix="zsclassify-refit-"))
    judge = CachedJudge(GoldJudge(pool, pool_labels), name="gold", cache=folder / "judgments.sqlite")
    embedder = SentenceTransformerEmbedder(disk_cache=folder / "embeddings.sqlite")

    first = {name: text for name, text in labels.items() if name != ADDED}
    added = dict(labels)
    redescribed = {**added, REDESCRIBED: "Questions asking how much money is in a bank account right now"}
    removed = {name: text for name, text in redescribed.items() if name != REMOVED}
    steps = [
        ("first fit (149 intents)", first),
        (f"add {ADDED}", added),
        (f"re-describe {REDESCRIBED}", redescribed),
        (f"remove {REMOVED}", removed),
        ("refit, nothing changed", removed),
    ]
    rows, clf = [], None
    for name, labels in steps:
        if clf is None or not args.warm_start:  # a new estimator: only the two caches carry over
            settings = {"judging": args.judging, "judge_budget": 20, "random_state": 0, "warm_start": args.warm_start}
            clf = ZeroShotClassifier(labels, embedder=embedder, judge=judge, **settings)
        rows.append(step(name, clf, labels, pool, judge, test, test_labels))
    for row in rows[1:]:
        row["requests_vs_first"] = row["judge_requests"] / rows[0]["judge_requests"]
        row["wall_vs_first"] = row["wall_s"] / rows[0]["wall_s"]
    print(table(rows))
    name = "refit" + ("" if args.judging == "auto" else f"_{args.judging}") + ("_warm_start" if args.warm_start else "")
    path = write_results(
        name, {"judging": args.judging, "warm_start": args.warm_start, "pool": len(pool), "rows": rows}
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
