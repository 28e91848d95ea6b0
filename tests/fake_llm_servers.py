"""Small HTTP servers on 127.0.0.1 that speak the Anthropic Messages API and the OpenAI
chat-completions API the way the real services do, for driving the real SDKs offline.

The "model" behind them answers from a rule ``relevant(label, text) -> bool``. A test can
queue scripted faults (status codes with headers and error bodies, slow replies, malformed
or partial tool input) that are served before normal answers.
"""

from __future__ import annotations

import html
import json
import math
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

UTTERANCE = re.compile(r'<utterance(?: id="(\d+)")?>(.*?)</utterance>', re.S)
LABEL = re.compile(r'<label name="([^"]*)">')
CANDIDATES = re.compile(r"^candidates for (\d+): (.*)$", re.M)
OPTION = re.compile(r'^([A-Z])\. <label name="([^"]*)">', re.M)
LISTED = re.compile(r"^- (.+)$", re.M)  # a label name in a request for descriptions


@dataclass
class Fault:
    """A scripted reply: an HTTP error, a delay, or a mangled answer."""

    status: int = 200
    headers: dict = field(default_factory=dict)
    body: dict | None = None
    delay: float = 0.0
    mangle: Callable[[dict], dict] | None = None  # edits a normal reply body
    html: str | None = None  # a 200 reply that is not the API's (a login page, a proxy)
    drip: float = 0.0  # seconds between the bytes of the reply (a server that never quite times out)
    on_arrival: Callable[[], None] | None = None  # run when the request arrives (e.g. a Ctrl-C)


def anthropic_error(status: int, kind: str, message: str) -> dict:
    return {"type": "error", "error": {"type": kind, "message": message}, "request_id": f"req_{uuid.uuid4().hex[:12]}"}


def openai_error(message: str, kind: str) -> dict:
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


class FakeLLMServer:
    """Base: threading HTTP server, request log, fault queue."""

    def __init__(self, relevant: Callable[[str, str], bool]) -> None:
        self.relevant = relevant
        self.requests: list[dict] = []  # {"path", "headers", "body"}
        self.faults: list[Fault] = []
        self.answered = 0  # utterances in complete normal (200, API) replies sent
        self.lock = threading.Lock()
        self.replying = 0  # normal replies being sent and not yet counted in answered
        self.describe: Callable[[str], str | None] = lambda name: f"Requests about {name.lower()}."  # None: omitted
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                with server.lock:
                    server.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                    fault = server.faults.pop(0) if server.faults else None
                if fault and fault.on_arrival:
                    fault.on_arrival()
                if fault and fault.delay:
                    time.sleep(fault.delay)
                if fault and fault.status != 200:
                    return self._send(fault.status, fault.body or {}, fault.headers)
                if fault and fault.html is not None:
                    return self._send(200, fault.html, {}, content_type="text/html; charset=utf-8")
                reply = server.answer(self.path, body)
                if fault and fault.mangle:
                    reply = fault.mangle(reply)
                drip = fault.drip if fault else 0.0
                prompt = not drip  # a dripped reply is slow on purpose: settle() does not wait for it
                with server.lock:
                    server.replying += prompt
                try:
                    if self._send(200, reply, fault.headers if fault else {}, drip=drip):
                        with server.lock:
                            server.answered += server.count_judged(self.path, body)
                finally:
                    with server.lock:
                        server.replying -= prompt

            def do_GET(self):
                with server.lock:
                    server.requests.append({"path": self.path, "headers": dict(self.headers), "body": None})
                payload = server.answer_get(self.path)
                if isinstance(payload, str):  # JSON Lines
                    return self._send(200, payload, {}, content_type="application/binary")
                self._send(200, payload, {})

            def _send(self, status, payload, headers: dict, content_type="application/json", drip=0.0) -> bool:
                data = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", content_type)
                    self.send_header("content-length", str(len(data)))
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    if drip:
                        for byte in data:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(drip)
                    else:
                        self.wfile.write(data)
                    return True
                except (BrokenPipeError, ConnectionResetError, OSError):  # the client gave up (timeout)
                    return False

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def settle(self, timeout: float = 5.0) -> None:
        """Wait until the replies being sent are counted: a client can read a reply before its handler counts it."""
        deadline = time.monotonic() + timeout
        while self.replying and time.monotonic() < deadline:
            time.sleep(0.005)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    def answer(self, path: str, body: dict) -> dict:
        raise NotImplementedError

    def answer_get(self, path: str) -> dict | str:
        raise NotImplementedError

    def count_judged(self, path: str, body: dict) -> int:
        """Utterances a request asked about."""
        if not path.endswith(("/messages", "/chat/completions")):
            return 0
        return body["messages"][-1]["content"].count("<utterance")

    def choice(self, text: str, names: list[str]) -> str | None:
        """The model's multiple-choice answer: the first candidate it finds relevant, else None."""
        return next((name for name in names if self.relevant(name, text)), None)

    def selection(self, text: str, names: list[str]) -> list[str] | str:
        """The model's multi-label answer: every candidate it finds relevant (only the first, as a bare
        string, when ``single_answers`` is set: a model that ignores "any number")."""
        chosen = [name for name in names if self.relevant(name, text)]
        return (chosen[0] if chosen else []) if getattr(self, "single_answers", False) else chosen

    def descriptions(self, prompt: str) -> dict[str, str]:
        """The model's answer to a request for label descriptions: the labels listed as ``- name`` lines."""
        written = {name: self.describe(name) for name in LISTED.findall(prompt)}
        return {name: text for name, text in written.items() if text is not None}

    def judged(self, body_text: str) -> tuple[str, list[tuple[int | None, str]]]:
        label = html.unescape(LABEL.search(body_text).group(1))
        items = [(int(i) if i else None, html.unescape(t)) for i, t in UTTERANCE.findall(body_text)]
        return label, items


