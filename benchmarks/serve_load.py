"""Load on ``zsclassify serve`` over loopback, next to in-process ``predict`` in the same run.

A zero-shot CLINC150 model (150 intents, bundled MiniLM) is served on 127.0.0.1 with one
encoder thread. Clients (threads with keep-alive connections) send single utterances
from the CLINC150 test split, one request at a time each, at 1, 8 and 32 concurrent
clients; every level is bounded by ``--requests`` and ``--seconds``. In-process
``predict([text])`` on the same utterances (nothing cached, one thread) is the baseline.
Targets: at 32 clients, throughput >= 2x that of 1 client; at 1 client, p50 <= 1.5x
in-process. Clients and server share this machine's cores. With ``--poison`` one more
client sends, all along, a text no encoder can take (a lone surrogate): every good request
must still be answered (``good failed`` 0) and every poisoned one refused with a 4xx.

Usage: python benchmarks/serve_load.py [--requests 400] [--seconds 60] [--backend torch] [--poison]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import joblib
import numpy as np
import torch
from _common import ROOT, label_spec, load_split, table, write_results
from speed import multi_label_model

from zsclassify import ZeroShotClassifier
from zsclassify.embedding import SentenceTransformerEmbedder, no_embedding_cache


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(model_path: Path, backend: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("ZSCLASSIFY_API_TOKEN", None)
    command = [sys.executable, "-m", "zsclassify", "-q", "serve", "-m", str(model_path), "--port", str(port)]
    command += ["--threads", "1", "--backend", backend]
    process = subprocess.Popen(command, env=env)
    for _ in range(600):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                return process, port
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise RuntimeError("the server did not start")


POISON = "play \ud800 now"  # valid JSON (a lone surrogate), but no encoder can take it


def load_level(port: int, clients: int, texts: list[str], requests: int, seconds: float, poison: bool) -> dict:
    """``clients`` threads send ``requests`` good requests in all; with ``poison``, one more sends bad ones."""
    latencies: list[float] = []
    failed: list[int] = []
    poisoned: list[int] = []
    lock = threading.Lock()
    counter = iter(range(requests))
    deadline = time.monotonic() + seconds
    done = threading.Event()

    def send(connection, text: str) -> tuple[int, float]:
        start = time.perf_counter()
        connection.request(
            "POST", "/predict", body=json.dumps({"text": text}), headers={"Content-Type": "application/json"}
        )
        response = connection.getresponse()
        response.read()
        return response.status, time.perf_counter() - start

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for number in counter:
            if time.monotonic() > deadline:
                break
            status, elapsed = send(connection, texts[number % len(texts)])
            with lock:
                if status == 200:
                    latencies.append(elapsed)
                else:
                    failed.append(status)
        connection.close()

    def poisoner() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while not done.is_set():
            poisoned.append(send(connection, POISON)[0])
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    bad = threading.Thread(target=poisoner)
    start = time.perf_counter()
    if poison:
        bad.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    done.set()
    if poison:
        bad.join()
    row = {
        "clients": clients,
        "requests": len(latencies),
        "good failed": len(failed),
        "p50_ms": 1000 * float(np.median(latencies)),
        "p99_ms": 1000 * float(np.percentile(latencies, 99)),
        "throughput_rps": len(latencies) / wall,
    }
    if poison:
        row["poisoned sent"] = len(poisoned)
        row["poisoned 4xx"] = sum(400 <= status < 500 for status in poisoned)
        row["poisoned 5xx"] = sum(status >= 500 for status in poisoned)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="requests per level (bound)")
    parser.add_argument("--seconds", type=float, default=60, help="seconds per level (bound)")
    parser.add_argument("--backend", default="torch", choices=("torch", "onnx", "onnx-int8"))
    parser.add_argument(
        "--poison", action="store_true", help="one more client sends texts no encoder can take, all along"
    )
    parser.add_argument("--multi-label", action="store_true", help="serve a judged MultiLabelZeroShotClassifier")
    args = parser.parse_args()
    torch.set_num_threads(1)
    test, _ = load_split("clinc150", "test")
    pool, pool_labels = load_split("clinc150", "train")
    embedder = SentenceTransformerEmbedder(backend=args.backend)
    if args.multi_label:
        clf = multi_label_model(pool, pool_labels, embedder)
    else:
        clf = ZeroShotClassifier(label_spec("clinc150"), embedder=embedder).fit(pool[:50])
    model_path = Path(tempfile.mkdtemp()) / "clinc150.joblib"
    joblib.dump(clf, model_path)

    in_process = []
    with no_embedding_cache():
        clf.predict(["warm up"])
        for text in test[:200]:
            start = time.perf_counter()
            clf.predict([text])
            in_process.append(time.perf_counter() - start)
    in_process_p50 = 1000 * float(np.median(in_process))

    process, port = start_server(model_path, args.backend)
    try:
        load_level(port, 1, test, 20, args.seconds, poison=False)  # warm-up
        rows = [load_level(port, n, test, args.requests, args.seconds, args.poison) for n in (1, 8, 32)]
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    for row in rows:
        row["throughput_vs_1_client"] = row["throughput_rps"] / rows[0]["throughput_rps"]
        row["p50_vs_in_process"] = row["p50_ms"] / in_process_p50
    print(f"in-process predict([text]): p50 {in_process_p50:.2f} ms ({args.backend}, 1 thread)")
    print(table(rows))
    path = write_results(
        f"serve_load_{args.backend.replace('-', '_')}{'_poisoned' if args.poison else ''}"
        f"{'_multi_label' if args.multi_label else ''}",
        {
            "backend": args.backend,
            "poison": args.poison,
            "multi_label": args.multi_label,
            "in_process_p50_ms": in_process_p50,
            "rows": rows,
        },
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
