"""Calibration of the refined scores: cross-fitted logits, the blend, the out-of-scope threshold.

The final fit has seen every judge answer, so its own scores on them are too confident
to calibrate anything. :func:`cross_fitted_logits` scores each judged utterance with a
fit that did not see its answers; :func:`fit_blend` weighs those refined logits against
the zero-shot cosines to explain the held-out answers; :func:`calibrate` applies both
and reads the out-of-scope threshold off the same held-out scores.
"""

from __future__ import annotations

import logging
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, softmax

from ._refinement import ChoiceEvidence, PiecedTexts, _softmax, fit_label_logistic, one_native_thread, self_train

__all__ = [
    "Calibration",
    "HeldOut",
    "calibrate",
    "choose_label_regularisation",
    "cross_fitted_label_logits",
    "cross_fitted_logits",
    "fit_blend",
    "fit_label_sigmoids",
    "smoothed",
    "zero_shot_calibration",
]

logger = logging.getLogger(__name__)

MAX_ZERO_SHOT_WEIGHT = 100.0  # zero-shot logits are cosines in [-1, 1]
MAX_REFINED_WEIGHT = 20.0
ZERO_SHOT_WEIGHT_PRIOR, REFINED_WEIGHT_PRIOR = (0.0, 50.0), (1.0, 2.0)
"""Gaussian priors (mean, sd) on the blend weights. A few dozen answers that the held-out
scores all explain would otherwise drive the weights to their bounds (every probability 1.0,
an out-of-scope threshold of 0.9999999999998); fits on hundreds of answers, whose weights
are 0-30 and 0.05-2, hardly feel them."""
MIN_ANSWERS_TO_CALIBRATE = 20
CALIBRATION_FOLDS = 5  # fewer folds leave each held-out fit too little data at small budgets
OOS_IN_SCOPE_LOSS = 0.1  # the automatic threshold rejects this share of held-out accepted utterances
LABEL_C_GRID = (1.0, 10.0, 100.0)
"""The values of ``C`` that ``MultiLabelZeroShotClassifier(C="auto")`` chooses among by cross-validation."""


class HeldOut(NamedTuple):
    """Scores of the judged utterances from fits that did not see their answers.

    ``zero_shot`` are their cosines to the descriptions, ``refined`` their cross-fitted logits
    and ``accepted`` whether the judge accepted a label for them.
    """

    zero_shot: np.ndarray
    refined: np.ndarray
    accepted: np.ndarray


class Calibration(NamedTuple):
    """What :func:`calibrate` learned; weights (0, 1) and no threshold when it could not calibrate.

    ``smoothing`` is the share of uniform probability mixed into the softmax
    (:func:`smoothed`): ``1 / (n + 1)`` for ``n`` judged utterances, so that a fit on a few
    dozen answers never claims certainty (50: at most 0.984 with 5 labels); 0 without answers.
    """

    zero_shot_weight: float = 0.0
    refined_weight: float = 1.0
    oos_threshold: float | None = None
    held_out: HeldOut | None = None
    smoothing: float = 0.0


def smoothed(probabilities: np.ndarray, smoothing: float) -> np.ndarray:
    """``(1 - smoothing) * probabilities + smoothing / n_labels``: Laplace's rule, one pseudo-answer spread evenly."""
    if smoothing == 0.0:
        return probabilities
    return (1.0 - smoothing) * probabilities + smoothing / probabilities.shape[-1]


def cross_fitted_logits(
    initial_labels: np.ndarray,
    pool: np.ndarray,
    said_yes: np.ndarray,
    said_no: np.ndarray,
    rng: np.random.Generator,
    *,
    n_folds: int = 2,
    choices: ChoiceEvidence | None = None,
    **self_train_options,
) -> tuple[np.ndarray, np.ndarray]:
    """Logits of each judged utterance from a :func:`self_train` fit that did not see its answers.

    The folds are fitted in parallel threads (as many as CPUs), each with one BLAS and
    OpenMP thread; the result does not depend on the number of threads.

    Returns
    -------
    rows : ndarray of int
        Pool indices of the judged utterances.
    logits : ndarray of shape (len(rows), n_labels)
    """
    rows = np.flatnonzero(said_yes.any(axis=1) | said_no.any(axis=1))
    logits = np.zeros((len(rows), initial_labels.shape[0]))
    fold_of = rng.permutation(len(rows)) % n_folds

    def held_out_logits(fold: int) -> np.ndarray:
        held_out = rows[fold_of == fold]
        yes, no = said_yes.copy(), said_no.copy()
        yes[held_out] = False
        no[held_out] = False
        held_out_choices = None if choices is None else choices.without(held_out)
        coef, intercept = self_train(initial_labels, pool, yes, no, choices=held_out_choices, **self_train_options)
        return pool[held_out] @ coef.T + intercept

    with one_native_thread(), ThreadPoolExecutor(max_workers=min(n_folds, os.cpu_count() or 1)) as executor:
        for fold, fold_logits in enumerate(executor.map(held_out_logits, range(n_folds))):
            logits[fold_of == fold] = fold_logits
    return rows, logits


