"""Judges that need no network: a user function, and gold labels for experiments."""

from __future__ import annotations

import hashlib
import logging
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from ..exceptions import InvalidJudgeResponseError
from ._base import ChoiceRequest, Judge, JudgeRequest

__all__ = ["CallableJudge", "GoldJudge", "RecordedJudge"]

logger = logging.getLogger(__name__)


ChoiceAnswer = str | None | Mapping[str, float]


class CallableJudge(Judge):
    """Wraps your functions: ``fn`` for yes/no questions, ``choose_fn`` for multiple choice.

    The classifier calls ``fn`` once per label per round with the utterances it chose
    for that label; the function returns one score in [0, 1] per utterance. With
    contrastive judging it calls ``choose_fn`` once per chosen utterance with the
    candidate labels as ``(name, description)`` pairs; the function returns the name of
    the label the utterance expresses, ``None`` for "none of these", or a mapping of
    candidate names to probabilities (what is left over is "none"). For a multi-label
    classifier's question (which of the options apply) it is called with
    ``multiple=True`` and returns a list of the names that apply (empty for none), or a
    mapping of names to independent probabilities.

    Parameters
    ----------
    fn : callable, optional
        ``fn(label: str, description: str, texts: list[str]) -> list[float]``.
    choose_fn : callable, optional
        ``choose_fn(text: str, options: list[tuple[str, str]]) -> str | None | dict[str, float]``;
        for multi-label questions ``choose_fn(text, options, multiple=True) -> list[str] | dict[str, float]``.
    """

    def __init__(
        self,
        fn: Callable[[str, str, list[str]], Sequence[float]] | None = None,
        choose_fn: Callable[..., Any] | None = None,
    ) -> None:
        self.fn = fn
        self.choose_fn = choose_fn

    def __repr__(self) -> str:
        names = [getattr(f, "__name__", repr(f)) for f in (self.fn, self.choose_fn) if f is not None]
        return f"CallableJudge({', '.join(names)})"

    @property
    def supports_choice(self) -> bool:
        """True when ``choose_fn`` is given."""
        return self.choose_fn is not None

    @property
    def supports_multiple_choice(self) -> bool:
        """True when ``choose_fn`` is given (it is called with ``multiple=True`` for those questions)."""
        return self.choose_fn is not None

    def judge(self, requests: Sequence[JudgeRequest]) -> list[Any]:
        """Call ``fn`` once per request (the classifier validates what it returns)."""
        if self.fn is None:
            raise TypeError("This CallableJudge has no fn for yes/no questions; pass fn= or fit with judging='choice'.")
        return [self.fn(r.label, r.description, list(r.texts)) for r in requests]

    def choose(self, requests: Sequence[ChoiceRequest]) -> list[np.ndarray]:
        """Call ``choose_fn`` once per utterance and turn its answer into option probabilities."""
        if self.choose_fn is None:
            raise TypeError(
                "This CallableJudge has no choose_fn for multiple-choice questions; "
                "pass choose_fn= or fit with judging='yes_no'."
            )
        answers, n_single, n_multiple = [], 0, 0
        for request in requests:
            options = [(o.name, o.description) for o in request.options]
            if request.multiple:
                probabilities, single = selection_probabilities(
                    self.choose_fn(request.text, options, multiple=True), request
                )
                answers.append(probabilities)
                n_single, n_multiple = n_single + single, n_multiple + 1
            else:
                answers.append(choice_probabilities(self.choose_fn(request.text, options), request))
        warn_single_answers(n_single, n_multiple, f"choose_fn {getattr(self.choose_fn, '__name__', '')}".strip())
        return answers


def choice_probabilities(answer: ChoiceAnswer, request: ChoiceRequest) -> np.ndarray:
    """Probabilities over ``request``'s options and "none" from a name, None or a name -> probability mapping."""
    names = [option.name for option in request.options]
    probabilities = np.zeros(len(names) + 1)
    if answer is None:
        probabilities[-1] = 1.0
    elif isinstance(answer, str):
        if answer not in names:
            raise InvalidJudgeResponseError(
                f"The judge chose {answer!r}, which is not one of the candidates {names} (return None for none)."
            )
        probabilities[names.index(answer)] = 1.0
    elif isinstance(answer, Mapping):
        unknown = sorted(set(answer) - set(names))
        if unknown:
            raise InvalidJudgeResponseError(
                f"The judge gave probabilities for labels not among the candidates: {unknown}."
            )
        for name, value in answer.items():
            probabilities[names.index(name)] = float(value)
        probabilities[-1] = 1.0 - probabilities[:-1].sum()
    else:
        raise InvalidJudgeResponseError(
            f"A choice must be a candidate's name, None or a mapping of names to probabilities; got {answer!r:.100}."
        )
    return probabilities


