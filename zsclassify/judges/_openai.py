"""Any server speaking ``/v1/chat/completions``: vLLM, Ollama, llama.cpp's server, LiteLLM."""

from __future__ import annotations

import json
import math
import os
import re
from typing import cast

from ._llm import _CHARS_PER_TOKEN, ChoiceBatch, JudgeUsage, LLMJudge, check_api_reply, scores_from_judgments
from ._prompts import (
    JUDGMENT_TOOL,
    PROMPT_VERSION,
    TASK_INSTRUCTION,
    choice_letters,
    choice_messages,
    description_prompt,
    description_schema,
    listwise_system_prompt,
    listwise_user_prompt,
    pairwise_messages,
    verdict_messages,
    verdict_schema,
)
from ._simple import read_selection

__all__ = ["OpenAICompatibleJudge", "letter_probabilities", "verdict_probabilities", "yes_probability"]

SCORINGS = ("pairwise", "listwise")
JSON_MODES = ("json_schema", "json_object")


def yes_probability(top_logprobs: list, content: str | None) -> float:
    """The paper's score P(yes) / (P(yes) + P(no)) from the first token's top log-probabilities.

    Falls back to the verbalised answer (1.0 for yes, 0.0 for no) when the
    log-probabilities hold neither word, and NaN when the answer is neither.
    """
    p_yes = p_no = 0.0
    for entry in top_logprobs or []:
        word = (getattr(entry, "token", None) or "").strip().lower()
        if word == "yes":
            p_yes += math.exp(entry.logprob)
        elif word == "no":
            p_no += math.exp(entry.logprob)
    if p_yes + p_no > 0.0:
        return p_yes / (p_yes + p_no)
    answer = (content or "").strip().lower()
    if answer.startswith("yes"):
        return 1.0
    if answer.startswith("no"):
        return 0.0
    return math.nan


def letter_probabilities(top_logprobs: list, content: str | None, letters: list[str]) -> list[float]:
    """Each option's probability from the first token's top log-probabilities, renormalised over ``letters``.

    The paper's P(yes) / (P(yes) + P(no)) generalised to lettered options. Falls back to
    the verbalised answer (one-hot on the letter the reply starts with) when the
    log-probabilities hold no letter, and NaN when the reply names none.
    """
    mass = dict.fromkeys(letters, 0.0)
    for entry in top_logprobs or []:
        token = (getattr(entry, "token", None) or "").strip().rstrip(".):")
        if token in mass:
            mass[token] += math.exp(entry.logprob)
    total = sum(mass.values())
    if total > 0.0:
        return [mass[letter] / total for letter in letters]
    answer = (content or "").strip()[:1]
    if answer in mass:
        return [float(letter == answer) for letter in letters]
    return [math.nan] * len(letters)


_KEY_BEFORE_VALUE = re.compile(r'"([A-Z])"\s*:\s*$')


def verdict_probabilities(tokens: list, reply: object, letters: list[str]) -> list[float] | None:
    """P(true) of each lettered candidate of a :func:`~zsclassify.judges._prompts.verdict_messages` reply.

    Read from the top log-probabilities of the token that opens each value (mass on "true" and
    its prefixes against "false" and its), else the value as given; None when the reply is not
    a JSON object with a boolean for every letter (the question is asked again).
    """
    if not isinstance(reply, dict) or not all(isinstance(reply.get(letter), bool) for letter in letters):
        return None
    probabilities = {letter: float(reply[letter]) for letter in letters}
    text = ""
    for token in tokens or []:
        key, word = _KEY_BEFORE_VALUE.search(text), (token.token or "").strip().lower()
        if key and key.group(1) in probabilities and word and ("true".startswith(word) or "false".startswith(word)):
            mass = {"true": 0.0, "false": 0.0}
            for entry in token.top_logprobs or []:
                candidate = (entry.token or "").strip().lower()
                value = next((v for v in mass if candidate and v.startswith(candidate)), None)
                if value is not None:
                    mass[value] += math.exp(entry.logprob)
            if mass["true"] + mass["false"] > 0.0:
                probabilities[key.group(1)] = mass["true"] / (mass["true"] + mass["false"])
        text += token.token or ""
    return [probabilities[letter] for letter in letters]


def _first_token(completion) -> tuple[list, str | None]:
    """The first generated token's top log-probabilities (empty without them) and the reply's text."""
    choice = completion.choices[0] if completion.choices else None
    first = choice.logprobs.content[0] if choice and choice.logprobs and choice.logprobs.content else None
    return (first.top_logprobs if first else []), (choice.message.content if choice else None)


def _json_content(completion) -> object:
    """The JSON value of a completion's text, or None if it has none."""
    content = completion.choices[0].message.content if completion.choices else None
    try:
        return json.loads(content or "")
    except json.JSONDecodeError:
        return None


