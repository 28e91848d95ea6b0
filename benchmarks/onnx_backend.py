"""PyTorch vs ONNX Runtime (fp32 and int8) encoders on CLINC150, side by side in one run.

For each backend of the bundled all-MiniLM-L6-v2: single-utterance latency (p50 over
``--singles`` test utterances, encoded one at a time, nothing cached), batch throughput
(``--batch-texts`` train utterances, batch 64) and the test accuracy of the default
refined classifier (GoldJudge, 20 judged pairs per label, the train split as pool).
One thread for every backend. Targets: >= 2x throughput, <= 0.5 point accuracy change.

``--part speed`` measures speed only, interleaved: ``--rounds`` rounds, each timing every
backend in turn on the same texts, medians over rounds (on a shared machine whose load
drifts, back-to-back runs of one backend after another are not comparable).

Usage: python benchmarks/onnx_backend.py [--part both|speed] [--singles 300] [--batch-texts 3000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np
import torch
from _common import label_spec, load_split, table, write_results

from zsclassify import ZeroShotClassifier
from zsclassify.embedding import SentenceTransformerEmbedder, clear_embedding_cache, no_embedding_cache
from zsclassify.judges import GoldJudge

BACKENDS = ("torch", "onnx", "onnx-int8")


def bench(backend: str, singles: list[str], batch: list[str], pool, pool_labels, test, test_labels) -> dict:
    embedder = SentenceTransformerEmbedder(backend=backend)
    embedder.encode_document(["warm up"])
    with no_embedding_cache():
        for text in singles[:20]:  # warm-up
            embedder._run_model([text], "document", None)
        times = []
        for text in singles:
            start = time.perf_counter()
            embedder._run_model([text], "document", None)
            times.append(time.perf_counter() - start)
        start = time.perf_counter()
        embedder._run_model(batch, "document", None)
        batch_s = time.perf_counter() - start
    clear_embedding_cache()
    start = time.perf_counter()
    clf = ZeroShotClassifier(
        label_spec("clinc150"), embedder=embedder, judge=GoldJudge(pool, pool_labels), judge_budget=20, random_state=0
    ).fit(pool)
    fit_s = time.perf_counter() - start
    return {
        "backend": backend,
        "single_p50_ms": 1000 * float(np.median(times)),
        "single_p99_ms": 1000 * float(np.percentile(times, 99)),
        "batch_texts_per_s": len(batch) / batch_s,
        "refined_accuracy": float(clf.score(test, test_labels)),
        "fit_s": fit_s,
    }


def speed_interleaved(singles: list[str], batch: list[str], rounds: int) -> list[dict]:
    """Median single-utterance p50 and batch throughput per backend over interleaved rounds."""
    embedders = {backend: SentenceTransformerEmbedder(backend=backend) for backend in BACKENDS}
    p50s: dict[str, list[float]] = {backend: [] for backend in BACKENDS}
    rates: dict[str, list[float]] = {backend: [] for backend in BACKENDS}
    with no_embedding_cache():
        for embedder in embedders.values():
            embedder._run_model(singles[:20], "document", None)  # load, export, warm up
        for _ in range(rounds):
            for backend, embedder in embedders.items():
                times = []
                for text in singles:
                    start = time.perf_counter()
                    embedder._run_model([text], "document", None)
                    times.append(time.perf_counter() - start)
                p50s[backend].append(float(np.median(times)))
                start = time.perf_counter()
                embedder._run_model(batch, "document", None)
                rates[backend].append(len(batch) / (time.perf_counter() - start))
    return [
        {
            "backend": backend,
            "single_p50_ms": 1000 * float(np.median(p50s[backend])),
            "batch_texts_per_s": float(np.median(rates[backend])),
        }
        for backend in BACKENDS
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--singles", type=int, default=300)
    parser.add_argument("--batch-texts", type=int, default=3000)
    parser.add_argument("--part", default="both", choices=("both", "speed"))
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    os.environ.setdefault("ZSCLASSIFY_CACHE_DIR", tempfile.mkdtemp(prefix="zsclassify-onnx-"))
    pool, pool_labels = load_split("clinc150", "train")
    test, test_labels = load_split("clinc150", "test")
    if args.part == "speed":
        rows = speed_interleaved(test[: args.singles], pool[: args.batch_texts], args.rounds)
        for row in rows:
            row["single_speedup"] = rows[0]["single_p50_ms"] / row["single_p50_ms"]
            row["batch_speedup"] = row["batch_texts_per_s"] / rows[0]["batch_texts_per_s"]
        print(table(rows))
        settings = {"singles": args.singles, "batch_texts": args.batch_texts, "rounds": args.rounds}
        print(f"wrote {write_results('onnx_backend_speed', {**settings, 'rows': rows})}")
        return
    rows = [
        bench(backend, test[: args.singles], pool[: args.batch_texts], pool, pool_labels, test, test_labels)
        for backend in BACKENDS
    ]
    base = rows[0]
    for row in rows:
        row["single_speedup"] = base["single_p50_ms"] / row["single_p50_ms"]
        row["batch_speedup"] = row["batch_texts_per_s"] / base["batch_texts_per_s"]
        row["accuracy_change_pts"] = 100 * (row["refined_accuracy"] - base["refined_accuracy"])
    print(table(rows))
    path = write_results("onnx_backend", {"singles": args.singles, "batch_texts": args.batch_texts, "rows": rows})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
