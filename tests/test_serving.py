"""The HTTP server, started for real on 127.0.0.1 and called over HTTP."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import joblib
import pytest

from zsclassify import ZeroShotClassifier
from zsclassify.datasets import load_demo
from zsclassify.serving import ServerSettings, prepare_model

pytest.importorskip("fastapi")
ROOT = Path(__file__).resolve().parents[1]
TOKEN = "s3cret-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(port, method, path, body=None, headers=None, raw=None, timeout=60):
    """(status, parsed JSON) of one request; ``raw`` bytes are sent as they are."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    payload = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    connection.request(method, path, body=payload, headers=headers or {})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    try:
        return response.status, json.loads(data)
    except ValueError:  # the HTTP layer's own plain-text answers, e.g. to an unparsable request
        return response.status, data.decode()


def start_server(model_path, *args, token=None, env_extra=None):
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")]), "HF_HUB_OFFLINE": "1"}
    env.pop("ZSCLASSIFY_API_TOKEN", None)
    if token:
        env["ZSCLASSIFY_API_TOKEN"] = token
    env.update(env_extra or {})
    command = [sys.executable, "-m", "zsclassify", "serve", "-m", str(model_path), "--port", str(port), *args]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {process.stdout.read()}")
        try:
            if call(port, "GET", "/health", timeout=2)[0] == 200:
                return process, port
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError("server did not start in time")


def stop_server(process) -> str:
    """SIGTERM, then the server's output once it has exited cleanly."""
    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    output = process.stdout.read()
    # uvicorn shuts down gracefully, then re-raises the signal it caught: exit status -SIGTERM
    assert code in (0, -signal.SIGTERM) and "Finished server process" in output, output
    return output


@pytest.fixture(scope="module")
def demo():
    return load_demo()


@pytest.fixture(scope="module")
def bot(demo, tmp_path_factory):
    clf = ZeroShotClassifier(demo.labels, oos_label="oos", oos_threshold=0.1).fit(demo.pool_texts)
    path = tmp_path_factory.mktemp("model") / "bot.joblib"
    joblib.dump(clf, path)
    return clf, path


@pytest.fixture(scope="module")
def server(bot):
    limits = ["--max-texts", "8", "--max-text-chars", "300", "--max-body-bytes", "4096", "--threads", "1"]
    process, port = start_server(bot[1], *limits, token=TOKEN)
    yield port
    stop_server(process)


AUTH = {"Authorization": f"Bearer {TOKEN}"}


def test_predict_matches_in_process_predictions(server, bot, demo):
    clf = bot[0]
    texts = [*demo.test_texts[:5], "how do i make lasagna"]
    status, body = call(server, "POST", "/predict", {"texts": texts, "top_n": 3}, AUTH)
    assert status == 200
    labels, confidence = clf.predict_with_confidence(texts)
    proba = clf.predict_proba(texts)
    for text, prediction, label, score, row in zip(texts, body["predictions"], labels, confidence, proba):
        assert prediction["text"] == text
        assert prediction["label"] == label
        assert prediction["confidence"] == pytest.approx(score, abs=1e-5)
        ranked = [item["label"] for item in prediction["ranking"]]
        assert ranked == [clf.classes_[i] for i in row.argsort()[::-1][:3]]
    status, body = call(server, "POST", "/predict", {"text": texts[0]}, AUTH)
    assert status == 200 and len(body["predictions"]) == 1 and len(body["predictions"][0]["ranking"]) == 5


def test_rasa_parse_shape(server, bot, demo):
    clf = bot[0]
    text = demo.test_texts[0]
    status, body = call(server, "POST", "/model/parse", {"text": text, "message_id": "m1"}, AUTH)
    assert status == 200
    assert set(body) >= {"text", "intent", "entities", "intent_ranking"}
    assert body["text"] == text and body["entities"] == [] and body["message_id"] == "m1"
    assert body["intent"]["name"] == clf.predict([text])[0]
    ranking = body["intent_ranking"]
    assert len(ranking) == 10 and ranking[0]["name"] == body["intent"]["name"]
    assert [item["confidence"] for item in ranking] == sorted((item["confidence"] for item in ranking), reverse=True)


