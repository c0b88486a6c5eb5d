"""The activation layers (ferronet.layers.activations), on every backend:
gradient checks in float64, dtypes kept, PReLU's slopes trained by an
optimizer, RReLU's train and inference modes, bad arguments."""

from __future__ import annotations

import numpy as np
import pytest

from ferronet import functions as F
from ferronet.gradient import numerical_gradient, relative_error
from ferronet.layers import (ACTIVATIONS, ELU, GELU, Identity, LeakyReLU, PReLU, ReLU6, Relu, RReLU, SiLU, Sigmoid,
                             Softplus, Swish, Tanh, activation_layer)
from ferronet.optimizers import SGD, Adam

TOL = 1e-6

#: a layer of each kind, and the kinks its input must stay away from (h = 1e-4 must not straddle one)
LAYERS = {
    "relu": (Relu, (0.0,)),
    "sigmoid": (Sigmoid, ()),
    "tanh": (Tanh, ()),
    "leaky_relu": (lambda: LeakyReLU(0.2), (0.0,)),
    "rrelu_eval": (lambda: RReLU(0.1, 0.4, seed=1), (0.0,)),
    "relu6": (ReLU6, (0.0, 6.0)),
    "softplus": (Softplus, ()),
    "swish": (lambda: Swish(1.7), ()),
    "silu": (SiLU, ()),
    "gelu": (GELU, ()),
    "elu": (lambda: ELU(0.7), (0.0,)),
    "identity": (Identity, ()),
}


def off_kinks(rng, shape, kinks, scale=3.0, margin=0.05):
    """Random values farther than ``margin`` from every kink."""
    x = rng.standard_normal(shape) * scale
    for k in kinks:
        near = np.abs(x - k) < margin
        x[near] = k + np.where(x[near] >= k, margin, -margin) * 2
    return x


def assert_grad_close(analytic, f, x):
    numeric = numerical_gradient(lambda _: f(), x)
    assert analytic.shape == x.shape
    _, rel = relative_error(analytic, numeric)
    assert rel < TOL, rel


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_gradient_check_float64(backend, rng, name):
    make, kinks = LAYERS[name]
    layer = make()
    train = not name.endswith("_eval")
    x = off_kinks(rng, (4, 5), kinks)
    x[0, :2] = [7.5, -30.0]  # beyond ReLU6's cap and far into the saturating tails
    R = rng.standard_normal(x.shape)  # f = sum(out * R)

    def f():
        return float(np.sum(layer.forward(x, train_flg=train) * R))

    out = layer.forward(x, train_flg=train)
    assert out.shape == x.shape and out.dtype == np.float64
    R_before = R.copy()
    dx = layer.backward(R)
    np.testing.assert_array_equal(R, R_before)  # dout is never modified
    assert_grad_close(dx, f, x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_every_registered_layer_keeps_the_dtype_and_shape(backend, rng, name, dtype):
    layer = activation_layer(name).for_width(3, dtype, np.random.default_rng(0))
    x = rng.standard_normal((2, 3, 4, 4)).astype(dtype)
    for train in (True, False):
        out = layer.forward(x, train_flg=train)
        assert out.dtype == dtype and out.shape == x.shape
        dx = layer.backward(np.ones_like(out))
        assert dx.dtype == dtype and dx.shape == x.shape


def test_the_layers_match_the_functions(backend, rng):
    x = rng.standard_normal((3, 7)) * 4
    pairs = [(Tanh(), F.tanh, F.tanh_grad), (LeakyReLU(0.3), lambda v: F.leaky_relu(v, 0.3),
                                              lambda v: F.leaky_relu_grad(v, 0.3)),
             (ReLU6(), F.relu6, F.relu6_grad), (Softplus(), F.softplus, F.softplus_grad),
             (Swish(0.5), lambda v: F.swish(v, 0.5), lambda v: F.swish_grad(v, 0.5)), (SiLU(), F.silu, F.silu_grad),
             (GELU(), F.gelu, F.gelu_grad), (ELU(2.0), lambda v: F.elu(v, 2.0), lambda v: F.elu_grad(v, 2.0)),
             (Identity(), F.identity_function, F.identity_grad), (Sigmoid(), F.sigmoid, F.sigmoid_grad)]
    for layer, fn, grad in pairs:
        np.testing.assert_allclose(layer.forward(x), fn(x), rtol=1e-14, atol=1e-300)
        np.testing.assert_allclose(layer.backward(np.ones_like(x)), grad(x), rtol=1e-13, atol=1e-15)


def test_keep_state_false_keeps_nothing(backend, rng):
    x, other = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    for layer in (Tanh(), GELU(), PReLU(np.full(3, 0.25)), RReLU(seed=0), ELU()):
        layer.forward(x)
        kept = dict(vars(layer))
        layer.forward(other, keep_state=False)
        assert all(vars(layer)[k] is v for k, v in kept.items() if k != "rng"), type(layer).__name__


# ---------------------------------------------------------------- PReLU


@pytest.mark.parametrize("shape", [(5, 4), (3, 4, 2, 3)])
def test_prelu_gradient_check_per_feature_and_per_channel(backend, rng, shape):
    alpha = rng.uniform(-0.5, 0.8, shape[1])
    layer = PReLU(alpha)
    x = off_kinks(rng, shape, (0.0,))
    R = rng.standard_normal(shape)

    def f():
        return float(np.sum(layer.forward(x) * R))

    layer.forward(x)
    dx = layer.backward(R)
    dalpha = layer.dalpha.copy()
    assert dalpha.shape == alpha.shape and layer.alpha is alpha
    assert_grad_close(dx, f, x)
    assert_grad_close(dalpha, f, alpha)
    assert layer.gradients().keys() == {"alpha"}


def test_prelu_keeps_the_slopes_dtype(backend, rng):
    layer = PReLU(np.full(3, 0.25, dtype=np.float32))
    out = layer.forward(rng.standard_normal((2, 3)))  # float64 input into float32 slopes
    assert out.dtype == np.float32
    layer.backward(np.ones((2, 3)))
    assert layer.dalpha.dtype == np.float32


def test_prelu_slopes_train_under_an_optimizer(backend, rng):
    """alpha is a parameter like W: an optimizer step moves it against its gradient."""
    layer = PReLU(np.full(4, 0.25))
    x = -np.abs(rng.standard_normal((16, 4))) - 0.1  # all negative: out = alpha * x
    target = x * np.array([0.05, 0.5, 0.9, 0.25])
    losses = []
    for optimizer in (SGD(lr=0.05), Adam(lr=0.05)):
        layer.alpha[...] = 0.25
        for _ in range(60):
            out = layer.forward(x)
            losses.append(0.5 * float(np.sum((out - target) ** 2)))
            layer.backward(out - target)
            optimizer.update({"alpha": layer.alpha}, layer.gradients())
        np.testing.assert_allclose(layer.alpha, [0.05, 0.5, 0.9, 0.25], atol=0.02)
    assert losses[-1] < 1e-3 * losses[0]


@pytest.mark.parametrize("alpha", [np.full((2, 3), 0.25), np.full(3, 1, dtype=np.int64), 0.25, [0.25, 0.25]])
def test_prelu_alpha_must_be_a_float_vector(alpha):
    with pytest.raises(ValueError, match="alpha must be a 1-d float32 or float64 array"):
        PReLU(alpha)


@pytest.mark.parametrize("shape", [(2, 4), (2, 4, 3, 3), (2,)])
def test_prelu_alpha_of_the_wrong_length_is_a_clear_error(backend, shape):
    layer = PReLU(np.full(3, 0.25))
    with pytest.raises(ValueError, match=r"alpha must have shape \(\d+,\).*got \(3,\)|\(N, C, \.\.\.\)"):
        layer.forward(np.ones(shape))


# ---------------------------------------------------------------- RReLU


def test_rrelu_training_slopes_are_random_and_in_range(backend):
    layer = RReLU(0.1, 0.3, seed=5)
    x = -np.ones((200, 300))
    first = layer.forward(x)
    slopes = -first
    assert slopes.min() >= 0.1 and slopes.max() < 0.3
    assert abs(slopes.mean() - 0.2) < 2e-3
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), slopes)  # the same slopes, drawn again
    assert not np.array_equal(layer.forward(x), first)  # a new draw per pass
    np.testing.assert_array_equal(RReLU(0.1, 0.3, seed=5).forward(x), first)  # seeded
    np.testing.assert_array_equal(layer.forward(np.ones((2, 2))), np.ones((2, 2)))


