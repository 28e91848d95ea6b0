"""Any server speaking ``/v1/chat/completions``: vLLM, Ollama, llama.cpp's server, LiteLLM."""

from __future__ import annotations

import math
import os

from ..prompts import TASK_INSTRUCTION, pairwise_messages
from .llm import JudgeUsage, LLMJudge

__all__ = ["OpenAICompatibleJudge", "yes_probability"]

_CHARS_PER_TOKEN = 3


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


class OpenAICompatibleJudge(LLMJudge):
    """Judges each (label, utterance) pair with a yes/no question to an OpenAI-compatible server.

    The score is P(yes) / (P(yes) + P(no)) read from the first generated token's
    log-probabilities when the server returns them (the paper's judge), else the
    verbalised yes/no. Needs the ``openai`` package (``pip install openai``).

    Parameters
    ----------
    model : str
        The model name the server expects.
    base_url : str
        The server's API root, e.g. ``http://127.0.0.1:8000/v1``.
    api_key_env : str
        Name of the environment variable holding the key; servers that need none
        get a placeholder. The key itself is never a parameter.
    logprobs : bool
        Ask for first-token log-probabilities (turn off for servers that reject them).
    **options
        ``max_concurrency``, ``max_retries``, ``timeout``, ``cache``, ``on_failure``,
        ``max_total_tokens``, ``max_cost_usd``, ``prices``, ``instruction``: see :class:`LLMJudge`.
    """

    backend = "openai-chat"

    def __init__(
        self,
        model: str,
        *,
        base_url: str,
        api_key_env: str = "OPENAI_API_KEY",
        logprobs: bool = True,
        **options,
    ) -> None:
        super().__init__(model, batch_size=1, **options)
        self.base_url = base_url
        self.api_key_env = api_key_env
        self.logprobs = logprobs

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

    def _messages(self, label: str, description: str, text: str) -> list[dict]:
        return pairwise_messages(label, description, text, self.instruction or TASK_INSTRUCTION)

    def _estimate_tokens(self, label: str, description: str, texts: list[str]) -> tuple[int, int]:
        characters = sum(len(m["content"]) for text in texts for m in self._messages(label, description, text))
        return characters // _CHARS_PER_TOKEN + 20 * len(texts), len(texts)

    def _score_batch(self, label: str, description: str, texts: list[str]) -> tuple[list[float], JudgeUsage]:
        scores, spent = [], JudgeUsage()
        for text in texts:
            extra = {"logprobs": True, "top_logprobs": 20} if self.logprobs else {}
            completion = self.client.chat.completions.create(
                model=self.model,
                messages=self._messages(label, description, text),
                max_tokens=1,
                temperature=0.0,
                **extra,
            )
            choice = completion.choices[0] if completion.choices else None
            first = choice.logprobs.content[0] if choice and choice.logprobs and choice.logprobs.content else None
            content = choice.message.content if choice else None
            scores.append(yes_probability(first.top_logprobs if first else [], content))
            usage = completion.usage
            spent = spent + JudgeUsage(
                requests=1,
                input_tokens=usage.prompt_tokens if usage else 0,
                output_tokens=usage.completion_tokens if usage else 0,
            )
        return scores, spent
