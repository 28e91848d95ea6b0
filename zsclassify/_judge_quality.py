"""How good the judge is, measured from its own answers rather than from agreement with the classifier.

Single-label tasks give a check for free: an utterance has at most one right label. The
fit asks a few random pool utterances about each of their best zero-shot labels as yes/no
pairs (the *check*), and a judge that says yes to two of them has made a mistake. A
latent-class model (Dawid & Skene 1979, with two error rates shared by all labels) reads
such answers: each asked utterance's right label is one of its candidates, or none of
them, with shares per candidate position that are estimated too; the judge says no to the
right label with probability ``false_no`` and yes to a wrong candidate with probability
``false_yes``. EM gives the rates (:func:`fit_answer_model`), a bootstrap over utterances
their intervals, and :func:`judge_weight` whether a fit follows the judge or stays at zero-shot.
A multiple-choice fit also asks each checked utterance one choice among its candidates: a choice
names the right option with probability ``choice_accuracy`` (any other alike), estimated by the
same EM, with the order probe's twice-asked choices; its separation decides such a fit.

Everything here is array maths: no judge, no model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "AnswerModel",
    "CandidateCheck",
    "JudgeQuality",
    "assess_judge",
    "bounded_rates",
    "decide_multilabel",
    "fit_answer_model",
    "judge_weight",
    "position_bias",
    "position_counts",
]

SHARES_PRIOR_FIRST, SHARES_PRIOR_NONE = 0.6, 0.15
"""Prior shares of utterances whose right label is their best-scored candidate, and none of them
(the other candidates share the rest evenly). An embedder ranks right labels high: without this
prior, a judge that answers at random is explained as well by "a fair judge, right labels spread
over all positions", and one that says no to everything by "no candidate was ever right"."""
SHARES_PRIOR_STRENGTH = 10.0
"""Pseudo-utterances behind the shares' prior: 100 checked utterances outweigh it tenfold."""
RATE_BOUNDS = (1e-3, 1.0 - 1e-3)
MAX_EM_ITERATIONS = 200
INTERVAL = (0.05, 0.95)  # the bootstrap quantiles reported as a 90% interval


class CandidateCheck(NamedTuple):
    """Answers about one utterance's candidate labels (best-scored first when asked).

    ``scores`` holds the judge's yes/no score for each of the first ``len(scores)`` options, NaN
    where it failed. ``choice`` (multiple-choice fits) holds the probabilities of one multiple
    choice among all the options, then "none" (all NaN: failed; empty: not asked).
    """

    text: str
    options: tuple[str, ...]
    scores: tuple[float, ...]
    choice: tuple[float, ...] = ()


class AnswerModel(NamedTuple):
    """What :func:`fit_answer_model` learned.

    Attributes
    ----------
    false_yes, false_no : float
        P(yes | a wrong candidate) and P(no | the right label).
    false_yes_interval, false_no_interval, separation_interval : (float, float)
        90% bootstrap intervals; ``separation`` is ``1 - false_yes - false_no``
        (0: the answers say nothing about which label is right; 1: never wrong).
    shares : list of ndarray
        Per group, the estimated share of utterances whose right label is each
        candidate position, then none of them.
    posteriors : list of ndarray
        Per group, shape (n_utterances, n_candidates + 1): each utterance's posterior
        over its right label (candidate positions, then none).
    n_utterances, n_pairs : int
        What the estimates rest on.
    choice_accuracy : float or None
        P(a multiple choice names the right option), when choices were given.
    choice_accuracy_interval : (float, float) or None
        Its 90% bootstrap interval.
    n_choices, n_choice_options : int
        Choices it rests on, and options per choice ("none" included).
    """

    false_yes: float
    false_no: float
    false_yes_interval: tuple[float, float]
    false_no_interval: tuple[float, float]
    separation_interval: tuple[float, float]
    shares: list[np.ndarray]
    posteriors: list[np.ndarray]
    n_utterances: int
    n_pairs: int
    choice_accuracy: float | None = None
    choice_accuracy_interval: tuple[float, float] | None = None
    n_choices: int = 0
    n_choice_options: int = 0

    @property
    def separation(self) -> float:
        """``1 - false_yes - false_no``: how far a yes and a no tell right labels from wrong ones."""
        return 1.0 - self.false_yes - self.false_no

    @property
    def choice_separation(self) -> float | None:
        """How much likelier a choice is to name the right option than a given wrong one.

        ``accuracy - (1 - accuracy) / (n_choice_options - 1)``: 0 for choices made at random, 1 for
        choices never wrong; the counterpart of :attr:`separation` for multiple choice.
        """
        return _choice_separation(self.choice_accuracy, self.n_choice_options)

    @property
    def choice_separation_interval(self) -> tuple[float, float] | None:
        """The 90% bootstrap interval of :attr:`choice_separation`."""
        if self.choice_accuracy_interval is None:
            return None
        low, high = (_choice_separation(end, self.n_choice_options) for end in self.choice_accuracy_interval)
        return None if low is None or high is None else (low, high)


