"""What a refit costs after editing one intent, against a first fit, in one run (CLINC150).

A first fit on 149 intents (one held out), then three edits, each refitted as a new
process would (the in-process embedding cache is cleared first, so only the disk caches
help): add the held-out intent, re-describe one intent, remove one intent. The judge is a
GoldJudge wrapped in ``CachedJudge`` (the persistent judgment cache), the embedder has
``disk_cache`` on; both caches start empty in a temporary folder. Reported per step:
requests and pairs that reached the judge, texts the model embedded, wall time, and test
accuracy on the test utterances of the step's intents. ``--judge-ms`` adds a simulated
LLM latency per judge request (0 by default: wall time is then embedding + fitting).

Usage: python benchmarks/refit.py [--judge-ms 0]
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
from zsclassify.judges._base import Judge

ADDED, REDESCRIBED, REMOVED = "card_declined", "balance", "travel_alert"


class SlowJudge(Judge):
    """A judge that waits ``seconds`` per request, like a remote LLM, then answers as ``inner`` does."""

    def __init__(self, inner: Judge, seconds: float) -> None:
        self.inner = inner
        self.seconds = seconds

    def judge(self, requests):
        time.sleep(self.seconds * len(requests))
        return self.inner.judge(requests)


def step(name: str, labels: dict, pool, judge: CachedJudge, embedder, test, test_labels) -> dict:
    clear_embedding_cache()  # as in a new process: only the disk caches remain
    requests, pairs, texts = judge.n_requests, judge.n_pairs_sent, encoder_stats().texts
    start = time.perf_counter()
    clf = ZeroShotClassifier(labels, embedder=embedder, judge=judge, judge_budget=20, random_state=0).fit(pool)
    wall = time.perf_counter() - start
    keep = [i for i, label in enumerate(test_labels) if label in labels]
    accuracy = float(np.mean(clf.predict([test[i] for i in keep]) == np.array(test_labels)[keep]))
    return {
        "step": name,
        "intents": len(labels),
        "judge_requests": judge.n_requests - requests,
        "judged_pairs_sent": judge.n_pairs_sent - pairs,
        "texts_embedded": encoder_stats().texts - texts,
        "wall_s": wall,
        "accuracy": accuracy,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--judge-ms", type=float, default=0.0, help="simulated latency per judge request")
    args = parser.parse_args()
    torch.set_num_threads(1)
    labels = label_spec("clinc150")
    pool, pool_labels = load_split("clinc150", "train")
    test, test_labels = load_split("clinc150", "test")
    folder = Path(tempfile.mkdtemp(prefix="zsclassify-refit-"))
    judge = CachedJudge(
        SlowJudge(GoldJudge(pool, pool_labels), args.judge_ms / 1000), name="gold", cache=folder / "judgments.sqlite"
    )
    embedder = SentenceTransformerEmbedder(disk_cache=folder / "embeddings.sqlite")

    first = {name: text for name, text in labels.items() if name != ADDED}
    added = dict(labels)
    redescribed = {**added, REDESCRIBED: "Questions asking how much money is in a bank account right now"}
    removed = {name: text for name, text in redescribed.items() if name != REMOVED}
    rows = [
        step("first fit (149 intents)", first, pool, judge, embedder, test, test_labels),
        step(f"add {ADDED}", added, pool, judge, embedder, test, test_labels),
        step(f"re-describe {REDESCRIBED}", redescribed, pool, judge, embedder, test, test_labels),
        step(f"remove {REMOVED}", removed, pool, judge, embedder, test, test_labels),
        step("refit, nothing changed", removed, pool, judge, embedder, test, test_labels),
    ]
    for row in rows[1:]:
        row["requests_vs_first"] = row["judge_requests"] / rows[0]["judge_requests"]
        row["wall_vs_first"] = row["wall_s"] / rows[0]["wall_s"]
    print(table(rows))
    path = write_results("refit", {"judge_ms": args.judge_ms, "pool": len(pool), "rows": rows})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