def selection_probabilities(answer: object, request: ChoiceRequest) -> tuple[np.ndarray, bool]:
    """Independent probabilities of ``request``'s options, then "none", from a multi-label answer.

    ``answer`` is a list (or tuple, set) of the names that apply, or a mapping of names to
    probabilities. A bare name (or None) where a list was asked for is read as that one name
    (or none), and the second value returned is True so that the caller can warn: a judge
    that always names one label would otherwise pass for a multi-label one.
    """
    names = [option.name for option in request.options]
    single = answer is None or isinstance(answer, str)
    if single:
        answer = [] if answer is None else [answer]
    if isinstance(answer, Mapping):
        chosen = dict(answer)
    elif isinstance(answer, (list, tuple, set, frozenset)):
        chosen = {name: 1.0 for name in answer}
    else:
        raise InvalidJudgeResponseError(
            f"A multi-label choice must be a list of candidate names or a mapping of names to probabilities; "
            f"got {answer!r:.100}."
        )
    unknown = sorted(set(map(str, chosen)) - set(names))
    if unknown:
        raise InvalidJudgeResponseError(f"The judge chose labels that are not among the candidates {names}: {unknown}.")
    probabilities = np.zeros(len(names) + 1)
    for name, value in chosen.items():
        probabilities[names.index(name)] = float(value)
    probabilities[-1] = float(not (probabilities[:-1] >= 0.5).any())
    return probabilities, single


def read_selection(answer: object, request: ChoiceRequest) -> tuple[np.ndarray | None, bool]:
    """:func:`selection_probabilities` of an LLM's reply, or None (asked again) for one that is malformed or missing."""
    if answer is None:
        return None, False
    try:
        return selection_probabilities(answer, request)
    except InvalidJudgeResponseError as error:
        logger.info("malformed multi-label answer, asked again: %s", error)
        return None, False


def warn_single_answers(n_single: int, n_asked: int, who: str) -> None:
    """Warn that ``n_single`` of ``n_asked`` multi-label questions got one bare label where a list was asked for."""
    if n_single:
        warnings.warn(
            f"{who} answered {n_single} of {n_asked} multi-label questions (which labels apply) with a single "
            "label instead of a list; each was read as that label alone applying and the other candidates not. "
            "If several can apply, return a list of every one that does.",
            RuntimeWarning,
            stacklevel=3,
        )