def _choice_separation(accuracy: float | None, n_options: int) -> float | None:
    if accuracy is None or n_options < 2:
        return None
    return float(accuracy - (1.0 - accuracy) / (n_options - 1))


def _log_likelihoods(answers: np.ndarray, false_yes: float, false_no: float) -> np.ndarray:
    """log P(answers of utterance i | its right label is position j), j = candidates then none."""
    asked = ~np.isnan(answers)
    yes = np.where(asked, answers >= 0.5, False)
    no = asked & ~yes
    # every candidate wrong: yes costs log(false_yes), no log(1 - false_yes)
    all_wrong = yes.sum(axis=1) * np.log(false_yes) + no.sum(axis=1) * np.log1p(-false_yes)
    # candidate j right instead: swap its term
    right_term = np.where(yes, np.log1p(-false_no), np.where(no, np.log(false_no), 0.0))
    wrong_term = np.where(yes, np.log(false_yes), np.where(no, np.log1p(-false_yes), 0.0))
    return np.column_stack([all_wrong[:, None] - wrong_term + right_term, all_wrong])


def _shares_prior(n_candidates: int) -> np.ndarray:
    """Dirichlet pseudo-counts over candidate positions and "none" (see :data:`SHARES_PRIOR_FIRST`).

    None under 1: the shares are MAP estimates, and a pseudo-count under 1 would pull a
    position's share to 0 (with 8 candidates the middle ones would get 0.36 each).
    """
    shares = np.full(n_candidates + 1, (1.0 - SHARES_PRIOR_FIRST - SHARES_PRIOR_NONE) / max(n_candidates - 1, 1))
    shares[0], shares[-1] = SHARES_PRIOR_FIRST, SHARES_PRIOR_NONE
    return np.maximum(SHARES_PRIOR_STRENGTH * shares / shares.sum(), 1.0)


def _choice_log_likelihoods(picks: np.ndarray, accuracy: float, n_columns: int) -> np.ndarray:
    """log P(choices of utterance i | its right label is position j): a choice names the right option with
    probability ``accuracy``, any other of the question's ``n_columns`` options (candidates, then none) alike."""
    hit, miss = np.log(accuracy), np.log((1.0 - accuracy) / (n_columns - 1))
    scores = np.zeros((len(picks), n_columns))
    for column in picks.T:
        rows = np.flatnonzero(column >= 0)
        scores[rows] += miss
        scores[rows, column[rows]] += hit - miss
    return scores


