"""An HTTP server for a fitted classifier: what a chatbot calls to route each message.

``zsclassify serve -m model.joblib`` or, from Python, :func:`serve` (or :func:`create_app`
for your own ASGI server). Needs ``pip install 'zsclassify[serve]'`` (FastAPI, uvicorn).

Endpoints
---------
``POST /predict``
    ``{"text": "..."}`` or ``{"texts": [...]}`` (and optionally ``"top_n"``) -> per text
    ``label``, ``confidence`` and a ``ranking`` of the ``top_n`` most likely labels.
``POST /model/parse``
    ``{"text": "..."}`` -> Rasa's NLU response (``intent {name, confidence}``,
    ``intent_ranking``, ``entities``), so a Rasa-style chatbot stack can point at it.
``GET /health``
    Liveness and batching counters (never needs a token).
``GET /labels``
    Label names and descriptions, the out-of-scope label and threshold.
``GET /docs``, ``GET /openapi.json``
    The OpenAPI description.

Concurrent requests are micro-batched into one encoder call (see
:class:`zsclassify._microbatch.MicroBatcher`). The model is loaded and warmed up once,
before the port opens. Bad input gets a 4xx whose ``detail`` is one line. With the
environment variable named by ``token_env`` set, every endpoint but ``/health`` and the
docs needs ``Authorization: Bearer <token>``. On SIGINT / SIGTERM, uvicorn stops accepting
connections and in-flight requests finish before the process exits.
"""

from __future__ import annotations

import copy
import hmac
import json
import logging
import math
import os
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import numpy as np

from ._microbatch import MicroBatcher, ShuttingDownError
from ._multilabel import MultiLabelZeroShotClassifier
from ._validation import check_encodable

try:
    from fastapi import Depends, FastAPI, Request
    from fastapi.responses import JSONResponse
    from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny, StrictStr, ValidationError, model_validator
except ImportError:  # pragma: no cover - the [serve] extra is installed in tests
    raise ImportError("zsclassify.serving needs FastAPI and uvicorn: pip install 'zsclassify[serve]'.") from None

if TYPE_CHECKING:
    from ._estimator import ZeroShotClassifier

__all__ = ["ServerSettings", "create_app", "prepare_model", "serve"]

logger = logging.getLogger(__name__)


class RankedLabel(BaseModel):
    """A label and its probability (and, for a multi-label model, whether it is over its threshold)."""

    label: str
    confidence: float
    accepted: bool | None = Field(
        None, description="Multi-label models: the label applies (null for single-label models)."
    )


class Prediction(BaseModel):
    """The answer for one text."""

    text: str
    label: str | None = Field(
        description="The most likely label, or the out-of-scope label when none is likely enough; for a multi-label "
        "model the most probable of the labels that apply (null when none does)."
    )
    confidence: float = Field(description="Probability of that label (multi-label, none applies: the highest one).")
    labels: list[str] | None = Field(
        None,
        description="Multi-label models: every label that applies, most probable first (null for single-label models).",
    )
    ranking: list[SerializeAsAny[RankedLabel]]


class PredictRequest(BaseModel):
    """One text or several, and how many labels to rank."""

    model_config = ConfigDict(extra="forbid")
    text: StrictStr | None = Field(None, description="One text (or give texts).")
    texts: list[StrictStr] | None = Field(None, description="Several texts (or give text).")
    top_n: int | None = Field(None, ge=0, description="Labels per ranking (default: the server's top_n).")

    @model_validator(mode="after")
    def one_of(self):
        if (self.text is None) == (self.texts is None):
            raise ValueError("give either 'text' (a string) or 'texts' (a list of strings)")
        return self


class PredictResponse(BaseModel):
    """One prediction per text, in order."""

    predictions: list[Prediction]


class ParseRequest(BaseModel):
    """Rasa's parse request."""

    text: StrictStr
    message_id: str | None = None


class Intent(BaseModel):
    """Rasa's intent: name and confidence."""

    name: str | None
    confidence: float


class AcceptedIntent(Intent):
    """A multi-label model's ranked intent: Rasa's fields and whether it is over its threshold."""

    accepted: bool = Field(description="The intent applies to the message (its probability is over its threshold).")


class ParseResponse(BaseModel):
    """Rasa's NLU parse response (no entities: this model finds intents only).

    For a multi-label model ``intent`` is the most probable intent that applies (name null
    and confidence 0 when none does), ``intent_ranking`` lists every intent with its own
    probability and ``accepted`` (an intent is accepted when its probability is at or over its
    threshold, so several can be, or none).
    """

    text: str
    intent: Intent
    entities: list[dict[str, Any]]
    intent_ranking: list[SerializeAsAny[Intent]]
    message_id: str | None = None


