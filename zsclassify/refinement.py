"""Refinement of label embeddings from judge feedback: array maths only, no models.

Two update rules live here:

* :func:`kl_refine` is the paper's rule (Gera et al., arXiv 2605.12487): each label's
  query vector is moved, on its own, so that the softmax of its cosine similarities to
  the judged utterances matches the softmax of the judge's scores. It is vectorised
  over labels; Adam's state is element-wise, so the result equals a per-label loop.
* :func:`fit_joint` is the default for classification: all label vectors are fitted
  together under one softmax over labels, so they stay comparable.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression

__all__ = [
    "fit_joint",
    "kl_loss_and_grad",
    "kl_refine",
    "normalize_rows",
]


def normalize_rows(matrix: np.ndarray) -> np.ndarray:
    """Return ``matrix`` with each row scaled to unit L2 norm (zero rows stay zero)."""
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return matrix / np.where(norms == 0.0, 1.0, norms)


def _masked_softmax(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    shifted = np.where(mask, values, -np.inf)
    shifted = shifted - shifted.max(axis=1, keepdims=True)
    weights = np.where(mask, np.exp(shifted), 0.0)
    return weights / weights.sum(axis=1, keepdims=True)


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
    norms = np.linalg.norm(queries, axis=1, keepdims=True)
    unit = queries / norms
    cosines = np.einsum("lkd,ld->lk", documents, unit)
    target = _masked_softmax(scores, mask)
    predicted = _masked_softmax(cosines, mask)
    log_ratio = np.where(mask, np.log(np.where(mask, target, 1.0)) - np.log(np.where(mask, predicted, 1.0)), 0.0)
    loss = np.sum(np.where(mask, target * log_ratio, 0.0), axis=1)
    weight = predicted - target  # dKL / dcos_i
    # dcos_i / dq = (d_i - cos_i * q_hat) / ||q||
    grad = (np.einsum("lk,lkd->ld", weight, documents) - np.sum(weight * cosines, axis=1, keepdims=True) * unit) / norms
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
    docs, judged, valid = documents[active], scores[active], mask[active]
    first_moment = np.zeros_like(q)
    second_moment = np.zeros_like(q)
    for step in range(1, n_steps + 1):
        _, grad = kl_loss_and_grad(q, docs, judged, valid)
        first_moment = beta1 * first_moment + (1.0 - beta1) * grad
        second_moment = beta2 * second_moment + (1.0 - beta2) * grad * grad
        corrected_first = first_moment / (1.0 - beta1**step)
        corrected_second = second_moment / (1.0 - beta2**step)
        q -= learning_rate * corrected_first / (np.sqrt(corrected_second) + eps)
    queries[active] = q
    return queries


def fit_joint(
    initial_labels: np.ndarray,
    embeddings: np.ndarray,
    label_indices: np.ndarray,
    *,
    C: float = 10.0,
    sample_weight: np.ndarray | None = None,
    anchor_weight: float = 1.0,
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
    model = LogisticRegression(C=C, max_iter=1000)
    model.fit(features, targets, sample_weight=weights)
    coef, intercept = model.coef_, model.intercept_
    if n_labels == 2:  # binary LR keeps one vector: P(1) = sigmoid(w x + b) = softmax([0, w x + b])[1]
        coef = np.vstack([np.zeros_like(coef[0]), coef[0]])
        intercept = np.array([0.0, intercept[0]])
    return coef, intercept
