"""Judges that need no network: a user function, and gold labels for experiments."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from ._base import Judge, JudgeRequest

__all__ = ["CallableJudge", "GoldJudge", "RecordedJudge"]


class CallableJudge(Judge):
    """Wraps a function ``fn(label, description, texts) -> list of float``.

    The classifier calls ``fn`` once per label per round with the utterances it chose
    for that label; the function returns one score in [0, 1] per utterance.

    Parameters
    ----------
    fn : callable
        ``fn(label: str, description: str, texts: list[str]) -> list[float]``.
    """

    def __init__(self, fn: Callable[[str, str, list[str]], Sequence[float]]) -> None:
        self.fn = fn

    def __repr__(self) -> str:
        return f"CallableJudge({getattr(self.fn, '__name__', self.fn)!r})"

    def judge(self, requests: Sequence[JudgeRequest]) -> list[Sequence[float]]:
        """Call ``fn`` once per request (the classifier validates what it returns)."""
        return [self.fn(r.label, r.description, list(r.texts)) for r in requests]


class GoldJudge(Judge):
    """Answers from known labels: 1 if the utterance has the asked label, else 0.

    The paper's "optimize with gold" setting, for experiments and benchmarks. It answers
    only the pair it is asked about and never reveals any other label.

    Parameters
    ----------
    texts : iterable of str
        Utterances with known labels (an utterance listed under several labels
        belongs to each of them).
    labels : iterable of str
        The label of each utterance.
    flip_rate : float
        Fraction of answers inverted, to simulate a noisy judge. Whether a pair is
        flipped is fixed by ``random_state`` and the pair, so asking again gives the
        same answer (as a cached LLM would).
    random_state : int, optional
        Seed of the flips.
    """

    def __init__(
        self,
        texts: Iterable[str],
        labels: Iterable[str],
        flip_rate: float = 0.0,
        random_state: int | None = None,
    ) -> None:
        self.texts = texts
        self.labels = labels
        self.flip_rate = flip_rate
        self.random_state = random_state

    def __repr__(self) -> str:
        return f"GoldJudge(flip_rate={self.flip_rate}, random_state={self.random_state})"

    def _gold(self) -> dict[str, set[str]]:
        gold = getattr(self, "_gold_cache", None)
        if gold is None:
            texts, labels = list(self.texts), list(self.labels)
            if len(texts) != len(labels):
                raise ValueError(f"GoldJudge got {len(texts)} texts but {len(labels)} labels.")
            if not 0.0 <= self.flip_rate <= 1.0:
                raise ValueError(f"flip_rate must be in [0, 1], got {self.flip_rate}.")
            gold = defaultdict(set)
            for text, label in zip(texts, labels):
                gold[text].add(str(label))
            self._gold_cache = gold
        return gold

    def _flipped(self, label: str, text: str) -> bool:
        if self.flip_rate == 0.0:
            return False
        seed = "" if self.random_state is None else str(self.random_state)
        digest = hashlib.blake2b(f"{seed}\x00{label}\x00{text}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2.0**64 < self.flip_rate

    def judge(self, requests: Sequence[JudgeRequest]) -> list[np.ndarray]:
        """Look up each pair; raise ``KeyError`` for an utterance without a gold label."""
        gold = self._gold()
        results = []
        for request in requests:
            scores = np.empty(len(request.texts))
            for position, text in enumerate(request.texts):
                if text not in gold:
                    raise KeyError(f"GoldJudge has no label for the utterance {text!r}.")
                answer = request.label in gold[text]
                scores[position] = float(answer != self._flipped(request.label, text))
            results.append(scores)
        return results

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_gold_cache", None)
        return state


class RecordedJudge(Judge):
    """Replays judgments recorded from another judge (e.g. a real LLM run).

    Parameters
    ----------
    records : iterable of (label, text, score)
        Recorded judgments, e.g. ``[(j.label, j.text, j.score) for j in clf.judgments_]``.
    source : str
        Who made the recording (shown in ``repr``), e.g. the model's name.

    A pair that was not recorded gets NaN: the classifier leaves it out and warns.
    """

    def __init__(self, records: Iterable[tuple[str, str, float]], source: str = "unknown") -> None:
        self.records = records
        self.source = source

    def __repr__(self) -> str:
        return f"RecordedJudge(source={self.source!r})"

    def judge(self, requests: Sequence[JudgeRequest]) -> list[np.ndarray]:
        """Look each pair up in the recording."""
        recorded = {(label, text): float(score) for label, text, score in self.records}
        return [np.array([recorded.get((r.label, t), np.nan) for t in r.texts]) for r in requests]
