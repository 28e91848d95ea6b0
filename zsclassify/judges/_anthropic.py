"""Claude as the judge, through the official ``anthropic`` SDK."""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Generator, Sequence
from dataclasses import replace

import numpy as np

from ..exceptions import JudgeError
from ._base import ChoiceRequest, JudgeRequest
from ._llm import (
    _CHARS_PER_TOKEN,
    ChoiceBatch,
    DeadlineExceededError,
    JudgeUsage,
    LLMJudge,
    Prices,
    check_api_reply,
    scores_from_judgments,
)
from ._prompts import (
    CHOICE_TOOL,
    DESCRIPTIONS_TOOL_NAME,
    JUDGMENT_TOOL,
    NONE_ANSWER,
    SELECTION_TOOL,
    TASK_INSTRUCTION,
    choice_system_prompt,
    choice_user_prompt,
    description_prompt,
    description_schema,
    listwise_system_prompt,
    listwise_user_prompt,
    selection_system_prompt,
    selection_user_prompt,
)
from ._simple import read_selection, warn_single_answers

__all__ = ["DEFAULT_ANTHROPIC_MODEL", "AnthropicJudge"]

logger = logging.getLogger(__name__)

BATCH_PRICE_FACTOR = 0.5
"""Message Batches are billed at half the standard price."""

DEFAULT_ANTHROPIC_MODEL = "claude-haiku-5-5"
"""The newest Haiku (small, fast) model in the installed SDK's model list."""

# USD per million tokens (input, output, cache write, cache read): the published list prices we know.
# A model missing here has no cost estimate; pass prices=Prices(...) to enable cost tracking and caps.
KNOWN_PRICES = {
    "claude-haiku-4-5": Prices(1.0, 5.0, 1.25, 0.10),
    "claude-sonnet-4-5": Prices(3.0, 15.0, 3.75, 0.30),
    "claude-sonnet-4-6": Prices(3.0, 15.0, 3.75, 0.30),
    "claude-opus-4-5": Prices(5.0, 25.0, 6.25, 0.50),
    "claude-opus-4-6": Prices(5.0, 25.0, 6.25, 0.50),
}


