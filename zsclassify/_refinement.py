"""Refinement of label embeddings from judge feedback: array maths only, no models.

Two update rules live here:

* :func:`kl_refine` is the paper's rule (Gera et al., arXiv 2605.12487): each label's
  query vector is moved, on its own, so that the softmax of its cosine similarities to
  the judged utterances matches the softmax of the judge's scores. It is vectorised
  over labels; Adam's state is element-wise, so the result equals a per-label loop.
* :func:`fit_joint` fits all label vectors together under one softmax over labels, so
  they stay comparable; :func:`self_train` is the default's final fit, which adds
  the pool's confident predictions and reads the judge's answers through a noise model.

Calibrating the result against held-out answers is :mod:`zsclassify._calibration`'s job.
"""

from __future__ import annotations

import functools
import warnings
from typing import NamedTuple

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.linear_model import LogisticRegression
from threadpoolctl import ThreadpoolController

from .segmenting import max_by_owner

__all__ = [
    "ChoiceEvidence",
    "PiecedTexts",
    "assign_yes_pieces",
    "choice_likelihood",
    "estimate_judge_reliability",
    "fit_joint",
    "fit_label_logistic",
    "kl_loss_and_grad",
    "kl_refine",
    "one_native_thread",
    "self_train",
]

PIECE_ASSIGNMENT_ROUNDS = 2
"""Rounds of :meth:`PiecedTexts.fit_label_logistic`: which piece carries each "yes", then a refit on it."""
MAX_JUDGE_RELIABILITY = 0.99
"""Upper bound of :func:`estimate_judge_reliability`: no judge is read as never wrong."""
MAX_EM_ITERATIONS = 1000