def _em_from(groups: Sequence[np.ndarray], picks: Sequence[np.ndarray], start: tuple[float, ...], tol: float = 1e-4):
    """One EM run of the latent-class model from ``start`` (false-yes, false-no, choice accuracy):
    MAP rates, choice accuracy, shares, posteriors and objective."""
    false_yes, false_no, accuracy = start
    shares = [_shares_prior(g.shape[1]) / _shares_prior(g.shape[1]).sum() for g in groups]
    for _ in range(MAX_EM_ITERATIONS):
        posteriors, objective = [], 0.0
        wrong_yes = wrong_asked = right_no = right_asked = hits = n_picks = 0.0
        for answers, picked, share in zip(groups, picks, shares):
            joint = _log_likelihoods(answers, false_yes, false_no) + np.log(share)
            joint += _choice_log_likelihoods(picked, accuracy, answers.shape[1] + 1)
            top = joint.max(axis=1, keepdims=True)
            posterior = np.exp(joint - top)
            total = posterior.sum(axis=1, keepdims=True)
            objective += float(
                (top + np.log(total)).sum() + ((_shares_prior(answers.shape[1]) - 1) * np.log(share)).sum()
            )
            posterior /= total
            posteriors.append(posterior)
            asked = ~np.isnan(answers)
            yes = np.where(asked, answers >= 0.5, False)
            right = posterior[:, :-1]  # P(candidate j is right)
            right_asked += float((right * asked).sum())
            right_no += float((right * (asked & ~yes)).sum())
            wrong_asked += float(((1.0 - right) * asked).sum())
            wrong_yes += float(((1.0 - right) * yes).sum())
            rows, columns = np.nonzero(picked >= 0)
            hits += float(posterior[rows, picked[rows, columns]].sum())
            n_picks += len(rows)
        new_false_yes = float(np.clip(wrong_yes / max(wrong_asked, 1e-12), *RATE_BOUNDS))
        new_false_no = float(np.clip(right_no / max(right_asked, 1e-12), *RATE_BOUNDS))
        new_accuracy = float(np.clip(hits / n_picks, *RATE_BOUNDS)) if n_picks else accuracy
        shares = [
            posterior.sum(axis=0) + _shares_prior(answers.shape[1]) - 1.0
            for answers, posterior in zip(groups, posteriors)
        ]
        shares = [np.clip(share, 1e-9, None) / np.clip(share, 1e-9, None).sum() for share in shares]
        moved = abs(new_false_yes - false_yes) + abs(new_false_no - false_no) + abs(new_accuracy - accuracy)
        false_yes, false_no, accuracy = new_false_yes, new_false_no, new_accuracy
        if moved < tol:
            break
    return false_yes, false_no, accuracy, shares, posteriors, objective


EM_STARTS = ((0.1, 0.1), (0.3, 0.3), (0.5, 0.5), (0.7, 0.1), (0.1, 0.7))
"""The likelihood has several local optima (a random judge's answers fit a fair judge too): EM runs
from each of these (false_yes, false_no) and keeps the best."""
CHOICE_STARTS = (0.7, 0.2)
"""With choices in the answers, each rate start is tried with each of these choice accuracies too."""


def _em(groups: Sequence[np.ndarray], picks: Sequence[np.ndarray], starts: Sequence[tuple[float, ...]] | None = None):
    """The best of :func:`_em_from` over ``starts``: rates, choice accuracy, shares and posteriors."""
    if starts is None:
        accuracies = CHOICE_STARTS if any(p.size for p in picks) else CHOICE_STARTS[:1]
        starts = [(*rates, accuracy) for rates in EM_STARTS for accuracy in accuracies]
    return max((_em_from(groups, picks, start) for start in starts), key=lambda run: run[-1])[:5]


def fit_answer_model(
    groups: Sequence[np.ndarray],
    rng: np.random.Generator,
    *,
    picks: Sequence[np.ndarray] | None = None,
    n_bootstrap: int = 100,
) -> AnswerModel | None:
    """Estimate the judge's false-yes and false-no rates (and its choices' accuracy) from its answers.

    Parameters
    ----------
    groups : sequence of ndarray of shape (n_utterances, n_candidates)
        Scores (>= 0.5 is yes; NaN: not asked or failed) of utterances asked about several
        candidate labels, best-scored first; one array per way of choosing them (the shares of
        right labels per position are estimated per group, the rates are shared).
    rng : numpy Generator
        Draws the bootstrap samples.
    picks : sequence of int ndarray of shape (n_utterances, n_questions), optional
        Per group, the same utterances' multiple choices among all their candidates (in any
        order, options read back to positions): the position picked, ``n_candidates`` for
        "none", -1 where not asked or failed. The choices' accuracy (P(the right option is
        picked)) is estimated with the rates, the choices helping to place each right label.
    n_bootstrap : int
        Bootstrap resamples of the utterances (within each group) behind the intervals.

    Returns
    -------
    AnswerModel, or None when no utterance has yes/no answers about two candidates or more.
    Its posteriors have one row per utterance given, in order (an utterance without answers
    gets the shares).
    """
    groups = [np.asarray(g, dtype=np.float64) for g in groups]
    if picks is None:
        picks = [np.full((len(g), 0), -1) for g in groups]
    picks = [np.asarray(p, dtype=np.int64).reshape(len(g), -1) for p, g in zip(picks, groups)]
    least = 1 if any((p >= 0).any() for p in picks) else 2  # a choice places the right label too
    if not any(((~np.isnan(g)).sum(axis=1) >= least).any() for g in groups if g.ndim == 2 and g.shape[1] >= 2):
        return None
    usable = [g.ndim == 2 and g.shape[1] >= 2 for g in groups]
    groups = [g if ok else np.zeros((0, 2)) for g, ok in zip(groups, usable)]
    picks = [p if ok else np.zeros((0, 0), dtype=np.int64) for p, ok in zip(picks, usable)]
    false_yes, false_no, accuracy, shares, posteriors = _em(groups, picks)
    draws = []
    for _ in range(n_bootstrap):
        rows = [rng.integers(len(g), size=len(g)) for g in groups]
        fy, fn, acc, _, _ = _em(  # near the estimate: one start
            [g[r] for g, r in zip(groups, rows)], [p[r] for p, r in zip(picks, rows)], [(false_yes, false_no, accuracy)]
        )
        draws.append((fy, fn, 1.0 - fy - fn, acc))
    low, high = np.quantile(np.array(draws), INTERVAL, axis=0)
    n_choices = int(sum((p >= 0).sum() for p in picks))
    return AnswerModel(
        false_yes=false_yes,
        false_no=false_no,
        false_yes_interval=(float(low[0]), float(high[0])),
        false_no_interval=(float(low[1]), float(high[1])),
        separation_interval=(float(low[2]), float(high[2])),
        shares=shares,
        posteriors=posteriors,
        n_utterances=int(sum(((~np.isnan(g)).sum(axis=1) > 0).sum() for g in groups)),
        n_pairs=int(sum((~np.isnan(g)).sum() for g in groups)),
        choice_accuracy=accuracy if n_choices else None,
        choice_accuracy_interval=(float(low[3]), float(high[3])) if n_choices else None,
        n_choices=n_choices,
        n_choice_options=max((g.shape[1] + 1 for g, p in zip(groups, picks) if (p >= 0).any()), default=0),
    )


