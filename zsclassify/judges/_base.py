"""The judge interface: scores in [0, 1] for (label, utterance) pairs."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Judge", "JudgeRequest"]


@dataclass(frozen=True)
class JudgeRequest:
    """The utterances chosen for one label in one round.

    Attributes
    ----------
    label : str
        The label's name.
    description : str
        The label's description, the query the utterances are judged against.
    texts : tuple of str
        The utterances to judge.
    """

    label: str
    description: str
    texts: tuple[str, ...]


class Judge(ABC):
    """Scores how well utterances match a label description.

    Subclasses implement :meth:`judge`. A judge receives all requests of a round at
    once, so it may batch many pairs into one call or run calls concurrently.
    A judge holds no fitted state; network clients are created lazily and never pickled.
    """

    @abstractmethod
    def judge(self, requests: Sequence[JudgeRequest]) -> list[np.ndarray]:
        """Score every utterance of every request.

        Parameters
        ----------
        requests : sequence of JudgeRequest

        Returns
        -------
        list of ndarray
            One float array per request, as long as its ``texts``, with values in
            [0, 1] (1 = the utterance expresses the label). NaN marks a pair the judge
            could not score; the classifier skips it and warns.
        """