class AnthropicJudge(LLMJudge):
    """Judges utterances with Claude, many utterances per request.

    Yes/no questions (:meth:`judge`) send utterances of one label per request; the
    reply is forced into the ``record_judgments`` tool, whose input maps every
    utterance id to true/false. Multiple-choice questions (:meth:`choose`) send every
    label description of the round in the system prompt and many utterances, each with
    its candidate names, per request; the reply is forced into the ``record_choices``
    tool, mapping every utterance id to one candidate or ``"none"``. System prompts
    are a cached prefix (prompt caching). The API key is read by the SDK from
    ``ANTHROPIC_API_KEY``; it is never a parameter, so it never reaches a pickle, a
    cache file, a log line or an error message.

    The installed SDK (2.x) sends API version 2026-10-21, which rejects sampling
    parameters; there is no temperature to set, and forced tool use keeps replies structured.

    Parameters
    ----------
    model : str
        Claude model; default :data:`DEFAULT_ANTHROPIC_MODEL`.
    batch_size : int
        Utterances per request, for both questions. 10 by default.
    base_url : str, optional
        API endpoint (default: the SDK's, or ``ANTHROPIC_BASE_URL``).
    use_batches : bool
        Send each round as one Message Batch (asynchronous, half price) and wait
        for it, polling every ``poll_interval`` seconds; for fits that can wait.
    **options
        ``max_concurrency``, ``max_retries``, ``timeout``, ``cache``, ``on_failure``, ``deadline``,
        ``max_cost_usd``, ``max_total_tokens``, ``prices``, ``instruction``: see :class:`LLMJudge`.
    """

    backend = "anthropic-messages"

    def __init__(
        self,
        model: str = DEFAULT_ANTHROPIC_MODEL,
        *,
        batch_size: int = 10,
        base_url: str | None = None,
        use_batches: bool = False,
        poll_interval: float = 30.0,
        **options,
    ) -> None:
        super().__init__(model, batch_size=batch_size, **options)
        self.base_url = base_url
        self.use_batches = use_batches
        self.poll_interval = poll_interval

    def _create_client(self):
        import anthropic

        return anthropic.Anthropic(base_url=self.base_url, max_retries=self.max_retries, timeout=self.timeout)

    def _default_prices(self) -> Prices | None:
        return KNOWN_PRICES.get(self.model)

    def _server(self) -> str:
        return (self.base_url or os.environ.get("ANTHROPIC_BASE_URL") or "https://api.anthropic.com").rstrip("/")

    def _answer_settings(self) -> dict:
        return {"base_url": self._server()}

    def _key_variable(self) -> str:
        return "ANTHROPIC_API_KEY"

    def _create_message(self, params: dict):
        """One Messages API call, checked to be an API reply."""
        from anthropic.types import Message

        return check_api_reply(self.client.messages.create(**params), Message, self._server())

    def _system(self) -> list[dict]:
        text = listwise_system_prompt(self.instruction or TASK_INSTRUCTION)
        return [{"type": "text", "text": text, "cache_control": {"type": "ephemeral"}}]

    def _estimate_tokens(self, label: str, description: str, texts: list[str]) -> tuple[int, int]:
        characters = len(self._system()[0]["text"]) + len(listwise_user_prompt(label, description, texts))
        return characters // _CHARS_PER_TOKEN + 400, self._max_output_tokens(len(texts))

    @staticmethod
    def _max_output_tokens(n_texts: int) -> int:
        return 64 + 16 * n_texts

    def _params(self, label: str, description: str, texts: list[str]) -> dict:
        return {
            "model": self.model,
            "max_tokens": self._max_output_tokens(len(texts)),
            "system": self._system(),
            "tools": [JUDGMENT_TOOL],
            "tool_choice": {"type": "tool", "name": JUDGMENT_TOOL["name"]},
            "messages": [{"role": "user", "content": listwise_user_prompt(label, description, texts)}],
        }

    def _score_batch(self, label: str, description: str, texts: list[str]) -> tuple[list[float], JudgeUsage]:
        message = self._create_message(self._params(label, description, texts))
        return parse_judgments(message.content, len(texts)), _usage(message)

    # -------------------------------------------------- multiple choice
    def _choice_params(self, batch: ChoiceBatch) -> dict:
        """A batch of single-choice questions, or of multi-label ones ("which apply", a tool reply with lists)."""
        items = [(request.text, [option.name for option in request.options]) for request in batch.requests]
        multiple = batch.requests[0].multiple
        system = (selection_system_prompt if multiple else choice_system_prompt)(
            batch.catalogue, self.instruction or TASK_INSTRUCTION
        )
        tool = SELECTION_TOOL if multiple else CHOICE_TOOL
        return {
            "model": self.model,
            "max_tokens": self._max_output_tokens(len(items) * (3 if multiple else 1)),
            "system": [{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}],
            "tools": [tool],
            "tool_choice": {"type": "tool", "name": tool["name"]},
            "messages": [
                {"role": "user", "content": (selection_user_prompt if multiple else choice_user_prompt)(items)}
            ],
        }

    def _estimate_choice_tokens(self, batch: ChoiceBatch) -> tuple[int, int]:
        params = self._choice_params(batch)
        characters = len(params["system"][0]["text"]) + len(params["messages"][0]["content"])
        return characters // _CHARS_PER_TOKEN + 400, params["max_tokens"]

    def _choose_batch(self, batch: ChoiceBatch) -> tuple[list[list[float]], JudgeUsage]:
        message = self._create_message(self._choice_params(batch))
        return parse_choice_reply(message.content, batch.requests), _usage(message)

    def _describe(self, names: list[str]) -> tuple[object, JudgeUsage]:
        tool = {
            "name": DESCRIPTIONS_TOOL_NAME,
            "description": "Record a one-sentence description of every label.",
            "input_schema": description_schema(names),
        }
        message = self._create_message(
            {
                "model": self.model,
                "max_tokens": self._description_tokens(names)[1],
                "tools": [tool],
                "tool_choice": {"type": "tool", "name": DESCRIPTIONS_TOOL_NAME},
                "messages": [
                    {"role": "user", "content": description_prompt(names, self.instruction, json_reply=False)}
                ],
            }
        )
        inputs = [block.input for block in message.content if getattr(block, "type", None) == "tool_use"]
        return (inputs[0] if inputs else None), _usage(message)

    # -------------------------------------------------- Message Batches mode
    def _task_params(self, task: JudgeRequest | ChoiceBatch) -> dict:
        if isinstance(task, ChoiceBatch):
            return self._choice_params(task)
        return self._params(task.label, task.description, list(task.texts))

    @staticmethod
    def _parse(task: JudgeRequest | ChoiceBatch, content: list) -> list:
        if isinstance(task, ChoiceBatch):
            return parse_choice_reply(content, task.requests)
        return parse_judgments(content, len(task.texts))

    @staticmethod
    def _part(task: JudgeRequest | ChoiceBatch, positions: list[int]) -> JudgeRequest | ChoiceBatch:
        """The task restricted to the utterances at ``positions``."""
        if isinstance(task, ChoiceBatch):
            return replace(task, requests=tuple(task.requests[k] for k in positions))
        return replace(task, texts=tuple(task.texts[k] for k in positions))

    def _run_tasks(self, tasks: list, work) -> Generator[tuple[int, list | BaseException], None, None]:
        if not self.use_batches:
            yield from super()._run_tasks(tasks, work)
            return
        outcomes = self._submit_batch(tasks)
        retry = {}  # utterances missing from a reply are asked again once, in a second batch
        for position, (task, outcome) in enumerate(zip(tasks, outcomes)):
            if isinstance(outcome, list):
                missing = [k for k, answer in enumerate(outcome) if np.isnan(answer).any()]
                if missing:
                    retry[position] = (missing, self._part(task, missing))
        if retry:
            again = self._submit_batch([subtask for _, subtask in retry.values()])
            for (position, (missing, _)), outcome in zip(retry.items(), again):
                if isinstance(outcome, list):
                    earlier = outcomes[position]
                    assert isinstance(earlier, list)  # only answered tasks are asked again
                    for k, answer in zip(missing, outcome):
                        earlier[k] = answer
        yield from enumerate(outcomes)

    def _submit_batch(self, tasks: list) -> list[list | BaseException]:
        """One Message Batch for ``tasks``; waits for it to end. Batch prices are half the standard ones."""
        batches = self.client.messages.batches
        batch = batches.create(
            requests=[{"custom_id": f"task-{n}", "params": self._task_params(t)} for n, t in enumerate(tasks)]
        )
        logger.info("Message Batch %s submitted with %d requests", batch.id, len(tasks))
        stop_at = self._stop_at()
        while batch.processing_status != "ended":
            if stop_at is not None and time.monotonic() + self.poll_interval > stop_at:
                batches.cancel(batch.id)  # requests not yet processed are not billed
                raise DeadlineExceededError(f"Message Batch {batch.id} was still processing; it was cancelled")
            time.sleep(self.poll_interval)
            batch = batches.retrieve(batch.id)
        outcomes: list[list[float] | BaseException] = [
            JudgeError(f"Message Batch {batch.id} returned no result for this request") for _ in tasks
        ]
        for item in batches.results(batch.id):
            n = int(item.custom_id.removeprefix("task-"))
            if item.result.type == "succeeded":
                message = item.result.message
                self._account(_usage(message), price_factor=BATCH_PRICE_FACTOR)
                outcomes[n] = self._parse(tasks[n], message.content)
            else:
                detail = getattr(getattr(item.result, "error", None), "error", None)
                outcomes[n] = JudgeError(f"Message Batch request {item.result.type}: {detail}")
        return outcomes


