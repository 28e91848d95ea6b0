"""The judging loop: choose pairs, ask the judge, check its scores, refine, and again.

:func:`run_judging` is what :meth:`ZeroShotClassifier.fit` runs between embedding and
calibration. It works on arrays in the space the classifier scores in and returns a
:class:`JudgingResult`; the estimator turns that into fitted attributes.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import NamedTuple

import numpy as np
from scipy.special import expit, softmax

from ._calibration import fit_label_sigmoids
from ._judge_quality import MIN_SEPARATION, AnswerModel, CandidateCheck, fit_answer_model, position_counts
from ._progress import progress_bar, stage
from ._refinement import ChoiceEvidence, fit_joint, fit_label_logistic, kl_refine, one_native_thread, self_train
from ._sampling import (
    select_cluster_members,
    select_low_margin,
    select_near_threshold,
    select_rank_spread,
    select_top_k,
    split_budget,
    stable_keys,
)
from .embedding import normalize_rows
from .exceptions import InvalidJudgeResponseError, JudgeError
from .judges import ChoiceRequest, Judge, JudgeRequest, LabelOption

__all__ = [
    "Choice",
    "JudgingResult",
    "Judgment",
    "OrderProbe",
    "PreviousJudging",
    "run_judging",
    "run_multilabel_judging",
]

logger = logging.getLogger(__name__)

MAX_FAILED_SHARE = 0.5
"""A fit stops with :class:`~zsclassify.JudgeError` once more than this share of its judged pairs failed."""

MIN_ORDER_CONSISTENCY = 0.6
"""``judging="auto"`` keeps multiple choice when at least this share of the order probe's
questions gets the same answer with the options reversed. A judge right with probability q
and otherwise picking the first option shown agrees with itself when right both times, or
right once while the right label is shown first: passing asks for q >= 0.65 when the
best-scored label is right 80% of the time, 0.77 when never. The 1.5B model measured in
benchmarks/HISTORY.md (first option in 86% of its answers, q about 0.24) is far below."""
MIN_POSITION_BIAS = 0.15
"""A judge under :data:`MIN_ORDER_CONSISTENCY` gets yes/no questions when its answers follow
positions: the share of probe questions answered with the first option both times exceeds the
share answered with the last one both times by at least this much
(:func:`~zsclassify._judge_quality.position_bias`; about 0.15 for a judge that picks the first
option in 40% of its questions). A judge that errs whatever the order (GoldJudge with 20-30%
of its choices moved at random agrees with itself on 50-65%) keeps multiple choice: on SNIPS
its choices refine better than its yes/no answers (benchmarks/HISTORY.md, the judge zoo)."""
MIN_BLIND_CONSISTENCY = 0.3
"""A judge whose choices agree with themselves under this share of the time gets yes/no
questions, whatever its position bias, when no judge-quality check will rate its choices (too
small a budget). A chooser right with probability q, its errors spread over k other options,
agrees with itself q^2 + (1-q)^2 / k of the time: under 0.3 it is right about half the time or
less (one that picks at random agrees 1 / (k + 1) of the time). A judge right about every yes/no
pair but choosing at random kept multiple choice and fell to 0.60 on SNIPS (zero-shot 0.76);
asked yes/no, it is a perfect judge. The smallest probe (8 questions) cannot tell the two apart
reliably: with 8 options a random chooser still keeps multiple choice 7% of the time, and a
chooser right 70% of the time is sent to yes/no 14% of the time (the safer mistake: its yes/no
answers stay well above zero-shot)."""
MIN_BLIND_CONSISTENCY_CHECKED = 0.2
""":data:`MIN_BLIND_CONSISTENCY` when a judge-quality check follows the probe: the check rates the
choices of the judges that pass against their yes/no answers and sends the near-random ones to
yes/no, or leaves their fit at zero-shot (:meth:`_Session.settle_question_form`), so the probe need
only catch most of them. With 8 probe questions a random chooser then passes about a quarter of the
time, and a chooser right 70% of the time (self-agreement 0.5) is sent to yes/no 4% of the time,
against 14% under 0.3 (SNIPS with 30% flips, budget 20: 0.841 sent to yes/no against 0.896 with
its choices)."""

ORDER_PROBE_SHARE, ORDER_PROBE_MIN, ORDER_PROBE_MAX = 0.05, 8, 30
"""The order probe asks up to 5% of the budget's questions twice, at least 8 and at most 30."""
ORDER_PROBE_STEPS = 4
"""The order probe asks its questions in this many steps, stopping once the decision is settled."""

CHECK_SHARE, CHECK_MIN, CHECK_MAX, CHECK_MAX_SHARE = 0.10, 10, 100, 0.25
"""The judge-quality check asks 10% of the budget's units, as yes/no pairs about random pool
utterances' best zero-shot labels: at least 10 utterances (6 in a multiple-choice fit after an order
probe, :data:`CHECK_MIN_AFTER_PROBE`) and at most 100, and none when the least would take more than
a quarter of the budget (the answers refine the labels too)."""
CHECK_MIN_AFTER_PROBE = 6
"""The fewest utterances a multiple-choice fit's check asks when an order probe ran before it: the
probe's twice-asked questions (8 or more) rate the choices too. Over SNIPS seeds 0-9 (budget 20, where
the least check is 21% of the budget) 6 utterances instead of 10 gave a median of 0.939 / 0.936 with
15% flips / the 80% chooser, against 0.926 / 0.922. A yes/no fit has nothing beside its check: 6
utterances let a yes/no judge with 30% flips be followed to 0.73 (zero-shot 0.76), so it keeps 10."""
CHECK_CANDIDATES = 3
"""Best zero-shot labels each checked utterance is asked about."""
CHECK_CHOICE_PAIRS = 2
"""In a multiple-choice fit, the best zero-shot labels each checked utterance is asked about as yes/no
pairs, besides one multiple choice among its candidates (three units of the budget, as three pairs).
Two pairs, because one cannot tell choices that are always wrong from yes/no answers that are: a
judge right about yes/no but consistently picking a wrong option was rated a perfect chooser with
one pair and a useless one with two (an utterance has one right label: yes to both pairs is a
mistake). One pair spends less on weaker answers: over SNIPS seeds 0-9 (budget 20) it gave a median
of 0.931 / 0.934 with 15% flips / the 80% chooser, against 0.926 / 0.922 with two."""
DEFAULT_NOISE_RATE, MIN_NOISE_RATE, MAX_NOISE_RATE = 0.1, 0.02, 0.6
"""The final fit's noise rates: assumed when not measured, and the bounds of measured ones."""


class Judgment(NamedTuple):
    """One judged (label, utterance) pair; ``score`` is NaN when the judge failed on it."""

    label: str
    text: str
    score: float
    round: int


class Choice(NamedTuple):
    """One multiple-choice judgment (``judging="choice"``).

    ``probabilities`` has one entry per option, then one for "none of these"; all NaN
    when the judge failed on it. ``answer`` is the most probable option's name, or None.
    A multi-label question's (:class:`~zsclassify.MultiLabelZeroShotClassifier`) answer is
    the tuple of the names that apply (empty for none), each option's probability its own.
    """

    text: str
    options: tuple[str, ...]
    probabilities: tuple[float, ...]
    answer: str | tuple[str, ...] | None
    round: int


