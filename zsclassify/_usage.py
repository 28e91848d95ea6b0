"""What a judge spent: requests, tokens, cache hits, cost.

Its own module so that the error classes (:mod:`zsclassify.exceptions`) can name it without
depending on the judges.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

__all__ = ["JudgeUsage"]


@dataclass
class JudgeUsage:
    """What a judge spent. ``cost_usd`` is None when the model's price is unknown."""

    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float | None = 0.0
    cache_hits: int = 0
    failed_pairs: int = 0

    def _combine(self, other: JudgeUsage, sign: int) -> JudgeUsage:
        values: dict[str, Any] = {}
        for field in fields(self):
            a, b = getattr(self, field.name), getattr(other, field.name)
            values[field.name] = None if a is None or b is None else a + sign * b
        return JudgeUsage(**values)

    def __add__(self, other: JudgeUsage) -> JudgeUsage:
        return self._combine(other, 1)

    def __sub__(self, other: JudgeUsage) -> JudgeUsage:
        return self._combine(other, -1)

    @property
    def total_tokens(self) -> int:
        """Input (including cache reads and writes) plus output tokens."""
        return self.input_tokens + self.cache_read_tokens + self.cache_write_tokens + self.output_tokens