def judge_weight(separation: float, *, min_separation: float) -> float:
    """How far to follow the refinement: 1 for a separation of at least ``min_separation``, else 0 (zero-shot)."""
    return 1.0 if separation >= min_separation else 0.0


def position_counts(first: Sequence[int], second: Sequence[int], n_options: Sequence[int]) -> tuple[int, int, int]:
    """Twice-asked multiple choices answered with the first option shown both times, with the last, and in all.

    The order probe shows the same candidates in two orders, so "first both times" (or "last both
    times") names two different labels. Questions with one candidate are left out: both orders are
    the same question.

    Parameters
    ----------
    first, second : sequences of int
        The option position answered each time (the "none" option is ``n_options - 1``).
    n_options : sequence of int
        Options of each question, "none" included.
    """
    first_at, second_at, options = np.asarray(first), np.asarray(second), np.asarray(n_options)
    real = options > 2
    last = options - 2  # the last real option: the first one of the other order
    n_first = int(((first_at == 0) & (second_at == 0) & real).sum())
    n_last = int(((first_at == last) & (second_at == last) & real).sum())
    return n_first, n_last, int(real.sum())


def position_bias(first: Sequence[int], second: Sequence[int], n_options: Sequence[int]) -> tuple[float, float, float]:
    """How far twice-asked multiple choices follow the options' positions rather than the options.

    The share answered with the first option shown both times minus the share answered with the
    last one both times (see :func:`position_counts`). A judge whose answers depend on the options
    alone, however noisy, gives both the same chance (each order's first option is the other's
    last), so the difference is 0 on average; one that picks the first option moves it towards 1,
    one that picks the last towards -1.

    Returns
    -------
    bias, low, high : float
        The difference and its 90% (normal) interval, within [-1, 1].
    """
    n_first, n_last, n = position_counts(first, second, n_options)
    if n == 0:
        return 0.0, -1.0, 1.0
    p_first, p_last = n_first / n, n_last / n
    bias = p_first - p_last
    half = 1.645 * np.sqrt(max(p_first + p_last - bias * bias, 1.0 / n) / n)
    return bias, float(max(-1.0, bias - half)), float(min(1.0, bias + half))