def test_rrelu_inference_uses_the_mean_slope(backend):
    layer = RReLU(0.1, 0.3, seed=5)
    x = np.array([[-2.0, 3.0]])
    np.testing.assert_allclose(layer.forward(x, train_flg=False), [[-0.4, 3.0]])
    np.testing.assert_allclose(layer.backward(np.ones((1, 2))), [[0.2, 1.0]])
    assert layer.kernel_seed is None


def test_rrelu_train_mode_gradient_check_with_fixed_slopes(backend, rng):
    layer = RReLU(seed=0)
    x = off_kinks(rng, (4, 6), (0.0,))
    R = rng.standard_normal(x.shape)

    def f():
        layer.rng = np.random.default_rng(11)  # the same slopes on every pass
        return float(np.sum(layer.forward(x) * R))

    f()
    assert_grad_close(layer.backward(R), f, x)


def test_rrelu_draws_the_same_slopes_on_both_backends():
    import ferronet

    if not ferronet.native_available():
        pytest.skip("native core not built")
    x = np.linspace(-3, 3, 1000).reshape(10, 100)
    results = []
    for name in ("numpy", "native"):
        with ferronet.use_backend(name):
            layer = RReLU(seed=42)
            out = layer.forward(x)
            results.append((out, layer.backward(np.ones_like(x))))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------- bad arguments


@pytest.mark.parametrize("make, match", [
    (lambda: LeakyReLU(-0.1), "alpha must be >= 0"),
    (lambda: LeakyReLU(float("nan")), "alpha must be finite"),
    (lambda: ELU(0.0), "alpha must be > 0"),
    (lambda: ELU(-1.0), "alpha must be > 0"),
    (lambda: RReLU(0.5, 0.2), "lower must be <= upper"),
    (lambda: RReLU(-0.1, 0.2), "lower must be >= 0"),
    (lambda: RReLU(0.1, float("inf")), "upper must be finite"),
    (lambda: Swish(float("nan")), "beta must be finite"),
])
def test_bad_hyper_parameters_are_value_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("make", [lambda: LeakyReLU("0.1"), lambda: ELU(True), lambda: Swish(None)])
def test_hyper_parameters_must_be_numbers(make):
    with pytest.raises(TypeError, match="real number"):
        make()


def test_unknown_activation_lists_the_names():
    with pytest.raises(ValueError) as info:
        activation_layer("reluu")
    for name in ACTIVATIONS:
        assert repr(name) in str(info.value)
    assert activation_layer("GELU") is GELU and activation_layer("silu") is Swish


def test_backward_before_forward(backend):
    for layer in (Tanh(), PReLU(np.ones(2)), RReLU(), Identity()):
        with pytest.raises(RuntimeError, match="backward called before forward"):
            layer.backward(np.ones((1, 2)))
