"""Fuzzing the server's JSON bodies and the CLI's input files with Hypothesis.

The property, whatever the input: a 4xx (server) or exit 1 with one ``zsclassify: error:``
line (CLI), or a correct answer; never a 5xx, a traceback, or a good request sent alongside
that goes unanswered. Bounded: a fixed number of examples per test, no deadline per example,
loopback only.
"""

from __future__ import annotations

import io
import json
import os
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import redirect_stderr, redirect_stdout

import joblib
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_serving import call, start_server

from zsclassify import ZeroShotClassifier
from zsclassify.cli import main
from zsclassify.datasets import load_demo

pytest.importorskip("fastapi")
EXAMPLES = int(os.environ.get("ZSCLASSIFY_FUZZ_EXAMPLES", "500"))  # per test: 2,000 in all
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
GOOD = "what is the balance of my checking account"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=50),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)
# any Unicode, lone surrogates and control characters included; long ones pass the server's 500-character limit
texts = st.text(st.characters(exclude_categories=()), max_size=40) | st.text(max_size=520)
bodies = (
    json_values.map(lambda value: json.dumps(value).encode())
    | st.integers(1, 3000).map(lambda depth: b"[" * depth + b"]" * depth)  # deep nesting
    | st.binary(max_size=300)
)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    demo = load_demo()
    clf = ZeroShotClassifier(demo.labels, oos_label="other", oos_threshold=0.05).fit(demo.pool_texts[:5])
    path = tmp_path_factory.mktemp("fuzz") / "bot.joblib"
    joblib.dump(clf, path)
    return clf, path, clf.predict([GOOD])[0]


@pytest.fixture(scope="module")
def server(model):
    process, port = start_server(model[1], "--max-texts", "16", "--max-text-chars", "500")
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(process.stdout), daemon=True)  # never let the pipe fill
    reader.start()
    yield port, output
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    reader.join(timeout=30)
    log = "".join(output)
    assert "Finished server process" in log and "Traceback" not in log, log[-3000:]


def send_beside_a_good_request(server, model, raw: bytes, path: str) -> tuple[int, object]:
    """Send ``raw`` and a good request at once (so they may share a batch); the good one must be answered right."""
    port, _ = server
    with ThreadPoolExecutor(2) as pool:
        fuzzed = pool.submit(call, port, "POST", path, None, {"Content-Type": "application/json"}, raw)
        good = pool.submit(call, port, "POST", "/predict", {"text": GOOD})
        status, body = fuzzed.result()
        good_status, good_body = good.result()
    assert good_status == 200 and good_body["predictions"][0]["label"] == model[2]
    assert status < 500, (raw[:200], status, body)
    if status >= 400:
        assert isinstance(body, dict) and "\n" not in body["detail"], body
    return status, body


@FUZZ
@given(body=st.fixed_dictionaries({}, optional={"text": texts, "texts": st.lists(texts, max_size=20),
                                                "top_n": st.integers(-5, 50)}))  # fmt: skip
def test_predict_bodies(server, model, body):
    status, answer = send_beside_a_good_request(server, model, json.dumps(body).encode(), "/predict")
    if status == 200:
        sent = [body["text"]] if "text" in body else body["texts"]
        assert [p["text"] for p in answer["predictions"]] == sent
        assert [p["label"] for p in answer["predictions"]] == list(model[0].predict(sent))


@FUZZ
@given(raw=bodies)
def test_any_json_or_bytes_to_both_endpoints(server, model, raw):
    for path in ("/predict", "/model/parse"):
        send_beside_a_good_request(server, model, raw, path)


@FUZZ
@given(text=texts)
def test_parse_texts(server, model, text):
    status, answer = send_beside_a_good_request(server, model, json.dumps({"text": text}).encode(), "/model/parse")
    if status == 200:
        assert answer["text"] == text and answer["intent"]["name"] in {*model[0].classes_, model[0].oos_label}


rows = st.lists(st.one_of(texts, json_values), min_size=0, max_size=8)


@FUZZ
@given(
    suffix=st.sampled_from([".jsonl", ".csv", ".txt"]),
    content=st.one_of(
        rows.map(lambda values: "".join(json.dumps({"text": value}) + "\n" for value in values)),
        rows.map(lambda values: "text\n" + "".join(json.dumps(str(value)) + "\n" for value in values)),
        st.lists(texts, max_size=8).map("\n".join),
        st.binary(max_size=300),
    ),
)
def test_predict_files(model, tmp_path_factory, suffix, content):
    path = tmp_path_factory.mktemp("in") / f"input{suffix}"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass"))
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["-q", "predict", "-m", str(model[1]), str(path), "--format", "jsonl"])
    errors = err.getvalue().strip().splitlines()
    if code == 0:
        predictions = [json.loads(line) for line in out.getvalue().splitlines()]
        assert predictions and predictions == [
            {"text": p["text"], "label": label, "confidence": p["confidence"]}
            for p, label in zip(predictions, model[0].predict([p["text"] for p in predictions]))
        ]
    else:
        assert code == 1 and out.getvalue() == "", out.getvalue()[:300]
        assert len(errors) == 1 and errors[0].startswith("zsclassify: error: "), errors
        assert str(path) in errors[0] or "<stdin>" in errors[0], errors