@dataclass(frozen=True)
class JudgeQuality:
    """The judge's quality, estimated from its own answers, and what the fit decided from it.

    Attributes
    ----------
    false_yes, false_no : float or None
        Estimated P(yes | a near-miss label) and P(no | the right label), from the check's
        yes/no answers (None when the budget left no room to measure).
    false_yes_interval, false_no_interval : (float, float) or None
        90% bootstrap intervals.
    separation : float or None
        ``1 - false_yes - false_no``.
    choice_accuracy : float or None
        Multiple-choice fits: P(a choice names the right option), estimated from the check's
        choices (each checked utterance gets one) and the order probe's, beside the yes/no answers.
    choice_accuracy_interval : (float, float) or None
        Its 90% bootstrap interval.
    choice_separation : float or None
        ``choice_accuracy - (1 - choice_accuracy) / (n_options - 1)``: 0 for choices made at random,
        1 for choices never wrong. A multiple-choice fit's judge weight rests on it.
    far_false_yes : float or None
        Multi-label fits: the share of far labels (from the bottom of each checked text's
        ranking) the judge accepted. The fit's decision is :func:`decide_multilabel`'s.
    held_out_auc : float or None
        Multi-label fits: how far the judge's answers over the whole fit can be predicted from
        the texts, by each label's refinement fitted without them (ROC AUC per label, averaged
        by answers; 0.5: no better than coin flips). See :func:`decide_multilabel`.
    position_bias : float or None
        Share of the order probe's questions answered with the first option shown in both
        orders, less the share answered with the last one in both (0 for a judge that reads
        the options, however noisy; 1 for one that always picks the first; see
        :func:`position_bias`). None when no probe ran; ``position_bias_interval`` is its
        90% interval.
    n_check_utterances, n_check_pairs, n_check_choices : int
        The check: random pool utterances asked yes/no about their best zero-shot labels (and,
        in a multiple-choice fit, one multiple choice each).
    n_model_utterances, n_model_pairs : int
        Utterances and pairs the rates rest on (the check's answered ones).
    n_probe_questions : int
        Order-probe questions asked in both orders.
    check_share : float
        Share of the fit's budget that the check spent.
    check_reused : bool
        Whether the check is an earlier fit's, kept by a ``warm_start`` refit where its
        questions still stand (this fit spent nothing on it).
    zero_shot_accuracy : float or None
        The zero-shot classifier's accuracy estimated on the check utterances from the answers.
    judge_weight : float
        1 when the final scores follow the refinement, 0 when they are zero-shot's.
    false_yes_used, false_no_used : float
        The noise rates the final fit read the answers through.
    decision : str
        ``"refined"`` (weight 1), ``"zero-shot"`` (weight 0), or
        ``"not measured"`` (too small a budget: weight 1, default noise rates).
    reason : str
        The decision in words, with its numbers.
    checks : tuple of CandidateCheck
        The check's questions and answers.
    """

    false_yes: float | None = None
    false_yes_interval: tuple[float, float] | None = None
    false_no: float | None = None
    false_no_interval: tuple[float, float] | None = None
    separation: float | None = None
    choice_accuracy: float | None = None
    choice_accuracy_interval: tuple[float, float] | None = None
    choice_separation: float | None = None
    far_false_yes: float | None = None
    held_out_auc: float | None = None
    position_bias: float | None = None
    position_bias_interval: tuple[float, float] | None = None
    n_check_utterances: int = 0
    n_check_pairs: int = 0
    n_check_choices: int = 0
    n_model_utterances: int = 0
    n_model_pairs: int = 0
    n_probe_questions: int = 0
    check_share: float = 0.0
    check_reused: bool = False
    zero_shot_accuracy: float | None = None
    judge_weight: float = 1.0
    false_yes_used: float = 0.1
    false_no_used: float = 0.1
    decision: str = "not measured"
    reason: str = ""
    checks: tuple = ()

    def describe(self) -> str:
        """One line: the rates with their 90% intervals, the position bias, the decision."""
        if (
            self.false_yes is None
            or self.false_no is None
            or self.false_yes_interval is None
            or self.false_no_interval is None
        ):
            return f"not measured ({self.reason})"
        parts = [
            f"false-yes {self.false_yes:.2f} [{self.false_yes_interval[0]:.2f}, {self.false_yes_interval[1]:.2f}]",
            f"false-no {self.false_no:.2f} [{self.false_no_interval[0]:.2f}, {self.false_no_interval[1]:.2f}]",
            f"from {self.n_check_pairs} check pairs"
            + (f" and {self.n_check_choices} choices " if self.n_check_choices else " ")
            + ("of an earlier fit (warm start)" if self.check_reused else f"({self.check_share:.0%} of the budget)"),
        ]
        if self.choice_accuracy is not None and self.choice_accuracy_interval is not None:
            low, high = self.choice_accuracy_interval
            parts.append(f"choices right {self.choice_accuracy:.2f} [{low:.2f}, {high:.2f}]")
        if self.far_false_yes is not None:
            parts.append(f"yes to {self.far_false_yes:.0%} of far labels")
        if self.position_bias is not None:
            parts.append(f"position bias {self.position_bias:.2f} on {self.n_probe_questions} probe questions")
        parts.append(f"judge weight {self.judge_weight:g} ({self.decision})")
        return "; ".join(parts)

    def summary(self) -> dict:
        """The estimates and the decision as plain numbers and strings (for logs, JSON, a served model)."""
        keys = ("false_yes", "false_yes_interval", "false_no", "false_no_interval", "separation", "choice_accuracy",
                "choice_accuracy_interval", "choice_separation", "far_false_yes", "held_out_auc", "position_bias",
                "position_bias_interval", "n_check_utterances", "n_check_pairs", "n_check_choices", "n_model_pairs",
                "n_probe_questions", "check_share", "check_reused", "zero_shot_accuracy", "judge_weight", "decision",
                "reason")  # fmt: skip
        return {key: _plain(getattr(self, key)) for key in keys}