def _answer_nll(logits: np.ndarray, said_yes: np.ndarray, said_no: np.ndarray) -> float:
    """Negative log-likelihood of the judge's answers: "yes" for l costs ``-log p_l``, "no" ``-log(1 - p_l)``."""
    probabilities = np.clip(_softmax(logits), 1e-12, 1.0 - 1e-12)
    return float(-np.log(probabilities[said_yes]).sum() - np.log1p(-probabilities[said_no]).sum())


def fit_blend(
    zero_shot_logits: np.ndarray, refined_logits: np.ndarray, said_yes: np.ndarray, said_no: np.ndarray
) -> tuple[float, float]:
    """Weights of the zero-shot and refined logits that best explain held-out judge answers.

    The final scores are ``zero_shot_weight * zero_shot_logits + refined_weight *
    refined_logits``, both weights >= 0, chosen to minimise the negative
    log-likelihood of the answers under a softmax over labels, with weak Gaussian priors
    (:data:`REFINED_WEIGHT_PRIOR`) that keep a few answers from making them unbounded. With many answers the
    refined logits dominate and the fit is a temperature (``1 / refined_weight``);
    with few, the zero-shot scores keep the weight a weak refinement cannot earn.

    Parameters
    ----------
    zero_shot_logits, refined_logits : ndarray of shape (n_samples, n_labels)
        Scores of judged utterances; the refined ones must come from fits that did
        not see these answers (see :func:`cross_fitted_logits`).
    said_yes, said_no : ndarray of bool, shape (n_samples, n_labels)
        The judge's answers.

    Returns
    -------
    zero_shot_weight, refined_weight : float
    """
    from scipy.optimize import minimize

    priors = np.array([ZERO_SHOT_WEIGHT_PRIOR, REFINED_WEIGHT_PRIOR])

    def loss(weights: np.ndarray) -> float:
        prior = 0.5 * float((((weights - priors[:, 0]) / priors[:, 1]) ** 2).sum())
        return _answer_nll(weights[0] * zero_shot_logits + weights[1] * refined_logits, said_yes, said_no) + prior

    # The "no" terms make the loss non-convex: start from "refined only" and "zero-shot only".
    starts = [(0.0, 1.0), (10.0, 0.0)]
    bounds = [(0.0, MAX_ZERO_SHOT_WEIGHT), (0.0, MAX_REFINED_WEIGHT)]
    best = min((minimize(loss, np.array(x0), method="L-BFGS-B", bounds=bounds) for x0 in starts), key=lambda r: r.fun)
    return float(best.x[0]), float(best.x[1])


def calibrate(
    queries: np.ndarray,
    documents: np.ndarray,
    said_yes: np.ndarray,
    said_no: np.ndarray,
    generator: np.random.Generator,
    *,
    C: float,
    choices: ChoiceEvidence | None = None,
    false_yes: float = 0.1,
    false_no: float = 0.1,
) -> Calibration:
    """Blend weights and out-of-scope threshold from fits that did not see the answers they are scored on.

    Parameters
    ----------
    queries : ndarray of shape (n_labels, dim)
        Description embeddings, in the space the classifier scores in.
    documents : ndarray of shape (n_pool, dim)
        The pool's embeddings, same space.
    said_yes, said_no : ndarray of bool, shape (n_pool, n_labels)
        The judge's answers.
    generator : numpy Generator
        Assigns judged utterances to folds.
    C : float
        Inverse regularisation of the held-out fits.
    choices : ChoiceEvidence, optional
        Multiple-choice answers, as :func:`~zsclassify._refinement.self_train` reads them.
    false_yes, false_no : float
        The judge's yes/no error rates, as :func:`~zsclassify._refinement.self_train` reads them.

    Returns
    -------
    Calibration
        ``oos_threshold`` is the top probability under which the final scores reject
        ``OOS_IN_SCOPE_LOSS`` of the held-out accepted utterances (None with too few).
    """
    rows, logits = cross_fitted_logits(
        queries,
        documents,
        said_yes,
        said_no,
        generator,
        n_folds=CALIBRATION_FOLDS,
        C=C,
        choices=choices,
        false_yes=false_yes,
        false_no=false_no,
    )
    yes, no = said_yes[rows], said_no[rows]
    held_out = HeldOut(documents[rows] @ queries.T, logits, yes.any(axis=1))
    smoothing = 1.0 / (len(rows) + 1)
    if yes.sum() + no.sum() < MIN_ANSWERS_TO_CALIBRATE:
        logger.warning("only %d judge answers: too few to calibrate; scores left as fitted", yes.sum() + no.sum())
        return Calibration(held_out=held_out, smoothing=smoothing)
    zero_shot_weight, refined_weight = fit_blend(held_out.zero_shot, logits, yes, no)
    if zero_shot_weight + refined_weight < 1e-6:  # flat scores would predict one label for everything
        warnings.warn(
            "The judge's answers fit neither the zero-shot nor the refined scores (blend weights are 0); "
            "keeping the refined fit uncalibrated. Check the judge's answers (clf.judgments_).",
            RuntimeWarning,
            stacklevel=3,
        )
        return Calibration(held_out=held_out, smoothing=smoothing)
    logger.info("blend weights: zero-shot %.3g, refined %.3g", zero_shot_weight, refined_weight)
    threshold = _oos_threshold(held_out, zero_shot_weight, refined_weight, smoothing)
    return Calibration(zero_shot_weight, refined_weight, threshold, held_out, smoothing)


