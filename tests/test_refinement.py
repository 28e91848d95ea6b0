"""Refinement maths against independent references (finite differences, PyTorch autograd)."""

import numpy as np
import pytest

from zsclassify import _refinement
from zsclassify._refinement import (
    ChoiceEvidence,
    PiecedTexts,
    assign_yes_pieces,
    choice_likelihood,
    estimate_judge_reliability,
    fit_joint,
    fit_label_logistic,
    kl_loss_and_grad,
    kl_refine,
    self_train,
)
from zsclassify.embedding import normalize_rows


def _problem(n_labels=4, k=6, dim=16, seed=0):
    rng = np.random.default_rng(seed)
    queries = rng.normal(size=(n_labels, dim))
    documents = normalize_rows(rng.normal(size=(n_labels, k, dim)))
    scores = rng.random((n_labels, k))
    mask = np.ones((n_labels, k), dtype=bool)
    mask[1, 4:] = False  # a label with fewer judged utterances
    return queries, documents, scores, mask


def test_kl_gradient_matches_finite_differences():
    queries, documents, scores, mask = _problem()
    loss, grad = kl_loss_and_grad(queries, documents, scores, mask)
    step = 1e-6
    numeric = np.zeros_like(queries)
    for label in range(queries.shape[0]):
        for d in range(queries.shape[1]):
            shifted = queries.copy()
            shifted[label, d] += step
            numeric[label, d] = (kl_loss_and_grad(shifted, documents, scores, mask)[0][label] - loss[label]) / step
    np.testing.assert_allclose(grad, numeric, atol=1e-5)


def test_kl_refine_equals_per_label_pytorch_adam():
    torch = pytest.importorskip("torch")
    queries, documents, scores, mask = _problem()
    lr, steps = 1e-2, 100  # a large rate so that the trajectories differ visibly from the start
    ours = kl_refine(queries, documents, scores, mask, learning_rate=lr, n_steps=steps)
    for label in range(queries.shape[0]):
        valid = mask[label]
        q = torch.tensor(queries[label], dtype=torch.float64, requires_grad=True)
        docs = torch.tensor(documents[label][valid], dtype=torch.float64)
        target = torch.softmax(torch.tensor(scores[label][valid], dtype=torch.float64), dim=0)
        optimizer = torch.optim.Adam([q], lr=lr)
        for _ in range(steps):
            optimizer.zero_grad()
            cos = docs @ q / q.norm()
            loss = torch.sum(target * (torch.log(target) - torch.log_softmax(cos, dim=0)))
            loss.backward()
            optimizer.step()
        np.testing.assert_allclose(ours[label], q.detach().numpy(), atol=1e-5)
    assert not np.allclose(ours, queries)


def test_kl_refine_leaves_labels_with_under_two_judgments_unchanged():
    queries, documents, scores, mask = _problem()
    mask[2] = False
    mask[3, 1:] = False
    refined = kl_refine(queries, documents, scores, mask, learning_rate=1e-2)
    np.testing.assert_array_equal(refined[2:], queries[2:])
    assert not np.allclose(refined[0], queries[0])


def test_kl_refine_moves_query_towards_high_scored_documents():
    queries, documents, scores, mask = _problem()
    refined = kl_refine(queries, documents, scores, mask, learning_rate=1e-2, n_steps=200)
    for label in range(len(queries)):
        valid = mask[label]
        before = documents[label][valid] @ normalize_rows(queries)[label]
        after = documents[label][valid] @ normalize_rows(refined)[label]
        # the similarity ranking follows the judge's ranking more closely after refinement
        judged = scores[label][valid]
        assert np.corrcoef(after, judged)[0, 1] > np.corrcoef(before, judged)[0, 1]


@pytest.mark.parametrize("n_labels", [2, 5])
def test_fit_joint_shapes_and_fit(n_labels):
    rng = np.random.default_rng(1)
    centres = normalize_rows(rng.normal(size=(n_labels, 8)))
    labels = rng.integers(0, n_labels, 60)
    points = normalize_rows(centres[labels] + 0.1 * rng.normal(size=(60, 8)))
    coef, intercept = fit_joint(centres, points, labels, C=10.0)
    assert coef.shape == (n_labels, 8) and intercept.shape == (n_labels,)
    predicted = (points @ coef.T + intercept).argmax(axis=1)
    assert (predicted == labels).mean() > 0.95


def test_normalize_rows_keeps_zero_rows():
    out = normalize_rows(np.array([[3.0, 4.0], [0.0, 0.0]]))
    np.testing.assert_allclose(out, [[0.6, 0.8], [0.0, 0.0]])


