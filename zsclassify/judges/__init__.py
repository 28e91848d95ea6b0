"""Judges score (label, utterance) pairs in [0, 1]; the classifier learns from them."""

from .anthropic import DEFAULT_ANTHROPIC_MODEL, AnthropicJudge
from .base import Judge, JudgeRequest
from .cache import CachedJudge, JudgmentCache
from .llm import BudgetExceededError, JudgeError, JudgeUsage, LLMJudge, Prices
from .openai_compatible import OpenAICompatibleJudge
from .simple import CallableJudge, GoldJudge, RecordedJudge

__all__ = [
    "DEFAULT_ANTHROPIC_MODEL",
    "AnthropicJudge",
    "BudgetExceededError",
    "CachedJudge",
    "CallableJudge",
    "GoldJudge",
    "Judge",
    "JudgeError",
    "JudgeRequest",
    "JudgeUsage",
    "JudgmentCache",
    "LLMJudge",
    "OpenAICompatibleJudge",
    "Prices",
    "RecordedJudge",
]