class OrderProbe(NamedTuple):
    """How ``judging="auto"`` checked that the judge reads the options, not their positions.

    A few first-round questions are asked twice: as usual (best-scored label first) and
    with the options reversed. ``consistency`` is the share of them answered with the
    same label (or "none") both times, ``position_bias`` the share answered with the first
    option both times less the share answered with the last one both times. A consistent
    judge (:data:`MIN_ORDER_CONSISTENCY`), or a less consistent one whose answers neither
    follow positions (:data:`MIN_POSITION_BIAS`) nor look random (:data:`MIN_BLIND_CONSISTENCY`),
    keeps multiple choice (the first answers are then
    used as ordinary first-round answers); one that follows positions gets yes/no questions
    (the probe's answers are then not used). The questions go in steps, and ``choices``
    holds those asked before the decision was settled (the rest could not have changed it).
    """

    choices: tuple[Choice, ...]
    reversed_choices: tuple[Choice, ...]
    consistency: float
    judging: str
    position_bias: float = 0.0

    def positions(self) -> tuple[list[int], list[int], list[int]]:
        """The answered questions' option positions, each way, and their option counts ("none" included).

        As :func:`~zsclassify._judge_quality.position_bias` takes them; "none" is position
        ``n_options - 1``; a question the judge failed either way is left out.
        """
        return probe_positions(self.choices, self.reversed_choices)


class PreviousJudging(NamedTuple):
    """What an earlier fit judged, for ``warm_start``: its question, labels' descriptions, answers and quality check."""

    judging: str
    descriptions: dict[str, str]
    judgments: Sequence[Judgment]
    choices: Sequence[Choice]
    checks: Sequence[CandidateCheck] = ()


@dataclass
class JudgingResult:
    """What the judging loop learned.

    Attributes
    ----------
    coef, intercept : ndarray
        The refined linear scoring ``embedding @ coef.T + intercept``, before calibration.
    said_yes, said_no : ndarray of bool, shape (n_pool, n_labels)
        Pairs the judge accepted and rejected (a failed pair is neither). A choice says
        yes to the chosen candidate and no to the other candidates (to all for "none").
    choice_evidence : ChoiceEvidence
        The multiple-choice answers as the final fit reads them (none for yes/no judging).
    judgments : list of Judgment
        Every judged pair, in the order asked; a choice gives one per candidate, its
        score the candidate's probability.
    choices : list of Choice
        Every multiple-choice judgment (empty for yes/no judging).
    n_requests, n_judged_pairs, n_failed_pairs : int
        Questions sent to the judge (one per label per round for yes/no, one per
        utterance for choices), judged units (pairs, or utterances for choices) and
        units it could not answer.
    n_reused : int
        Judged units kept from an earlier fit (``warm_start``), not asked again.
    n_labels_judged : int
        Labels the fit had a budget for (all, or a ``warm_start`` refit's new and re-described ones).
    judging : str
        The question asked, ``"choice"`` or ``"yes_no"`` (``"auto"`` resolved by the order probe).
    order_probe : OrderProbe or None
        The order probe of ``judging="auto"``; None when none ran.
    checks : list of CandidateCheck
        The quality check's questions: random pool utterances, each asked yes/no about its
        best zero-shot labels.
    checks_reused : bool
        Whether ``checks`` are an earlier fit's, kept by a ``warm_start`` refit (asked nothing now).
    answer_model : AnswerModel or None
        The judge's error rates estimated from ``checks``.
    far_false_yes : float or None
        Multi-label check: the share of labels from the bottom of each checked utterance's
        ranking that the judge accepted (None when not asked).
    """

    coef: np.ndarray
    intercept: np.ndarray
    said_yes: np.ndarray
    said_no: np.ndarray
    choice_evidence: ChoiceEvidence
    judgments: list[Judgment] = field(default_factory=list)
    choices: list[Choice] = field(default_factory=list)
    n_requests: int = 0
    n_judged_pairs: int = 0
    n_failed_pairs: int = 0
    n_reused: int = 0
    n_labels_judged: int = 0
    judging: str = "yes_no"
    order_probe: OrderProbe | None = None
    checks: list[CandidateCheck] = field(default_factory=list)
    checks_reused: bool = False
    answer_model: AnswerModel | None = None
    far_false_yes: float | None = None


def cosine_scoring(label_embeddings: np.ndarray, logit_scale: float) -> tuple[np.ndarray, np.ndarray]:
    """``coef`` and ``intercept`` that score by ``logit_scale`` times the cosine to each label."""
    return logit_scale * normalize_rows(label_embeddings), np.zeros(len(label_embeddings))


def run_judging(
    judge: Judge,
    names: Sequence[str],
    descriptions: Sequence[str],
    pool: Sequence[str],
    documents: np.ndarray,
    queries: np.ndarray,
    generator: np.random.Generator,
    *,
    judge_budget: int,
    n_rounds: int,
    sampling: str,
    refinement: str,
    judging: str,
    n_candidates: int,
    C: float,
    learning_rate: float,
    n_steps: int,
    logit_scale: float,
    show_progress: bool | None = None,
    previous: PreviousJudging | None = None,
) -> JudgingResult:
    """Judge chosen pairs and refine the label scoring from the answers.

    ``refinement="kl"`` judges once (each label's top-k by default) and runs the paper's
    per-label KL update. Otherwise the judge is asked in ``n_rounds`` rounds; with
    ``"joint"`` all labels are refitted together between rounds and the last fit is
    :func:`~zsclassify._refinement.self_train`. With ``judging="choice"`` each chosen
    utterance is one question: which of its ``n_candidates`` best-scored labels, if any,
    does it express.

    Parameters
    ----------
    judge : Judge
    names, descriptions : sequences of str
        The labels.
    pool : sequence of str
        Distinct utterances; ``documents`` holds their embeddings, row for row.
    documents, queries : ndarray
        Pool and description embeddings, unit length, in the space the classifier scores in.
    generator : numpy Generator
        Randomness of the sampling.
    judge_budget, n_rounds, sampling, refinement, judging, n_candidates, C, learning_rate, n_steps, logit_scale, \
show_progress
        As the parameters of :class:`~zsclassify.ZeroShotClassifier`. ``judging`` is
        ``"choice"``, ``"yes_no"`` or ``"auto"``: multiple choice if the judge passes an
        order probe (:class:`OrderProbe`, paid from the budget), else yes/no.
    previous : PreviousJudging, optional
        An earlier fit's answers (``warm_start``, ``refinement="joint"``): those whose
        question is unchanged are kept, and only new or re-described labels are judged,
        with the earlier fit's question.
    """
    session = _Session(judge, names, descriptions, pool, sampling, generator)
    session.result.n_labels_judged = len(names)
    session.coef, session.intercept = cosine_scoring(queries, logit_scale)
    if refinement == "kl":
        return session.kl(documents, queries, judge_budget, learning_rate, n_steps, logit_scale, show_progress)
    if previous is not None:
        judging = previous.judging
    to_judge = np.ones(len(names), dtype=bool) if previous is None else session.reuse(previous, judging)
    session.result.n_labels_judged = int(to_judge.sum())
    total = judge_budget * int(to_judge.sum())
    checks = refinement == "joint" and previous is None
    session.result.judging = judging
    if judging in ("auto", "choice"):  # "choice": the probe's twice-asked questions help the check rate the choices
        decide = judging == "auto"
        total -= session.probe_order(documents, n_candidates, to_judge, total, n_rounds, show_progress, checks, decide)
    if refinement == "joint" and previous is None:  # the check is paid from the budget: counted as judged
        choosing = session.result.judging == "choice"
        session.check_quality(documents, total, show_progress, choice_candidates=n_candidates if choosing else 0)
        if judging == "auto" and choosing:
            session.settle_question_form()
    elif refinement == "joint" and previous is not None:
        session.reuse_checks(previous)
    ask = session.ask if session.result.judging == "yes_no" else partial(session.ask_choices, documents, n_candidates)
    return session.rounds(ask, to_judge, documents, queries, total, n_rounds, refinement == "joint", C, show_progress)


