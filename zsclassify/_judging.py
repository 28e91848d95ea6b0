"""The judging loop: choose pairs, ask the judge, check its scores, refine, and again.

:func:`run_judging` is what :meth:`ZeroShotClassifier.fit` runs between embedding and
calibration. It works on arrays in the space the classifier scores in and returns a
:class:`JudgingResult`; the estimator turns that into fitted attributes.
"""

from __future__ import annotations

import logging
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from scipy.special import softmax
from tqdm.auto import tqdm

from ._refinement import fit_joint, kl_refine, one_native_thread, self_train
from ._sampling import select_cluster_members, select_low_margin, select_top_k, split_budget
from .embedding import normalize_rows
from .exceptions import InvalidJudgeResponseError
from .judges import Judge, JudgeRequest

__all__ = ["JudgingResult", "Judgment", "run_judging"]

logger = logging.getLogger(__name__)


class Judgment(NamedTuple):
    """One judged (label, utterance) pair; ``score`` is NaN when the judge failed on it."""

    label: str
    text: str
    score: float
    round: int


@dataclass
class JudgingResult:
    """What the judging loop learned.

    Attributes
    ----------
    coef, intercept : ndarray
        The refined linear scoring ``embedding @ coef.T + intercept``, before calibration.
    said_yes, said_no : ndarray of bool, shape (n_pool, n_labels)
        Pairs the judge accepted and rejected (a failed pair is neither).
    judgments : list of Judgment
        Every judged pair, in the order asked.
    n_requests, n_judged_pairs, n_failed_pairs : int
        Requests sent to the judge (one per label per round), pairs sent, pairs it could not score.
    """

    coef: np.ndarray
    intercept: np.ndarray
    said_yes: np.ndarray
    said_no: np.ndarray
    judgments: list[Judgment] = field(default_factory=list)
    n_requests: int = 0
    n_judged_pairs: int = 0
    n_failed_pairs: int = 0


def cosine_scoring(label_embeddings: np.ndarray, logit_scale: float) -> tuple[np.ndarray, np.ndarray]:
    """``coef`` and ``intercept`` that score by ``logit_scale`` times the cosine to each label."""
    return logit_scale * normalize_rows(label_embeddings), np.zeros(len(label_embeddings))


def progress_bar(total: int, desc: str, show: bool | None):
    """A tqdm bar; ``show=None`` shows it only when stderr is a terminal."""
    disable = not sys.stderr.isatty() if show is None else not show
    return tqdm(total=total, desc=desc, disable=disable, leave=False)


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
    C: float,
    learning_rate: float,
    n_steps: int,
    logit_scale: float,
    show_progress: bool | None = None,
) -> JudgingResult:
    """Judge chosen pairs and refine the label scoring from the answers.

    ``refinement="kl"`` judges once (each label's top-k by default) and runs the paper's
    per-label KL update. Otherwise the judge is asked in ``n_rounds`` rounds; with
    ``"joint"`` all labels are refitted together between rounds and the last fit is
    :func:`~zsclassify._refinement.self_train`.

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
    judge_budget, n_rounds, sampling, refinement, C, learning_rate, n_steps, logit_scale, show_progress
        As the parameters of :class:`~zsclassify.ZeroShotClassifier`.
    """
    session = _Session(judge, names, descriptions, pool, sampling, generator)
    if refinement == "kl":
        return session.kl(documents, queries, judge_budget, learning_rate, n_steps, logit_scale, show_progress)
    return session.rounds(
        documents, queries, judge_budget, n_rounds, refinement == "joint", C, logit_scale, show_progress
    )


class _Session:
    """The state of one fit's judging: pairs asked, answers, counts."""

    def __init__(self, judge, names, descriptions, pool, sampling: str, generator: np.random.Generator) -> None:
        self.judge = judge
        self.names = names
        self.descriptions = descriptions
        self.pool = pool
        self.sampling = sampling
        self.generator = generator
        n_pool, n_labels = len(pool), len(names)
        self.result = JudgingResult(
            coef=np.zeros((n_labels, 0)),
            intercept=np.zeros(n_labels),
            said_yes=np.zeros((n_pool, n_labels), dtype=bool),
            said_no=np.zeros((n_pool, n_labels), dtype=bool),
        )
        self.asked = np.zeros((n_pool, n_labels), dtype=bool)

    def choose(self, logits, quota, round_index: int = 0, exclude=None, default: str = "margin"):
        strategy = default if self.sampling == "auto" else self.sampling
        if strategy == "top_k":
            return select_top_k(logits, self.asked, quota)
        if strategy == "margin" and round_index > 0:
            return select_low_margin(softmax(logits, axis=1), self.asked, quota, exclude)
        return select_cluster_members(logits, self.asked, quota, self.generator)

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
        result.n_judged_pairs += len(labels)
        failed = int(np.isnan(scores).sum())
        if failed:
            result.n_failed_pairs += failed
            warnings.warn(
                f"The judge could not score {failed} of {len(labels)} pairs in round {round_index}; "
                "they are left out of the refinement.",
                RuntimeWarning,
                stacklevel=5,
            )
        result.judgments.extend(
            Judgment(str(self.names[label]), self.pool[item], float(score), round_index)
            for label, item, score in zip(labels, items, scores)
        )
        yes, no = scores >= 0.5, scores < 0.5  # NaN (failed) is neither
        result.said_yes[items[yes], labels[yes]] = True
        result.said_no[items[no], labels[no]] = True
        logger.info("round %d: %d pairs judged, %d accepted", round_index, len(labels), int(yes.sum()))
        return scores

    def kl(self, documents, queries, judge_budget, learning_rate, n_steps, logit_scale, show_progress):
        """The paper: judge each label's top-k utterances once, then per-label KL refinement."""
        n_labels = len(queries)
        quota = split_budget(judge_budget * n_labels, n_labels, 1, 0, 0)
        labels, items = self.choose(documents @ queries.T, quota, default="top_k")
        with progress_bar(1, "judging", show_progress) as bar:
            judged = self.ask(labels, items, 0)
            bar.update(1)
        docs, judged_scores, mask = _pack_by_label(documents, labels, items, judged, n_labels)
        refined = kl_refine(queries, docs, judged_scores, mask, learning_rate=learning_rate, n_steps=n_steps)
        self.result.coef, self.result.intercept = cosine_scoring(refined, logit_scale)
        return self.result

    def rounds(self, documents, queries, judge_budget, n_rounds, joint, C, logit_scale, show_progress):
        """Judge in rounds; between rounds refit all labels jointly and re-rank the pool."""
        n_labels = len(queries)
        result = self.result
        coef, intercept = cosine_scoring(queries, logit_scale)
        total = judge_budget * n_labels
        with progress_bar(n_rounds, "judging", show_progress) as bar:
            for round_index in range(n_rounds):
                quota = split_budget(total, n_labels, n_rounds, round_index, result.n_judged_pairs)
                logits = documents @ coef.T + intercept
                exclude = result.said_yes.any(axis=1)  # already placed by the judge
                labels, items = self.choose(logits, quota, round_index, exclude)
                bar.update(1)
                if len(labels) == 0:
                    break
                self.ask(labels, items, round_index)
                if joint and round_index < n_rounds - 1:
                    placed = result.said_yes.any(axis=1)
                    accepted_label = result.said_yes.argmax(axis=1)[placed]
                    with one_native_thread():
                        coef, intercept = fit_joint(queries, documents[placed], accepted_label, C=C)
        if joint:
            with one_native_thread():
                coef, intercept = self_train(queries, documents, result.said_yes, result.said_no, C=C)
        result.coef, result.intercept = coef, intercept
        return result


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