def simulated_choices(reliability: float, n: int = 3000, n_labels: int = 6, k: int = 3, seed: int = 0):
    """A prior per utterance, true labels drawn from it, and one-hot choices right or random."""
    rng = np.random.default_rng(seed)
    prior = rng.dirichlet(np.full(n_labels, 0.5), size=n)
    truth = np.array([rng.choice(n_labels, p=p) for p in prior])
    evidence = ChoiceEvidence.empty(n, n_labels)
    for i in range(n):
        candidates = rng.choice(n_labels, size=k, replace=False)
        options = [*candidates, -1]  # -1: "none of these"
        right = next((o for o, c in enumerate(candidates) if c == truth[i]), k)
        answer = right if rng.random() < reliability else rng.integers(k + 1)
        probabilities = np.eye(k + 1)[answer]
        evidence.probabilities[i] = probabilities[-1]
        evidence.probabilities[i, candidates] = probabilities[:-1]
        evidence.n_options[i] = len(options)
    return prior, truth, evidence


@pytest.mark.parametrize("reliability", [0.3, 0.6, 0.95])
def test_the_judge_reliability_is_recovered_from_choices_and_a_prior(reliability):
    prior, _, evidence = simulated_choices(reliability)
    estimate = estimate_judge_reliability(prior, evidence.probabilities, evidence.n_options)
    assert estimate == pytest.approx(reliability, abs=0.05)


def test_choice_likelihood_mixes_the_judge_with_chance():
    probabilities = np.array([[0.7, 0.2, 0.1, 0.1]])  # labels 0, 1 candidates; 2, 3 share P(none) = 0.1
    likelihood = choice_likelihood(probabilities, np.array([3.0]), reliability=0.4)
    np.testing.assert_allclose(likelihood, [[0.4 * 0.7 + 0.2, 0.4 * 0.2 + 0.2, 0.4 * 0.1 + 0.2, 0.4 * 0.1 + 0.2]])


def test_choice_evidence_without_rows_forgets_them():
    _, _, evidence = simulated_choices(0.9, n=10)
    held_out = evidence.without(np.array([2, 5]))
    assert not held_out.answered[[2, 5]].any() and held_out.answered.sum() == 8
    assert evidence.answered.all()  # the original is untouched


def noisy_choices(seed: int, n_labels: int = 4, per_label: int = 100, n_judged: int = 80, error_rate: float = 0.3):
    """Clustered pool; one-hot choices over all labels for ``n_judged`` utterances, ``error_rate`` of them wrong."""
    rng = np.random.default_rng(seed)
    labels = normalize_rows(np.eye(n_labels, 16))
    truth = np.repeat(np.arange(n_labels), per_label)
    pool = normalize_rows(labels[truth] + 0.25 * rng.normal(size=(len(truth), 16)))
    judged = rng.choice(len(truth), size=n_judged, replace=False)
    wrong = rng.random(n_judged) < error_rate
    answers = np.where(wrong, (truth[judged] + rng.integers(1, n_labels, n_judged)) % n_labels, truth[judged])
    said_yes, said_no = np.zeros((len(truth), n_labels), dtype=bool), np.zeros((len(truth), n_labels), dtype=bool)
    said_yes[judged, answers], said_no[judged] = True, True
    said_no[judged, answers] = False
    evidence = ChoiceEvidence.empty(len(truth), n_labels)
    evidence.probabilities[judged] = np.eye(n_labels)[answers]
    evidence.n_options[judged] = n_labels + 1
    return labels, pool, truth, said_yes, said_no, evidence


def test_reading_choices_with_an_estimated_reliability_beats_a_fixed_noise_rate():
    accuracy = {"EM": [], "fixed 10%": []}
    for seed in range(4):
        labels, pool, truth, said_yes, said_no, evidence = noisy_choices(seed)
        for name, choices in (("EM", evidence), ("fixed 10%", None)):
            coef, intercept = self_train(labels, pool, said_yes, said_no, choices=choices)
            accuracy[name].append(np.mean((pool @ coef.T + intercept).argmax(axis=1) == truth))
    assert np.mean(accuracy["EM"]) > np.mean(accuracy["fixed 10%"]) + 0.01
    assert np.mean(accuracy["EM"]) > 0.9


