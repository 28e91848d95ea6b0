"""Judges score (label, utterance) pairs in [0, 1]; the classifier learns from them."""

from .base import Judge, JudgeRequest
from .simple import CallableJudge, GoldJudge

__all__ = ["CallableJudge", "GoldJudge", "Judge", "JudgeRequest"]
