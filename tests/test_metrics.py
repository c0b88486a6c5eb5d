"""ferronet.metrics: accuracy, multi-label accuracy and R², against their definitions and scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest

from ferronet.metrics import accuracy, multilabel_accuracy, r2_score


@pytest.mark.parametrize("shape", [(40,), (40, 1), (40, 3)])
def test_r2_matches_scikit_learn(rng, shape):
    from sklearn.metrics import r2_score as sklearn_r2

    t = rng.standard_normal(shape)
    y = t + 0.5 * rng.standard_normal(shape)
    assert r2_score(y, t) == pytest.approx(sklearn_r2(t, y), rel=1e-12)
    assert r2_score(t, t) == 1.0
    assert r2_score(np.broadcast_to(t.mean(axis=0), shape), t) == pytest.approx(0.0, abs=1e-12)


def test_r2_of_an_output_with_constant_targets():
    t = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]])
    exact_on_constant = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]])
    wrong_on_constant = np.array([[2.0, 0.0], [1.0, 1.0], [1.0, 2.0]])
    assert r2_score(exact_on_constant, t) == 1.0
    assert r2_score(wrong_on_constant, t) == 0.5  # (0 + 1) / 2


def test_r2_takes_a_target_vector_beside_one_output_and_refuses_other_shapes(rng):
    t = rng.standard_normal(10)
    y = rng.standard_normal((10, 1))
    assert r2_score(y, t) == r2_score(y[:, 0], t)
    with pytest.raises(ValueError, match=r"\(10, 2\)"):
        r2_score(rng.standard_normal((10, 2)), t)
    with pytest.raises(ValueError, match="at least one sample"):
        r2_score(np.zeros((0, 1)), np.zeros(0))


def test_accuracy_with_labels_one_hot_and_distributions():
    scores = np.array([[0.1, 2.0, -1.0], [3.0, 0.0, 0.0], [0.0, 0.0, 5.0], [1.0, 2.0, 3.0]])
    labels = np.array([1, 0, 2, 0])
    assert accuracy(scores, labels) == 0.75
    assert accuracy(scores, np.eye(3)[labels]) == 0.75
    assert accuracy(scores, np.eye(3)[labels] * 0.7 + 0.1) == 0.75
    with pytest.raises(ValueError, match="3 targets for 4 samples"):
        accuracy(scores, labels[:3])


def test_multilabel_accuracy_thresholds_scores_at_zero_and_targets_at_one_half():
    scores = np.array([[2.0, -1.0], [-0.5, 0.0]])  # on, off / off, off (0 is not above 0)
    assert multilabel_accuracy(scores, np.array([[1, 0], [0, 0]])) == 1.0
    assert multilabel_accuracy(scores, np.array([[0.9, 0.2], [0.5, 1.0]])) == 0.75
    assert multilabel_accuracy(scores[:, :1], np.array([1, 0])) == 1.0  # one label: a (N,) target vector