def test_out_of_scope_leads_the_rasa_ranking_at_the_threshold(server, bot):
    clf = bot[0]
    texts = ["purple elephants dance on the moon", "how do i make lasagna", "recite a poem about cheese"]
    rejected = [t for t, label in zip(texts, clf.predict(texts)) if label == "oos"]
    assert rejected, "the fixture's threshold should reject one of these"
    status, body = call(server, "POST", "/model/parse", {"text": rejected[0]}, AUTH)
    assert status == 200
    assert body["intent"] == {"name": "oos", "confidence": pytest.approx(0.1)}
    assert body["intent_ranking"][0]["name"] == "oos" and body["intent_ranking"][1]["name"] in clf.classes_


def test_health_labels_and_openapi(server, bot, demo):
    status, body = call(server, "GET", "/health")  # no token needed
    assert status == 200 and body["status"] == "ok" and body["labels"] == len(demo.labels)
    status, body = call(server, "GET", "/labels", headers=AUTH)
    assert status == 200
    assert [item["name"] for item in body["labels"]] == list(demo.labels)
    assert body["labels"][0]["description"] == bot[0].descriptions_[0]
    assert body["oos_label"] == "oos" and body["oos_threshold"] == pytest.approx(0.1)
    assert body["judge_quality"] is None  # fitted without a judge
    status, schema = call(server, "GET", "/openapi.json")
    assert status == 200 and {"/predict", "/model/parse", "/health", "/labels"} <= set(schema["paths"])
    assert "texts" in json.dumps(schema["paths"]["/predict"]["post"]["requestBody"])


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"Authorization": "Bearer wrong"}, 401), ({"Authorization": f"Basic {TOKEN}"}, 401), (AUTH, 200)],
)
def test_bearer_token(server, headers, status):
    for path, body in (("/predict", {"text": "hi there"}), ("/model/parse", {"text": "hi there"})):
        assert call(server, "POST", path, body, headers)[0] == status
    assert call(server, "GET", "/labels", headers=headers)[0] == status


BAD_INPUTS = [
    ("/predict", b'{"text": ', 400, "malformed JSON"),
    ("/predict", b"\xff\xfe\x00", 400, "malformed JSON"),
    ("/predict", b"[" * 100_000, 413, "body over"),
    ("/predict", b"[" * 3000, 400, "malformed JSON"),
    ("/predict", b"", 400, "malformed JSON"),
    ("/predict", b'"just a string"', 422, "body"),
    ("/predict", b"{}", 422, "give either 'text'"),
    ("/predict", b'{"text": 3}', 422, "text: Input should be a valid string"),
    ("/predict", b'{"text": null}', 422, "give either 'text'"),
    ("/predict", b'{"texts": ["ok", 2]}', 422, "texts.1"),
    ("/predict", b'{"texts": "not a list"}', 422, "texts"),
    ("/predict", b'{"text": "a", "texts": ["b"]}', 422, "give either"),
    ("/predict", b'{"txt": "typo"}', 422, "txt"),
    ("/predict", b'{"texts": []}', 422, "at least one text"),
    ("/predict", b'{"text": "   "}', 422, "blank"),
    ("/predict", b'{"text": "ok", "top_n": -1}', 422, "top_n"),
    ("/predict", json.dumps({"texts": ["hello"] * 9}).encode(), 413, "more than the limit of 8"),
    ("/predict", json.dumps({"text": "a" * 301}).encode(), 413, "301 characters"),
    ("/predict", json.dumps({"texts": ["fine", "b" * 301]}).encode(), 413, "texts[1]"),
    ("/predict", json.dumps({"text": "x" * 5000}).encode(), 413, "body over 4096 bytes"),
    ("/model/parse", b'{"texts": ["a"]}', 422, "text: Field required"),
    ("/model/parse", b'{"text": ["a"]}', 422, "text: Input should be a valid string"),
    ("/model/parse", b"not json", 400, "malformed JSON"),
    ("/predict", b'{"text": "\\ud800"}', 422, "text holds an invalid character"),  # valid JSON, no valid text
    ("/predict", b'{"texts": ["fine", "a\\udfffb"]}', 422, "texts[1] holds an invalid character"),
    ("/model/parse", b'{"text": "\\ud83d"}', 422, "text holds an invalid character"),
]