def _masked_softmax(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    shifted = np.where(mask, values, -np.inf)
    shifted = shifted - shifted.max(axis=1, keepdims=True)
    weights = np.where(mask, np.exp(shifted), 0.0)
    return weights / weights.sum(axis=1, keepdims=True)


def _kl_grad(
    queries: np.ndarray, documents: np.ndarray, target: np.ndarray, mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Cosines and the gradient of KL(target || softmax(cos)) with respect to the queries."""
    norms = np.linalg.norm(queries, axis=1, keepdims=True)
    unit = queries / norms
    # The two products with the documents dominate the cost; they run in the documents'
    # precision (float32 in kl_refine: half the memory traffic), the rest in float64.
    cosines = np.matmul(documents, unit.astype(documents.dtype)[:, :, None])[:, :, 0].astype(np.float64)
    weight = _masked_softmax(cosines, mask) - target  # dKL / dcos_i = s_i - p_i
    # dcos_i / dq = (d_i - cos_i * q_hat) / ||q||
    grad = np.matmul(weight.astype(documents.dtype)[:, None, :], documents)[:, 0, :].astype(np.float64)
    grad -= np.sum(weight * cosines, axis=1, keepdims=True) * unit
    grad /= norms
    return cosines, grad


def kl_loss_and_grad(
    queries: np.ndarray,
    documents: np.ndarray,
    scores: np.ndarray,
    mask: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """KL(p || s) per label and its gradient with respect to the (unnormalised) queries.

    Parameters
    ----------
    queries : ndarray of shape (n_labels, dim)
        Label query vectors, not necessarily unit length.
    documents : ndarray of shape (n_labels, k, dim)
        Unit-length embeddings of the judged utterances of each label (padded).
    scores : ndarray of shape (n_labels, k)
        Judge scores in [0, 1]; ``p = softmax(scores)`` over the valid entries.
    mask : ndarray of bool, shape (n_labels, k)
        True where an entry is a real judged utterance, False for padding.

    Returns
    -------
    loss : ndarray of shape (n_labels,)
    grad : ndarray of shape (n_labels, dim)
    """
    target = _masked_softmax(scores, mask)
    cosines, grad = _kl_grad(queries, documents, target, mask)
    predicted = _masked_softmax(cosines, mask)
    safe_target, safe_predicted = np.where(mask, target, 1.0), np.where(mask, predicted, 1.0)
    loss = np.sum(np.where(mask, target * (np.log(safe_target) - np.log(safe_predicted)), 0.0), axis=1)
    return loss, grad


def kl_refine(
    queries: np.ndarray,
    documents: np.ndarray,
    scores: np.ndarray,
    mask: np.ndarray | None = None,
    *,
    learning_rate: float = 1e-4,
    n_steps: int = 100,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
) -> np.ndarray:
    """The paper's refinement: Adam on KL(softmax(scores) || softmax(cos(q, d))) per label.

    All labels are optimised at once; each label's result is identical to optimising
    it alone, because the loss is a sum over labels and Adam works element-wise.

    Parameters
    ----------
    queries : ndarray of shape (n_labels, dim)
        Initial label embeddings (the optimisation runs on the unnormalised vectors).
    documents : ndarray of shape (n_labels, k, dim)
        Unit-length embeddings of each label's judged utterances, padded to ``k``.
    scores : ndarray of shape (n_labels, k)
        Judge scores in [0, 1].
    mask : ndarray of bool, shape (n_labels, k), optional
        Valid entries; labels with fewer than two judged utterances are left unchanged.
    learning_rate, n_steps, beta1, beta2, eps
        Adam settings; the paper uses lr 1e-4 and 100 steps.

    Returns
    -------
    ndarray of shape (n_labels, dim)
        The refined, unnormalised query vectors.
    """
    queries = np.array(queries, dtype=np.float64, copy=True)
    documents = np.asarray(documents, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    mask = np.ones(scores.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    active = mask.sum(axis=1) >= 2  # a softmax over one item carries no signal
    if not active.any():
        return queries
    q = queries[active]
    docs, judged, valid = documents[active].astype(np.float32), scores[active], mask[active]
    target = _masked_softmax(judged, valid)
    first_moment = np.zeros_like(q)
    second_moment = np.zeros_like(q)
    for step in range(1, n_steps + 1):
        _, grad = _kl_grad(q, docs, target, valid)
        first_moment *= beta1
        first_moment += (1.0 - beta1) * grad
        second_moment *= beta2
        second_moment += (1.0 - beta2) * grad * grad
        # q -= lr * m_hat / (sqrt(v_hat) + eps), with the bias corrections folded in
        denominator = np.sqrt(second_moment / (1.0 - beta2**step))
        denominator += eps
        q -= (learning_rate / (1.0 - beta1**step)) * first_moment / denominator
    queries[active] = q
    return queries


@functools.cache
def _threadpools() -> ThreadpoolController:
    return ThreadpoolController()  # finding the libraries is the slow part: once per process


def one_native_thread():
    """A context in which BLAS and OpenMP run on one thread each.

    The logistic regressions here are small: on a few cores, threads inside each one
    cost more in synchronisation than they gain (the calibration runs its folds in
    parallel instead). Enter it from one thread only: the limit is process-wide.
    """
    return _threadpools().limit(limits=1)


def fit_joint(
    initial_labels: np.ndarray,
    embeddings: np.ndarray,
    label_indices: np.ndarray,
    *,
    C: float = 10.0,
    sample_weight: np.ndarray | None = None,
    anchor_weight: float = 1.0,
    init: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Refine all label embeddings jointly from utterances the judge accepted.

    A multinomial logistic regression over the embedding space, whose samples are
    the accepted (utterance, label) pairs plus each label's description embedding
    as an anchor example of its own label, so that every label keeps a vector even
    when the judge accepted nothing for it. One softmax over all labels keeps their
    scores comparable, which per-label updates do not.

    Parameters
    ----------
    initial_labels : ndarray of shape (n_labels, dim)
        Description embeddings.
    embeddings : ndarray of shape (n_samples, dim)
        Embeddings of accepted utterances.
    label_indices : ndarray of int, shape (n_samples,)
        The label each utterance was accepted for.
    C : float
        Inverse L2 regularisation strength.
    sample_weight : ndarray of shape (n_samples,), optional
        Weight of each accepted pair (e.g. the judge's score).
    anchor_weight : float
        Weight of each description anchor.
    init : (coef, intercept), optional
        A previous result of this function to start the optimisation from (a fit on
        similar data converges in far fewer iterations).

    Returns
    -------
    coef : ndarray of shape (n_labels, dim)
        Refined label vectors: the logit of ``x`` for label ``l`` is ``x @ coef[l] + intercept[l]``.
    intercept : ndarray of shape (n_labels,)
    """
    n_labels = initial_labels.shape[0]
    features = np.vstack([embeddings, initial_labels])
    targets = np.concatenate([np.asarray(label_indices, dtype=np.int64), np.arange(n_labels)])
    weights = np.concatenate(
        [np.ones(len(embeddings)) if sample_weight is None else sample_weight, np.full(n_labels, anchor_weight)]
    )
    model = LogisticRegression(C=C, max_iter=500, warm_start=init is not None)
    if init is not None:
        coef, intercept = init
        if n_labels == 2:  # the binary model's one vector, as returned below
            coef, intercept = coef[1:] - coef[:1], intercept[1:] - intercept[:1]
        model.coef_, model.intercept_ = np.array(coef, dtype=np.float64), np.array(intercept, dtype=np.float64)
    with warnings.catch_warnings():  # few answers per label is expected here, not a sign of regression targets
        warnings.filterwarnings("ignore", "The number of unique classes is greater than 50%", UserWarning)
        model.fit(features, targets, sample_weight=weights)
    coef, intercept = model.coef_, model.intercept_
    if n_labels == 2:  # binary LR keeps one vector: P(1) = sigmoid(w x + b) = softmax([0, w x + b])[1]
        coef = np.vstack([np.zeros_like(coef[0]), coef[0]])
        intercept = np.array([0.0, intercept[0]])
    return coef, intercept


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    weights = np.exp(shifted)
    return weights / weights.sum(axis=1, keepdims=True)


class ChoiceEvidence(NamedTuple):
    """Multiple-choice answers, laid out by pool row and label for :func:`self_train`.

    Attributes
    ----------
    probabilities : ndarray of shape (n_pool, n_labels)
        The judge's probability of the option that stands for each label: the label's
        own option when it was a candidate, "none of these" when it was not. NaN rows
        were not answered by a choice.
    n_options : ndarray of shape (n_pool,)
        Options of each question (candidates + "none"); 0 where not answered.
    """

    probabilities: np.ndarray
    n_options: np.ndarray

    @classmethod
    def empty(cls, n_pool: int, n_labels: int) -> ChoiceEvidence:
        """No answers yet."""
        return cls(np.full((n_pool, n_labels), np.nan), np.zeros(n_pool))

    @property
    def answered(self) -> np.ndarray:
        """Boolean mask of the pool rows answered by a choice."""
        return self.n_options > 0

    def without(self, rows: np.ndarray) -> ChoiceEvidence:
        """A copy in which ``rows`` are unanswered (for fits that must not see them)."""
        probabilities, n_options = self.probabilities.copy(), self.n_options.copy()
        probabilities[rows], n_options[rows] = np.nan, 0
        return ChoiceEvidence(probabilities, n_options)


def choice_likelihood(probabilities: np.ndarray, n_options: np.ndarray, reliability: float) -> np.ndarray:
    """Likelihood of each multiple-choice answer under each true label.

    The judge answers from its own distribution over the options with probability
    ``reliability`` and uniformly at random otherwise, so the answer given true label
    ``t`` has likelihood ``reliability * probabilities[i, t] + (1 - reliability) / n_options[i]``.

    Parameters
    ----------
    probabilities : ndarray of shape (n_answers, n_labels)
        As :attr:`ChoiceEvidence.probabilities`, answered rows only.
    n_options : ndarray of shape (n_answers,)
    reliability : float in [0, 1]

    Returns
    -------
    ndarray of shape (n_answers, n_labels)
    """
    return reliability * probabilities + (1.0 - reliability) / n_options[:, None]


def estimate_judge_reliability(
    prior: np.ndarray, probabilities: np.ndarray, n_options: np.ndarray, *, start: float = 0.9, tol: float = 1e-5
) -> float:
    """How often a judge's choices are informative rather than random: an EM estimate.

    The labels are latent: each answered utterance has a ``prior`` over labels (from a
    fit that did not see its answer) and its answer has :func:`choice_likelihood`. EM
    alternates the posterior over labels and the share of it explained by the judge's own
    distribution: a judge whose choices the prior supports gets a high value, one whose
    choices look random against it a low one, so its answers weigh less. In
    :func:`self_train` the prior comes from pseudo-labels of fits that used the answers,
    so the estimate is optimistic: it reached its cap with every recorded real LLM.

    Parameters
    ----------
    prior : ndarray of shape (n_answers, n_labels)
        Label probabilities of each answered utterance before its answer.
    probabilities, n_options : ndarray
        As :func:`choice_likelihood`.
    start : float
        First guess.
    tol : float
        Stop when an iteration moves the estimate less than this.

    Returns
    -------
    float in [0, MAX_JUDGE_RELIABILITY]
    """
    reliability = start
    for _ in range(MAX_EM_ITERATIONS):
        informative = reliability * probabilities
        likelihood = choice_likelihood(probabilities, n_options, reliability)
        posterior = prior * likelihood
        posterior /= posterior.sum(axis=1, keepdims=True)
        updated = min(float(np.mean((posterior * informative / likelihood).sum(axis=1))), MAX_JUDGE_RELIABILITY)
        if abs(updated - reliability) < tol:
            return updated
        reliability = updated
    return reliability


def self_train(
    initial_labels: np.ndarray,
    pool: np.ndarray,
    said_yes: np.ndarray,
    said_no: np.ndarray,
    *,
    C: float = 10.0,
    keep_fraction: float = 0.5,
    pseudo_labels_per_answer: int = 100,
    max_pseudo_labels: int = 20_000,
    false_yes: float = 0.1,
    false_no: float = 0.1,
    choices: ChoiceEvidence | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Final joint fit from the judge's answers and the unlabeled pool.

    1. Fit :func:`fit_joint` on the accepted pairs; predict the pool, ruling out every
       label the judge rejected for an utterance.
    2. Pseudo-label the unjudged utterances: within each predicted label, the most
       confident ``keep_fraction``, in all at most ``pseudo_labels_per_answer``
       per judged utterance and ``max_pseudo_labels``, split evenly over the labels.
    3. Read each judged utterance through a noise model: a prior from a fit on the
       pseudo-labels alone, times the likelihood of its answers. A yes/no answer says
       yes to a wrong label with probability ``false_yes`` and no to the right one
       with probability ``false_no``; a multiple-choice answer has
       :func:`choice_likelihood`, with the judge's reliability estimated from all its
       choices by :func:`estimate_judge_reliability`. It takes the most probable label,
       weighted by that probability; utterances without a "yes" are kept when that
       probability is at least 0.5.
    4. Fit :func:`fit_joint` on the re-read judged utterances plus the pseudo-labels.

    Each fit starts from the previous one (a warm start: same pool, similar labels), which
    saves most of the optimiser's iterations and uses no answer the first fit did not see.

    Parameters
    ----------
    initial_labels : ndarray of shape (n_labels, dim)
        Description embeddings (anchors).
    pool : ndarray of shape (n_pool, dim)
        Unit-length embeddings of the pool.
    said_yes, said_no : ndarray of bool, shape (n_pool, n_labels)
        The judge's accepted and rejected pairs.
    C : float
        Inverse regularisation of every fit.
    keep_fraction : float
        Share of each predicted label's unjudged utterances used as pseudo-labels.
    pseudo_labels_per_answer : int
        Pseudo-labels allowed per judged utterance. Few answers make a weak first fit
        whose less confident predictions are often wrong, so the pool's share grows with
        the evidence (SNIPS, GoldJudge: more pseudo-labels gain 0.9 points at 20 questions
        per label and lose 5 at 2; benchmarks/HISTORY.md, section 0).
    max_pseudo_labels : int
        Most pseudo-labels in all. It bounds the size of the fits, so that their cost
        stops growing with the pool.
    false_yes, false_no : float
        Assumed P(yes | wrong label) and P(no | right label) of a yes/no answer.
    choices : ChoiceEvidence, optional
        Multiple-choice answers; their rows of ``said_yes`` / ``said_no`` (yes for the
        chosen candidate, no for the others) then serve only steps 1 and 2.

    Returns
    -------
    coef, intercept : ndarray
        As :func:`fit_joint`.
    """
    n_labels = initial_labels.shape[0]
    has_yes = np.asarray(said_yes.any(axis=1), dtype=bool)
    judged = has_yes | said_no.any(axis=1)
    first_yes = said_yes.argmax(axis=1)
    coef, intercept = fit_joint(initial_labels, pool[has_yes], first_yes[has_yes], C=C)
    probabilities = np.where(said_no, 0.0, _softmax(pool @ coef.T + intercept))
    totals = probabilities.sum(axis=1, keepdims=True)
    probabilities = probabilities / np.where(totals == 0.0, 1.0, totals)
    predicted, confidence = probabilities.argmax(axis=1), probabilities.max(axis=1)

    pseudo = np.zeros(len(pool), dtype=bool)
    per_label = max(1, min(pseudo_labels_per_answer * int(judged.sum()), max_pseudo_labels) // n_labels)
    for label in range(n_labels):
        members = np.flatnonzero((predicted == label) & ~judged)
        if len(members):
            kept = members[confidence[members] >= np.quantile(confidence[members], 1.0 - keep_fraction)]
            if len(kept) > per_label:
                kept = kept[np.argsort(-confidence[kept], kind="stable")[:per_label]]
            pseudo[kept] = True

    rows = np.flatnonzero(judged)
    prior = fit_joint(initial_labels, pool[pseudo], predicted[pseudo], C=C, init=(coef, intercept))
    prior_probabilities = _softmax(pool[rows] @ prior[0].T + prior[1])
    # A yes/no answer about label l, under true label t: "yes" has probability 1 - false_no
    # when t = l and false_yes otherwise; "no" has false_no and 1 - false_yes.
    yes, no = said_yes[rows].astype(float), said_no[rows].astype(float)
    log_likelihood = (
        yes * np.log(1.0 - false_no)
        + (yes.sum(axis=1, keepdims=True) - yes) * np.log(false_yes)
        + no * np.log(false_no)
        + (no.sum(axis=1, keepdims=True) - no) * np.log(1.0 - false_yes)
    )
    if choices is not None and choices.answered[rows].any():
        chose = choices.answered[rows]
        probabilities, n_options = choices.probabilities[rows[chose]], choices.n_options[rows[chose]]
        reliability = estimate_judge_reliability(prior_probabilities[chose], probabilities, n_options)
        log_likelihood[chose] = np.log(choice_likelihood(probabilities, n_options, reliability))
    posterior = _softmax(np.log(np.clip(prior_probabilities, 1e-300, None)) + log_likelihood)
    relabelled, weight = posterior.argmax(axis=1), posterior.max(axis=1)
    kept = np.asarray(has_yes[rows] | (weight >= 0.5), dtype=bool)

    features = np.vstack([pool[rows[kept]], pool[pseudo]])
    targets = np.concatenate([relabelled[kept], predicted[pseudo]])
    weights = np.concatenate([weight[kept], np.ones(int(pseudo.sum()))])
    return fit_joint(initial_labels, features, targets, C=C, sample_weight=weights, init=prior)


def fit_label_logistic(
    initial_labels: np.ndarray,
    embeddings: np.ndarray,
    said_yes: np.ndarray,
    said_no: np.ndarray,
    *,
    C: float = 10.0,
    anchor_weight: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Multi-label refinement: one logistic regression per label on its own answers, anchored on the descriptions.

    A label's samples are the utterances the judge was asked about for it ("yes" 1, "no" 0),
    its description embedding as a positive and the other labels' descriptions as negatives
    (a description is an example of its own label, and no other's): every label has both
    classes and keeps a vector near its description when it has few answers. Each label
    depends on its own answers only, since a "yes" for one label of a multi-intent utterance
    says nothing about the others.

    Parameters
    ----------
    initial_labels : ndarray of shape (n_labels, dim)
        Description embeddings.
    embeddings : ndarray of shape (n_pool, dim)
        Pool embeddings (rows without answers are ignored).
    said_yes, said_no : ndarray of bool, shape (n_pool, n_labels)
    C : float
        Inverse L2 regularisation of each regression.
    anchor_weight : float
        Weight of each description sample.

    Returns
    -------
    coef : ndarray of shape (n_labels, dim)
    intercept : ndarray of shape (n_labels,)
        The logit of ``x`` for label ``l`` is ``x @ coef[l] + intercept[l]``.
    """
    n_labels = initial_labels.shape[0]
    coef, intercept = np.zeros((n_labels, initial_labels.shape[1])), np.zeros(n_labels)
    for label in range(n_labels):
        answered = said_yes[:, label] | said_no[:, label]
        features = np.vstack([embeddings[answered], initial_labels])
        targets = np.concatenate([said_yes[answered, label], np.arange(n_labels) == label]).astype(np.int64)
        weights = np.concatenate([np.ones(int(answered.sum())), np.full(n_labels, anchor_weight)])
        model = LogisticRegression(C=C, max_iter=1000).fit(features, targets, sample_weight=weights)
        coef[label], intercept[label] = model.coef_[0], model.intercept_[0]
    return coef, intercept


class PiecedTexts:
    """Judged pool texts cut into pieces (clauses): scored by their best piece, and learned from piece by piece.

    A judge's "yes" for a multi-intent text says that one of its pieces expresses the label,
    not which; a "no" says that none does. :meth:`fit_label_logistic` reads answers that way
    (multiple-instance learning): every piece of a "no" text is a negative, and a "yes" text's
    accepted labels are matched to its pieces under the current directions
    (:func:`assign_yes_pieces`: one request per clause), each match a positive, refitted
    :data:`PIECE_ASSIGNMENT_ROUNDS` times from the whole-text fit.

    Parameters
    ----------
    rows : ndarray of int
        The pool indices of the texts cut, ascending.
    owners : ndarray of int
        For each piece, its text's position in ``rows`` (non-decreasing, every text at least once).
    embeddings : ndarray of shape (n_pieces, dim)
        The pieces, embedded as the pool is (same centring).
    """

    def __init__(self, rows: np.ndarray, owners: np.ndarray, embeddings: np.ndarray) -> None:
        self.embeddings = embeddings
        self._first = np.searchsorted(owners, np.arange(len(rows) + 1))
        self._position = np.full(int(rows.max()) + 1 if len(rows) else 0, -1)
        self._position[rows] = np.arange(len(rows))

    def _pieces(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The piece indices of pool ``rows`` and, for each, its position in ``rows``."""
        positions = self._position[rows]
        if (positions < 0).any():
            raise ValueError("scored a pool row that was not cut into pieces")
        starts, ends = self._first[positions], self._first[positions + 1]
        local = np.repeat(np.arange(len(rows)), ends - starts)
        pieces = np.concatenate([np.arange(a, b) for a, b in zip(starts, ends)]) if len(rows) else local
        return pieces, local

    def score(self, rows: np.ndarray, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
        """Per-label logits of pool ``rows``: each label's best piece, ``piece @ coef.T + intercept``."""
        pieces, local = self._pieces(rows)
        return max_by_owner(self.embeddings[pieces] @ coef.T, local) + intercept

    def fit_label_logistic(
        self, initial_labels: np.ndarray, documents: np.ndarray, said_yes: np.ndarray, said_no: np.ndarray, *, C: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """:func:`fit_label_logistic` on the pieces of the answered rows, each "yes" on the piece matched to it."""
        coef, intercept = fit_label_logistic(initial_labels, documents, said_yes, said_no, C=C)
        rows = np.flatnonzero((said_yes | said_no).any(axis=1))
        pieces, local = self._pieces(rows)
        embedded = self.embeddings[pieces]
        piece_no = said_no[rows][local]
        for _ in range(PIECE_ASSIGNMENT_ROUNDS):
            piece_yes = assign_yes_pieces(embedded @ coef.T + intercept, local, said_yes[rows])
            coef, intercept = fit_label_logistic(initial_labels, embedded, piece_yes, piece_no, C=C)
        return coef, intercept


def assign_yes_pieces(logits: np.ndarray, owners: np.ndarray, said_yes: np.ndarray) -> np.ndarray:
    """Which piece of each text carries each of its accepted labels: one request per piece where the text allows.

    A multi-intent message joins its requests clause by clause ("play some jazz and set an
    alarm"), so a text's accepted labels are matched to distinct pieces, the matching with the
    largest sum of logits (:func:`scipy.optimize.linear_sum_assignment`). Matched one by one,
    each label would take its best-scored piece, and a label whose direction is still near
    another's (a flight's time and the flight) would learn the other's clause. A text with more
    accepted labels than pieces, or one piece, gives each label its best piece.

    Parameters
    ----------
    logits : ndarray of shape (n_pieces, n_labels)
        Each piece's current per-label logits (comparable across labels).
    owners : ndarray of int, shape (n_pieces,)
        Each piece's text (non-decreasing, every text at least one piece).
    said_yes : ndarray of bool, shape (n_texts, n_labels)
        The labels the judge accepted for each text.

    Returns
    -------
    ndarray of bool, shape (n_pieces, n_labels)
        ``True`` where a piece is the positive of one of its text's accepted labels.
    """
    piece_yes = said_yes[owners] & (logits == max_by_owner(logits, owners)[owners])
    starts = np.searchsorted(owners, np.arange(len(said_yes) + 1))
    n_pieces, n_yes = np.diff(starts), said_yes.sum(axis=1)
    for text in np.flatnonzero((n_yes >= 2) & (n_pieces >= n_yes)):
        first, labels = starts[text], np.flatnonzero(said_yes[text])
        pieces, matched = linear_sum_assignment(logits[first : starts[text + 1], labels], maximize=True)
        piece_yes[first : starts[text + 1], labels] = False
        piece_yes[first + pieces, labels[matched]] = True
    return piece_yes