def test_self_train_caps_pseudo_labels_by_answers_and_in_all_split_over_the_labels(monkeypatch):
    labels, pool, _, said_yes, said_no, _ = noisy_choices(0)
    per_fit = []  # label counts of each fit_joint call; the second is the fit on pseudo-labels alone
    real_fit = _refinement.fit_joint

    def counting_fit(initial_labels, embeddings, label_indices, **options):
        per_fit.append(np.bincount(label_indices, minlength=len(labels)))
        return real_fit(initial_labels, embeddings, label_indices, **options)

    monkeypatch.setattr(_refinement, "fit_joint", counting_fit)
    self_train(labels, pool, said_yes, said_no, max_pseudo_labels=40)
    np.testing.assert_array_equal(per_fit[1], [10, 10, 10, 10])  # 320 unjudged, about 40 kept per label without a cap
    per_fit.clear()
    self_train(labels, pool, said_yes, said_no, pseudo_labels_per_answer=1)  # 80 judged utterances
    np.testing.assert_array_equal(per_fit[1], [20, 20, 20, 20])
    per_fit.clear()
    self_train(labels, pool, said_yes, said_no)
    assert per_fit[1].min() > 30 and per_fit[1].sum() > 150


def test_pieced_texts_score_the_best_piece_and_learn_each_yes_from_the_piece_that_carries_it():
    rng = np.random.default_rng(0)
    # texts 0-9: a label-0 piece (axis 0) and a piece of another topic (axis 2); texts 10-19: label 1 alone
    # (axis 1); texts 20-29: the other topic alone, neither label
    pieces = np.vstack([[1, 0, 0, 0], [0, 0, 1, 0]] * 10 + [[0, 1, 0, 0]] * 10 + [[0, 0, 1, 0]] * 10)
    pieces = pieces + 0.05 * rng.standard_normal(pieces.shape)
    owners = np.r_[np.repeat(np.arange(10), 2), np.arange(10, 30)]
    rows = np.arange(100, 130)
    cut = PiecedTexts(rows, owners, pieces)
    coef, intercept = np.eye(2, 4), np.array([0.5, -0.5])
    expected = [[max(pieces[2 * k] @ coef[j], pieces[2 * k + 1] @ coef[j]) + intercept[j] for j in range(2)]
                for k in range(10)]  # fmt: skip
    np.testing.assert_allclose(cut.score(rows[:10], coef, intercept), expected)

    documents = np.zeros((130, 4))
    documents[rows[:10]] = pieces[0:20:2] + pieces[1:20:2]  # a whole text: both of its topics at once
    documents[rows[10:]] = pieces[20:]
    said_yes, said_no = np.zeros((130, 2), bool), np.zeros((130, 2), bool)
    said_yes[rows[:10], 0] = said_no[rows[10:], 0] = True
    said_yes[rows[10:20], 1] = said_no[rows[:10], 1] = said_no[rows[20:], 1] = True
    labels = np.eye(2, 4)
    whole, whole_intercept = fit_label_logistic(labels, documents, said_yes, said_no, C=10.0)
    coef, intercept = cut.fit_label_logistic(labels, documents, said_yes, said_no, C=10.0)
    label_0_piece, other_piece = pieces[0], pieces[1]
    # whole texts: "yes" comes with the other topic, whose texts alone are "no"; the label-0 piece alone scores low
    assert label_0_piece @ whole[0] + whole_intercept[0] < label_0_piece @ coef[0] + intercept[0]
    assert label_0_piece @ coef[0] + intercept[0] > 0 > other_piece @ coef[0] + intercept[0]
    with pytest.raises(ValueError, match="not cut into pieces"):
        cut.score(np.array([5]), coef, intercept)


def test_a_texts_accepted_labels_take_distinct_pieces_where_it_has_enough():
    # text 0: two pieces, labels 0 and 1 accepted; piece 0 is both labels' best, and the matching with the
    # largest sum (2.5 + 2.0 against 3.0 + 1.0) gives it label 1 and label 0 piece 1
    # text 1: one piece, labels 0 and 2 accepted (each its best piece: the only one)
    # text 2: two pieces, three labels accepted (more labels than pieces: each label its best piece)
    # text 3: two pieces, label 2 alone accepted (its best piece)
    logits = np.array(
        [[3.0, 2.5, 0.0], [2.0, 1.0, 0.0],
         [1.0, 0.0, 1.0],
         [1.0, 2.0, 0.0], [0.0, 1.0, 3.0],
         [0.0, 0.0, -1.0], [0.0, 0.0, 2.0]]
    )  # fmt: skip
    owners = np.array([0, 0, 1, 2, 2, 3, 3])
    said_yes = np.array([[1, 1, 0], [1, 0, 1], [1, 1, 1], [0, 0, 1]], dtype=bool)
    expected = np.array(
        [[0, 1, 0], [1, 0, 0],
         [1, 0, 1],
         [1, 1, 0], [0, 0, 1],
         [0, 0, 0], [0, 0, 1]], dtype=bool
    )  # fmt: skip
    np.testing.assert_array_equal(assign_yes_pieces(logits, owners, said_yes), expected)