def _usage(completion) -> JudgeUsage:
    usage = completion.usage
    return JudgeUsage(
        requests=1,
        input_tokens=usage.prompt_tokens if usage else 0,
        output_tokens=usage.completion_tokens if usage else 0,
    )


class OpenAICompatibleJudge(LLMJudge):
    """Judges utterances with an OpenAI-compatible chat server.

    Multiple-choice questions (:meth:`choose`, contrastive judging) letter the
    candidate labels, add a letter for "none of these" and read each option's
    probability from the first generated token's log-probabilities (the verbalised
    letter when the server gives none); one question per request. Multi-label questions
    ("which of these apply") are answered as a JSON boolean per lettered candidate, each
    scored from the log-probabilities of its value's first token (:func:`verdict_probabilities`;
    the booleans as given without them).

    ``scoring="pairwise"`` (default) asks one yes/no question per pair and scores it
    P(yes) / (P(yes) + P(no)) from the first generated token's log-probabilities when
    the server returns them (the paper's judge), else from the verbalised answer.
    ``scoring="listwise"`` sends ``batch_size`` utterances of a label per request and
    asks for a JSON object constrained by a schema. Needs ``pip install openai``.

    Parameters
    ----------
    model : str
        The model name the server expects.
    base_url : str
        The server's API root, e.g. ``http://127.0.0.1:8000/v1``.
    scoring : {"pairwise", "listwise"}
        One pair per request with log-probabilities, or many utterances per request.
    batch_size : int
        Utterances per listwise request (pairwise uses 1).
    api_key_env : str
        Name of the environment variable holding the key; servers that need none
        get a placeholder. The key itself is never a parameter.
    logprobs : bool
        Ask for first-token log-probabilities (turn off for servers that reject them).
    json_mode : {"json_schema", "json_object"}
        How a listwise reply is constrained: OpenAI's ``json_schema`` response format
        (OpenAI, vLLM), or ``json_object`` with a ``schema`` field (llama.cpp's server).
    **options
        ``max_concurrency``, ``max_retries``, ``timeout``, ``cache``, ``on_failure``, ``deadline``,
        ``max_total_tokens``, ``max_cost_usd``, ``prices``, ``instruction``: see :class:`LLMJudge`.
    """

    backend = "openai-chat"

    def __init__(
        self,
        model: str,
        *,
        base_url: str,
        scoring: str = "pairwise",
        batch_size: int = 10,
        api_key_env: str = "OPENAI_API_KEY",
        logprobs: bool = True,
        json_mode: str = "json_schema",
        **options,
    ) -> None:
        super().__init__(model, batch_size=batch_size, **options)
        self.base_url = base_url
        self.scoring = scoring
        self.api_key_env = api_key_env
        self.logprobs = logprobs
        self.json_mode = json_mode

    def _create_client(self):
        try:
            import openai
        except ImportError as error:
            raise ImportError("OpenAICompatibleJudge needs the openai package: pip install openai") from error
        return openai.OpenAI(
            base_url=self.base_url,
            api_key=os.environ.get(self.api_key_env) or "no-key-needed",
            max_retries=self.max_retries,
            timeout=self.timeout,
        )

    def _check_config(self) -> None:
        if self.scoring not in SCORINGS:
            raise ValueError(f"scoring must be one of {SCORINGS}; got {self.scoring!r}.")
        if self.json_mode not in JSON_MODES:
            raise ValueError(f"json_mode must be one of {JSON_MODES}; got {self.json_mode!r}.")
        if self.scoring == "pairwise":
            self.batch_size = 1
        super()._check_config()

    def _prompt_version(self, version: str = PROMPT_VERSION) -> str:
        if version == PROMPT_VERSION:  # yes/no: pairwise and listwise replies differ
            return f"{super()._prompt_version(version)}:{self.scoring}"
        return f"{super()._prompt_version(version)}:logprobs={self.logprobs}"  # letters read or verbalised

    def _answer_settings(self) -> dict:
        settings = {"base_url": str(self.base_url).rstrip("/"), "logprobs": self.logprobs}
        if self.scoring == "listwise":
            settings["json_mode"] = self.json_mode
        return settings

    def _key_variable(self) -> str:
        return self.api_key_env

    def _complete(self, **params):
        """One chat completion, checked to be an API reply."""
        from openai.types.chat import ChatCompletion

        return check_api_reply(self.client.chat.completions.create(**params), ChatCompletion, self.base_url)

    def _instruction(self) -> str:
        return self.instruction or TASK_INSTRUCTION

    def _estimate_tokens(self, label: str, description: str, texts: list[str]) -> tuple[int, int]:
        if self.scoring == "listwise":
            system = listwise_system_prompt(self._instruction(), json_reply=True)
            characters = len(system) + len(listwise_user_prompt(label, description, texts))
            return characters // _CHARS_PER_TOKEN + 50, 20 + 16 * len(texts)
        messages = [pairwise_messages(label, description, text, self._instruction()) for text in texts]
        characters = sum(len(m["content"]) for pair in messages for m in pair)
        return characters // _CHARS_PER_TOKEN + 20 * len(texts), len(texts)

    def _score_batch(self, label: str, description: str, texts: list[str]) -> tuple[list[float], JudgeUsage]:
        if self.scoring == "listwise":
            return self._score_listwise(label, description, texts)
        scores, spent = [], JudgeUsage()
        for text in texts:
            completion = self._first_token_completion(pairwise_messages(label, description, text, self._instruction()))
            scores.append(yes_probability(*_first_token(completion)))
            spent = spent + _usage(completion)
        return scores, spent

    def _first_token_completion(self, messages: list[dict]):
        """A one-token completion, with the first token's top log-probabilities when ``logprobs`` is on."""
        extra = {"logprobs": True, "top_logprobs": 20} if self.logprobs else {}
        return self._complete(model=self.model, messages=messages, max_tokens=1, temperature=0.0, **extra)

    # -------------------------------------------------- multiple choice
    def _choice_batch_size(self) -> int:
        return 1  # one lettered question per request: its first token's log-probabilities score every option

    def _choice_messages(self, request) -> list[dict]:
        options = [(option.name, option.description) for option in request.options]
        ask = verdict_messages if request.multiple else choice_messages
        return ask(request.text, options, self._instruction())

    def _estimate_choice_tokens(self, batch: ChoiceBatch) -> tuple[int, int]:
        messages = [self._choice_messages(request) for request in batch.requests]
        characters = sum(len(m["content"]) for pair in messages for m in pair)
        return characters // _CHARS_PER_TOKEN + 20 * len(messages), len(messages)

    def _choose_batch(self, batch: ChoiceBatch) -> tuple[list, JudgeUsage]:
        """Lettered questions scored by the first token's log-probabilities; multi-label ones answered in JSON,
        a boolean per candidate, each scored by the log-probabilities of its value's first token."""
        answers, spent = [], JudgeUsage()
        for request in batch.requests:
            if request.multiple:
                letters = choice_letters(len(request.options))[:-1]
                extra = {"logprobs": True, "top_logprobs": 5} if self.logprobs else {}
                completion = self._complete(
                    model=self.model,
                    messages=self._choice_messages(request),
                    temperature=0.0,
                    max_tokens=10 + 8 * len(letters),
                    response_format=self._response_format(verdict_schema(len(letters)), "verdicts"),
                    **extra,
                )
                choice = completion.choices[0] if completion.choices else None
                tokens = choice.logprobs.content if choice and choice.logprobs else None
                verdicts = verdict_probabilities(tokens or [], _json_content(completion), letters)
                names = [option.name for option in request.options]
                chosen = None if verdicts is None else dict(zip(names, verdicts))
                probabilities, _ = read_selection(chosen, request)
                answers.append([math.nan] * (len(request.options) + 1) if probabilities is None else probabilities)
            else:
                completion = self._first_token_completion(self._choice_messages(request))
                answers.append(letter_probabilities(*_first_token(completion), choice_letters(len(request.options))))
            spent = spent + _usage(completion)
        return answers, spent

    def _response_format(self, schema: dict | None = None, name: str | None = None) -> dict:
        """The ``response_format`` of a JSON reply: ``schema`` named ``name`` (the yes/no judgments by default)."""
        schema = cast(dict, JUDGMENT_TOOL["input_schema"]) if schema is None else schema
        name = str(JUDGMENT_TOOL["name"]) if name is None else name
        if self.json_mode == "json_object":
            return {"type": "json_object", "schema": schema}
        return {"type": "json_schema", "json_schema": {"name": name, "schema": schema}}

    def _describe(self, names: list[str]) -> tuple[object, JudgeUsage]:
        completion = self._complete(
            model=self.model,
            messages=[{"role": "user", "content": description_prompt(names, self.instruction)}],
            max_tokens=self._description_tokens(names)[1],
            temperature=0.0,
            response_format=self._response_format(description_schema(names), "label_descriptions"),
        )
        return _json_content(completion), _usage(completion)

    def _score_listwise(self, label: str, description: str, texts: list[str]) -> tuple[list[float], JudgeUsage]:
        completion = self._complete(
            model=self.model,
            messages=[
                {"role": "system", "content": listwise_system_prompt(self._instruction(), json_reply=True)},
                {"role": "user", "content": listwise_user_prompt(label, description, texts)},
            ],
            max_tokens=20 + 16 * len(texts),
            temperature=0.0,
            response_format=self._response_format(),
        )
        return scores_from_judgments(_json_content(completion), len(texts)), _usage(completion)
