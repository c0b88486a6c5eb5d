"""The book's plain-NumPy functions (ferronet.functions)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from ferronet import functions as F
from ferronet import ops
from ferronet.gradient import numerical_diff


def test_sigmoid_is_finite_and_silent_for_huge_inputs():
    x = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = F.sigmoid(x)
    assert np.all(np.isfinite(y))
    assert y[0] == 0.0 and y[-1] == 1.0 and y[2] == 0.5
    moderate = np.linspace(-20, 20, 41)
    np.testing.assert_allclose(F.sigmoid(moderate), 1 / (1 + np.exp(-moderate)), rtol=1e-14)
    assert F.sigmoid(-1000) == 0.0  # a scalar works too


def test_sigmoid_keeps_float32_and_converts_ints():
    assert F.sigmoid(np.zeros(3, dtype=np.float32)).dtype == np.float32
    assert F.sigmoid(np.arange(3)).dtype == np.float64


def test_sigmoid_grad_matches_numerical_derivative():
    for x in (-3.0, -0.5, 0.0, 0.7, 4.0):
        assert F.sigmoid_grad(x) == pytest.approx(numerical_diff(F.sigmoid, x), rel=1e-8)


def test_step_relu_and_relu_grad():
    x = np.array([-2.0, -0.0, 0.0, 0.5, 3.0])
    np.testing.assert_array_equal(F.step_function(x), [0, 0, 0, 1, 1])
    np.testing.assert_array_equal(F.relu(x), [0, 0, 0, 0.5, 3.0])
    np.testing.assert_array_equal(F.relu_grad(x), [0, 0, 0, 1, 1])
    assert F.identity_function(x) is x


def test_softmax_last_axis_stable_and_shift_invariant(rng):
    x = rng.standard_normal((2, 3, 5))
    y = F.softmax(x)
    assert y.shape == x.shape
    np.testing.assert_allclose(y.sum(axis=-1), 1.0, rtol=1e-14)
    np.testing.assert_allclose(F.softmax(x + 1000.0), y, rtol=1e-12)
    big = F.softmax(np.array([1000.0, 1000.0, -1000.0]))
    np.testing.assert_allclose(big, [0.5, 0.5, 0.0])
    expected = np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True)
    np.testing.assert_allclose(y, expected, rtol=1e-12)


def test_functions_agree_with_the_kernels(backend, rng):
    x = rng.standard_normal((4, 6)) * 10
    np.testing.assert_allclose(F.sigmoid(x), ops.sigmoid_forward(x), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(F.softmax(x), ops.softmax(x), rtol=1e-12, atol=1e-300)
    np.testing.assert_array_equal(F.relu(x), ops.relu_forward(x))


def _book_example():
    y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
    t = np.zeros(10)
    t[2] = 1
    return y, t


def test_sum_and_mean_squared_error():
    y, t = _book_example()
    d = y - t
    assert F.sum_squared_error(y, t) == pytest.approx(0.5 * sum(v * v for v in d))
    assert F.mean_squared_error(y, t) == pytest.approx(sum(v * v for v in d) / d.size)
    assert F.mean_absolute_error(y, t) == pytest.approx(sum(abs(v) for v in d) / d.size)


def test_cross_entropy_error_labels_onehot_and_single_sample(rng):
    y, t = _book_example()
    expected = -np.log(0.6 + 1e-7)
    assert F.cross_entropy_error(y, t) == pytest.approx(expected, rel=1e-12)  # 1-d one-hot
    assert F.cross_entropy_error(y, 2) == pytest.approx(expected, rel=1e-12)  # 1-d label
    probs = F.softmax(rng.standard_normal((5, 4)))
    labels = rng.integers(0, 4, size=5).astype(np.uint8)
    onehot = np.eye(4)[labels]
    by_hand = -sum(np.log(probs[i, labels[i]] + 1e-7) for i in range(5)) / 5
    assert F.cross_entropy_error(probs, labels) == pytest.approx(by_hand, rel=1e-12)
    assert F.cross_entropy_error(probs, onehot) == pytest.approx(by_hand, rel=1e-12)


def test_cross_entropy_error_keeps_its_epsilon():
    # a perfect prediction still costs -log(1 + 1e-7); a zero one stays finite
    assert F.cross_entropy_error(np.array([1.0, 0.0]), 0) == pytest.approx(-np.log(1 + 1e-7), rel=1e-12)
    assert F.cross_entropy_error(np.array([1.0, 0.0]), 1) == pytest.approx(-np.log(1e-7), rel=1e-12)


def test_softmax_loss_is_cross_entropy_of_softmax(rng):
    x = rng.standard_normal((3, 5))
    t = np.array([0, 4, 2])
    assert F.softmax_loss(x, t) == pytest.approx(F.cross_entropy_error(F.softmax(x), t), rel=1e-14)


def test_extra_activations():
    x = np.array([-8.0, -1.0, 0.0, 2.0, 9.0])
    np.testing.assert_allclose(F.tanh(x), np.tanh(x))
    np.testing.assert_allclose(F.leaky_relu(x, alpha=0.1), [-0.8, -0.1, 0.0, 2.0, 9.0])
    np.testing.assert_allclose(F.relu6(x), [0, 0, 0, 2, 6])
    np.testing.assert_allclose(F.swish(x), x / (1 + np.exp(-x)), rtol=1e-12)
    np.testing.assert_allclose(F.softplus(x), np.log1p(np.exp(x)), rtol=1e-12)


def test_softplus_is_stable():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = F.softplus(np.array([-1000.0, 1000.0]))
    assert y[0] == 0.0 and y[1] == 1000.0


def test_huber_loss_quadratic_then_linear():
    y = np.array([0.5, 3.0])
    t = np.zeros(2)
    delta = 1.0
    expected = (0.5 * 0.5**2 + delta * (3.0 - 0.5 * delta)) / 2
    assert F.huber_loss(y, t, delta=delta) == pytest.approx(expected)


def test_binary_cross_entropy(rng):
    p = rng.uniform(0.05, 0.95, size=(4, 3))
    t = (rng.uniform(size=(4, 3)) > 0.5).astype(np.float64)
    expected = -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))
    assert F.binary_cross_entropy(p, t) == pytest.approx(expected, rel=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isfinite(F.binary_cross_entropy(np.array([0.0, 1.0]), np.array([1.0, 0.0])))


def test_kl_divergence(rng):
    p = F.softmax(rng.standard_normal((3, 4)))
    q = F.softmax(rng.standard_normal((3, 4)))
    assert F.kl_divergence(p, p) == pytest.approx(0.0, abs=1e-15)
    expected = np.sum(p * np.log(p / q)) / 3
    assert F.kl_divergence(p, q) == pytest.approx(expected, rel=1e-12)
    assert F.kl_divergence(np.array([1.0, 0.0]), np.array([0.5, 0.5])) == pytest.approx(np.log(2.0))


GRADIENTS = [
    (F.tanh, F.tanh_grad), (F.leaky_relu, F.leaky_relu_grad), (F.relu6, F.relu6_grad),
    (F.softplus, F.softplus_grad), (F.swish, F.swish_grad), (F.silu, F.silu_grad), (F.gelu, F.gelu_grad),
    (F.elu, F.elu_grad), (lambda v: F.elu(v, 0.5), lambda v: F.elu_grad(v, 0.5)),
    (lambda v: F.swish(v, 2.0), lambda v: F.swish_grad(v, 2.0)), (F.identity_function, F.identity_grad),
]


@pytest.mark.parametrize("fn, grad", GRADIENTS)
def test_activation_gradients_match_numerical_derivatives(fn, grad):
    for x in (-7.5, -3.0, -0.6, 0.3, 0.7, 4.0, 6.5):
        assert float(grad(x)) == pytest.approx(numerical_diff(lambda v: float(fn(v)), x), rel=1e-6, abs=1e-8)


def test_prelu_and_its_gradient_per_channel():
    x = np.array([[-2.0, 3.0], [4.0, -1.0]])
    np.testing.assert_array_equal(F.prelu(x, [0.5, -0.25]), [[-1.0, 3.0], [4.0, 0.25]])
    np.testing.assert_array_equal(F.prelu_grad(x, [0.5, -0.25]), [[0.5, 1.0], [1.0, -0.25]])


def test_new_activations_are_silent_for_huge_inputs_and_keep_float32():
    x = np.array([-1e30, -1000.0, 0.0, 1000.0, 1e30])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for fn in (F.tanh, F.softplus, F.swish, F.silu, F.gelu, F.elu, F.tanh_grad, F.softplus_grad, F.swish_grad,
                   F.gelu_grad, F.elu_grad):
            assert np.all(np.isfinite(fn(x))), fn.__name__
            assert fn(x.astype(np.float32)).dtype == np.float32
    np.testing.assert_array_equal(F.gelu(x), [0.0, 0.0, 0.0, 1000.0, 1e30])
    np.testing.assert_array_equal(F.elu(x), [-1.0, -1.0, 0.0, 1000.0, 1e30])
