"""Numerical differentiation, gradient descent and gradient checking (ferronet.gradient)."""

from __future__ import annotations

import numpy as np
import pytest

from ferronet.gradient import gradient_check, gradient_descent, numerical_diff, numerical_gradient, relative_error
from ferronet.networks import TwoLayerNet


def test_numerical_diff_of_a_polynomial():
    def f(x):
        return 0.01 * x**2 + 0.1 * x

    for x in (5.0, 10.0):
        assert numerical_diff(f, x) == pytest.approx(0.02 * x + 0.1, rel=1e-9)


@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 3, 4)])
def test_numerical_gradient_any_shape_and_exact_restore(shape, rng):
    x = rng.standard_normal(shape)
    before = x.copy()
    seen = []

    def f(a):
        seen.append(a)
        return float(np.sum(a**2) + np.sum(np.sin(a)))

    g = numerical_gradient(f, x)
    assert g.shape == x.shape and g.dtype == np.float64
    np.testing.assert_allclose(g, 2 * before + np.cos(before), rtol=1e-7, atol=1e-9)
    assert np.array_equal(x, before)  # bit-for-bit restored
    assert all(a is x for a in seen)  # perturbed in place, not copied


def test_numerical_gradient_float32_restores_and_returns_float64(rng):
    x = rng.standard_normal((3, 2)).astype(np.float32)
    before = x.copy()
    g = numerical_gradient(lambda a: float(np.sum(a.astype(np.float64) ** 2)), x)
    assert g.dtype == np.float64
    assert np.array_equal(x, before)
    np.testing.assert_allclose(g, 2 * before.astype(np.float64), rtol=1e-6)


def test_numerical_gradient_rejects_what_it_cannot_perturb():
    ro = np.zeros(3)
    ro.flags.writeable = False
    with pytest.raises(ValueError):
        numerical_gradient(lambda a: 0.0, ro)
    with pytest.raises(TypeError):
        numerical_gradient(lambda a: 0.0, np.zeros(3, dtype=np.int64))


def test_relative_error_is_scaled_by_the_gradient_not_per_element():
    a = np.array([1.0, 1e-12, 0.0])
    b = np.array([1.0, 2e-12, 0.0])
    abs_err, rel_err = relative_error(a, b)
    assert abs_err == pytest.approx(1e-12)
    assert rel_err == pytest.approx(1e-12)  # an element-wise ratio would say 0.5
    assert relative_error(np.zeros(4), np.zeros(4)) == (0.0, 0.0)
    with pytest.raises(ValueError):
        relative_error(np.zeros(2), np.zeros(3))


def test_gradient_check_reports_every_parameter(backend, rng):
    net = TwoLayerNet(4, 5, 3, weight_init_std=0.5, seed=3)
    x = rng.standard_normal((6, 4))
    t = rng.integers(0, 3, size=6)
    report = gradient_check(net, x, t)
    assert set(report) == set(net.params)
    for abs_err, rel_err in report.values():
        assert isinstance(abs_err, float) and isinstance(rel_err, float)
        assert rel_err < 1e-6


def test_gradient_check_catches_a_wrong_gradient(backend, rng):
    class Broken(TwoLayerNet):
        def gradient(self, x, t):
            grads = super().gradient(x, t)
            grads["W2"] = grads["W2"] * 1.01
            return grads

    net = Broken(4, 5, 3, weight_init_std=0.5, seed=3)
    x = rng.standard_normal((6, 4))
    t = rng.integers(0, 3, size=6)
    report = gradient_check(net, x, t)
    assert report["W2"][1] == pytest.approx(0.01 / 1.01, rel=1e-3)
    assert report["W1"][1] < 1e-6


# ---------------------------------------------------------------- gradient descent (chapter 4)


def function_2(x):
    return x[0] ** 2 + x[1] ** 2


def test_gradient_descent_reaches_the_minimum_as_in_the_book():
    init_x = np.array([-3.0, 4.0])
    x = gradient_descent(function_2, init_x=init_x, lr=0.1, step_num=100)
    np.testing.assert_allclose(x, [0.0, 0.0], atol=1e-8)
    np.testing.assert_array_equal(init_x, [-3.0, 4.0])  # the caller's array is left alone


def test_gradient_descent_with_the_books_bad_learning_rates():
    too_large = gradient_descent(function_2, init_x=np.array([-3.0, 4.0]), lr=10.0, step_num=100)
    assert np.all(np.abs(too_large) > 1e10)  # diverges, then stops where h is lost to rounding (as the book's)
    too_small = gradient_descent(function_2, init_x=np.array([-3.0, 4.0]), lr=1e-10, step_num=100)
    np.testing.assert_allclose(too_small, [-2.99999994, 3.99999992], rtol=1e-8)


def test_gradient_descent_path():
    x, path = gradient_descent(function_2, [-3, 4], lr=0.1, step_num=20, return_path=True)
    assert path.shape == (21, 2) and path.dtype == np.float64  # int input becomes float64
    np.testing.assert_array_equal(path[0], [-3.0, 4.0])
    np.testing.assert_array_equal(path[-1], x)
    # each step of f = x0^2 + x1^2 multiplies x by (1 - 2 lr)
    np.testing.assert_allclose(path[1:], path[:-1] * 0.8, rtol=1e-6)
    x0, path0 = gradient_descent(function_2, np.array([1.0, 1.0]), step_num=0, return_path=True)
    assert path0.shape == (1, 2) and np.array_equal(x0, [1.0, 1.0])


def test_gradient_descent_any_shape_and_float32():
    x = gradient_descent(lambda a: float(np.sum((a - 1.0) ** 2)), np.zeros((2, 3), np.float32), lr=0.25,
                         step_num=50)
    assert x.shape == (2, 3) and x.dtype == np.float32
    np.testing.assert_allclose(x, 1.0, atol=1e-3)


@pytest.mark.parametrize("kwargs, error", [
    ({"lr": float("nan")}, ValueError), ({"lr": "0.1"}, TypeError),
    ({"step_num": -1}, ValueError), ({"step_num": 2.5}, TypeError),
])
def test_gradient_descent_bad_arguments(kwargs, error):
    with pytest.raises(error):
        gradient_descent(function_2, np.array([1.0, 2.0]), **kwargs)


def test_numerical_gradient_where_h_is_lost_to_rounding():
    x = np.array([1e13, 2.0])
    g = numerical_gradient(lambda a: float(a[1] ** 2), x)
    assert g[0] == 0.0  # x + h == x - h: the book's divisor 2h (not 0 / 0), and f did not change
    assert g[1] == pytest.approx(4.0)
