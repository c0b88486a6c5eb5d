"""The layers (ferronet.layers), gradient-checked on every backend."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from ferronet import functions as F
from ferronet.gradient import numerical_gradient, relative_error
from ferronet.layers import AddLayer, Affine, MulLayer, Relu, Sigmoid, SoftmaxWithLoss

TOL = 1e-6


def assert_grad_close(analytic, f, x):
    """``analytic`` is the gradient of the scalar ``f()`` w.r.t. the array ``x`` (perturbed in place)."""
    numeric = numerical_gradient(lambda _: f(), x)
    assert analytic.shape == x.shape
    _, rel = relative_error(analytic, numeric)
    assert rel < TOL, rel


def away_from_zero(rng, shape, margin=0.1):
    """Random values with |v| >= margin, so ReLU kinks are out of reach of h = 1e-4."""
    u = rng.standard_normal(shape)
    return np.sign(u) * (margin + np.abs(u))


# ---------------------------------------------------------------- Affine


def test_affine_gradient_check_nd_input(backend, rng):
    x = rng.standard_normal((3, 2, 3))  # flattened to (3, 6)
    W = rng.standard_normal((6, 4))
    b = rng.standard_normal(4)
    R = rng.standard_normal((3, 4))  # upstream gradient: f = sum(out * R)
    layer = Affine(W, b)

    def f():
        return float(np.sum(layer.forward(x) * R))

    out = layer.forward(x)
    assert out.shape == (3, 4)
    np.testing.assert_allclose(out, x.reshape(3, 6) @ W + b, rtol=1e-12)
    dx = layer.backward(R)
    dW, db = layer.dW.copy(), layer.db.copy()
    assert dx.shape == x.shape
    assert_grad_close(dx, f, x)
    assert_grad_close(dW, f, W)
    assert_grad_close(db, f, b)


def test_affine_keeps_callers_arrays_and_converts_input_dtype(backend, rng):
    W = rng.standard_normal((5, 2))
    b = np.zeros(2)
    layer = Affine(W, b)
    assert layer.W is W and layer.b is b
    x32 = rng.standard_normal((4, 5)).astype(np.float32)
    out = layer.forward(x32)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, x32.astype(np.float64) @ W, rtol=1e-12)
    dx = layer.backward(np.ones((4, 2)))
    assert dx.dtype == np.float64 and layer.dW.dtype == np.float64


def test_affine_float32_parameters(backend, rng):
    W = rng.standard_normal((5, 3)).astype(np.float32)
    b = np.zeros(3, dtype=np.float32)
    layer = Affine(W, b)
    out = layer.forward(rng.standard_normal((2, 5)))  # float64 input into a float32 layer
    assert out.dtype == np.float32
    layer.backward(np.ones((2, 3), dtype=np.float32))
    assert layer.dW.dtype == np.float32 and layer.db.dtype == np.float32


def test_affine_single_sample_and_non_contiguous_input(backend, rng):
    W = rng.standard_normal((4, 3))
    b = rng.standard_normal(3)
    layer = Affine(W, b)
    v = rng.standard_normal(4)
    np.testing.assert_allclose(layer.forward(v), v @ W + b, rtol=1e-12)
    assert layer.backward(np.ones(3)).shape == (4,)
    wide = rng.standard_normal((4, 8))
    strided = wide[:, ::2]  # (4, 4), not C-contiguous
    np.testing.assert_allclose(layer.forward(strided), strided @ W + b, rtol=1e-12)


# ---------------------------------------------------------------- activations


def test_relu_gradient_check_and_dout_untouched(backend, rng):
    x = away_from_zero(rng, (4, 5))
    R = rng.standard_normal((4, 5))
    layer = Relu()

    def f():
        return float(np.sum(layer.forward(x) * R))

    out = layer.forward(x)
    np.testing.assert_array_equal(out, np.maximum(x, 0))
    R_before = R.copy()
    dx = layer.backward(R)
    np.testing.assert_array_equal(R, R_before)  # the book's Relu zeroed dout in place
    assert dx is not R
    assert_grad_close(dx, f, x)


def test_sigmoid_gradient_check(backend, rng):
    x = rng.standard_normal((3, 4)) * 3
    R = rng.standard_normal((3, 4))
    layer = Sigmoid()

    def f():
        return float(np.sum(layer.forward(x) * R))

    layer.forward(x)
    R_before = R.copy()
    dx = layer.backward(R)
    np.testing.assert_array_equal(R, R_before)
    assert_grad_close(dx, f, x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_layer_large_negative_input(backend, dtype):
    x = np.array([[-1000.0, 0.0, 1000.0]], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = Sigmoid().forward(x)
    assert y.dtype == dtype
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y, [[0.0, 0.5, 1.0]])


# ---------------------------------------------------------------- SoftmaxWithLoss


@pytest.mark.parametrize("dout", [1.0, 2.5])
@pytest.mark.parametrize("targets", ["labels", "onehot"])
def test_softmax_with_loss_gradient_check(backend, rng, dout, targets):
    x = rng.standard_normal((5, 4)) * 2
    labels = rng.integers(0, 4, size=5)
    t = labels if targets == "labels" else np.eye(4)[labels]
    layer = SoftmaxWithLoss()

    def f():
        return dout * layer.forward(x, t)

    loss = layer.forward(x, t)
    z = x - x.max(axis=1, keepdims=True)
    expected = np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(5), labels])
    assert loss == pytest.approx(expected, rel=1e-12)
    dx = layer.backward(dout)
    assert_grad_close(dx, f, x)


def test_softmax_with_loss_honours_dout(backend, rng):
    x = rng.standard_normal((3, 4))
    t = np.array([0, 3, 1])
    layer = SoftmaxWithLoss()
    layer.forward(x, t)
    d1 = layer.backward()
    np.testing.assert_allclose(layer.backward(3.0), 3.0 * d1, rtol=1e-14)
    np.testing.assert_allclose(layer.backward(0.0), 0.0)


@pytest.mark.parametrize("label_dtype", [np.uint8, np.int16, np.int32, np.int64, np.uint64])
def test_softmax_with_loss_any_integer_labels(backend, rng, label_dtype):
    x = rng.standard_normal((6, 5))
    labels = rng.integers(0, 5, size=6)
    ref = SoftmaxWithLoss()
    expected = ref.forward(x, labels.astype(np.int64))
    layer = SoftmaxWithLoss()
    assert layer.forward(x, labels.astype(label_dtype)) == pytest.approx(expected, rel=1e-14)
    np.testing.assert_allclose(layer.backward(), ref.backward(), rtol=1e-14)


@pytest.mark.parametrize("x_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("onehot_dtype", [np.uint8, np.int64, np.float32, np.float64])
def test_softmax_with_loss_one_hot_of_any_dtype(backend, rng, x_dtype, onehot_dtype):
    x = rng.standard_normal((4, 3)).astype(x_dtype)
    labels = rng.integers(0, 3, size=4)
    onehot = np.eye(3, dtype=onehot_dtype)[labels]
    by_label = SoftmaxWithLoss()
    by_onehot = SoftmaxWithLoss()
    rtol = 1e-5 if x_dtype == np.float32 else 1e-12
    assert by_onehot.forward(x, onehot) == pytest.approx(by_label.forward(x, labels), rel=rtol)
    dx = by_onehot.backward()
    assert dx.dtype == x_dtype
    np.testing.assert_allclose(dx, by_label.backward(), rtol=rtol, atol=1e-7)


def test_softmax_with_loss_single_sample_is_a_batch_of_one(backend, rng):
    x = rng.standard_normal(5)
    one = SoftmaxWithLoss()
    batch = SoftmaxWithLoss()
    assert one.forward(x, 2) == pytest.approx(batch.forward(x.reshape(1, 5), np.array([2])), rel=1e-14)
    dx = one.backward()
    assert dx.shape == (5,)
    np.testing.assert_allclose(dx, batch.backward()[0], rtol=1e-14)
    onehot = np.eye(5)[2]
    assert SoftmaxWithLoss().forward(x, onehot) == pytest.approx(one.loss, rel=1e-14)


def test_softmax_with_loss_is_exact_where_the_book_clips(backend):
    # the fused loss has no 1e-7: a confident, correct prediction costs ~0
    x = np.array([[1000.0, 0.0]])
    assert SoftmaxWithLoss().forward(x, np.array([0])) == pytest.approx(0.0, abs=1e-300)
    assert SoftmaxWithLoss().forward(x, np.array([1])) == pytest.approx(1000.0, rel=1e-12)
    # and agrees with the book's softmax_loss up to that epsilon on ordinary inputs
    x = np.array([[0.3, -1.2, 2.0]])
    assert SoftmaxWithLoss().forward(x, np.array([1])) == pytest.approx(F.softmax_loss(x, np.array([1])), abs=1e-5)


# ---------------------------------------------------------------- the computational-graph nodes


def test_mul_and_add_layers_buy_apples_and_oranges():
    apple, n_apple, orange, n_orange, tax = 100, 2, 150, 3, 1.1
    mul_apple, mul_orange, add, mul_tax = MulLayer(), MulLayer(), AddLayer(), MulLayer()
    a = mul_apple.forward(apple, n_apple)
    o = mul_orange.forward(orange, n_orange)
    s = add.forward(a, o)
    price = mul_tax.forward(s, tax)
    assert price == pytest.approx((apple * n_apple + orange * n_orange) * tax)
    ds, dtax = mul_tax.backward(1)
    da, do = add.backward(ds)
    dapple, dn_apple = mul_apple.backward(da)
    dorange, dn_orange = mul_orange.backward(do)
    assert dtax == pytest.approx(apple * n_apple + orange * n_orange)
    assert dapple == pytest.approx(n_apple * tax) and dn_apple == pytest.approx(apple * tax)
    assert dorange == pytest.approx(n_orange * tax) and dn_orange == pytest.approx(orange * tax)