def _usage(message) -> JudgeUsage:
    usage = message.usage
    return JudgeUsage(
        requests=1,
        input_tokens=usage.input_tokens or 0,
        output_tokens=usage.output_tokens or 0,
        cache_read_tokens=usage.cache_read_input_tokens or 0,
        cache_write_tokens=usage.cache_creation_input_tokens or 0,
    )


def parse_judgments(content: list, n_texts: int) -> list[float]:
    """Scores from the ``record_judgments`` tool call of a reply; NaN for every id it lacks."""
    for block in content:
        if getattr(block, "type", None) == "tool_use" and getattr(block, "name", None) == JUDGMENT_TOOL["name"]:
            return scores_from_judgments(block.input, n_texts)
    return [math.nan] * n_texts


def parse_choice_reply(content: list, requests: Sequence[ChoiceRequest]) -> list[list[float]]:
    """The answers of a reply to :meth:`AnthropicJudge._choice_params`: single choices or multi-label selections."""
    return (parse_selections if requests and requests[0].multiple else parse_choices)(content, requests)


def _tool_entries(content: list, tool: dict, key: str, n_requests: int) -> list[dict]:
    """The entries of a tool call's ``key`` list; none when their ids repeat or fall outside 1..n (misaligned)."""
    payload = next(
        (
            block.input
            for block in content
            if getattr(block, "type", None) == "tool_use" and getattr(block, "name", None) == tool["name"]
        ),
        None,
    )
    entries = payload.get(key) if isinstance(payload, dict) else None
    entries = [entry for entry in entries if isinstance(entry, dict)] if isinstance(entries, list) else []
    identifiers = [entry.get("id") for entry in entries]
    aligned = all(isinstance(i, int) and 1 <= i <= n_requests for i in identifiers)
    if not aligned or len(set(identifiers)) != len(identifiers):
        logger.info("%s reply with repeated or out-of-range ids %s: rejected whole", tool["name"], identifiers)
        return []
    return entries