def _plain(value: object) -> object:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return round(float(value), 4)
    return value


MIN_SEPARATION = 0.15
"""The estimated separation ``1 - false_yes - false_no`` a judge needs to be followed: under it the fit
ends at zero-shot (weight 0: its yes and no barely depend on whether the label is right, as a random
judge's, or one that always says yes, or always no), from it on the fit follows the refinement
(weight 1), read through the measured rates. In the judge zoo (``benchmarks/judge_zoo.py``) a random
judge's estimate reached 0.07, the weakest judge that helps 0.17. Fits once blended zero-shot and
the refinement for separations of 0.15-0.30 (weight rising linearly): 7 of the zoo's 8 blended fits
did better followed (the other lost 0.3 point), e.g. SNIPS with 30% flips 0.841 -> 0.879, Banking77
with a near-miss judge 0.636 -> 0.706, so the blend was dropped. An earlier rule also lowered the
weight when the checked utterances rated a blend's held-out predictions better: with 52 of them on
Banking77 it shrank a perfect judge's fit from 0.89 to 0.72, so it was dropped too."""
READ_SEPARATION = 0.30
"""The least separation :func:`bounded_rates` leaves between the rates a followed judge's answers are read through."""


def choices_anchored(answer_model: AnswerModel, n_probe: int) -> bool:
    """Whether anything besides the choices themselves rates them.

    Yes/no answers that depend on the label (separation at least :data:`MIN_SEPARATION`, or the
    lower end of its 90% interval above 0), or order-probe questions asked twice (``n_probe``).
    Without either the choices' accuracy is unidentified: a judge that always picks the last option
    and says yes to everything fits as a perfect chooser whose right labels all sit last, and a
    ``judging="choice"`` fit followed it to 0.07-0.21 on SNIPS (zero-shot 0.76). The point
    estimate counts because a dozen utterances' yes/no answers are noisy: GoldJudge with 15% of
    its answers flipped got an interval of -0.19 to 0.71 around 0.33.
    """
    separation, (low, _) = answer_model.separation, answer_model.separation_interval
    return n_probe > 0 or separation >= MIN_SEPARATION or low > 1e-9  # above 0 beyond rounding


