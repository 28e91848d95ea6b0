"""Judges score (label, utterance) pairs in [0, 1]; the classifier learns from them."""

from ._anthropic import DEFAULT_ANTHROPIC_MODEL, AnthropicJudge
from ._base import Judge, JudgeRequest
from ._cache import CachedJudge, JudgmentCache
from ._llm import JudgeUsage, LLMJudge, Prices
from ._openai import OpenAICompatibleJudge
from ._simple import CallableJudge, GoldJudge, RecordedJudge

__all__ = [
    "DEFAULT_ANTHROPIC_MODEL",
    "AnthropicJudge",
    "CachedJudge",
    "CallableJudge",
    "GoldJudge",
    "Judge",
    "JudgeRequest",
    "JudgeUsage",
    "JudgmentCache",
    "LLMJudge",
    "OpenAICompatibleJudge",
    "Prices",
    "RecordedJudge",
]