def parse_selections(content: list, requests: Sequence[ChoiceRequest]) -> list[list[float]]:
    """Multi-label answers from the ``record_selections`` tool call of a reply; NaN for every id it lacks.

    An entry naming a label that is not among its utterance's candidates is left NaN (asked
    again); a bare name where a list was asked for is read as that name alone and warned about.
    """
    answers = [[math.nan] * (len(request.options) + 1) for request in requests]
    n_single = 0
    for entry in _tool_entries(content, SELECTION_TOOL, "selections", len(requests)):
        probabilities, single = read_selection(entry.get("labels"), requests[entry["id"] - 1])
        if probabilities is not None:
            answers[entry["id"] - 1] = probabilities.tolist()
            n_single += single
    warn_single_answers(n_single, len(requests), "The judge")
    return answers


def parse_choices(content: list, requests: Sequence[ChoiceRequest]) -> list[list[float]]:
    """One-hot answers from the ``record_choices`` tool call of a reply; NaN for every id it lacks.

    An entry whose label is neither one of its utterance's candidates nor ``"none"`` is
    left NaN (asked again). A reply that repeats an id or names an id outside 1..n is
    misaligned and rejected whole.
    """
    answers = [[math.nan] * (len(request.options) + 1) for request in requests]
    for entry in _tool_entries(content, CHOICE_TOOL, "choices", len(requests)):
        request = requests[entry["id"] - 1]
        names = [option.name for option in request.options]
        label = entry.get("label")
        if label == NONE_ANSWER or label in names:
            position = len(names) if label == NONE_ANSWER else names.index(label)
            answers[entry["id"] - 1] = [float(k == position) for k in range(len(names) + 1)]
    return answers