class GoldJudge(Judge):
    """Answers from known labels: 1 if the utterance has the asked label, else 0.

    The paper's "optimize with gold" setting, for experiments and benchmarks. It answers
    only what it is asked: a yes/no pair reveals nothing about other labels, and a
    multiple choice names the right label only when it is among the candidates
    ("none of these" otherwise).

    Parameters
    ----------
    texts : iterable of str
        Utterances with known labels (an utterance listed under several labels
        belongs to each of them).
    labels : iterable of str
        The label of each utterance.
    flip_rate : float
        Fraction of wrong answers, to simulate a noisy judge: a flipped yes/no answer is
        inverted, a flipped choice moves to another option (another candidate or
        "none"). Whether an answer is flipped is fixed by ``random_state`` and the
        question, so asking again gives the same answer (as a cached LLM would).
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

    def _uniform(self, *parts: str) -> float:
        """A number in [0, 1) fixed by the seed and ``parts``."""
        seed = "" if self.random_state is None else str(self.random_state)
        digest = hashlib.blake2b("\x00".join((seed, *parts)).encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2.0**64

    def _flipped(self, label: str, text: str) -> bool:
        return self.flip_rate > 0.0 and self._uniform(label, text) < self.flip_rate

    def _labels_of(self, text: str) -> set[str]:
        gold = self._gold()
        if text not in gold:
            raise KeyError(f"GoldJudge has no label for the utterance {text!r}.")
        return gold[text]

    def judge(self, requests: Sequence[JudgeRequest]) -> list[np.ndarray]:
        """Look up each pair; raise ``KeyError`` for an utterance without a gold label."""
        return [
            np.array([float((r.label in self._labels_of(t)) != self._flipped(r.label, t)) for t in r.texts])
            for r in requests
        ]

    @property
    def supports_multiple_choice(self) -> bool:
        """True: a multi-label question gets every candidate the utterance has (each flipped apart)."""
        return True

    def choose(self, requests: Sequence[ChoiceRequest]) -> list[np.ndarray]:
        """The right label when it is a candidate, else "none"; a flipped answer is another option.

        A ``multiple=True`` request gets each candidate the utterance has, each answer flipped
        on its own with ``flip_rate``.
        """
        results = []
        for request in requests:
            names = [option.name for option in request.options]
            truth = self._labels_of(request.text)
            if request.multiple:
                applies = np.array([(n in truth) != self._flipped(n, request.text) for n in names], dtype=float)
                results.append(np.append(applies, float(not applies.any())))
                continue
            right = next((k for k, name in enumerate(names) if name in truth), len(names))
            answer = right
            if self.flip_rate > 0.0 and self._uniform("choice", request.text, *names) < self.flip_rate:
                others = [k for k in range(len(names) + 1) if k != right]
                answer = others[int(self._uniform("moved", request.text, *names) * len(others))]
            probabilities = np.zeros(len(names) + 1)
            probabilities[answer] = 1.0
            results.append(probabilities)
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
        Recorded yes/no judgments, e.g. ``[(j.label, j.text, j.score) for j in clf.judgments_]``
        of a fit with ``judging="yes_no"``.
    source : str
        Who made the recording (shown in ``repr``), e.g. the model's name.
    choices : sequence of (text, option names, probabilities), optional
        Recorded multiple choices, e.g. ``[(c.text, c.options, c.probabilities) for c in
        clf.choices_]``; ``probabilities`` has one entry per option and a last one for
        "none". A choice asked with the same options in another order is replayed
        in that order.
    order_probes : sequence of (text, option names, probabilities), optional
        Recorded order probes (``judging="auto"``), e.g. ``[(c.text, c.options,
        c.probabilities) for c in clf.order_probe_.reversed_choices]``; a probe is
        replayed only with its options in the recorded order.

    A pair or choice that was not recorded gets NaN: the classifier leaves it out and warns.
    """

    def __init__(
        self,
        records: Iterable[tuple[str, str, float]] = (),
        source: str = "unknown",
        choices: Iterable[tuple[str, Sequence[str], Sequence[float]]] = (),
        order_probes: Iterable[tuple[str, Sequence[str], Sequence[float]]] = (),
    ) -> None:
        self.records = records
        self.source = source
        self.choices = choices
        self.order_probes = order_probes

    def __repr__(self) -> str:
        return f"RecordedJudge(source={self.source!r})"

    @property
    def supports_choice(self) -> bool:
        """True when the recording holds multiple choices."""
        return bool(self.choices)

    def judge(self, requests: Sequence[JudgeRequest]) -> list[np.ndarray]:
        """Look each pair up in the recording."""
        recorded = {(label, text): float(score) for label, text, score in self.records}
        return [np.array([recorded.get((r.label, t), np.nan) for t in r.texts]) for r in requests]

    def choose(self, requests: Sequence[ChoiceRequest]) -> list[np.ndarray]:
        """Look each choice up in the recording: by utterance and set of options (probes: their order)."""
        recorded: dict[tuple[str, frozenset[str] | tuple[str, ...]], dict[str | None, float]] = {}
        for text, names, probabilities in self.choices:
            recorded[text, frozenset(names)] = dict(zip([*names, None], map(float, probabilities)))
        for text, names, probabilities in self.order_probes:
            recorded[text, tuple(names)] = dict(zip([*names, None], map(float, probabilities)))
        results = []
        for request in requests:
            names = [option.name for option in request.options]
            found = recorded.get((request.text, tuple(names) if request.order_probe else frozenset(names)))
            results.append(
                np.full(len(names) + 1, np.nan) if found is None else np.array([found[n] for n in [*names, None]])
            )
        return results