def _oos_threshold(held_out: HeldOut, zero_shot_weight: float, refined_weight: float, smoothing: float) -> float | None:
    """The top probability under which the blend rejects ``OOS_IN_SCOPE_LOSS`` of the held-out accepted utterances."""
    if held_out.accepted.sum() < MIN_ANSWERS_TO_CALIBRATE:
        return None
    scores = zero_shot_weight * held_out.zero_shot + refined_weight * held_out.refined
    confidence = smoothed(softmax(scores[held_out.accepted], axis=1), smoothing).max(axis=1)
    return float(np.quantile(confidence, OOS_IN_SCOPE_LOSS))


def zero_shot_calibration(calibration: Calibration, logit_scale: float) -> Calibration:
    """Plain zero-shot scores (the cosines times ``logit_scale``), the threshold re-read: a judge not followed."""
    held_out, smoothing = calibration.held_out, calibration.smoothing
    threshold = None if held_out is None else _oos_threshold(held_out, logit_scale, 0.0, smoothing)
    return Calibration(logit_scale, 0.0, threshold, held_out, smoothing)


def cross_fitted_label_logits(
    queries: np.ndarray,
    documents: np.ndarray,
    said_yes: np.ndarray,
    said_no: np.ndarray,
    seed: int,
    *,
    C: float = 10.0,
    n_folds: int = CALIBRATION_FOLDS,
    pieces: PiecedTexts | None = None,
) -> np.ndarray:
    """Each judged utterance's per-label logits from regressions that did not see its answers (multi-label).

    :func:`~zsclassify._refinement.fit_label_logistic` on the other folds; a label's curve is
    then recalibrated on these held-out logits (:func:`fit_label_sigmoids`), because the final
    regression has seen every answer and is too sure of them.

    ``seed`` draws the folds (the same seed, the same folds: fits with different ``C`` compare alike).
    With ``pieces``, the regressions learn from the judged texts' pieces and a text scores as its
    best piece (:class:`~zsclassify._refinement.PiecedTexts`), as the multi-label estimator predicts.

    Returns
    -------
    ndarray of shape (n_pool, n_labels)
        Held-out logits on judged rows, zeros elsewhere.
    """
    logits = np.zeros(said_yes.shape)
    rows = np.flatnonzero(said_yes.any(axis=1) | said_no.any(axis=1))
    fold_of = np.random.default_rng(seed).permutation(len(rows)) % n_folds
    with one_native_thread():
        for fold in range(n_folds):
            held_out = rows[fold_of == fold]
            yes, no = said_yes.copy(), said_no.copy()
            yes[held_out] = no[held_out] = False
            if pieces is None:
                coef, intercept = fit_label_logistic(queries, documents, yes, no, C=C)
                logits[held_out] = documents[held_out] @ coef.T + intercept
            else:
                coef, intercept = pieces.fit_label_logistic(queries, documents, yes, no, C=C)
                logits[held_out] = pieces.score(held_out, coef, intercept)
    return logits