class LabelInfo(BaseModel):
    """A label and its description (and, for a multi-label model, its threshold)."""

    name: str
    description: str
    threshold: float | None = Field(
        None, description="Multi-label models: the cosine to the label's embedding at which it applies."
    )


class LabelsResponse(BaseModel):
    """What the model knows: labels, and how it rejects out-of-scope texts."""

    labels: list[LabelInfo]
    oos_label: str | None
    oos_threshold: float | None
    judge_quality: dict | None = None
    """The judge's quality as the fit estimated it and what it decided (``JudgeQuality.summary()``)."""


class _BodyTooLargeError(Exception):
    """A chunked body grew past the limit while it was being read."""


class _RefusedError(Exception):
    """Bad input or no access: answered with ``status`` and a one-line ``detail``."""

    def __init__(self, status: int, detail: str, headers: dict | None = None) -> None:
        super().__init__(detail)
        self.response = _problem(status, detail, headers)


def _problem(status: int, detail: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


class _BodyLimit:
    """ASGI middleware: 413 for a body over ``max_bytes``, by its Content-Length or as it streams in."""

    def __init__(self, app, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and not length.isdigit():
            return await _problem(400, "invalid Content-Length header")(scope, receive, send)
        if length is not None and int(length) > self.max_bytes:
            return await _problem(413, f"body over {self.max_bytes} bytes")(scope, receive, send)
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise _BodyTooLargeError
            return message

        return await self.app(scope, counted, send)


def _json_body(model: type[BaseModel]) -> dict:
    """The OpenAPI request body of an endpoint that parses ``model`` itself (see :func:`_read`)."""
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": model.model_json_schema()}}}}


_Body = TypeVar("_Body", bound="BaseModel")


async def _read(request: Request, model: type[_Body]) -> _Body:
    """The body parsed as JSON (whatever the Content-Type says) and validated; bad input as one line."""
    try:
        data = json.loads(await request.body())
    except (ValueError, RecursionError) as error:  # JSONDecodeError, bad UTF-8, absurd nesting or numbers
        raise _RefusedError(400, f"malformed JSON: {error}") from None
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        message = first["msg"].removeprefix("Value error, ")
        raise _RefusedError(422, f"{where}: {message}".replace("\n", " ")) from None


@dataclass(frozen=True)
class ServerSettings:
    """Limits and behaviour of the server.

    Parameters
    ----------
    max_texts : int
        Most texts in one ``/predict`` request.
    max_text_chars : int
        Longest text, in characters.
    max_body_bytes : int
        Largest request body.
    top_n : int
        Labels in a ranking unless the request asks for another number (Rasa: 10).
    max_batch_texts : int
        Most texts per encoder call when requests are batched together.
    max_wait_ms : float
        Longest a request waits for others to share its batch, when the server is busy.
    token_env : str
        Environment variable holding the bearer token; unset or empty: no authentication.
    backend : str, optional
        Run the model's embedder with this backend (``"onnx"``, ``"onnx-int8"``, ``"torch"``)
        instead of the one it was fitted with; ``None`` keeps it.
    """

    max_texts: int = 64
    max_text_chars: int = 2_000
    max_body_bytes: int = 1_000_000
    top_n: int = 5
    max_batch_texts: int = 256
    max_wait_ms: float = 2.0
    token_env: str = "ZSCLASSIFY_API_TOKEN"
    backend: str | None = None

    def __post_init__(self) -> None:
        for name in ("max_texts", "max_text_chars", "max_body_bytes", "top_n", "max_batch_texts"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer; got {value!r}.")
        if not self.max_wait_ms >= 0:
            raise ValueError(f"max_wait_ms must be >= 0; got {self.max_wait_ms!r}.")


def prepare_model(
    source: str | os.PathLike | ZeroShotClassifier | MultiLabelZeroShotClassifier, backend: str | None = None
) -> ZeroShotClassifier | MultiLabelZeroShotClassifier:
    """A fitted classifier, read by :func:`zsclassify.load_model` (``.skops`` or joblib) when given a path,
    its embedder switched to ``backend`` if set."""
    from sklearn.utils.validation import check_is_fitted

    from ._estimator import ZeroShotClassifier
    from .embedding import SentenceTransformerEmbedder

    if isinstance(source, (str, os.PathLike)):
        from .persistence import load_model

        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"model file not found: {path}")
        loaded: object = load_model(path)
    else:
        loaded = source
    if not isinstance(loaded, (ZeroShotClassifier, MultiLabelZeroShotClassifier)):
        raise TypeError(
            f"expected a fitted ZeroShotClassifier or MultiLabelZeroShotClassifier; got {type(loaded).__name__}."
        )
    check_is_fitted(loaded, "coef_")
    if backend is not None:
        if not isinstance(loaded.embedder_, SentenceTransformerEmbedder):
            raise ValueError(f"backend={backend!r} needs a sentence-transformers embedder.")
        embedder = copy.copy(loaded.embedder_)
        embedder.backend = backend
        embedder._check_options()
        loaded.embedder_ = embedder
    return loaded


class _Answer(NamedTuple):
    """One text's prediction as the routes need it."""

    label: str | None  # the top (accepted) label; None: a multi-label text with no label
    confidence: float
    probabilities: np.ndarray  # one per class
    accepted: np.ndarray | None  # multi-label models: which classes apply


def _predictor(clf: ZeroShotClassifier | MultiLabelZeroShotClassifier):
    """The batch function: texts -> one :class:`_Answer` per text."""
    from .embedding import no_embedding_cache

    def predict(texts: list[str]) -> list[_Answer]:
        with no_embedding_cache():  # messages are seen once: keep memory flat
            proba = clf.predict_proba(texts)
        if isinstance(clf, MultiLabelZeroShotClassifier):
            accepted = clf.decide(proba).astype(bool)
            answers = []
            for row, mask in zip(proba, accepted):
                best = int(np.argmax(np.where(mask, row, -1.0)))
                label = str(clf.classes_[best]) if mask.any() else None
                answers.append(_Answer(label, float(row[best] if mask.any() else row.max()), row, mask))
            return answers
        labels, confidence = clf._decide(proba)
        return [_Answer(str(label), float(score), row, None) for label, score, row in zip(labels, confidence, proba)]

    return predict


def create_app(model: str | os.PathLike | ZeroShotClassifier, settings: ServerSettings | None = None) -> FastAPI:
    """The ASGI application serving ``model`` (a fitted classifier or its ``.skops`` / joblib file).

    Parameters
    ----------
    model : str, Path or ZeroShotClassifier
    settings : ServerSettings, optional

    Returns
    -------
    fastapi.FastAPI
    """
    from . import __version__

    settings = settings or ServerSettings()
    clf = prepare_model(model, settings.backend)
    classes = [str(name) for name in clf.classes_]
    quality = getattr(clf, "judge_quality_", None)  # models saved before it existed have none
    judge_quality = None if quality is None else quality.summary()
    batcher = MicroBatcher(_predictor(clf), max_batch_texts=settings.max_batch_texts, max_wait_ms=settings.max_wait_ms)
    token = os.environ.get(settings.token_env) or None

    @asynccontextmanager
    async def lifespan(app):
        await batcher.start()
        await batcher.submit(["warm up"])  # load the encoder before the port opens
        logger.info("Serving %d labels (zsclassify %s)", len(classes), __version__)
        yield
        await batcher.stop()

    app = FastAPI(
        title="zsclassify",
        version=__version__,
        description="Zero-shot intent detection: label, confidence and ranking per text.",
        lifespan=lifespan,
    )

    app.add_middleware(_BodyLimit, max_bytes=settings.max_body_bytes)

    @app.exception_handler(_BodyTooLargeError)
    async def too_large(request, error):
        return _problem(413, f"body over {settings.max_body_bytes} bytes")

    @app.exception_handler(_RefusedError)
    async def refused(request, error):
        return error.response

    def authorize(request: Request) -> None:
        if token is None:
            return
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            raise _RefusedError(401, "missing or wrong bearer token", {"WWW-Authenticate": "Bearer"})

    def check_texts(texts: list[str], where: str) -> None:
        if not texts:
            raise _RefusedError(422, f"{where}: give at least one text")
        if len(texts) > settings.max_texts:
            raise _RefusedError(413, f"{where}: {len(texts)} texts, more than the limit of {settings.max_texts}")
        for index, text in enumerate(texts):
            name = where if where == "text" else f"{where}[{index}]"
            if len(text) > settings.max_text_chars:
                limit = settings.max_text_chars
                raise _RefusedError(413, f"{name}: {len(text)} characters, more than the limit of {limit}")
            if not text.strip():
                raise _RefusedError(422, f"{name}: blank text")
            try:
                check_encodable(text, name)
            except ValueError as error:
                raise _RefusedError(422, str(error)) from None

    async def run(texts: list[str]) -> list[_Answer]:
        try:
            return await batcher.submit(texts)
        except ShuttingDownError as error:
            raise _RefusedError(503, str(error)) from None
        except Exception as error:  # logged by the batcher; the client gets one JSON line, never a traceback
            raise _RefusedError(500, f"prediction failed: {type(error).__name__}") from None

    def ranking(answer: _Answer, n: int) -> list[tuple[str, float, bool | None]]:
        order = np.argsort(-answer.probabilities, kind="stable")[: min(n, len(classes))]
        flags = [None] * len(classes) if answer.accepted is None else answer.accepted.tolist()
        return [(classes[i], float(answer.probabilities[i]), flags[i]) for i in order]

    def accepted_labels(answer: _Answer) -> list[str] | None:
        if answer.accepted is None:
            return None
        return [name for name, _, applies in ranking(answer, len(classes)) if applies]

    secured = [Depends(authorize)]

    @app.post(
        "/predict",
        response_model=PredictResponse,
        dependencies=secured,
        summary="Classify one or many texts",
        openapi_extra=_json_body(PredictRequest),
    )
    async def predict(request: Request) -> PredictResponse:
        body = await _read(request, PredictRequest)
        texts = [body.text] if body.text is not None else list(body.texts or [])  # the model sets one of them
        check_texts(texts, "text" if body.text is not None else "texts")
        n = settings.top_n if body.top_n is None else body.top_n
        results = await run(texts)
        return PredictResponse(
            predictions=[
                Prediction(
                    text=text,
                    label=answer.label,
                    confidence=answer.confidence,
                    labels=accepted_labels(answer),
                    ranking=[
                        RankedLabel(label=name, confidence=p, accepted=flag) for name, p, flag in ranking(answer, n)
                    ],
                )
                for text, answer in zip(texts, results)
            ]
        )

    @app.post(
        "/model/parse",
        response_model=ParseResponse,
        dependencies=secured,
        summary="Rasa-compatible NLU parse",
        openapi_extra=_json_body(ParseRequest),
    )
    async def parse(request: Request) -> ParseResponse:
        body = await _read(request, ParseRequest)
        check_texts([body.text], "text")
        (answer,) = await run([body.text])
        label, confidence = answer.label, answer.confidence
        if answer.accepted is not None:  # multi-label: every intent, each marked
            ranked: list[Intent] = [
                AcceptedIntent(name=name, confidence=p, accepted=bool(flag)) for name, p, flag in ranking(answer, 10**6)
            ]
            top = Intent(name=label, confidence=confidence if label is not None else 0.0)
            return ParseResponse(
                text=body.text, intent=top, entities=[], intent_ranking=ranked, message_id=body.message_id
            )
        ranked = [Intent(name=name, confidence=p) for name, p, _ in ranking(answer, 10)]
        threshold = clf.oos_threshold_
        if clf.oos_label is not None and label == clf.oos_label and threshold is not None:
            # as Rasa's FallbackClassifier: the fallback intent, at the threshold's confidence, leads the ranking
            top = Intent(name=label, confidence=float(threshold))
            ranked = [top, *ranked]
        else:
            top = Intent(name=label, confidence=confidence)
        return ParseResponse(text=body.text, intent=top, entities=[], intent_ranking=ranked, message_id=body.message_id)

    @app.get("/health", summary="Liveness and batching counters")
    async def health() -> dict:
        return {"status": "ok", "version": __version__, "labels": len(classes), "batching": asdict(batcher.stats)}

    @app.get("/labels", response_model=LabelsResponse, dependencies=secured, summary="Labels the model knows")
    async def labels() -> LabelsResponse:
        multi_label = isinstance(clf, MultiLabelZeroShotClassifier)
        thresholds: list[float | None] = [None] * len(classes)
        if multi_label and clf.thresholds_ is not None:
            thresholds = [float(t) for t in clf.thresholds_]
        infos = [
            LabelInfo(name=n, description=d, threshold=t) for n, d, t in zip(classes, clf.descriptions_, thresholds)
        ]
        return LabelsResponse(
            labels=infos,
            oos_label=None if multi_label else clf.oos_label,
            oos_threshold=None if multi_label else clf.oos_threshold_,
            judge_quality=judge_quality,
        )

    return app


def serve(
    model: str | os.PathLike | ZeroShotClassifier,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    settings: ServerSettings | None = None,
    threads: int | None = None,
    shutdown_timeout: float = 30.0,
    access_log: bool = False,
    log_level: str = "info",
) -> None:
    """Serve ``model`` over HTTP until SIGINT / SIGTERM (blocking).

    Parameters
    ----------
    model : str, Path or ZeroShotClassifier
        A fitted classifier, or the file :func:`zsclassify.save_model` (or ``joblib.dump``) wrote it to.
    host, port : str, int
        Where to listen (``127.0.0.1``: this machine only; ``0.0.0.0`` for every interface).
    settings : ServerSettings, optional
        Limits, batching, authentication, backend.
    threads : int, optional
        Threads the encoder may use (``torch.set_num_threads``); ``None`` leaves the default.
    shutdown_timeout : float
        Seconds in-flight requests get to finish after a shutdown signal.
    access_log : bool
        Log one line per request.
    log_level : str
        uvicorn's log level.
    """
    try:
        import uvicorn
    except ImportError:
        raise ImportError("The server needs FastAPI and uvicorn: pip install 'zsclassify[serve]'.") from None
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    app = create_app(model, settings)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=access_log,
        timeout_graceful_shutdown=math.ceil(shutdown_timeout),  # uvicorn counts whole seconds
    )
    uvicorn.Server(config).run()