class FakeAnthropic(FakeLLMServer):
    """``POST /v1/messages`` with forced tool use, usage and prompt-cache accounting."""

    def __init__(self, relevant):
        super().__init__(relevant)
        self.cached_prefixes: set[str] = set()
        self.batches: dict[str, dict] = {}
        self.batch_mangles: list = []  # applied, in order, to the messages inside batches

    def answer(self, path: str, body: dict) -> dict:
        if path == "/v1/messages/batches":
            return self._create_batch(body)
        assert path == "/v1/messages", path
        user = body["messages"][0]["content"]
        system = "".join(block["text"] for block in body.get("system", []))
        prefix_tokens = len(system) // 4
        cached = system in self.cached_prefixes
        self.cached_prefixes.add(system)
        if body["tool_choice"]["name"] == "record_descriptions":
            tool_input, items = self.descriptions(user), []
        elif body["tool_choice"]["name"] == "record_choices":
            items = [(int(i), html.unescape(t)) for i, t in UTTERANCE.findall(user)]
            candidates = {int(i): [html.unescape(n) for n in re.findall(r'"([^"]*)"', names)]
                          for i, names in CANDIDATES.findall(user)}  # fmt: skip
            tool_input = {"choices": [{"id": i, "label": self.choice(t, candidates[i]) or "none"} for i, t in items]}
        elif body["tool_choice"]["name"] == "record_selections":
            items = [(int(i), html.unescape(t)) for i, t in UTTERANCE.findall(user)]
            candidates = {int(i): [html.unescape(n) for n in re.findall(r'"([^"]*)"', names)]
                          for i, names in CANDIDATES.findall(user)}  # fmt: skip
            tool_input = {"selections": [{"id": i, "labels": self.selection(t, candidates[i])} for i, t in items]}
        else:
            label, items = self.judged(user)
            tool_input = {"judgments": [{"id": i, "relevant": bool(self.relevant(label, text))} for i, text in items]}
        return {
            "id": f"msg_{uuid.uuid4().hex[:16]}",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": [
                {
                    "type": "tool_use",
                    "id": f"toolu_{uuid.uuid4().hex[:16]}",
                    "name": body["tool_choice"]["name"],
                    "input": tool_input,
                }
            ],
            "stop_reason": "tool_use",
            "stop_sequence": None,
            "usage": {
                "input_tokens": len(user) // 4,
                "output_tokens": 10 + 8 * len(items),
                "cache_read_input_tokens": prefix_tokens if cached else 0,
                "cache_creation_input_tokens": 0 if cached else prefix_tokens,
            },
        }

    def _create_batch(self, body: dict) -> dict:
        identifier = f"msgbatch_{uuid.uuid4().hex[:12]}"
        results = []
        for request in body["requests"]:
            message = self.answer("/v1/messages", request["params"])
            if self.batch_mangles:
                message = self.batch_mangles.pop(0)(message)
            results.append({"custom_id": request["custom_id"], "result": {"type": "succeeded", "message": message}})
        self.batches[identifier] = {"results": results, "polls": 0}
        return self._batch(identifier)

    def _batch(self, identifier: str) -> dict:
        state = self.batches[identifier]
        ended = state["polls"] >= 1  # in progress at creation, ended at the first poll
        state["polls"] += 1
        count = len(state["results"])
        return {
            "id": identifier,
            "type": "message_batch",
            "processing_status": "ended" if ended else "in_progress",
            "request_counts": {"processing": 0 if ended else count, "succeeded": count if ended else 0,
                               "errored": 0, "canceled": 0, "expired": 0},
            "created_at": "2026-11-26T12:00:00Z",
            "expires_at": "2026-11-27T12:00:00Z",
            "ended_at": "2026-11-26T12:01:00Z" if ended else None,
            "results_url": f"{self.url}/v1/messages/batches/{identifier}/results" if ended else None,
        }  # fmt: skip

    def answer_get(self, path: str) -> dict | str:
        parts = path.strip("/").split("/")  # v1 messages batches <id> [results]
        if parts[-1] == "results":
            state = self.batches[parts[-2]]
            return "\n".join(json.dumps(r) for r in reversed(state["results"])) + "\n"
        state = self.batches[parts[-1]]
        state["polls"] = max(state["polls"], 1)
        return self._batch(parts[-1])


