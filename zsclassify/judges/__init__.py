"""Judges score (label, utterance) pairs in [0, 1]; the classifier learns from them."""

from ._anthropic import DEFAULT_ANTHROPIC_MODEL, AnthropicJudge
from ._base import ChoiceRequest, Judge, JudgeRequest, LabelOption
from ._cache import CachedJudge, JudgmentCache
from ._llm import JudgeUsage, LLMJudge, Prices
from ._openai import OpenAICompatibleJudge
from ._simple import CallableJudge, GoldJudge, RecordedJudge

__all__ = [
    "DEFAULT_ANTHROPIC_MODEL",
    "AnthropicJudge",
    "CachedJudge",
    "CallableJudge",
    "ChoiceRequest",
    "GoldJudge",
    "Judge",
    "JudgeRequest",
    "JudgeUsage",
    "JudgmentCache",
    "LLMJudge",
    "LabelOption",
    "OpenAICompatibleJudge",
    "Prices",
    "RecordedJudge",
]