def choose_label_regularisation(
    queries: np.ndarray,
    documents: np.ndarray,
    said_yes: np.ndarray,
    said_no: np.ndarray,
    seed: int,
    grid: tuple[float, ...] = LABEL_C_GRID,
    pieces: PiecedTexts | None = None,
) -> tuple[float, np.ndarray]:
    """The regularisation of the per-label regressions that best predicts held-out answers, and its logits.

    Cross-validation on the judge's own answers (the same folds for every value): the log-loss
    of each answered pair under :func:`cross_fitted_label_logits`. With few answers a strong
    prior on the descriptions wins; with many, a weak one (as the labelled-data baseline's C,
    chosen by cross-validation too). ``pieces`` as for :func:`cross_fitted_label_logits`.

    Returns
    -------
    C : float
    logits : ndarray of shape (n_pool, n_labels)
        The chosen value's held-out logits.
    """
    answered = said_yes | said_no
    signs = np.where(said_yes, 1.0, -1.0)[answered]
    best = None
    for C in grid:
        logits = cross_fitted_label_logits(queries, documents, said_yes, said_no, seed, C=C, pieces=pieces)
        loss = float(np.logaddexp(0.0, -signs * logits[answered]).mean())
        if best is None or loss < best[0]:
            best = (loss, C, logits)
    assert best is not None  # the grid is never empty
    logger.info("per-label regularisation: C=%g (held-out log-loss %.3f)", best[1], best[0])
    return best[1], best[2]


def fit_label_sigmoids(
    scores: np.ndarray,
    said_yes: np.ndarray,
    said_no: np.ndarray,
    *,
    slope_prior: tuple[float, float] = (20.0, 20.0),
    intercept_prior: tuple[float, float] = (0.0, 20.0),
    false_yes: float = 0.0,
    false_no: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-label logistic curves ``P(label | x) = sigmoid(slope * score + intercept)`` from judge answers.

    One two-parameter logistic regression per label on its answered pairs (maximum a
    posteriori, L-BFGS), with Gaussian priors (mean, sd) that keep a label with
    few or one-sided answers finite: all "no" moves its threshold above every answer, all
    "yes" below. The label's threshold is where the curve crosses 0.5: ``-intercept / slope``.

    The answers are read through the judge's error rates: the judge says yes with probability
    ``false_yes + (1 - false_yes - false_no) * P(label | x)``, so the curve is the right
    label's probability, not the judge's (a judge that says yes to near misses would otherwise
    flatten it and move each threshold toward the near misses).

    Parameters
    ----------
    scores : ndarray of shape (n_pool, n_labels)
        Each utterance's score for each label (cosines to the label directions, or logits).
    said_yes, said_no : ndarray of bool, shape (n_pool, n_labels)
        The judge's answers.
    slope_prior, intercept_prior : (float, float)
        Mean and standard deviation of each parameter's prior (a slope of 20 turns a
        cosine gap of 0.1 into odds of e^2).
    false_yes, false_no : float
        P(yes | wrong label) and P(no | right label) (0 and 0: the answers are taken as true).

    Returns
    -------
    slopes, intercepts : ndarray of shape (n_labels,)
    """
    n_labels = scores.shape[1]
    prior_mean = np.array([slope_prior[0], intercept_prior[0]])
    prior_precision = np.array([1.0 / slope_prior[1] ** 2, 1.0 / intercept_prior[1] ** 2])
    slopes, intercepts = np.empty(n_labels), np.empty(n_labels)
    for label in range(n_labels):
        answered = said_yes[:, label] | said_no[:, label]
        features = np.column_stack([scores[answered, label], np.ones(int(answered.sum()))])
        signs = np.where(said_yes[answered, label], 1.0, -1.0)

        fitted = minimize(
            _sigmoid_objective,
            prior_mean,
            (features, signs, prior_mean, prior_precision, false_yes, false_no),
            jac=True,
        )
        slopes[label], intercepts[label] = fitted.x
    return slopes, intercepts


def _sigmoid_objective(
    params, features, signs, prior_mean, prior_precision, false_yes: float = 0.0, false_no: float = 0.0
) -> tuple[float, np.ndarray]:
    """Negative log posterior of a logistic curve seen through the judge's errors, and its gradient.

    P(yes) = ``false_yes + separation * sigmoid(z)`` and P(no) = ``false_no + separation *
    sigmoid(-z)`` with ``separation = 1 - false_yes - false_no``: for each answer, ``sign * z``
    with its error rate ``floor`` gives ``-log(floor + separation * sigmoid(sign * z))``.
    """
    margins = signs * (features @ params)
    offset = params - prior_mean
    prior = 0.5 * (prior_precision * offset**2).sum()
    if false_yes == 0.0 and false_no == 0.0:  # the plain logistic loss, stable for any margin
        loss = np.logaddexp(0.0, -margins).sum() + prior
        return float(loss), features.T @ (-signs * expit(-margins)) + prior_precision * offset
    floor = np.where(signs > 0, false_yes, false_no)
    separation = 1.0 - false_yes - false_no
    agree = expit(margins)
    likelihood = floor + separation * agree
    loss = -np.log(likelihood).sum() + prior
    slope = separation * agree * (1.0 - agree) / likelihood  # d(-log likelihood) / d(-margin)
    return float(loss), features.T @ (-signs * slope) + prior_precision * offset