class FakeOpenAI(FakeLLMServer):
    """``POST /v1/chat/completions`` with first-token logprobs, or a plain-text reply."""

    def __init__(self, relevant, with_logprobs: bool = True, confidence: float = 0.9):
        super().__init__(relevant)
        self.with_logprobs = with_logprobs
        self.confidence = confidence

    def answer(self, path: str, body: dict) -> dict:
        assert path == "/v1/chat/completions", path
        user = body["messages"][-1]["content"]
        options = OPTION.findall(user)
        if user.startswith("Lettered candidates:"):  # a multi-label question: a JSON boolean per letter
            text = html.unescape(UTTERANCE.findall(user)[0][1])
            chosen = self.selection(text, [html.unescape(name) for _, name in options])
            verdicts = {letter: html.unescape(name) in chosen for letter, name in options}
            if isinstance(chosen, str):  # a model ignoring "any number": an answer the schema does not allow
                return self._completion(body, json.dumps({"labels": chosen}), None, len(user))
            return self._verdicts(body, verdicts, user)
        if options:  # a lettered multiple choice: the last letter is "none of these"
            (_, text), names = UTTERANCE.findall(user)[0], [html.unescape(name) for _, name in options]
            chosen = self.choice(html.unescape(text), names)
            letters = [letter for letter, _ in options] + [chr(ord(options[-1][0]) + 1)]
            return self._first_token(body, letters[names.index(chosen)] if chosen else letters[-1], letters, user)
        if LISTED.search(user):  # a request for label descriptions: a JSON object in the content
            return self._completion(body, json.dumps(self.descriptions(user)), None, len(user))
        label, items = self.judged(user)
        if "response_format" in body:  # listwise: a JSON object in the content
            judgments = [{"id": i, "relevant": bool(self.relevant(label, text))} for i, text in items]
            return self._completion(body, json.dumps({"judgments": judgments}), None, len(user))
        yes = bool(self.relevant(label, items[0][1]))
        return self._first_token(body, "yes" if yes else "no", ["yes", "no"], user)

    def _first_token(self, body: dict, answer: str, alternatives: list[str], user: str) -> dict:
        """A one-token reply ``answer``; its top log-probabilities give it ``confidence`` and share the rest."""
        logprobs = None
        if self.with_logprobs and body.get("logprobs"):
            others = [token for token in alternatives if token != answer]
            top = [{"token": answer, "logprob": math.log(self.confidence), "bytes": None}] + [
                {"token": token, "logprob": math.log((1 - self.confidence) / len(others)), "bytes": None}
                for token in others
            ]
            logprobs = {
                "content": [{"token": answer, "logprob": top[0]["logprob"], "bytes": None, "top_logprobs": top}]
            }
        return self._completion(body, answer, logprobs, len(user))

    def _verdicts(self, body: dict, verdicts: dict[str, bool], user: str) -> dict:
        """``{"A": true, "B": false}`` as a tokenizer splits it; each value token's top log-probabilities give
        it ``confidence`` and the other boolean the rest."""
        pieces = ["{"]
        for index, (letter, value) in enumerate(verdicts.items()):
            pieces += [', "' if index else '"', letter, '":', " true" if value else " false"]
        pieces.append("}")
        logprobs = None
        if self.with_logprobs and body.get("logprobs"):
            content = []
            for token in pieces:
                top = [{"token": token, "logprob": 0.0, "bytes": None}]
                if token.strip() in ("true", "false"):
                    other = " false" if token.strip() == "true" else " true"
                    top = [{"token": token, "logprob": math.log(self.confidence), "bytes": None},
                           {"token": other, "logprob": math.log(1 - self.confidence), "bytes": None}]  # fmt: skip
                content.append({"token": token, "logprob": top[0]["logprob"], "bytes": None, "top_logprobs": top})
            logprobs = {"content": content}
        return self._completion(body, "".join(pieces), logprobs, len(user))

    @staticmethod
    def _completion(body: dict, content: str, logprobs: dict | None, prompt_chars: int) -> dict:
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "logprobs": logprobs,
                    "finish_reason": "length",
                }
            ],
            "usage": {
                "prompt_tokens": prompt_chars // 4,
                "completion_tokens": 1,
                "total_tokens": prompt_chars // 4 + 1,
            },
        }
