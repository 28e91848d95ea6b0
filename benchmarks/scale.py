"""Predict at scale: one process vs a 2-worker Dask LocalCluster (and Spark local[2]), and streamed files.

1. Throughput on 50,000 distinct utterances (every text of the three benchmark
   datasets, topped up with variants), each engine in a fresh process, in
   interleaved repeats: wall time, texts per second, and the peak resident memory
   of every process involved (ru_maxrss). The 2 workers share the machine's 2 cores,
   so the cluster cannot be faster; the ratio is the overhead the engine adds.
2. ``zsclassify predict`` over a text file streamed in chunks: peak memory for a
   file 4 times longer should be the same (flat), against ``clf.predict`` on the
   whole list held in memory.

Usage: python benchmarks/scale.py [--parts throughput stream] [--engines single dask spark] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import joblib
from _common import RESULTS_DIR, label_spec, load_split, table, write_results

from zsclassify import ZeroShotClassifier
from zsclassify.judges import GoldJudge

N_TEXTS = 50_000
PARTITIONS = 16


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MB (Linux reports ru_maxrss in KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def distinct_texts(n: int) -> list[str]:
    """``n`` distinct utterances: every benchmark text, then variants of them."""
    texts = []
    for dataset, splits in {"clinc150": ("train", "val", "test"), "banking77": ("train", "test"),
                            "snips": ("train", "test")}.items():  # fmt: skip
        for split in splits:
            texts += load_split(dataset, split)[0]
    unique = list(dict.fromkeys(texts))
    variants = (f"{text} {suffix}" for suffix in ("please", "thanks", "now", "asap") for text in unique)
    return list(dict.fromkeys([*unique, *variants]))[:n]


def fit_model(path: Path) -> None:
    texts, labels = load_split("clinc150", "train")
    clf = ZeroShotClassifier(label_spec("clinc150"), judge=GoldJudge(texts, labels), judge_budget=5, random_state=0)
    joblib.dump(clf.fit(texts), path)


# ---------------------------------------------------------------- engines (each runs in its own process)
def run_single(model: Path, data: Path) -> dict:
    from zsclassify.batch_prediction import predict_in_chunks

    clf = joblib.load(model)
    texts = data.read_text().splitlines()
    clf.predict(["warm up"])  # load the model outside the timed part, as every engine does
    start = time.perf_counter()
    labels = [label for chunk in predict_in_chunks(clf, texts) for label in chunk.labels]
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "labels": labels, "peak MB per process": {"main": peak_rss_mb()}}


def model_loads() -> int:
    from zsclassify.embedding import encoder_stats

    return encoder_stats().model_loads


def _warm_up(model: str) -> float:
    joblib.load(model).predict(["warm up"])
    return peak_rss_mb()


def run_dask(model: Path, data: Path) -> dict:
    import dask.dataframe as dd
    import numpy as np
    import pandas as pd
    from dask_ml.wrappers import ParallelPostFit
    from distributed import Client, LocalCluster

    clf = joblib.load(model)
    texts = data.read_text().splitlines()
    started = time.perf_counter()
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    with cluster, Client(cluster) as client:
        client.run(_warm_up, str(model))  # each worker loads the model once, before timing
        startup = time.perf_counter() - started
        frame = dd.from_pandas(pd.DataFrame({"text": texts}), npartitions=PARTITIONS)
        wrapped = ParallelPostFit(clf, predict_meta=pd.Series([], dtype=object))
        start = time.perf_counter()
        labels = wrapped.predict(frame[["text"]]).compute()
        seconds = time.perf_counter() - start
        peaks = client.run(peak_rss_mb)
        loads = client.run(model_loads)
    per_process = {"client": peak_rss_mb(), **{f"worker {i}": mb for i, mb in enumerate(peaks.values())}}
    return {"seconds": seconds, "startup seconds": startup, "labels": list(np.asarray(labels)),
            "peak MB per process": per_process, "model loads per worker": sorted(loads.values())}  # fmt: skip


def run_spark(model: Path, data: Path) -> dict:
    import pandas as pd
    from pyspark.sql import SparkSession
    from pyspark.sql.types import DoubleType, StructField

    from zsclassify.batch_prediction import PartitionPredictor

    clf = joblib.load(model)
    texts = data.read_text().splitlines()
    started = time.perf_counter()
    spark = (
        SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
        .config("spark.driver.bindAddress", "127.0.0.1").getOrCreate()
    )  # fmt: skip
    try:
        frame = spark.createDataFrame(pd.DataFrame({"id": range(len(texts)), "text": texts})).repartition(PARTITIONS)
        frame.cache().count()
        startup = time.perf_counter() - started
        predictor = PartitionPredictor(clf)

        def predict_with_memory(frames):
            for out in predictor(frames):
                yield out.assign(peak_mb=peak_rss_mb(), pid=os.getpid())

        schema = predictor.spark_schema(frame.schema)
        schema = schema.add(StructField("peak_mb", DoubleType())).add("pid", "long")
        start = time.perf_counter()
        result = frame.mapInPandas(predict_with_memory, schema=schema).toPandas().sort_values("id")
        seconds = time.perf_counter() - start
    finally:
        spark.stop()
    workers = result.groupby("pid")["peak_mb"].max()
    per_process = {"driver (python)": peak_rss_mb(), **{f"worker {i}": mb for i, mb in enumerate(workers)}}
    return {"seconds": seconds, "startup seconds": startup, "labels": result["label"].tolist(),
            "peak MB per process": per_process}  # fmt: skip


ENGINES = {"single": run_single, "dask": run_dask, "spark": run_spark}


def in_subprocess(engine: str, model: Path, data: Path) -> dict:
    command = [sys.executable, __file__, "--run", engine, "--model", str(model), "--data", str(data)]
    out = subprocess.run(command, capture_output=True, text=True, check=False)
    if out.returncode:
        raise RuntimeError(f"{engine} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def throughput(model: Path, work: Path, engines: list[str], repeats: int, n_texts: int) -> list[dict]:
    data = work / "texts.txt"
    data.write_text("\n".join(distinct_texts(n_texts)) + "\n")
    runs: dict[str, list[dict]] = {engine: [] for engine in engines}
    for repeat in range(repeats):
        for engine in engines:  # interleaved, so that machine noise hits every engine alike
            runs[engine].append(in_subprocess(engine, model, data))
            print(f"repeat {repeat} {engine}: {runs[engine][-1]['seconds']:.1f} s", flush=True)
    reference = runs[engines[0]][0]["labels"]
    baseline = statistics.median(r["seconds"] for r in runs[engines[0]])
    rows = []
    for engine, results in runs.items():
        seconds = statistics.median(r["seconds"] for r in results)
        peaks = results[0]["peak MB per process"]
        rows.append(
            {
                "engine": engine,
                "texts": len(reference),
                "median s": seconds,
                "texts/s": len(reference) / seconds,
                f"time vs {engines[0]}": seconds / baseline,
                "startup s": statistics.median(r.get("startup seconds", 0.0) for r in results),
                "peak MB per process": ", ".join(f"{name} {mb:.0f}" for name, mb in peaks.items()),
                "same labels as single": all(r["labels"] == reference for r in results),
                "runs s": [round(r["seconds"], 1) for r in results],
                **({"model loads per worker": results[0]["model loads per worker"]} if engine == "dask" else {}),
            }
        )
    return rows


# ---------------------------------------------------------------- streaming
def sample_rss(pid: int, samples: list[float], stop: threading.Event) -> None:
    import psutil

    process = psutil.Process(pid)
    while not stop.is_set():
        try:
            rss = process.memory_info().rss
        except psutil.NoSuchProcess:
            return
        if rss:  # 0 once the process has exited
            samples.append(rss / 2**20)
        time.sleep(0.25)


def measure(command: list[str], stdout) -> dict:
    samples: list[float] = []
    stop = threading.Event()
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=stdout, stderr=subprocess.PIPE, text=True)
    sampler = threading.Thread(target=sample_rss, args=(process.pid, samples, stop))
    sampler.start()
    _, stderr = process.communicate()
    stop.set()
    sampler.join()
    if process.returncode:
        raise RuntimeError(stderr[-3000:])
    quarter = max(len(samples) // 4, 1)
    return {
        "seconds": time.perf_counter() - start,
        "peak MB": max(samples),
        "RSS MB at 25/50/75/100% of run": [round(samples[min(q * quarter, len(samples) - 1)]) for q in (1, 2, 3, 4)],
    }


IN_MEMORY = """
import joblib, sys
clf = joblib.load(sys.argv[1])
texts = open(sys.argv[2]).read().splitlines()
labels = clf.predict(texts)
"""


def streaming(model: Path, work: Path, lines: tuple[int, ...]) -> list[dict]:
    texts = distinct_texts(N_TEXTS)
    random.Random(0).shuffle(texts)  # every prefix of the file has the same mix of short and long texts
    rows = []
    for n in lines:
        path = work / f"lines_{n}.txt"
        with path.open("w") as handle:
            for i in range(n):  # distinct lines, so no embedding is reused from a cache
                handle.write(f"{texts[i % len(texts)]} #{i // len(texts)}\n")
        cli = [sys.executable, "-m", "zsclassify.cli", "-q", "predict", "--model-file", str(model), str(path)]
        with (work / "out.csv").open("w") as out:
            rows.append({"how": "zsclassify predict (chunks of 4096)", "lines": n, **measure(cli, out)})
        print(rows[-1], flush=True)
    whole = [sys.executable, "-c", IN_MEMORY, str(model), str(work / f"lines_{lines[-1]}.txt")]
    rows.append({"how": "clf.predict(whole list)", "lines": lines[-1], **measure(whole, subprocess.DEVNULL)})
    print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", nargs="+", choices=("throughput", "stream"), default=["throughput", "stream"])
    parser.add_argument("--engines", nargs="+", choices=tuple(ENGINES), default=["single", "dask", "spark"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--texts", type=int, default=N_TEXTS, help="utterances in the throughput test")
    parser.add_argument("--lines", type=int, nargs="+", default=[25_000, 100_000])
    parser.add_argument("--run", choices=tuple(ENGINES), help=argparse.SUPPRESS)  # internal: one engine, one process
    parser.add_argument("--model", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        print(json.dumps(ENGINES[args.run](args.model, args.data), default=str))
        return
    previous = RESULTS_DIR / "scale.json"
    results = json.loads(previous.read_text()) if previous.exists() else {}  # keep the parts not re-run
    results = {part: results[part] for part in ("throughput", "stream") if part in results}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        model = work / "model.joblib"
        fit_model(model)
        results["model file KB"] = model.stat().st_size / 1024
        if "throughput" in args.parts:
            rows = throughput(model, work, args.engines, args.repeats, args.texts)
            print(f"\n## Predict throughput, {args.texts} utterances (medians of {args.repeats})\n")
            print(table(rows, [c for c in rows[0] if c != "runs s"]))
            results["throughput"] = rows
        if "stream" in args.parts:
            rows = streaming(model, work, tuple(args.lines))
            print("\n## Streamed prediction from a file: memory stays flat\n")
            print(table(rows))
            results["stream"] = rows
    write_results("scale", results)


if __name__ == "__main__":
    main()
