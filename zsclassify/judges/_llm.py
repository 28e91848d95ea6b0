"""What every LLM judge shares: cache, batching, concurrency, usage, budget cap, failures.

A backend subclasses :class:`LLMJudge` and implements two methods: ``_score_batch``
(one request to the service for some utterances of one label) and
``_estimate_tokens`` (an upper estimate of a request's tokens, for the budget cap);
for contrastive judging also ``_choose_batch`` and ``_estimate_choice_tokens``.
Retries of rate limits, overload, 5xx, timeouts and connection resets are the
official SDKs' own (they honour ``retry-after``); this module handles what is left.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import math
import threading
import time
import warnings
from abc import abstractmethod
from collections.abc import Callable, Generator, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

import numpy as np

from .._usage import JudgeUsage
from .._validation import check_labels, words_of_label_name
from ..exceptions import BudgetExceededError, InvalidJudgeResponseError, JudgeError, JudgeSetupError
from ._base import ChoiceRequest, Judge, JudgeRequest
from ._cache import (
    CacheNamespace,
    JudgmentCache,
    choose_with_cache,
    default_cache_path,
    judge_with_cache,
    settings_text,
)
from ._prompts import CHOICE_PROMPT_VERSION, PROMPT_VERSION

__all__ = ["JudgeUsage", "LLMJudge", "Prices", "check_api_reply", "run_concurrently", "scores_from_judgments"]

logger = logging.getLogger(__name__)

ON_FAILURE = ("warn", "raise")
SETUP_STATUSES = {
    400: "the server rejected the request as invalid: check the model name and the judge's options",
    401: "the API key was refused: check {key}",
    403: "the API key may not use this model: check {key} and the model name",
    404: "the model or endpoint does not exist: check the model name and base_url",
    413: "the request is too large: lower batch_size",
}
"""HTTP statuses that asking again cannot cure: the fit stops at the first one (:class:`JudgeSetupError`)."""

_POLL_SECONDS = 0.25
_CHARS_PER_TOKEN = 3  # for token estimates; conservative: real English text averages about 4
_STOP_AT: ContextVar[float | None] = ContextVar("zsclassify_judge_stop_at", default=None)
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class ChoiceBatch:
    """Choices sent in one request, with the ``catalogue`` of every (name, description)
    among the options of the whole :meth:`LLMJudge.choose` call (sorted), which a
    backend may show once, in a cacheable prefix."""

    catalogue: tuple[tuple[str, str], ...]
    requests: tuple[ChoiceRequest, ...]


@dataclass(frozen=True)
class Prices:
    """US dollars per million tokens."""

    input: float
    output: float
    cache_write: float = 0.0
    cache_read: float = 0.0

    def cost(self, usage: JudgeUsage) -> float:
        """The cost of ``usage`` at these prices."""
        return (
            usage.input_tokens * self.input
            + usage.output_tokens * self.output
            + usage.cache_write_tokens * self.cache_write
            + usage.cache_read_tokens * self.cache_read
        ) / 1e6


def scores_from_judgments(payload: object, n_texts: int) -> list[float]:
    """Scores from a ``{"judgments": [{"id": int, "relevant": bool}, ...]}`` reply; NaN for ids it lacks.

    Entries with a non-boolean value are skipped (those utterances are asked again). A reply
    that names an id twice, or an id outside 1..n_texts (e.g. ids counted from 0, which
    would shift every answer onto the neighbouring utterance), cannot be trusted at all:
    every score is NaN, so the whole batch is asked again.
    """
    scores = [math.nan] * n_texts
    entries = payload.get("judgments") if isinstance(payload, dict) else None
    entries = [entry for entry in entries if isinstance(entry, dict)] if isinstance(entries, list) else []
    identifiers = [entry.get("id") for entry in entries]
    numbers = [i for i in identifiers if isinstance(i, int) and not isinstance(i, bool)]
    if len(set(numbers)) != len(numbers) or any(not 1 <= i <= n_texts for i in numbers):
        logger.warning(
            "rejected a reply with repeated or out-of-range ids %s for %d utterances; asking again",
            identifiers[:20],
            n_texts,
        )
        return scores
    for entry in entries:
        identifier, relevant = entry.get("id"), entry.get("relevant")
        if isinstance(identifier, int) and not isinstance(identifier, bool) and isinstance(relevant, bool):
            scores[identifier - 1] = 1.0 if relevant else 0.0
    return scores


def check_api_reply(reply: R, expected: type, server: str | None) -> R:
    """``reply`` if the SDK parsed an API object of type ``expected``, else :class:`JudgeSetupError`.

    An SDK hands back the raw text of a 200 reply that is not JSON (a login page, a proxy's
    HTML, a web server at the wrong path); the error says what arrived instead.
    """
    if isinstance(reply, expected):
        return reply
    text = reply if isinstance(reply, str) else repr(reply)
    shown = " ".join(text.split())[:120]
    raise JudgeSetupError(
        f"The server at {server or 'the default URL'} answered with something that is not an API reply "
        f"(starting {shown!r}); check base_url: it should be the API root (e.g. http://host:8000/v1 for an "
        "OpenAI-compatible server)."
    )


class DeadlineExceededError(JudgeError):
    """Raised by :func:`run_concurrently` past its ``stop_at``; the judge says which deadline."""


def run_concurrently(
    work: Callable[[T], R], items: Sequence[T], max_workers: int, stop_at: float | None = None
) -> Iterator[tuple[int, R | BaseException]]:
    """Run ``work`` on ``items`` in at most ``max_workers`` threads; yield ``(index, result or error)`` as each ends.

    An item is started only when one before it has been yielded and the consumer asked for
    the next: when the consumer stops (an error, a fatal answer), nothing more is sent.
    On Ctrl-C the items in flight are waited for and yielded (their answers are paid for),
    then ``KeyboardInterrupt`` goes on; a second Ctrl-C abandons them. Past ``stop_at``
    (``time.monotonic()``) a :class:`JudgeError` is raised and the items in flight are
    abandoned; they run in daemon threads, so they never keep the process alive.
    """
    finished: dict[int, R | BaseException] = {}  # kept until yielded: an interrupt can never drop an answer
    arrival = threading.Condition()
    yielded: set[int] = set()

    def run(index: int) -> None:
        try:
            outcome: R | BaseException = work(items[index])
        except BaseException as error:  # handed to the consumer, which decides
            outcome = error
        with arrival:
            finished[index] = outcome
            arrival.notify()

    threads: list[threading.Thread] = []  # one per item started, in order

    def start() -> None:
        thread = threading.Thread(target=run, args=(len(threads),), daemon=True, name="zsclassify-judge")
        threads.append(thread)
        thread.start()

    def next_ready() -> int:
        while True:
            with arrival:
                ready = [index for index in finished if index not in yielded]
                if ready:
                    return ready[0]
                timeout = _POLL_SECONDS if stop_at is None else min(_POLL_SECONDS, stop_at - time.monotonic())
                if timeout <= 0:
                    in_flight = len(threads) - len(finished)
                    raise DeadlineExceededError(
                        f"{in_flight} requests in flight were abandoned and {len(items) - len(threads)} not sent"
                    )
                arrival.wait(timeout)  # a short wait, so Ctrl-C and the deadline are seen

    try:
        while len(threads) < min(max_workers, len(items)):  # in the try: Ctrl-C may come while starting them
            start()
        while len(yielded) < len(threads):
            index = next_ready()
            yield index, finished[index]
            yielded.add(index)  # after the yield: an interrupt here repeats an answer, never loses one
            if len(threads) < len(items):
                start()
    except KeyboardInterrupt:
        # every thread that runs (even one whose start the interrupt cut short) is waited for
        running = [index for index, thread in enumerate(threads) if thread.ident is not None]
        logger.warning("interrupted: sending nothing more; waiting for the answers in flight")
        while any(index not in yielded for index in running):
            index = next_ready()
            yield index, finished[index]
            yielded.add(index)
        raise


class LLMJudge(Judge):
    """Base class of judges that call a language-model service.

    Parameters
    ----------
    model : str
        The service's model name.
    batch_size : int
        Utterances of one label per request.
    max_concurrency : int
        Requests in flight at once.
    max_retries : int
        Retries of transient faults (rate limits, overload, 5xx, timeouts, resets) by the SDK.
    timeout : float
        Seconds per request.
    cache : "auto", str, Path, JudgmentCache or None
        Where judgments persist. ``"auto"`` is :func:`default_cache_path`; ``None`` keeps none.
    on_failure : {"warn", "raise"}
        After retries, pairs still unjudged are NaN and the fit goes on without them
        with a warning (``"warn"``), or the fit stops with :class:`JudgeError` (``"raise"``).
        Either way, judgments already paid for are in the cache. Whatever it says, an answer
        that asking again cannot cure (401 / 403 / 400 / 404 / 413, a missing package, a
        reply that is not the API's) stops at once with :class:`~zsclassify.JudgeSetupError`,
        and the classifier's fit stops when more than half of its pairs failed.
    deadline : float, optional
        Seconds one call of :meth:`judge` (one round of a fit) may take, waits for retries
        and for another process's answers included; past it the requests in flight are
        abandoned and :class:`JudgeError` is raised (answers that arrived are cached).
        ``None``: no limit. With ``use_batches=True`` raise it to what a Message Batch may take.
    max_cost_usd, max_total_tokens : float, int, optional
        Caps over this judge's lifetime; a request that could pass one is not sent.
    prices : Prices, optional
        Overrides the built-in price of ``model``.
    instruction : str, optional
        The task instruction in the prompt (default: find utterances expressing the intent).
    """

    backend: str = "llm"

    def __init__(
        self,
        model: str,
        *,
        batch_size: int,
        max_concurrency: int = 4,
        max_retries: int = 4,
        timeout: float = 60.0,
        cache: str | Path | JudgmentCache | None = "auto",
        on_failure: str = "warn",
        deadline: float | None = 1800.0,
        max_cost_usd: float | None = None,
        max_total_tokens: int | None = None,
        prices: Prices | None = None,
        instruction: str | None = None,
    ) -> None:
        self.model = model
        self.batch_size = batch_size
        self.max_concurrency = max_concurrency
        self.max_retries = max_retries
        self.timeout = timeout
        self.cache = cache
        self.on_failure = on_failure
        self.deadline = deadline
        self.max_cost_usd = max_cost_usd
        self.max_total_tokens = max_total_tokens
        self.prices = prices
        self.instruction = instruction
        self.usage = JudgeUsage()
        self._lock = threading.Lock()
        self._client = None
        self._cache_store: JudgmentCache | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.model!r})"

    # Clients and locks never travel: not in a pickle, not in a clone.
    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        for name in ("_lock", "_client", "_cache_store"):
            state.pop(name, None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
        self._client = None
        self._cache_store = None

    def __deepcopy__(self, memo: dict) -> LLMJudge:
        clone = object.__new__(type(self))
        clone.__dict__.update(copy.deepcopy(self.__getstate__(), memo))
        clone._lock = threading.Lock()
        clone._client, clone._cache_store = self._client, self._cache_store  # shared by clones
        return clone

    # ------------------------------------------------------------ backend API
    @abstractmethod
    def _create_client(self):
        """Build the SDK client (called once, lazily)."""

    @abstractmethod
    def _score_batch(self, label: str, description: str, texts: list[str]) -> tuple[list[float], JudgeUsage]:
        """One request: a score per text (NaN where the reply had none) and its usage."""

    @abstractmethod
    def _estimate_tokens(self, label: str, description: str, texts: list[str]) -> tuple[int, int]:
        """Upper estimate of (input, output) tokens of one request, for the caps."""

    def _choose_batch(self, batch: ChoiceBatch) -> tuple[list[list[float]], JudgeUsage]:
        """One request for a batch of choices: per choice, a probability per option then "none"
        (NaN where the reply had none), and its usage. Backends that support contrastive
        judging override this and :meth:`_estimate_choice_tokens`."""
        raise NotImplementedError

    def _estimate_choice_tokens(self, batch: ChoiceBatch) -> tuple[int, int]:
        """Upper estimate of (input, output) tokens of one choice request, for the caps."""
        raise NotImplementedError

    def _choice_batch_size(self) -> int:
        """Choices per request (default: ``batch_size``)."""
        return self.batch_size

    def _describe(self, names: list[str]) -> tuple[object, JudgeUsage]:
        """One request for a description of each of ``names`` (:meth:`describe_labels`): the
        reply's JSON object (None if it had none) and its usage. Backends override this."""
        raise NotImplementedError(f"{type(self).__name__} cannot describe labels.")

    @staticmethod
    def _description_tokens(names: list[str]) -> tuple[int, int]:
        """Upper estimate of (input, output) tokens of a :meth:`_describe` request."""
        listing = sum(len(name) + 3 for name in names)
        return (400 + listing) // _CHARS_PER_TOKEN + 100, 60 * len(names) + 100

    def _default_prices(self) -> Prices | None:
        return None

    def _answer_settings(self) -> dict:
        """Options besides model and prompt that could change an answer (the server, scoring); in the cache key."""
        return {}

    def _key_variable(self) -> str:
        """The environment variable the API key is read from (named in errors, never read here)."""
        return "the API key"

    def _server(self) -> str | None:
        """The server's URL, for error messages."""
        return getattr(self, "base_url", None)

    # ------------------------------------------------------------ machinery
    @property
    def client(self):
        """The SDK client, created on first use."""
        with self._lock:
            if self._client is None:
                self._client = self._create_client()
            return self._client

    def _store(self) -> JudgmentCache | None:
        if self.cache is None:
            return None
        if isinstance(self.cache, JudgmentCache):
            return self.cache
        if self._cache_store is None:
            self._cache_store = JudgmentCache(default_cache_path() if self.cache == "auto" else self.cache)
        return self._cache_store

    def _price(self) -> Prices | None:
        return self.prices if self.prices is not None else self._default_prices()

    def _prompt_version(self, version: str = PROMPT_VERSION) -> str:
        """What of the prompt changes an answer; part of the cache key."""
        return version if self.instruction is None else f"{version}:{self.instruction}"

    def _cache_namespace(self, version: str) -> CacheNamespace:
        """This judge's part of every cache key: backend, model, ``version`` (see :meth:`_prompt_version`), settings."""
        return CacheNamespace(self.backend, self.model, version, settings_text(self._answer_settings()))

    def _setup_error(self, error: BaseException) -> JudgeSetupError | None:
        """The :class:`JudgeSetupError` that ``error`` amounts to, or None for a fault worth going on after."""
        if isinstance(error, JudgeSetupError):
            return error
        if isinstance(error, ImportError):
            return JudgeSetupError(str(error))
        status = getattr(error, "status_code", None)
        if status not in SETUP_STATUSES:
            return None
        body = getattr(error, "body", None)
        detail = body.get("error", body) if isinstance(body, dict) else body
        message = detail.get("message") if isinstance(detail, dict) else detail
        return JudgeSetupError(
            f"{type(self).__name__}(model={self.model!r}) cannot work as configured: the server at "
            f"{self._server() or 'the default URL'} answered {status} ({str(message)[:200]}); "
            f"{SETUP_STATUSES[status].format(key=self._key_variable())}. Nothing more was sent.",
            status_code=status,
        )

    def _stop_at(self) -> float | None:
        """This round's deadline as ``time.monotonic()``, set by :meth:`judge`."""
        return _STOP_AT.get()

    def _check_config(self) -> None:
        if self.on_failure not in ON_FAILURE:
            raise ValueError(f"on_failure must be one of {ON_FAILURE}; got {self.on_failure!r}.")
        for name in ("batch_size", "max_concurrency"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer; got {value!r}.")
        if self.max_cost_usd is not None and self._price() is None:
            raise ValueError(
                f"max_cost_usd needs the price of {self.model!r}, which zsclassify does not know; "
                "pass prices=Prices(input=..., output=...) in USD per million tokens."
            )

    def _would_exceed(self, planned: JudgeUsage) -> str | None:
        after = self.usage + planned
        if self.max_total_tokens is not None and after.total_tokens > self.max_total_tokens:
            return f"{after.total_tokens} tokens > max_total_tokens={self.max_total_tokens}"
        price = self._price()
        if self.max_cost_usd is not None and price is not None and price.cost(after) > self.max_cost_usd:
            return f"${price.cost(after):.4f} > max_cost_usd={self.max_cost_usd}"
        return None

    def _account(self, spent: JudgeUsage, price_factor: float = 1.0) -> None:
        price = self._price()
        spent.cost_usd = None if price is None else price.cost(spent) * price_factor
        with self._lock:
            self.usage = self.usage + spent

    def _score_with_one_retry(self, request: JudgeRequest) -> list[float]:
        """Score a batch; pairs missing from a malformed or truncated reply are asked again once."""
        scores, spent = self._score_batch(request.label, request.description, list(request.texts))
        self._account(spent)
        missing = [i for i, score in enumerate(scores) if math.isnan(score)]
        if missing:
            logger.info(
                "%d of %d utterances missing from the reply for %r; asking again",
                len(missing),
                len(scores),
                request.label,
            )
            again, spent = self._score_batch(request.label, request.description, [request.texts[i] for i in missing])
            self._account(spent)
            for i, score in zip(missing, again):
                scores[i] = score
        return scores

    def _choose_with_one_retry(self, batch: ChoiceBatch) -> list[list[float]]:
        """Answer a batch of choices; those missing from a malformed or truncated reply are asked again once."""
        answers, spent = self._choose_batch(batch)
        self._account(spent)
        missing = [i for i, answer in enumerate(answers) if any(math.isnan(p) for p in answer)]
        if missing:
            logger.info("%d of %d choices missing from the reply; asking again", len(missing), len(answers))
            again, spent = self._choose_batch(replace(batch, requests=tuple(batch.requests[i] for i in missing)))
            self._account(spent)
            for i, answer in zip(missing, again):
                answers[i] = answer
        return answers

    def _run_tasks(self, tasks: list, work: Callable) -> Generator[tuple[int, list | BaseException], None, None]:
        """Run ``work`` on each task, yielding its index with the result (or the error that stopped it) as it finishes.

        The default sends up to ``max_concurrency`` requests at once (:func:`run_concurrently`).
        """
        yield from run_concurrently(work, tasks, self.max_concurrency, self._stop_at())

    def _affordable(self, tasks: list, estimate: Callable) -> tuple[list, str | None]:
        """The longest prefix of ``tasks`` whose estimated usage (``estimate(task)``) stays within the caps."""
        planned = JudgeUsage()
        for count, task in enumerate(tasks):
            estimate_in, estimate_out = estimate(task)
            planned = planned + JudgeUsage(input_tokens=estimate_in, output_tokens=estimate_out)
            reason = self._would_exceed(planned)
            if reason is not None:
                return tasks[:count], reason
        return tasks, None

    def judge(self, requests: Sequence[JudgeRequest]) -> list[np.ndarray]:
        """Score every pair: from the cache where possible, else by batched requests.

        Requests that could pass a cap are not sent (:class:`~zsclassify.BudgetExceededError`
        after the others finish). Each answer is cached as soon as it arrives.
        """
        self._check_config()
        namespace = self._cache_namespace(self._prompt_version())
        return self._answer(
            lambda ask: judge_with_cache(
                self._store(), namespace, requests, ask, self.batch_size, wait_until=self._stop_at()
            ),
            work=self._score_with_one_retry,
            estimate=lambda task: self._estimate_tokens(task.label, task.description, list(task.texts)),
            n_units=sum(len(request.texts) for request in requests),
            size=lambda task: len(task.texts),
            count_failed=lambda results: int(sum(np.isnan(r).sum() for r in results)),
            unit="pairs",
        )

    def describe_labels(self, names: Sequence[str]) -> dict[str, str]:
        """Draft a one-sentence description of each label from its name alone, for review.

        Bare names such as ``"SearchScreeningEvent"`` make poor queries for the embedder; a
        sentence says what they cover. One request asks the model to describe every label so
        that they are told apart (with the judge's ``instruction``, when set, as the task).
        The drafts are a starting point: read them, fix what is wrong, and pass the mapping
        as ``labels`` to :class:`~zsclassify.ZeroShotClassifier`. A small model can get a label
        wrong (benchmarks/HISTORY.md, "Prompt variants"). Answers are not cached: keep the result.

        Parameters
        ----------
        names : sequence of str
            The label names (at least two, distinct).

        Returns
        -------
        dict of str to str
            Each name, in the given order, with its description. Names missing from the
            reply are asked again once; a name still missing keeps the words of its name
            (as the classifier would use them), with a warning.

        Raises
        ------
        InvalidJudgeResponseError
            No reply described any label.
        BudgetExceededError
            The request could pass ``max_cost_usd`` or ``max_total_tokens`` (nothing is sent).
        JudgeSetupError, JudgeError
            The server refused the request, or it failed after retries.
        """
        names, _ = check_labels(list(names))
        self._check_config()
        written: dict[str, str] = {}
        for attempt in range(2):
            missing = [name for name in names if name not in written]
            if not missing:
                break
            if attempt:
                logger.info("%d of %d labels missing from the reply; asking again", len(missing), len(names))
            written.update(self._described(missing))
        if not written:
            raise InvalidJudgeResponseError(
                f"{type(self).__name__}(model={self.model!r}) described none of the {len(names)} labels "
                "(twice, the reply had no JSON object of label descriptions)."
            )
        missing = [name for name in names if name not in written]
        if missing:
            warnings.warn(
                f"{type(self).__name__} did not describe {len(missing)} labels ({', '.join(map(repr, missing[:5]))}"
                f"{', ...' if len(missing) > 5 else ''}); they keep the words of their names.",
                RuntimeWarning,
                stacklevel=2,
            )
        return {name: written.get(name) or words_of_label_name(name) for name in names}

    def _described(self, names: list[str]) -> dict[str, str]:
        """One :meth:`_describe` request within the caps; the non-empty descriptions of ``names`` it returned."""
        estimate_in, estimate_out = self._description_tokens(names)
        reason = self._would_exceed(JudgeUsage(input_tokens=estimate_in, output_tokens=estimate_out))
        if reason is not None:
            raise BudgetExceededError(
                f"{type(self).__name__} did not ask for label descriptions: the request could pass its cap ({reason}).",
                reason=reason,
                failed_pairs=0,
                usage=replace(self.usage),
            )
        try:
            payload, spent = self._describe(names)
        except Exception as error:
            setup = self._setup_error(error)
            if setup is not None:
                raise setup from error
            raise JudgeError(
                f"{type(self).__name__} could not describe the labels: {type(error).__name__}: {error}",
                usage=replace(self.usage),
            ) from error
        self._account(spent)
        if not isinstance(payload, dict):
            return {}
        return {
            name: " ".join(payload[name].split())
            for name in names
            if isinstance(payload.get(name), str) and payload[name].strip()
        }

    @property
    def supports_choice(self) -> bool:
        """Whether this backend implements multiple-choice requests."""
        return type(self)._choose_batch is not LLMJudge._choose_batch

    @property
    def supports_multiple_choice(self) -> bool:
        """Whether this backend answers multi-label questions ("which of these apply"): as it answers choices."""
        return self.supports_choice

    def choose(self, requests: Sequence[ChoiceRequest]) -> list[np.ndarray]:
        """Answer every multiple-choice question: from the cache where possible, else by batched requests.

        Caps, failures and caching work as in :meth:`judge`. Single-choice and multi-label
        (``multiple=True``) questions go in separate requests.
        """
        self._check_config()
        if not self.supports_choice:
            return super().choose(requests)
        kinds = {request.multiple for request in requests}
        if len(kinds) > 1:  # one kind per request sent: answer each kind apart, in the order asked
            answers: list[np.ndarray | None] = [None] * len(requests)
            for multiple in (False, True):
                positions = [k for k, request in enumerate(requests) if request.multiple == multiple]
                for position, answer in zip(positions, self.choose([requests[k] for k in positions])):
                    answers[position] = answer
            return [answer for answer in answers if answer is not None]  # every position was answered
        catalogue = tuple(sorted({(o.name, o.description) for request in requests for o in request.options}))
        namespace = self._cache_namespace(self._prompt_version(CHOICE_PROMPT_VERSION))

        def run(ask):
            def ask_batches(batches: list[tuple[ChoiceRequest, ...]]):
                return ask([ChoiceBatch(catalogue, batch) for batch in batches])

            return choose_with_cache(
                self._store(), namespace, requests, ask_batches, self._choice_batch_size(), wait_until=self._stop_at()
            )

        return self._answer(
            run,
            work=self._choose_with_one_retry,
            estimate=self._estimate_choice_tokens,
            n_units=len(requests),
            size=lambda task: len(task.requests),
            count_failed=lambda results: int(sum(np.isnan(r).any() for r in results)),
            unit="choices",
        )

    def _answer(self, run, *, work, estimate, n_units: int, size, count_failed, unit: str) -> list[np.ndarray]:
        """What :meth:`judge` and :meth:`choose` share: caps, concurrency, failures, usage.

        ``run(ask)`` answers from the cache and calls ``ask(tasks)`` for the rest; ``work(task)``
        sends one task; ``estimate(task)`` bounds its tokens; ``size(task)`` counts (in ``unit``).
        """
        store = self._store()
        if store is not None:
            store.check()  # an unusable cache fails now, before anything is paid for
        errors: list[BaseException] = []
        budget_stop: list[str | None] = [None]
        n_asked = [0]

        def ask(tasks: list) -> Iterator[tuple[int, list]]:
            n_asked[0] += sum(size(task) for task in tasks)
            affordable, budget_stop[0] = self._affordable(tasks, estimate)
            if affordable:
                try:
                    self.client  # noqa: B018 - a missing package or bad option fails before any request
                except Exception as error:
                    setup = self._setup_error(error)
                    if setup is None:
                        raise
                    raise setup from error
            with contextlib.closing(self._run_tasks(affordable, work)) as outcomes:
                for number, outcome in outcomes:
                    if not isinstance(outcome, BaseException):
                        yield number, outcome
                        continue
                    setup = self._setup_error(outcome)
                    if setup is not None:
                        raise setup from None
                    logger.warning("judge request failed: %s", outcome)
                    errors.append(outcome)

        stop_at = None if self.deadline is None else time.monotonic() + self.deadline
        token = _STOP_AT.set(stop_at)
        try:
            results = run(ask)
        except DeadlineExceededError as passed:
            self._abandon_client()
            raise JudgeError(
                f"{type(self).__name__} stopped: the round took longer than deadline={self.deadline:g} s ({passed}). "
                f"Answers that arrived are cached. Check the server at {self._server() or 'the default URL'}, "
                "or raise deadline=.",
                usage=replace(self.usage),
            ) from None
        finally:
            _STOP_AT.reset(token)
        with self._lock:
            self.usage.cache_hits += n_units - n_asked[0]
        failed = count_failed(results)
        with self._lock:
            self.usage.failed_pairs += failed
        if budget_stop[0] is not None:
            raise BudgetExceededError(
                f"{type(self).__name__} stopped before exceeding its cap ({budget_stop[0]}); "
                f"{failed} {unit} were not judged. Judgments made so far are cached; raise the cap to go on.",
                reason=budget_stop[0],
                failed_pairs=failed,
                usage=replace(self.usage),
            )
        if failed and self.on_failure == "raise":
            cause = f" Last error: {type(errors[-1]).__name__}: {errors[-1]}" if errors else ""
            raise JudgeError(
                f"{failed} {unit} could not be judged.{cause}", failed_pairs=failed, usage=replace(self.usage)
            )
        if errors:
            warnings.warn(
                f"{len(errors)} judge requests failed after retries ({type(errors[-1]).__name__}: {errors[-1]}).",
                RuntimeWarning,
                stacklevel=3,
            )
        return results

    def _abandon_client(self) -> None:
        """Close the client so that requests abandoned past the deadline stop reading (best effort)."""
        with self._lock:
            client, self._client = self._client, None
        close = getattr(client, "close", None)
        if close is not None:
            with contextlib.suppress(Exception):
                close()