def assess_judge(
    answer_model: AnswerModel | None,
    *,
    probe: tuple[Sequence[int], Sequence[int], Sequence[int]] | None,
    checks: Sequence[CandidateCheck],
    budget: int,
    noise_rates: tuple[float, float],
    checks_reused: bool = False,
    check_units: int | None = None,
    far_false_yes: float | None = None,
    judging: str = "yes_no",
    probe_rejects_choices: bool = False,
) -> JudgeQuality:
    """The judge's quality and the fit's decision: how far to follow the refinement (see :class:`JudgeQuality`).

    Parameters
    ----------
    answer_model : AnswerModel or None
        From :func:`fit_answer_model` on the check's answers (None: not measured).
    probe : (first, second, n_options) or None
        The order probe's answered positions, as :func:`position_bias` takes them.
    checks : sequence of CandidateCheck
        The check's questions.
    budget : int
        Units the fit could spend (for ``check_share``).
    noise_rates : (float, float)
        The false-yes and false-no rates the final fit used.
    checks_reused : bool
        Whether ``checks`` are an earlier fit's (``warm_start``): nothing of this fit's budget went to them.
    check_units : int, optional
        Units of the budget the check spent: its pairs when None (yes/no), its utterances when
        each was one multi-label question.
    far_false_yes : float, optional
        Multi-label: the share of far labels (the bottom of each checked utterance's ranking)
        accepted. The judge weight then rests on ``1 - false_no - far_false_yes``, how far the
        judge tells right labels from plainly wrong ones: a text may carry several labels, and
        a judge that says yes to near misses can still be worth following.
    judging : str
        The question the fit asked: with ``"choice"`` the judge weight rests on the choices'
        separation (:attr:`AnswerModel.choice_separation`) where the check rated them.
    probe_rejects_choices : bool
        The order probe found the choices following the options' positions, or chance, in a fit
        that asks multiple choice all the same (``judging="choice"``): the judge weight is 0.
    """
    bias, bias_interval, n_probe = None, None, 0
    if probe is not None and len(probe[0]):
        share, low, high = position_bias(*probe)
        bias, bias_interval, n_probe = share, (low, high), len(probe[0])
    n_check_pairs = sum(len(c.scores) for c in checks)
    n_check_choices = sum(bool(c.choice) for c in checks)
    common: dict[str, Any] = {
        "position_bias": bias,
        "position_bias_interval": bias_interval,
        "n_check_utterances": len(checks),
        "n_check_pairs": n_check_pairs,
        "n_check_choices": n_check_choices,
        "n_probe_questions": n_probe,
        "check_share": (n_check_pairs + n_check_choices if check_units is None else check_units) / budget
        if budget and not checks_reused
        else 0.0,
        "check_reused": checks_reused,
        "false_yes_used": noise_rates[0],
        "false_no_used": noise_rates[1],
        "checks": tuple(checks),
    }
    if answer_model is None:
        return JudgeQuality(
            **common, reason="too small a budget to measure the judge: the refinement is used as fitted"
        )
    rates = (
        f"false-yes {answer_model.false_yes:.2f} (90% {answer_model.false_yes_interval[0]:.2f}-"
        f"{answer_model.false_yes_interval[1]:.2f}), false-no {answer_model.false_no:.2f} "
        f"(90% {answer_model.false_no_interval[0]:.2f}-{answer_model.false_no_interval[1]:.2f}) "
        f"on {answer_model.n_pairs} pairs about {answer_model.n_utterances} utterances"
    )
    bounds = f"followed from {MIN_SEPARATION}"
    choice_accuracy, choice_interval = answer_model.choice_accuracy, answer_model.choice_accuracy_interval
    choice_separation = answer_model.choice_separation
    if choice_separation is not None and not choices_anchored(answer_model, n_probe):
        choice_accuracy = choice_interval = choice_separation = None  # unidentified: not reported, not followed
    if choice_separation is not None:
        low, high = choice_interval or (np.nan, np.nan)
        rates += (
            f"; its choices right {choice_accuracy:.2f} of the time (90% {low:.2f}-{high:.2f}) on "
            f"{answer_model.n_choices} choices"
        )
    if judging == "choice" and probe_rejects_choices:
        separation = 0.0
        measure = (
            f"the order probe ({n_probe} questions asked in both orders, position bias {bias or 0.0:.2f}) finds its "
            "choices follow the options' positions or chance; judging='auto' asks it yes/no"
        )
    elif judging == "choice" and answer_model.choice_separation is not None and choice_separation is None:
        separation = 0.0
        low, high = answer_model.separation_interval
        measure = (
            f"its yes/no answers barely depend on the label (separation {answer_model.separation:.2f}, 90% "
            f"{low:.2f}-{high:.2f}) and no order probe asked its questions twice in this fit (too small a pool or "
            "budget, or a warm-start refit), so nothing rates its choices"
        )
    elif judging == "choice" and choice_separation is not None:
        separation = choice_separation
        low, high = answer_model.choice_separation_interval or (np.nan, np.nan)
        measure = f"choice separation {separation:.2f} (90% {low:.2f}-{high:.2f}; {bounds})"
    elif far_false_yes is None:
        separation = answer_model.separation
        low, high = answer_model.separation_interval
        measure = f"separation {separation:.2f} (90% {low:.2f}-{high:.2f}; {bounds})"
    else:
        separation = 1.0 - answer_model.false_no - far_false_yes
        measure = f"yes to {far_false_yes:.0%} of far labels: right-versus-far separation {separation:.2f} ({bounds})"
    weight = judge_weight(separation, min_separation=MIN_SEPARATION)
    decision = "refined" if weight else "zero-shot"
    if judging == "choice" and choice_separation is not None and not weight and not probe_rejects_choices:
        measure += (
            "; its choices barely depend on the right label: if its yes/no answers are better, judging='yes_no' "
            "asks it those instead"
        )
    reason = ("an earlier fit's check (warm start): " if checks_reused else "") + f"{rates}: {measure}"
    posterior = answer_model.posteriors[0]
    return JudgeQuality(
        **common,
        false_yes=answer_model.false_yes,
        false_yes_interval=answer_model.false_yes_interval,
        false_no=answer_model.false_no,
        false_no_interval=answer_model.false_no_interval,
        separation=answer_model.separation,
        choice_accuracy=choice_accuracy,
        choice_accuracy_interval=choice_interval,
        choice_separation=choice_separation,
        far_false_yes=far_false_yes,
        n_model_utterances=answer_model.n_utterances,
        n_model_pairs=answer_model.n_pairs,
        zero_shot_accuracy=float(posterior[:, 0].mean()) if len(posterior) else None,
        judge_weight=weight,
        decision=decision,
        reason=reason,
    )