def run_multilabel_judging(
    judge: Judge,
    names: Sequence[str],
    descriptions: Sequence[str],
    pool: Sequence[str],
    documents: np.ndarray,
    queries: np.ndarray,
    generator: np.random.Generator,
    *,
    judge_budget: int,
    n_rounds: int,
    refinement: str,
    judging: str,
    n_candidates: int,
    C: float,
    learning_rate: float,
    n_steps: int,
    logit_scale: float,
    check_rows: np.ndarray | None = None,
    show_progress: bool | None = None,
) -> JudgingResult:
    """Judge labels of pool utterances, each label on its own, and refine each label's direction.

    ``judging="yes_no"`` asks (label, utterance) pairs, ``judge_budget * n_labels`` of them;
    ``"choice"`` asks, for ``judge_budget * n_labels`` utterances, which of their
    ``n_candidates`` most probable labels apply (any number, or none): every answer is a
    "yes" or a "no" for each candidate shown.

    ``refinement="kl"`` judges each label's top utterances once (yes/no) and runs the paper's
    per-label KL update. Otherwise the judge is asked in ``n_rounds`` rounds: the first spreads
    each label's questions over its best-ranked utterances
    (:func:`~zsclassify._sampling.select_rank_spread`), later ones ask where the current model
    is least sure of the label (:func:`~zsclassify._sampling.select_near_threshold`). A
    ``"choice"`` question about an utterance shows the labels that chose it and its most
    probable others. Between rounds each label is refitted on its answers (``"logistic"``:
    :func:`~zsclassify._refinement.fit_label_logistic`; ``"none"``: the descriptions with a
    logistic curve per label, :func:`~zsclassify._calibration.fit_label_sigmoids`).

    ``check_rows`` (pool rows of one clause, which carry at most one right label) lets a
    judge-quality check run after the first round, on the best labels of the first round's fit
    and a far one (:meth:`_Session.check_quality`, in the question form of ``judging``; none
    with one round); ``result.answer_model`` and ``result.far_false_yes`` hold its estimates.
    ``None``: no check.

    Returns
    -------
    JudgingResult
        ``coef`` and ``intercept``: the per-label logits of the last fit (``"logistic"``), or
        the unit-length label directions and zeros (``"kl"``, ``"none"``). Either is
        calibrated by the caller.
    """
    session = _Session(judge, names, descriptions, pool, "auto", generator)
    result = session.result
    result.n_labels_judged = len(names)
    session.coef, session.intercept = cosine_scoring(queries, logit_scale)
    if refinement == "kl":
        session.kl(documents, queries, judge_budget, learning_rate, n_steps, logit_scale, show_progress)
        result.coef, result.intercept = normalize_rows(result.coef), np.zeros(len(names))
        return result

    def current_logits() -> tuple[np.ndarray, np.ndarray]:
        if refinement == "none":
            slopes, intercepts = fit_label_sigmoids(documents @ queries.T, result.said_yes, result.said_no)
            return slopes[:, None] * queries, intercepts
        with one_native_thread():
            return fit_label_logistic(queries, documents, result.said_yes, result.said_no, C=C)

    n_labels, total = len(names), judge_budget * len(names)
    result.judging = judging
    window = max(judge_budget, len(pool) // n_labels)
    with progress_bar(total, "judging", show_progress, unit="pair" if judging == "yes_no" else "question") as bar:
        for round_index in range(n_rounds):
            quota = split_budget(total, n_labels, n_rounds, round_index, result.n_judged_pairs)
            if round_index == 0:
                scores = documents @ queries.T
                labels, items = select_rank_spread(scores, session.asked, quota, window)
            else:
                coef, intercept = current_logits()
                scores = documents @ coef.T + intercept
                labels, items = select_near_threshold(expit(scores), session.asked, quota)
            if len(labels) == 0:
                break
            bar.set_description(f"judging round {round_index + 1}/{n_rounds}")
            judged_before = result.n_judged_pairs
            if judging == "yes_no":
                session.ask(labels, items, round_index)
            else:
                items, candidates = selection_candidates(scores, labels, items, int(quota.sum()), n_candidates)
                session.ask_selections(items, candidates, round_index)
            session.report(bar, result.n_judged_pairs - judged_before)
            if round_index == 0 and check_rows is not None and n_rounds > 1:
                # after the first round, whose answers put the right label among more texts' best three
                session.coef, session.intercept = current_logits()
                unasked = check_rows[~session.asked[check_rows].any(axis=1)]
                session.check_quality(
                    documents, total, show_progress, eligible=unasked, multiple=judging == "choice", far=True
                )
    result.coef, result.intercept = (queries, np.zeros(n_labels)) if refinement == "none" else current_logits()
    return result


def selection_candidates(
    scores: np.ndarray, labels: np.ndarray, items: np.ndarray, n_questions: int, n_candidates: int
) -> tuple[np.ndarray, np.ndarray]:
    """The utterances of a round's multi-label questions and each one's candidates, best-scored first.

    ``(labels, items)`` are the pairs the sampling chose; each distinct utterance (at most
    ``n_questions``) is one question, showing the labels that chose it and then its best-scored
    other labels, ``n_candidates`` in all (a label never shown would never be learned).
    """
    questions = _distinct(items)[:n_questions]
    candidates = np.empty((len(questions), n_candidates), dtype=np.int64)
    for row, item in enumerate(questions):
        chosen_by = list(dict.fromkeys(labels[items == item].tolist()))[:n_candidates]
        ranked = [label for label in np.argsort(-scores[item], kind="stable").tolist() if label not in chosen_by]
        shown = np.array(chosen_by + ranked[: n_candidates - len(chosen_by)])
        candidates[row] = shown[np.argsort(-scores[item, shown], kind="stable")]
    return questions, candidates


class _Session:
    """The state of one fit's judging: pairs asked, answers, counts."""

    def __init__(self, judge, names, descriptions, pool, sampling: str, generator: np.random.Generator) -> None:
        self.judge = judge
        self.names = names
        self.descriptions = descriptions
        self.pool = pool
        self.sampling = sampling
        self.salt = int(generator.integers(2**63))  # one seed for the (label, utterance) draws of cluster sampling
        self.bootstrap = np.random.default_rng(self.salt)  # the answer model's resamples, apart from the fit's draws
        n_pool, n_labels = len(pool), len(names)
        self.result = JudgingResult(
            coef=np.zeros((n_labels, 0)),
            intercept=np.zeros(n_labels),
            said_yes=np.zeros((n_pool, n_labels), dtype=bool),
            said_no=np.zeros((n_pool, n_labels), dtype=bool),
            choice_evidence=ChoiceEvidence.empty(n_pool, n_labels),
        )
        self.asked = np.zeros((n_pool, n_labels), dtype=bool)
        self.coef, self.intercept = np.zeros((n_labels, 0)), np.zeros(n_labels)  # the scoring between rounds
        self.usage_before = getattr(judge, "usage", None)

    def report(self, bar, n_pairs: int) -> None:
        """Advance the judging bar by ``n_pairs``: pairs done, accepted so far, cost so far (LLM judges)."""
        bar.update(n_pairs)
        status: dict[str, object] = {"accepted": int(self.result.said_yes.sum())}
        usage = getattr(self.judge, "usage", None)
        if self.usage_before is not None and usage is not None and usage.cost_usd is not None:
            status["cost"] = f"${usage.cost_usd - (self.usage_before.cost_usd or 0.0):.4f}"
        bar.set_postfix(status, refresh=True)

    @cached_property
    def text_keys(self) -> np.ndarray:
        """The pool's hash keys for cluster sampling (computed only if a fit samples clusters)."""
        return stable_keys(self.pool, self.salt)

    @cached_property
    def label_keys(self) -> np.ndarray:
        return stable_keys(self.names, self.salt)

    def choose(self, logits, quota, round_index: int = 0, exclude=None, default: str = "margin"):
        strategy = default if self.sampling == "auto" else self.sampling
        if strategy == "top_k":
            return select_top_k(logits, self.asked, quota)
        if strategy == "margin" and round_index > 0:
            return select_low_margin(softmax(logits, axis=1), self.asked, quota, exclude)
        return select_cluster_members(logits, self.asked, quota, self.text_keys, self.label_keys)

    def ask(self, labels: np.ndarray, items: np.ndarray, round_index: int) -> np.ndarray:
        """Send the chosen pairs to the judge, grouped by label; record and return the scores."""
        self.asked[items, labels] = True
        requests, positions = [], []
        for label in np.unique(labels):
            where = np.flatnonzero(labels == label)
            requests.append(
                JudgeRequest(
                    label=str(self.names[label]),
                    description=self.descriptions[label],
                    texts=tuple(self.pool[i] for i in items[where]),
                )
            )
            positions.append(where)
        answers = self.judge.judge(requests)
        if len(answers) != len(requests):
            raise InvalidJudgeResponseError(
                f"The judge returned {len(answers)} score lists for {len(requests)} requests."
            )
        scores = np.full(len(labels), np.nan)
        for request, where, answer in zip(requests, positions, answers):
            scores[where] = check_scores(answer, request)
        result = self.result
        result.n_requests += len(requests)
        self._count(len(labels), int(np.isnan(scores).sum()), round_index)
        result.judgments.extend(
            Judgment(str(self.names[label]), self.pool[item], float(score), round_index)
            for label, item, score in zip(labels, items, scores)
        )
        yes, no = scores >= 0.5, scores < 0.5  # NaN (failed) is neither
        result.said_yes[items[yes], labels[yes]] = True
        result.said_no[items[no], labels[no]] = True
        logger.info("round %d: %d pairs judged, %d accepted", round_index, len(labels), int(yes.sum()))
        return scores

    def ask_choices(self, documents, n_candidates: int, labels: np.ndarray, items: np.ndarray, round_index: int):
        """One multiple-choice question per chosen utterance: its best-scored labels, or none.

        ``labels`` (whose quota picked each utterance) is not shown to the judge: the
        candidates are the utterance's ``n_candidates`` best labels under the current scores,
        best first. (A shuffled order was measured and rejected: a small LLM's answers then
        fell to chance, see benchmarks/HISTORY.md.)
        """
        items = _distinct(items)  # one question per utterance
        candidates = self.candidates(documents, items, n_candidates)
        probabilities = self.choose_among(items, candidates)
        self.keep_choices(items, candidates, probabilities, round_index)
        result = self.result
        logger.info(
            "round %d: %d utterances judged, %d placed in a label",
            round_index,
            len(items),
            int(result.said_yes[items].any(axis=1).sum()),
        )

    def candidates(self, documents: np.ndarray, items: np.ndarray, n_candidates: int) -> np.ndarray:
        """Each utterance's ``n_candidates`` best labels under the current scores, best first."""
        logits = documents[items] @ self.coef.T + self.intercept
        return np.argsort(-logits, axis=1, kind="stable")[:, :n_candidates]

    def choose_among(
        self, items: np.ndarray, candidates: np.ndarray, order_probe: bool = False, multiple: bool = False
    ) -> np.ndarray:
        """Ask one multiple choice per utterance among its candidates (in that order); checked probabilities."""
        requests = [
            ChoiceRequest(
                self.pool[item],
                tuple(LabelOption(self.names[c], self.descriptions[c]) for c in options),
                order_probe=order_probe,
                multiple=multiple,
            )
            for item, options in zip(items, candidates)
        ]
        answers = self.judge.choose(requests)
        if len(answers) != len(requests):
            raise InvalidJudgeResponseError(f"The judge returned {len(answers)} choices for {len(requests)} requests.")
        self.result.n_requests += len(requests)
        return np.array([check_choice(answer, request) for answer, request in zip(answers, requests)])

    def keep_choices(self, items, candidates, probabilities, round_index: int) -> None:
        """Count, warn about failures and record answered choices (:meth:`record_choice`)."""
        self.asked[items] = True
        self._count(len(items), int(np.isnan(probabilities).any(axis=1).sum()), round_index, "choices")
        for item, options, answer in zip(items, candidates, probabilities):
            self.record_choice(item, options, answer, round_index)

    def ask_selections(self, items: np.ndarray, candidates: np.ndarray, round_index: int) -> np.ndarray:
        """Multi-label: ask which of its candidates apply to each utterance; yes to those that do, no to the rest.

        Returns the checked answers: per utterance, each candidate's probability, then "none"'s.
        """
        answers = self.choose_among(items, candidates, multiple=True)
        self.asked[items] = True  # one question per utterance
        self._count(len(items), int(np.isnan(answers).any(axis=1).sum()), round_index, "choices")
        result = self.result
        for item, options, answer in zip(items, candidates, answers):
            names = tuple(str(self.names[c]) for c in options)
            failed = bool(np.isnan(answer).any())
            applies = np.zeros(len(options), dtype=bool) if failed else answer[:-1] >= 0.5
            chosen = None if failed else tuple(name for name, yes in zip(names, applies) if yes)
            result.choices.append(Choice(self.pool[item], names, tuple(answer.tolist()), chosen, round_index))
            result.judgments.extend(
                Judgment(name, self.pool[item], float(p), round_index) for name, p in zip(names, answer)
            )
            if not failed:
                result.said_yes[item, options[applies]] = True
                result.said_no[item, options[~applies]] = True
        logger.info("round %d: %d utterances judged, %d labels accepted", round_index, len(items),
                    int(result.said_yes[items].sum()))  # fmt: skip
        return answers

    def as_choice(self, item: int | np.integer, options: np.ndarray, answer: np.ndarray, round_index: int) -> Choice:
        """One answered question as a :class:`Choice` (answer None for "none" or a failure)."""
        names = tuple(str(self.names[c]) for c in options)
        best = -1 if np.isnan(answer).any() else int(np.argmax(answer))
        chosen = names[best] if 0 <= best < len(names) else None
        return Choice(self.pool[item], names, tuple(answer.tolist()), chosen, round_index)

    def probe_order(
        self, documents, n_candidates, to_judge, total, n_rounds, show_progress, checks=False, decide=True
    ) -> int:
        """Settle ``judging="auto"``: ask a few first-round questions again with the options reversed.

        A judge that answers consistently (:data:`MIN_ORDER_CONSISTENCY`) keeps multiple
        choice and its first answers count as first-round answers; one that follows the
        options' positions gets yes/no questions. The questions go in
        :data:`ORDER_PROBE_STEPS` steps, and the probe stops as soon as the questions left
        could not change the decision (:func:`probe_decided`): same decision, fewer questions.
        Sets ``result.judging`` and ``result.order_probe``; returns the budget units the
        probe used beyond the answers kept. No probe (multiple choice) when the budget is
        too small to spare one (under 3 * ``ORDER_PROBE_MIN`` units) or with fewer than two
        candidates. ``checks``: a judge-quality check follows where the budget has room for it; it
        rates the choices, so the probe lets more nearly random choosers through
        (:data:`MIN_BLIND_CONSISTENCY_CHECKED`). ``decide=False`` (``judging="choice"``): the question
        stays multiple choice whatever the answers, and the probe runs only where a check follows,
        whose rating of the choices it anchors (:func:`~zsclassify._judge_quality.choices_anchored`).
        """
        size = min(ORDER_PROBE_MAX, max(ORDER_PROBE_MIN, math.ceil(ORDER_PROBE_SHARE * total)))
        checked = checks and check_size(total - size, CHECK_CHOICE_PAIRS + 1, len(self.pool), CHECK_MIN_AFTER_PROBE) > 0
        blind_floor = MIN_BLIND_CONSISTENCY_CHECKED if checked else MIN_BLIND_CONSISTENCY
        self.result.judging = "choice"
        items = np.zeros(0, dtype=np.int64)
        if 3 * size <= total and n_candidates >= 2 and (decide or checked):
            judged_labels = np.flatnonzero(to_judge)
            quota = np.zeros(len(self.names), dtype=np.int64)
            quota[judged_labels] = split_budget(total, len(judged_labels), n_rounds, 0, 0)
            items = _distinct(self.choose(documents @ self.coef.T + self.intercept, quota)[1])
            items = items[np.argsort(self.text_keys[items], kind="stable")[:size]]  # stable under label edits
        if len(items) < ORDER_PROBE_MIN:
            why = "too small a budget or pool" if decide else "no judge-quality check follows, or too small a budget"
            logger.info("no order probe (%s); multiple choice", why)
            return 0
        candidates = self.candidates(documents, items, n_candidates)
        reversed_candidates = candidates[:, ::-1]
        forward, backward = np.zeros((0, n_candidates + 1)), np.zeros((0, n_candidates + 1))
        step, asked = math.ceil(len(items) / ORDER_PROBE_STEPS), 0
        with progress_bar(2 * len(items), "judging: order probe", show_progress, unit="question") as bar:
            while asked < len(items):
                batch = slice(asked, asked + step)
                forward = np.vstack([forward, self.choose_among(items[batch], candidates[batch])])
                backward = np.vstack([backward, self.choose_among(items[batch], reversed_candidates[batch], True)])
                asked = len(forward)
                bar.update(2 * len(items[batch]))
                answered = ~(np.isnan(forward).any(axis=1) | np.isnan(backward).any(axis=1))
                check_failure_share(self.judge, int((~answered).sum()), asked, "order probe questions")
                first = [self.as_choice(*question, 0) for question in zip(items, candidates, forward)]
                second = [self.as_choice(*question, 0) for question in zip(items, reversed_candidates, backward)]
                kept = [(one, other) for one, other, ok in zip(first, second, answered) if ok]
                same = sum(one.answer == other.answer for one, other in kept)
                n_first, n_last, _ = position_counts(*probe_positions(*zip(*kept) if kept else ((), ())))
                if probe_decided(same, n_first - n_last, len(kept), len(items) - asked, blind_floor):
                    break
        n_answered = max(len(kept), 1)
        consistency, bias = same / n_answered, (n_first - n_last) / n_answered
        verdict = "yes_no" if falls_back_to_yes_no(same, n_first - n_last, n_answered, blind_floor) else "choice"
        self.result.judging = verdict if decide else "choice"
        self.result.order_probe = OrderProbe(tuple(first), tuple(second), consistency, verdict, bias)
        if self.result.judging == "yes_no":
            logger.warning(
                "judging='auto': the judge gave the same answer with the options reversed for %.0f%% of %d "
                "questions (under %.0f%%) and picked the first option both times %.0f points more often than "
                "the last (%.0f or more: it reads positions; under %.0f%% alike: it chooses nearly at random), "
                "so it is asked yes/no questions instead",
                100 * consistency,
                n_answered,
                100 * MIN_ORDER_CONSISTENCY,
                100 * abs(bias),
                100 * MIN_POSITION_BIAS,
                100 * blind_floor,
            )
            return 2 * asked
        logger.info(
            "judging='auto': order probe consistency %.2f, position bias %.2f; multiple choice", consistency, bias
        )
        self.keep_choices(items[:asked], candidates[:asked], forward, 0)
        return asked

    def check_quality(
        self,
        documents: np.ndarray,
        total: int,
        show_progress,
        eligible: np.ndarray | None = None,
        multiple: bool = False,
        far: bool = False,
        choice_candidates: int = 0,
    ) -> None:
        """Ask random pool utterances about their best-scored labels; estimate the judge's error rates.

        The labels are the best under the current scores: zero-shot for a single-label fit (it
        checks before any round), the first round's fit for a multi-label one.

        An utterance has at most one right label, so the answers measure the judge without
        trusting the classifier (:mod:`zsclassify._judge_quality`). The utterances are drawn by
        their hash keys (stable under label edits); the answers refine the labels as any others.
        Sets ``result.checks`` and ``result.answer_model``; asks nothing when the budget is
        too small (see :data:`CHECK_SHARE`). A judge that fails most of the check's questions
        stops the fit (:class:`~zsclassify.JudgeError`), as in the rounds: it cannot be measured.

        Parameters
        ----------
        eligible : ndarray of int, optional
            The pool rows the check may draw (multi-label: utterances of one clause, which carry
            one request); every row when None.
        multiple : bool
            Ask each utterance one multi-label question about its candidates ("which apply"),
            as a multi-label fit with ``judging="choice"`` asks, instead of a yes/no pair per
            candidate. A question is one unit of the budget; a pair is one too.
        far : bool
            Also ask each utterance about one label drawn from the bottom half of its scores, last
            (a wrong label, however the judge reads near misses): ``result.far_false_yes`` is the
            share of those answered yes. The answer model reads the best candidates only. Not
            asked when every label is a candidate.
        choice_candidates : int
            A single-label fit that asks multiple choice: each utterance is asked yes/no about its
            best :data:`CHECK_CHOICE_PAIRS` labels and one multiple choice among its best
            ``choice_candidates`` (the rounds' question; kept as a first-round answer), and the
            answer model also rates the choices, with the order probe's twice-asked ones
            (:func:`probe_picks`). 0: yes/no pairs only.
        """
        n_candidates = min(CHECK_CHOICE_PAIRS if choice_candidates else CHECK_CANDIDATES, len(self.names))
        far_from = max(n_candidates, len(self.names) - len(self.names) // 2)  # the bottom half, below the candidates
        far = far and far_from < len(self.names)
        rows = np.arange(len(self.pool)) if eligible is None else np.asarray(eligible, dtype=np.int64)
        units_each = 1 if multiple else n_candidates + far + bool(choice_candidates)
        if far and not multiple and CHECK_MIN * units_each > CHECK_MAX_SHARE * total:
            n_candidates, units_each = 2, 3  # a yes/no check that fits the budget: the best two and a far label
        probed = choice_candidates and self.result.order_probe is not None
        size = check_size(total, units_each, len(rows), CHECK_MIN_AFTER_PROBE if probed else CHECK_MIN)
        if n_candidates < 2 or not size:
            logger.info("too small a budget or pool for a judge-quality check: its error rates are not measured")
            return
        rows = rows[np.argsort(self.text_keys[rows], kind="stable")[:size]]
        ranked = self.candidates(documents, rows, len(self.names))  # the current scores, best first
        candidates = ranked[:, : max(n_candidates, choice_candidates)]
        if far:
            bottom = self.bootstrap.integers(far_from, len(self.names), size=size)
            candidates = np.column_stack([candidates, ranked[np.arange(size), bottom]])
        unit = "question" if multiple else "pair"
        with progress_bar(size * units_each, "judging: quality check", show_progress, unit=unit) as bar:
            choices = np.zeros((size, 0))
            if multiple:
                scores = self.ask_selections(rows, candidates, 0)[:, :-1]
            else:
                asked = candidates[:, :n_candidates] if choice_candidates else candidates  # with the far label
                width = asked.shape[1]
                scores = self.ask(asked.ravel(), np.repeat(rows, width), 0).reshape(size, width)
                if choice_candidates:
                    choices = self.choose_among(rows, candidates)
                    self.keep_choices(rows, candidates, choices, 0)
            self.report(bar, size * units_each)
        failed = np.isnan(scores).all(axis=1) if multiple else np.isnan(scores)
        check_failure_share(self.judge, int(failed.sum()), failed.size, f"quality check {unit}s")
        result = self.result
        result.checks = [
            CandidateCheck(
                self.pool[row], tuple(str(self.names[c]) for c in options), tuple(answer.tolist()), tuple(choice)
            )
            for row, options, answer, choice in zip(rows, candidates, scores, choices.tolist())
        ]
        if far:
            answered = ~np.isnan(scores[:, -1])
            result.far_false_yes = float((scores[answered, -1] >= 0.5).mean()) if answered.any() else None
            scores = scores[:, :-1]
        result.answer_model = self.measure(scores, choices if choice_candidates else None, result.order_probe)
        if result.answer_model is not None:
            logger.info(
                "judge-quality check, %d utterances: false-yes %.2f, false-no %.2f",
                size,
                result.answer_model.false_yes,
                result.answer_model.false_no,
            )

    def settle_question_form(self) -> None:
        """``judging="auto"``: switch to yes/no when the check finds the judge's choices near random.

        The order probe sees a judge that reads positions, but a judge that reads the options and
        chooses badly agrees with itself often enough to pass. When the check rates its choices
        under :data:`~zsclassify._judge_quality.MIN_SEPARATION` while its yes/no answers surely
        separate right labels from wrong ones (the lower end of their separation's 90% interval
        at least that: a dozen utterances' answers put a random judge's separation over 0.15 a
        third of the time), the rounds ask yes/no; otherwise the fit falls back to zero-shot. The
        choices asked so far (the order probe's, the check's) are then dropped from the answers the
        fit learns from; they stay in ``order_probe`` and ``checks``.
        """
        result, model = self.result, self.result.answer_model
        if model is None or model.choice_separation is None:
            return
        if model.choice_separation >= MIN_SEPARATION or model.separation_interval[0] < MIN_SEPARATION:
            return  # choices that help, or yes/no answers not surely better: the fit's decision stands
        logger.warning(
            "judging='auto': the judge-quality check finds the judge's choices right %.0f%% of the time (choice "
            "separation %.2f, under %.2f) while its yes/no answers separate right labels from wrong ones (%.2f, "
            "90%% interval from %.2f), so it is asked yes/no questions instead",
            100 * (model.choice_accuracy or 0.0),
            model.choice_separation,
            MIN_SEPARATION,
            model.separation,
            model.separation_interval[0],
        )
        result.judging = "yes_no"
        result.said_yes[:], result.said_no[:], self.asked[:] = False, False, False
        result.choice_evidence = ChoiceEvidence.empty(*result.said_yes.shape)
        result.choices = []
        label_of = {str(name): index for index, name in enumerate(self.names)}
        row_of = {text: row for row, text in enumerate(self.pool)}
        result.judgments = [
            Judgment(name, check.text, score, 0) for check in result.checks
            for name, score in zip(check.options, check.scores)
        ]  # fmt: skip
        for judgment in result.judgments:
            self.mark_pair(row_of[judgment.text], label_of[judgment.label], judgment.score)

    def mark_pair(self, row: int, label: int, score: float) -> None:
        """Mark a yes/no answer about (``row``, ``label``) as asked, and as yes or no unless it failed (NaN)."""
        self.asked[row, label] = True
        if not np.isnan(score):
            (self.result.said_yes if score >= 0.5 else self.result.said_no)[row, label] = True

    def reuse_checks(self, previous: PreviousJudging) -> None:
        """Measure the judge again from an earlier fit's quality check, as far as its questions still stand.

        A ``warm_start`` refit asks no check of its own: it keeps each checked utterance still in
        the pool, with the answers about labels that kept their description (removed and
        re-described labels are dropped from its options), and fits the answer model to them.
        Under :data:`CHECK_MIN` utterances with two answers or more left (a multiple-choice check:
        :data:`CHECK_MIN_AFTER_PROBE`, the least it asks): not measured.
        """
        description_now = dict(zip(self.names, self.descriptions))
        in_pool = set(self.pool)

        def stands(name: str) -> bool:
            return name in description_now and description_now[name] == previous.descriptions.get(name)

        kept = []
        for check in previous.checks:
            answered = [(name, score) for name, score in zip(check.options, check.scores) if not np.isnan(score)]
            if check.text not in in_pool:
                continue
            if check.choice and all(map(stands, check.options)) and answered:
                kept.append(check)
            elif len(standing := [(name, score) for name, score in answered if stands(name)]) >= 2:
                kept.append(CandidateCheck(check.text, *map(tuple, zip(*standing))))
        least = CHECK_MIN_AFTER_PROBE if kept and all(check.choice for check in kept) else CHECK_MIN
        if len(kept) < least:
            logger.info("warm start: %d checked utterances still stand; the judge is not measured", len(kept))
            return
        width = max(len(check.scores) for check in kept)
        scores = np.full((len(kept), width), np.nan)
        for row, check in enumerate(kept):
            scores[row, : len(check.scores)] = check.scores
        n_options = {len(check.choice) for check in kept}
        choices = np.array([check.choice for check in kept]) if len(n_options) == 1 and 0 not in n_options else None
        self.result.checks = kept
        self.result.checks_reused = True
        self.result.answer_model = self.measure(scores, choices, None)

    def measure(self, scores: np.ndarray, choices: np.ndarray | None, order_probe: OrderProbe | None):
        """The answer model of the check's yes/no ``scores`` (its utterances' best labels, best first),
        with its ``choices`` among each one's candidates (None: none asked) and the order probe's."""
        if choices is None:
            return fit_answer_model([scores], self.bootstrap)
        n_candidates = choices.shape[1] - 1
        groups, picks = [_padded(scores, n_candidates)], [_picked(choices)[:, None]]
        if order_probe is not None:
            probe = probe_picks(order_probe, n_candidates)
            groups.append(np.full((len(probe), n_candidates), np.nan))
            picks.append(probe)
        return fit_answer_model(groups, self.bootstrap, picks=picks)

    def record_choice(self, item: int, options: np.ndarray, answer: np.ndarray, round_index: int) -> None:
        """Keep one choice: in ``choices`` and ``judgments``, and (unless it failed) as evidence."""
        result = self.result
        choice = self.as_choice(item, options, answer, round_index)
        result.choices.append(choice)
        result.judgments.extend(
            Judgment(name, self.pool[item], float(p), round_index) for name, p in zip(choice.options, answer)
        )
        if np.isnan(answer).any():
            return
        result.said_no[item, options] = True
        if choice.answer is not None:
            best = int(np.argmax(answer))
            result.said_no[item, options[best]] = False
            result.said_yes[item, options[best]] = True
        evidence = result.choice_evidence
        evidence.probabilities[item] = answer[-1]  # "none": the right label is not a candidate
        evidence.probabilities[item, options] = answer[:-1]
        evidence.n_options[item] = len(answer)

    def reuse(self, previous: PreviousJudging, judging: str) -> np.ndarray:
        """Keep an earlier fit's answers whose question is unchanged; return the labels still to judge.

        A label is judged again when it is new or re-described. A yes/no answer is kept when
        its label kept its description and its utterance is in the pool. A choice is kept
        when its utterance is in the pool and every option it showed kept its description,
        except removed labels: they are dropped from the options (the answer among the rest
        stands, as a judge that picked ``a`` among some labels picks ``a`` among fewer),
        unless the judge picked a removed label.
        """
        label_of = {str(name): index for index, name in enumerate(self.names)}
        unchanged = np.array([previous.descriptions.get(str(n)) == d for n, d in zip(self.names, self.descriptions)])
        row_of = {text: row for row, text in enumerate(self.pool)}
        if judging == "yes_no":
            for judgment in previous.judgments:
                row, label = row_of.get(judgment.text), label_of.get(judgment.label)
                if row is None or label is None or not unchanged[label] or np.isnan(judgment.score):
                    continue
                self.mark_pair(row, label, judgment.score)
                self.result.judgments.append(judgment)
                self.result.n_reused += 1
        else:
            for choice in previous.choices:
                row, answer = row_of.get(choice.text), np.asarray(choice.probabilities, dtype=np.float64)
                shown = [position for position, name in enumerate(choice.options) if name in label_of]
                options = np.array([label_of[choice.options[position]] for position in shown], dtype=np.int64)
                picked_removed = choice.answer is not None and choice.answer not in label_of
                if row is None or not shown or picked_removed or np.isnan(answer).any() or not unchanged[options].all():
                    continue
                kept = answer[[*shown, len(choice.options)]]
                self.asked[row] = True
                self.record_choice(row, options, kept / kept.sum(), choice.round)
                self.result.n_reused += 1
        logger.info("warm start: %d earlier answers kept, %d labels to judge", self.result.n_reused, (~unchanged).sum())
        return ~unchanged

    def _count(self, n_units: int, n_failed: int, round_index: int, what: str = "pairs") -> None:
        """Count judged and failed units; warn about failures."""
        self.result.n_judged_pairs += n_units
        if n_failed:
            self.result.n_failed_pairs += n_failed
            check_failure_share(self.judge, self.result.n_failed_pairs, self.result.n_judged_pairs, what)
            warnings.warn(
                f"The judge could not score {n_failed} of {n_units} {what} in round {round_index}; "
                "they are left out of the refinement.",
                RuntimeWarning,
                stacklevel=6,
            )

    def kl(self, documents, queries, judge_budget, learning_rate, n_steps, logit_scale, show_progress):
        """The paper: judge each label's top-k utterances once, then per-label KL refinement."""
        n_labels = len(queries)
        quota = split_budget(judge_budget * n_labels, n_labels, 1, 0, 0)
        labels, items = self.choose(documents @ queries.T, quota, default="top_k")
        with progress_bar(len(labels), "judging", show_progress, unit="pair") as bar:
            judged = self.ask(labels, items, 0)
            self.report(bar, len(labels))
        docs, judged_scores, mask = _pack_by_label(documents, labels, items, judged, n_labels)
        refined = kl_refine(queries, docs, judged_scores, mask, learning_rate=learning_rate, n_steps=n_steps)
        self.result.coef, self.result.intercept = cosine_scoring(refined, logit_scale)
        return self.result

    def rounds(self, ask, to_judge, documents, queries, total, n_rounds, joint, C, show_progress):
        """Judge the labels ``to_judge`` in rounds with ``ask``, ``total`` units in all (the order
        probe's first answers among them); between rounds refit all labels jointly and re-rank the pool."""
        n_labels = len(queries)
        judged_labels = np.flatnonzero(to_judge)
        result = self.result
        unit = "pair" if result.judging == "yes_no" else "question"  # choice mode: one question per utterance
        with progress_bar(total, "judging", show_progress, unit=unit) as bar:
            for round_index in range(n_rounds):
                quota = np.zeros(n_labels, dtype=np.int64)
                quota[judged_labels] = split_budget(
                    total, len(judged_labels), n_rounds, round_index, result.n_judged_pairs
                )
                logits = documents @ self.coef.T + self.intercept
                exclude = result.said_yes.any(axis=1)  # already placed by the judge
                labels, items = self.choose(logits, quota, round_index, exclude)
                if len(labels) == 0:
                    break
                bar.set_description(f"judging round {round_index + 1}/{n_rounds}")
                judged_before = result.n_judged_pairs
                ask(labels, items, round_index)
                self.report(bar, result.n_judged_pairs - judged_before)
                if joint and round_index < n_rounds - 1:
                    placed = result.said_yes.any(axis=1)
                    accepted_label = result.said_yes.argmax(axis=1)[placed]
                    with one_native_thread():
                        self.coef, self.intercept = fit_joint(queries, documents[placed], accepted_label, C=C)
        if joint:
            false_yes, false_no = noise_rates(result.answer_model)
            with one_native_thread(), stage("final fit: self-training", show_progress):
                self.coef, self.intercept = self_train(
                    queries,
                    documents,
                    result.said_yes,
                    result.said_no,
                    C=C,
                    choices=result.choice_evidence,
                    false_yes=false_yes,
                    false_no=false_no,
                )
        result.coef, result.intercept = self.coef, self.intercept
        return result


def check_failure_share(judge: Judge, failed: int, judged: int, what: str = "pairs") -> None:
    """Raise :class:`~zsclassify.JudgeError` when more than :data:`MAX_FAILED_SHARE` of the ``what`` failed.

    Whatever the judge's ``on_failure`` says: a model refined on the few answers left would
    look fitted while it is not.
    """
    if failed > MAX_FAILED_SHARE * judged:
        raise JudgeError(
            f"The judge could not score {failed} of the {judged} {what} asked so far (more than "
            f"{MAX_FAILED_SHARE:.0%}), so the fit stopped instead of returning a model refined on the rest. "
            "See the warnings above for the cause; answers already paid for are cached, so a new fit resumes.",
            failed_pairs=failed,
            usage=getattr(judge, "usage", None),
        )


def check_size(total: int, units_each: int, n_rows: int, least: int = CHECK_MIN) -> int:
    """Utterances the judge-quality check asks about, ``units_each`` budget units each (0: no check).

    :data:`CHECK_SHARE` of the fit's ``total`` units, within [``least``, :data:`CHECK_MAX`]
    (``least``: :data:`CHECK_MIN`, or :data:`CHECK_MIN_AFTER_PROBE`) and the ``n_rows`` it may
    draw; none when the least check would take more than :data:`CHECK_MAX_SHARE` of the budget.
    """
    size = min(CHECK_MAX, max(least, math.ceil(CHECK_SHARE * total / units_each)), n_rows)
    return 0 if size < least or size * units_each > CHECK_MAX_SHARE * total else size


def falls_back_to_yes_no(same: int, bias: int, answered: int, blind_floor: float = MIN_BLIND_CONSISTENCY) -> bool:
    """The order probe's decision: are the judge's choices too weak to use (then: yes/no questions)?

    ``same`` of ``answered`` questions got the same answer both ways; ``bias`` is the number
    answered with the first option both times less the number answered with the last one both
    times. Yes/no when the judge agrees with itself under ``blind_floor`` of the time
    (:data:`MIN_BLIND_CONSISTENCY`, or :data:`MIN_BLIND_CONSISTENCY_CHECKED` when a check will rate
    the choices), or under :data:`MIN_ORDER_CONSISTENCY` with ``|bias|`` at least
    :data:`MIN_POSITION_BIAS` of them (it reads positions).
    """
    reads_positions = same < MIN_ORDER_CONSISTENCY * answered and abs(bias) >= MIN_POSITION_BIAS * answered
    return reads_positions or same < blind_floor * answered


def probe_decided(same: int, bias: int, answered: int, left: int, blind_floor: float = MIN_BLIND_CONSISTENCY) -> bool:
    """Whether the probe's decision (:func:`falls_back_to_yes_no`) is settled whatever its ``left`` questions answer.

    Each question left may fail (changing nothing) or be answered, adding at most 1 to
    ``same`` and moving ``bias`` by at most 1; each bound below holds in its own worst case.
    """
    if left == 0:
        return True
    total = answered + left
    stays_consistent = same >= MIN_ORDER_CONSISTENCY * total
    stays_over_blind = same >= blind_floor * total
    stays_inconsistent = same + left < MIN_ORDER_CONSISTENCY * total
    stays_under_blind = same + left < blind_floor * total
    stays_unbiased = abs(bias) + left < MIN_POSITION_BIAS * total
    stays_biased = abs(bias) - left >= MIN_POSITION_BIAS * total
    keeps_choice = stays_consistent or (stays_over_blind and stays_unbiased)
    falls_back = stays_under_blind or (stays_inconsistent and stays_biased)
    return keeps_choice or falls_back


def probe_positions(first: Sequence[Choice], second: Sequence[Choice]) -> tuple[list[int], list[int], list[int]]:
    """Option positions answered in each order ("none": the last), and the questions' option counts ("none" included).

    A question the judge failed either way is left out.
    """
    answered = [
        (one, other) for one, other in zip(first, second)
        if not (np.isnan(one.probabilities).any() or np.isnan(other.probabilities).any())
    ]  # fmt: skip
    positions = [
        [choice.options.index(choice.answer) if choice.answer in choice.options else len(choice.options)
         for choice in pair] for pair in answered
    ]  # fmt: skip
    return [p[0] for p in positions], [p[1] for p in positions], [len(one.options) + 1 for one, _ in answered]


def _padded(scores: np.ndarray, width: int) -> np.ndarray:
    """``scores`` with NaN columns (not asked) added up to ``width``."""
    return np.hstack([scores, np.full((len(scores), width - scores.shape[1]), np.nan)])


def _picked(probabilities: np.ndarray) -> np.ndarray:
    """The option each multiple choice picked (its last column is "none"), -1 where it failed."""
    failed = np.isnan(probabilities).any(axis=1)
    return np.where(failed, -1, np.argmax(np.nan_to_num(probabilities), axis=1))


def probe_picks(order_probe: OrderProbe, n_candidates: int) -> np.ndarray:
    """The order probe's answers as positions of its first order's options (``n_candidates``: "none").

    Shape (n_questions, 2), -1 where a question failed; questions with another number of
    candidates are left out.
    """
    rows = []
    for first, second in zip(order_probe.choices, order_probe.reversed_choices):
        if len(first.options) != n_candidates:
            continue
        forward, backward = _picked(np.array([first.probabilities, second.probabilities]))
        if 0 <= backward < n_candidates:
            backward = n_candidates - 1 - backward  # the reversed order's option, in the first order
        rows.append((forward, backward))
    return np.array(rows, dtype=np.int64).reshape(-1, 2)


def noise_rates(answer_model: AnswerModel | None) -> tuple[float, float]:
    """The false-yes and false-no rates the final fit reads yes/no answers through.

    The answer model's estimates, kept within [:data:`MIN_NOISE_RATE`, :data:`MAX_NOISE_RATE`]
    (no judge is read as never wrong); 0.1 and 0.1 when nothing was measured.
    """
    if answer_model is None:
        return DEFAULT_NOISE_RATE, DEFAULT_NOISE_RATE
    bounded = np.clip([answer_model.false_yes, answer_model.false_no], MIN_NOISE_RATE, MAX_NOISE_RATE)
    return float(bounded[0]), float(bounded[1])


def _distinct(items: np.ndarray) -> np.ndarray:
    """``items`` without repeats, in first-seen order."""
    return np.asarray(list(dict.fromkeys(items.tolist())), dtype=np.int64)


def _pack_by_label(documents, labels, items, scores, n_labels):
    """Each label's judged utterances and scores, padded to one width, with a mask of real entries."""
    width = int(np.bincount(labels, minlength=n_labels).max())
    docs = np.zeros((n_labels, width, documents.shape[1]))
    packed_scores = np.zeros((n_labels, width))
    mask = np.zeros((n_labels, width), dtype=bool)
    fill = np.zeros(n_labels, dtype=int)
    for label, item, score in zip(labels, items, scores):
        if np.isnan(score):
            continue
        docs[label, fill[label]] = documents[item]
        packed_scores[label, fill[label]] = score
        mask[label, fill[label]] = True
        fill[label] += 1
    return docs, packed_scores, mask


def check_choice(answer: object, request: ChoiceRequest) -> np.ndarray:
    """Validate one choice: a probability per option and one for "none", summing to 1, or all NaN (failed).

    A multi-label question's (``request.multiple``) probabilities are each in [0, 1] and need not sum to 1.
    """
    try:
        probabilities = np.asarray(answer, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise InvalidJudgeResponseError(f"The judge returned a non-numeric choice: {answer!r:.200}") from None
    expected = len(request.options) + 1
    if len(probabilities) != expected:
        raise InvalidJudgeResponseError(
            f"The judge returned {len(probabilities)} probabilities for a choice among {expected - 1} labels "
            f"and 'none' ({expected} expected)."
        )
    if np.isnan(probabilities).any():
        return np.full(expected, np.nan)
    if request.multiple:  # each option on its own; "none" is whether no option applies
        if np.any((probabilities < 0.0) | (probabilities > 1.0)):
            raise InvalidJudgeResponseError(
                f"The judge's multi-label probabilities must lie in [0, 1]; got {probabilities.round(4).tolist()}."
            )
        return probabilities
    if np.any((probabilities < 0.0) | (probabilities > 1.0)) or abs(probabilities.sum() - 1.0) > 1e-3:
        raise InvalidJudgeResponseError(
            f"The judge's choice probabilities must lie in [0, 1] and sum to 1; got {probabilities.round(4).tolist()}."
        )
    return probabilities / probabilities.sum()


def check_scores(answer: object, request: JudgeRequest) -> np.ndarray:
    """Validate one request's scores: right length, numbers in [0, 1] or NaN (failed)."""
    try:
        scores = np.asarray(answer, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise InvalidJudgeResponseError(
            f"The judge returned non-numeric scores for label {request.label!r}: {answer!r:.200}",
            label=request.label,
        ) from None
    if len(scores) != len(request.texts):
        raise InvalidJudgeResponseError(
            f"The judge returned {len(scores)} scores for label {request.label!r} "
            f"but was asked about {len(request.texts)} utterances.",
            label=request.label,
        )
    finite = scores[~np.isnan(scores)]
    if np.any((finite < 0.0) | (finite > 1.0)):
        raise InvalidJudgeResponseError(
            f"The judge returned scores outside [0, 1] for label {request.label!r}: "
            f"{finite[(finite < 0) | (finite > 1)][:5].tolist()}.",
            label=request.label,
        )
    return scores
