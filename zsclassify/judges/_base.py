"""The judge interface: yes/no scores for (label, utterance) pairs, or a choice among candidate labels.

Two questions, one judge:

* :meth:`Judge.judge` asks about one label and many utterances: does each utterance
  express the label? One score in [0, 1] per utterance.
* :meth:`Judge.choose` asks about one utterance and a few candidate labels (the
  closest competitors under the classifier's current scores): which one does it
  express, if any? One probability per candidate, and one for "none of these".
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["ChoiceRequest", "Judge", "JudgeRequest", "LabelOption"]


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


@dataclass(frozen=True)
class LabelOption:
    """A candidate label of a :class:`ChoiceRequest`: its name and description."""

    name: str
    description: str


@dataclass(frozen=True)
class ChoiceRequest:
    """One utterance and the candidate labels it is judged against.

    Attributes
    ----------
    text : str
        The utterance.
    options : tuple of LabelOption
        The candidates, most likely first under the classifier's current scores.
        The answer may also be "none of these".
    order_probe : bool
        True for a question asked again with its options in reverse order, to check
        that the judge reads the options rather than their positions
        (``judging="auto"``). Its answer is cached apart from the same options in
        the usual order, which otherwise count as the same question.
    multiple : bool
        True for a multi-label question: which of the options apply, any number of them
        or none (:class:`~zsclassify.MultiLabelZeroShotClassifier`). Cached apart from the
        single-choice question about the same options.
    """

    text: str
    options: tuple[LabelOption, ...]
    order_probe: bool = False
    multiple: bool = False


class Judge(ABC):
    """Scores how well utterances match label descriptions.

    Subclasses implement :meth:`judge` (yes/no per pair) and, to support contrastive
    judging, :meth:`choose` (one of several candidate labels, or none). A judge
    receives all requests of a round at once, so it may batch many of them into one
    call or run calls concurrently. A judge holds no fitted state; network clients
    are created lazily and never pickled.
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

    def choose(self, requests: Sequence[ChoiceRequest]) -> list[np.ndarray]:
        """Say which candidate label, if any, each utterance expresses.

        Parameters
        ----------
        requests : sequence of ChoiceRequest

        Returns
        -------
        list of ndarray
            One array per request, of length ``len(options) + 1``: the probability of
            each option, then of "none of these"; they sum to 1. A hard answer is a
            one-hot array. For a request with ``multiple=True`` (see
            :attr:`supports_multiple_choice`) each option's probability is its own (that it
            applies), and the last entry is 1 when none applies, else 0. An all-NaN array
            marks a request the judge could not answer; the classifier skips it and warns.
        """
        raise NotImplementedError(
            f"{type(self).__name__} answers yes/no questions only (it has no choose method); "
            "fit with judging='yes_no', or implement choose() for contrastive judging."
        )

    @property
    def supports_choice(self) -> bool:
        """Whether this judge answers :meth:`choose` (contrastive judging)."""
        return type(self).choose is not Judge.choose

    @property
    def supports_multiple_choice(self) -> bool:
        """Whether this judge's :meth:`choose` answers ``multiple=True`` requests (any number of options)."""
        return False