@pytest.mark.parametrize(("path", "raw", "status", "reason"), BAD_INPUTS)
def test_bad_input_gets_a_one_line_4xx(server, path, raw, status, reason):
    got, body = call(server, "POST", path, raw=raw, headers=AUTH)
    assert got == status, body
    assert reason in body["detail"] and "\n" not in body["detail"]


def test_chunked_body_over_the_limit_and_bad_content_length(server):
    connection = http.client.HTTPConnection("127.0.0.1", server, timeout=30)
    connection.putrequest("POST", "/predict")
    connection.putheader("Transfer-Encoding", "chunked")
    connection.putheader("Authorization", AUTH["Authorization"])
    connection.endheaders()
    chunk = b'{"text": "' + b"a" * 3000
    for _ in range(3):
        connection.send(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
    connection.send(b"0\r\n\r\n")
    response = connection.getresponse()
    assert response.status == 413 and "body over" in json.loads(response.read())["detail"]
    connection.close()
    assert call(server, "POST", "/predict", raw=b"{}", headers={**AUTH, "Content-Length": "abc"})[0] == 400


def test_method_and_path_errors_are_4xx(server):
    assert call(server, "GET", "/predict", headers=AUTH)[0] == 405
    assert call(server, "GET", "/nowhere", headers=AUTH)[0] == 404


def test_concurrent_clients_are_batched_and_answered_correctly(server, bot, demo):
    clf = bot[0]
    texts = demo.test_texts[:96]
    expected = dict(zip(texts, clf.predict(texts)))
    before = call(server, "GET", "/health")[1]["batching"]
    barrier = threading.Barrier(32)

    def client(offset):
        barrier.wait()
        answers = []
        for text in texts[offset::32]:
            status, body = call(server, "POST", "/predict", {"text": text}, AUTH)
            answers.append((status, text, body["predictions"][0]["label"]))
        return answers

    with ThreadPoolExecutor(32) as pool:
        results = [answer for answers in pool.map(client, range(32)) for answer in answers]
    assert len(results) == len(texts)
    assert all(status == 200 and label == expected[text] for status, text, label in results)
    after = call(server, "GET", "/health")[1]["batching"]
    requests, batches = after["requests"] - before["requests"], after["batches"] - before["batches"]
    assert requests == len(texts)
    assert batches < requests / 2, f"{requests} requests took {batches} encoder calls: no micro-batching"


def test_one_clients_bad_text_never_fails_the_requests_batched_with_it(server, bot, demo):
    # 5 rounds of 12 concurrent good requests and one whose text no encoder can take (a lone surrogate)
    texts = demo.test_texts[:60]
    expected = dict(zip(texts, bot[0].predict(texts)))

    def send(text):
        status, body = call(server, "POST", "/predict", {"text": text}, AUTH)
        return status, text, body

    for start in range(0, 60, 12):
        round_texts = [*texts[start : start + 12], "play \ud800 now"]
        with ThreadPoolExecutor(len(round_texts)) as pool:
            answers = list(pool.map(send, round_texts))
        *good, (bad_status, _, bad_body) = answers
        assert all(s == 200 and b["predictions"][0]["label"] == expected[t] for s, t, b in good), good
        assert bad_status == 422 and "invalid character" in bad_body["detail"]


def test_a_text_the_model_fails_on_gets_a_one_line_json_500_and_the_others_are_answered(toy, caplog):
    # a text that passes every input check but that the encoder cannot take: only its request fails
    from conftest import HashingEmbedder
    from fastapi.testclient import TestClient

    from zsclassify.serving import create_app

    class Choking(HashingEmbedder):
        def encode_query(self, texts):
            if any("choke" in text for text in texts):
                raise RuntimeError("the encoder choked")
            return super().encode_query(texts)

        encode_document = encode_query

    labels, texts, _ = toy
    clf = ZeroShotClassifier(labels, embedder=Choking()).fit(texts)
    with TestClient(create_app(clf)) as client, ThreadPoolExecutor(4) as pool:
        sent = ["will it rain tomorrow", "please choke now", "play some jazz", "pizza for two"]
        answers = list(pool.map(lambda text: client.post("/predict", json={"text": text}), sent))
    assert [a.status_code for a in answers] == [200, 500, 200, 200]
    assert answers[1].json() == {"detail": "prediction failed: RuntimeError"}
    assert [a.json()["predictions"][0]["label"] for a in answers if a.status_code == 200] == list(
        clf.predict([sent[0], sent[2], sent[3]])
    )
    assert "Traceback (most recent call last)" not in caplog.text and "the encoder choked" in caplog.text


def test_a_failed_batch_is_retried_request_by_request():
    import asyncio

    from zsclassify._microbatch import MicroBatcher

    calls = []

    def model(texts):
        calls.append(list(texts))
        if "poison" in texts:
            raise RuntimeError("the encoder choked")
        return [text.upper() for text in texts]

    async def scenario():
        batcher = MicroBatcher(model, max_wait_ms=20)
        await batcher.start()
        await batcher.submit(["warm"])
        await batcher.submit(["up"])
        requests = [["a", "b"], ["poison"], ["c"]]
        answers = await asyncio.gather(*(batcher.submit(r) for r in requests), return_exceptions=True)
        await batcher.stop()
        return answers

    answers = asyncio.run(scenario())
    assert answers[0] == ["A", "B"] and answers[2] == ["C"]
    assert isinstance(answers[1], RuntimeError) and "choked" in str(answers[1])
    assert ["a", "b", "poison", "c"] in calls  # batched first, then apart
    assert calls[-3:] == [["a", "b"], ["poison"], ["c"]]


@pytest.mark.slow
def test_graceful_shutdown_finishes_in_flight_requests(tmp_path, demo):
    from conftest import SlowEmbedder

    clf = ZeroShotClassifier(demo.labels, embedder=SlowEmbedder(seconds=1.5)).fit(demo.pool_texts[:50])
    clf.embedder_.seconds = 1.5
    path = tmp_path / "slow.joblib"
    joblib.dump(clf, path)
    process, port = start_server(path)
    outcome = {}

    def slow_request():
        outcome["answer"] = call(port, "POST", "/predict", {"text": "what is my balance"})

    thread = threading.Thread(target=slow_request)
    thread.start()
    time.sleep(0.5)  # the request is in the model now
    stop_server(process)
    thread.join(timeout=30)
    status, body = outcome["answer"]
    assert status == 200 and body["predictions"][0]["label"] in demo.labels
    with pytest.raises(OSError):
        call(port, "GET", "/health", timeout=2)


def test_settings_and_model_loading_errors(tmp_path):
    with pytest.raises(ValueError, match="max_texts"):
        ServerSettings(max_texts=0)
    with pytest.raises(FileNotFoundError):
        prepare_model(tmp_path / "missing.joblib")
    joblib.dump({"not": "a model"}, tmp_path / "dict.joblib")
    with pytest.raises(TypeError, match="ZeroShotClassifier"):
        prepare_model(tmp_path / "dict.joblib")


def test_cli_reports_a_missing_model_file(tmp_path):
    from zsclassify.cli import main

    assert main(["serve", "-m", str(tmp_path / "missing.joblib")]) == 1


def test_labels_carry_the_judge_quality_of_the_fit(toy, hashing_embedder):
    from starlette.testclient import TestClient

    from zsclassify.judges import GoldJudge
    from zsclassify.serving import create_app

    labels, texts, truth = toy
    clf = ZeroShotClassifier(
        labels, embedder=hashing_embedder, judge=GoldJudge(texts, truth), judge_budget=60, show_progress=False
    ).fit(texts)
    with TestClient(create_app(clf)) as client:
        quality = client.get("/labels").json()["judge_quality"]
    assert quality == json.loads(json.dumps(clf.judge_quality_.summary()))
    assert quality["decision"] == "refined" and quality["n_check_pairs"] > 0
