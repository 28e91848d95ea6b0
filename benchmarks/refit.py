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

Usage: python benchmarks/refit.py [--judging auto|choice|yes_no]
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


def step(name: str, labels: dict, pool, judge: CachedJudge, embedder, test, test_labels, judging: str) -> dict:
    clear_embedding_cache()  # as in a new process: only the disk caches remain
    requests, pairs, texts = judge.n_requests, judge.n_pairs_sent, encoder_stats().texts
    start = time.perf_counter()
    clf = ZeroShotClassifier(
        labels, embedder=embedder, judge=judge, judging=judging, judge_budget=20, random_state=0
    ).fit(pool)
    wall = time.perf_counter() - start
    keep = [i for i, label in enumerate(test_labels) if label in labels]
    accuracy = float(np.mean(clf.predict([test[i] for i in keep]) == np.array(test_labels)[keep]))
    return {
        "step": name,
        "intents": len(labels),
        "judging": clf.judging_,
        "judge_requests": judge.n_requests - requests,
        "judged_pairs_sent": judge.n_pairs_sent - pairs,
        "texts_embedded": encoder_stats().texts - texts,
        "wall_s": wall,
        "accuracy": accuracy,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--judging", default="auto", choices=("auto", "choice", "yes_no"))
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
    rows = [
        step("first fit (149 intents)", first, pool, judge, embedder, test, test_labels, args.judging),
        step(f"add {ADDED}", added, pool, judge, embedder, test, test_labels, args.judging),
        step(f"re-describe {REDESCRIBED}", redescribed, pool, judge, embedder, test, test_labels, args.judging),
        step(f"remove {REMOVED}", removed, pool, judge, embedder, test, test_labels, args.judging),
        step("refit, nothing changed", removed, pool, judge, embedder, test, test_labels, args.judging),
    ]
    for row in rows[1:]:
        row["requests_vs_first"] = row["judge_requests"] / rows[0]["judge_requests"]
        row["wall_vs_first"] = row["wall_s"] / rows[0]["wall_s"]
    print(table(rows))
    name = "refit" if args.judging == "auto" else f"refit_{args.judging}"
    path = write_results(name, {"judging": args.judging, "pool": len(pool), "rows": rows})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
