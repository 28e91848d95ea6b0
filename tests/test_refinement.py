"""Refinement maths against independent references (finite differences, PyTorch autograd)."""

import numpy as np
import pytest

from zsclassify._refinement import fit_joint, kl_loss_and_grad, kl_refine
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