LEARNABLE_AUC = 0.6
"""How well a multi-label judge's answers must be predicted from the texts (ROC AUC of each label's
refinement fitted without them, over the fit's hundreds of answers) to be followed. Measured on
MixATIS (seeds 0-2): GoldJudge 0.98, the near-miss simulator 0.67-0.68, a random judge 0.39-0.43.
The check, a dozen texts, cannot draw that line: it put the near-miss simulator's false-no rate at
0.46-0.49 (true 0.13) and once a random judge's at 0.07."""


def decide_multilabel(quality: JudgeQuality, *, n_yes: int, n_no: int, held_out_auc: float | None) -> JudgeQuality:
    """A multi-label fit's decision: follow the judge (weight 1) or fall back to zero-shot (weight 0).

    Texts may carry several labels and a weak zero-shot model is a poor thing to blend with, so
    there is no partial weight. The fit falls back to zero-shot for a judge that gave one answer
    to every question, whose answers the texts do not predict (``held_out_auc`` under
    :data:`LEARNABLE_AUC`: coin flips), or that the check finds accepting far labels at least as
    readily as right ones (``1 - false_no - far_false_yes`` below 0: consistently wrong).

    Parameters
    ----------
    quality : JudgeQuality
        From :func:`assess_judge`, with ``far_false_yes`` when the check asked far labels.
    n_yes, n_no : int
        The fit's answers.
    held_out_auc : float or None
        See :attr:`JudgeQuality.held_out_auc` (None where no label had both answers).
    """
    auc = f"{held_out_auc:.2f}" if held_out_auc is not None else "none (no label had both answers)"
    learnable = f"answers predicted from the texts with AUC {auc}"
    right_over_far = None
    if quality.false_no is not None and quality.far_false_yes is not None:
        right_over_far = 1.0 - quality.false_no - quality.far_false_yes
    if n_yes == 0 or n_no == 0:
        weight, reason = 0.0, f"it answered {'yes' if n_no == 0 else 'no'} to all {n_yes + n_no} questions"
    elif held_out_auc is None or held_out_auc < LEARNABLE_AUC:
        weight, reason = 0.0, f"{quality.reason}; {learnable}, under {LEARNABLE_AUC}: no better than chance"
    elif right_over_far is not None and right_over_far < 0.0:
        weight, reason = 0.0, f"{quality.reason}: it accepts far labels at least as readily as right ones"
    else:
        weight, reason = 1.0, f"{quality.reason}; {learnable}: followed"
    decision = "not measured" if weight and quality.decision == "not measured" else "refined" if weight else "zero-shot"
    return replace(quality, judge_weight=weight, decision=decision, reason=reason, held_out_auc=held_out_auc)


def bounded_rates(false_yes: float, false_no: float) -> tuple[float, float]:
    """Error rates to read answers through, scaled down (in proportion) to leave a separation of ``READ_SEPARATION``.

    Read through rates that leave almost no separation, a followed judge's answers would give
    every label a flat curve; the bound keeps them informative.
    """
    total = false_yes + false_no
    if total <= 1.0 - READ_SEPARATION:
        return false_yes, false_no
    scale = (1.0 - READ_SEPARATION) / total
    return false_yes * scale, false_no * scale
