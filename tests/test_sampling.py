"""Choosing what to judge: quotas, top-k, cluster members (stable under label edits), low margin."""

import numpy as np
import pytest

from zsclassify._sampling import (
    select_cluster_members,
    select_low_margin,
    select_top_k,
    split_budget,
    stable_keys,
)

TEXTS = [f"utterance {i}" for i in range(60)]


@pytest.fixture
def scores():
    return np.random.default_rng(0).normal(size=(len(TEXTS), 3))


def picks_by_label(labels, items):
    return {int(label): set(items[labels == label].tolist()) for label in np.unique(labels)}


def test_split_budget_spends_the_remaining_budget_evenly():
    quotas = [split_budget(100, 7, 3, 0, 0), split_budget(100, 7, 3, 1, 33), split_budget(100, 7, 3, 2, 60)]
    assert [int(q.sum()) for q in quotas] == [33, 33, 40]
    assert all(q.max() - q.min() <= 1 for q in quotas)


def test_top_k_takes_each_labels_best_unasked_utterances(scores):
    asked = np.zeros(scores.shape, dtype=bool)
    best = int(scores[:, 1].argmax())
    asked[best, 1] = True
    labels, items = select_top_k(scores, asked, np.array([2, 2, 0]))
    chosen = picks_by_label(labels, items)
    assert chosen[0] == set(np.argsort(-scores[:, 0])[:2].tolist())
    assert best not in chosen[1] and len(chosen[1]) == 2 and 2 not in chosen


def test_stable_keys_depend_on_the_text_and_the_salt_only():
    keys = stable_keys(TEXTS, salt=7)
    assert keys.dtype == np.uint64 and len(set(keys.tolist())) == len(TEXTS)
    np.testing.assert_array_equal(stable_keys(TEXTS[::-1], salt=7), keys[::-1])
    assert not np.array_equal(stable_keys(TEXTS, salt=8), keys)


def test_cluster_members_are_drawn_from_the_predicted_cluster(scores):
    asked = np.zeros(scores.shape, dtype=bool)
    keys, label_keys = stable_keys(TEXTS, 1), stable_keys(["a", "b", "c"], 1)
    labels, items = select_cluster_members(scores, asked, np.array([3, 3, 3]), keys, label_keys)
    predicted = scores.argmax(axis=1)
    assert len(items) == 9 and len(set(items.tolist())) == 9
    assert all(predicted[item] == label for label, item in zip(labels, items))
    other_salt = select_cluster_members(scores, asked, np.array([3, 3, 3]), stable_keys(TEXTS, 2), label_keys)
    assert picks_by_label(*other_salt) != picks_by_label(labels, items)


def test_a_new_label_leaves_the_other_labels_draws_alone(scores):
    """What makes a refit after adding an intent re-ask few questions: only utterances that
    move to the new label change the draws of the old ones."""
    names = ["a", "b", "c"]
    keys = stable_keys(TEXTS, 3)
    before = picks_by_label(
        *select_cluster_members(scores, np.zeros(scores.shape, dtype=bool), np.full(3, 4), keys, stable_keys(names, 3))
    )
    drawn = set().union(*before.values())
    # the new label "d" wins five utterances nobody drew, and sits first in the label order
    stolen = [i for i in range(len(TEXTS)) if i not in drawn][:5]
    new_column = np.full((len(TEXTS), 1), -10.0)
    new_column[stolen] = 10.0
    with_new = np.hstack([new_column, scores])
    after = picks_by_label(
        *select_cluster_members(
            with_new, np.zeros(with_new.shape, dtype=bool), np.full(4, 4), keys, stable_keys(["d", *names], 3)
        )
    )
    assert {label - 1: items for label, items in after.items() if label > 0} == before
    assert after[0] <= set(stolen)


def test_low_margin_takes_the_least_certain_members_and_skips_excluded(scores):
    probabilities = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    two_best = np.sort(probabilities, axis=1)[:, -2:]
    margin = two_best[:, 1] - two_best[:, 0]
    members = np.flatnonzero(probabilities.argmax(axis=1) == 0)
    closest = members[np.argsort(margin[members])]
    exclude = np.zeros(len(TEXTS), dtype=bool)
    exclude[closest[0]] = True
    labels, items = select_low_margin(probabilities, np.zeros(scores.shape, dtype=bool), np.array([2, 0, 0]), exclude)
    assert set(items.tolist()) == set(closest[1:3].tolist()) and set(labels.tolist()) == {0}
