"""Choosing which (label, utterance) pairs the judge sees.

Every function takes the current scores of the pool, a boolean matrix of pairs
already asked and a per-label quota, and returns ``(label_index, pool_index)``
arrays of new pairs. No pair is ever chosen twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import numpy as np

__all__ = [
    "select_cluster_members",
    "select_low_margin",
    "select_near_threshold",
    "select_rank_spread",
    "select_top_k",
    "split_budget",
    "stable_keys",
]


def split_budget(total: int, n_labels: int, n_rounds: int, round_index: int, spent: int) -> np.ndarray:
    """Per-label quotas for one round: the remaining budget spread over the remaining rounds.

    Quotas differ by at most one between labels, so the total is used exactly.
    """
    if n_labels == 0:
        return np.zeros(0, dtype=np.int64)
    remaining_rounds = n_rounds - round_index
    this_round = (total - spent) // remaining_rounds
    quota = np.full(n_labels, this_round // n_labels)
    quota[: this_round % n_labels] += 1
    return quota


def stable_keys(strings: Sequence[str], salt: int) -> np.ndarray:
    """A 64-bit hash of each string under ``salt``: the same string gets the same key in every fit.

    It is what makes the random choice of utterances stable under an edit of the labels:
    a (label, utterance) pair's draw depends on the two strings and the seed only, not on
    the other labels or on the order of the pool.
    """
    key = int(salt).to_bytes(8, "little")
    digests = b"".join(hashlib.blake2b(text.encode("utf-8"), digest_size=8, key=key).digest() for text in strings)
    return np.frombuffer(digests, dtype="<u8").astype(np.uint64)


def _pair_priorities(text_keys: np.ndarray, label_key: np.uint64) -> np.ndarray:
    """Uniform 64-bit draws, one per (label, utterance), from the two keys (splitmix64's finaliser)."""
    mixed = text_keys ^ label_key
    mixed = (mixed ^ (mixed >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    mixed = (mixed ^ (mixed >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return mixed ^ (mixed >> np.uint64(31))


def _top_unasked(scores: np.ndarray, asked: np.ndarray, count: int, exclude: np.ndarray | None = None) -> np.ndarray:
    order = np.argsort(-scores, kind="stable")
    free = ~asked[order]
    if exclude is not None:
        free &= ~exclude[order]
    return order[free][:count]


def select_top_k(scores: np.ndarray, asked: np.ndarray, quota: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The paper's choice: each label's most similar utterances not yet asked.

    Parameters
    ----------
    scores : ndarray of shape (n_pool, n_labels)
        Similarities or logits of every pool utterance for every label.
    asked : ndarray of bool, shape (n_pool, n_labels)
        Pairs already judged.
    quota : ndarray of int, shape (n_labels,)
        How many pairs to choose for each label.
    """
    return _as_pairs([_top_unasked(scores[:, label], asked[:, label], int(count)) for label, count in enumerate(quota)])


def _as_pairs(chosen: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``(label_index, pool_index)`` arrays from each label's chosen pool indices."""
    labels = np.concatenate([np.full(len(items), label) for label, items in enumerate(chosen)])
    return labels.astype(np.int64), np.concatenate(chosen).astype(np.int64)


def _per_label(
    scores: np.ndarray,
    asked: np.ndarray,
    quota: np.ndarray,
    pick: Callable[[int, np.ndarray, int], np.ndarray],
    exclude: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """For each label, ``pick(label, members, count)`` among its unasked predicted members, topped up
    with its highest-scored unasked utterances when the members run short."""
    predicted = scores.argmax(axis=1)
    skip = np.zeros(len(scores), dtype=bool) if exclude is None else exclude
    chosen_per_label = []
    for label, count in enumerate(quota):
        count = int(count)
        members = np.flatnonzero((predicted == label) & ~asked[:, label] & ~skip)
        chosen = np.asarray(pick(label, members, count), dtype=np.int64)
        if len(chosen) < count:
            taken = skip.copy()
            taken[chosen] = True
            extra = _top_unasked(scores[:, label], asked[:, label], count - len(chosen), exclude=taken)
            chosen = np.concatenate([chosen, extra])
        chosen_per_label.append(chosen)
    return _as_pairs(chosen_per_label)


def select_cluster_members(
    scores: np.ndarray,
    asked: np.ndarray,
    quota: np.ndarray,
    text_keys: np.ndarray,
    label_keys: np.ndarray,
    exclude: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Random members of each label's predicted cluster (utterances whose best label it is).

    A spread of members finds hard positives and confusions, which the most similar
    utterances (easy, redundant positives) do not. A label with too few unasked members
    is topped up with its most similar unasked utterances. ``exclude`` marks utterances
    never to choose.

    The draw is a hash of each (label, utterance) pair (``text_keys`` and ``label_keys``
    from :func:`stable_keys`), so adding or removing a label leaves the other labels'
    draws alone except for the utterances that change cluster: a refit after an intent
    edit asks the judge mostly questions it has answered before.
    """

    def pick(label: int, members: np.ndarray, count: int) -> np.ndarray:
        priorities = _pair_priorities(text_keys[members], label_keys[label])
        return members[np.argsort(priorities, kind="stable")[:count]]

    return _per_label(scores, asked, quota, pick, exclude)


def select_low_margin(
    probabilities: np.ndarray, asked: np.ndarray, quota: np.ndarray, exclude: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Each label's least certain members: smallest gap between the two best labels.

    These sit on the boundaries between labels, where an answer moves the most.
    A label with too few unasked members is topped up with its most probable
    unasked utterances.

    Parameters
    ----------
    probabilities : ndarray of shape (n_pool, n_labels)
        Current label probabilities of the pool.
    asked : ndarray of bool, shape (n_pool, n_labels)
        Pairs already judged.
    quota : ndarray of int, shape (n_labels,)
        Pairs to choose per label.
    exclude : ndarray of bool, shape (n_pool,), optional
        Utterances never to choose (e.g. those the judge already placed).
    """
    two_best = np.sort(probabilities, axis=1)[:, -2:]
    margin = two_best[:, 1] - two_best[:, 0]
    return _per_label(
        probabilities,
        asked,
        quota,
        lambda label, members, count: members[np.argsort(margin[members], kind="stable")[:count]],
        exclude,
    )


def select_rank_spread(
    scores: np.ndarray, asked: np.ndarray, quota: np.ndarray, window: int
) -> tuple[np.ndarray, np.ndarray]:
    """Multi-label first round: each label's unasked utterances at evenly spaced ranks among its ``window`` best.

    Before any answer, a label's threshold is unknown: its most similar utterances are
    mostly positives, and the rest of its window holds the boundary. Spreading the
    questions over the window finds both, where the top ranks alone would find positives
    only (and a threshold learned from them alone would accept everything).

    Parameters
    ----------
    scores : ndarray of shape (n_pool, n_labels)
    asked : ndarray of bool, shape (n_pool, n_labels)
    quota : ndarray of int, shape (n_labels,)
    window : int
        Ranks spanned (at least each label's quota).
    """
    chosen = []
    for label, count in enumerate(quota):
        order = np.argsort(-scores[:, label], kind="stable")
        free = order[~asked[order, label]]
        span = free[: max(int(window), int(count))]
        picks = np.unique(np.linspace(0, len(span) - 1, num=min(int(count), len(span))).round().astype(np.int64))
        chosen.append(span[picks] if len(span) else span)
    return _as_pairs(chosen)


def select_near_threshold(
    probabilities: np.ndarray, asked: np.ndarray, quota: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Multi-label rounds after the first: each label's unasked utterances whose probability is nearest 0.5.

    Per-label separation is decided at each label's own threshold, so that is where an
    answer moves the most: the utterances the current model is least sure about for that
    label, whatever their other labels.

    Parameters
    ----------
    probabilities : ndarray of shape (n_pool, n_labels)
        Independent per-label probabilities.
    asked : ndarray of bool, shape (n_pool, n_labels)
    quota : ndarray of int, shape (n_labels,)
    """
    uncertainty = -np.abs(probabilities - 0.5)
    return select_top_k(uncertainty, asked, quota)
