"""The convolutional-network layers (Convolution, Pooling, BatchNormalization, Dropout),
gradient-checked in float64 on every backend."""

from __future__ import annotations

import numpy as np
import pytest
from test_layers import assert_grad_close

from ferronet.layers import Affine, BatchNormalization, Convolution, Dropout, Pooling


def distinct_values(rng, shape, spacing=0.01):
    """Values at least ``spacing`` apart (shuffled), so no two pooling candidates tie within h = 1e-4."""
    n = int(np.prod(shape))
    return (rng.permutation(n) - n / 2).reshape(shape) * spacing


def check_layer_gradients(layer, x, forward, params=()):
    """Gradient-check ``layer`` on f = sum(forward(x) * R) w.r.t. x and each ``(array, gradient attribute)``.

    Also checks that backward leaves its ``dout`` untouched.
    """
    out = forward(x)
    R = np.random.default_rng(7).standard_normal(out.shape)  # upstream gradient

    def f():
        return float(np.sum(forward(x) * R))

    forward(x)
    R_before = R.copy()
    dx = layer.backward(R)
    np.testing.assert_array_equal(R, R_before)
    grads = {attr: getattr(layer, attr).copy() for _, attr in params}
    assert dx.shape == x.shape and dx.dtype == np.float64
    assert_grad_close(dx, f, x)
    for array, attr in params:
        assert_grad_close(grads[attr], f, array)


# ---------------------------------------------------------------- Convolution


@pytest.mark.parametrize("stride, pad", [(1, 0), (2, 1), (1, 2)])
def test_convolution_gradient_check(backend, rng, stride, pad):
    x = rng.standard_normal((2, 3, 7, 6))
    W = rng.standard_normal((4, 3, 3, 3))
    b = rng.standard_normal(4)
    layer = Convolution(W, b, stride=stride, pad=pad)
    out = layer.forward(x)
    assert out.shape == (2, 4, (7 + 2 * pad - 3) // stride + 1, (6 + 2 * pad - 3) // stride + 1)
    check_layer_gradients(layer, x, layer.forward, [(W, "dW"), (b, "db")])


def test_convolution_matches_a_direct_sum(backend, rng):
    x = rng.standard_normal((2, 2, 5, 5))
    W = rng.standard_normal((3, 2, 3, 3))
    b = rng.standard_normal(3)
    out = Convolution(W, b, stride=2, pad=1).forward(x)  # (2, 3, 3, 3)
    xpad = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    expected = np.empty((2, 3, 3, 3))
    for i in range(3):
        for j in range(3):
            window = xpad[:, :, 2 * i:2 * i + 3, 2 * j:2 * j + 3]  # (N, C, 3, 3)
            expected[:, :, i, j] = np.einsum("nckl,fckl->nf", window, W) + b
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_convolution_first_layer_skips_dx(backend, rng):
    W = rng.standard_normal((2, 1, 3, 3))
    layer = Convolution(W, np.zeros(2))
    layer.input_grad = False
    layer.forward(rng.standard_normal((2, 1, 5, 5)))
    assert layer.backward(np.ones((2, 2, 3, 3))) is None
    assert layer.dW.shape == W.shape and layer.db.shape == (2,)


def test_convolution_dtypes(backend, rng):
    W32 = rng.standard_normal((2, 3, 3, 3)).astype(np.float32)
    layer = Convolution(W32, np.zeros(2, dtype=np.float32), pad=1)
    out = layer.forward(rng.standard_normal((2, 3, 4, 4)))  # float64 input into a float32 layer
    assert out.dtype == np.float32 and out.shape == (2, 2, 4, 4)
    dx = layer.backward(np.ones(out.shape))  # float64 dout is converted as well
    assert dx.dtype == np.float32 and layer.dW.dtype == np.float32 and layer.db.dtype == np.float32

    layer64 = Convolution(rng.standard_normal((2, 3, 3, 3)), np.zeros(2))
    x32 = rng.standard_normal((1, 3, 5, 5)).astype(np.float32)
    np.testing.assert_allclose(layer64.forward(x32), layer64.forward(x32.astype(np.float64)), rtol=1e-14)


def test_convolution_channel_mismatch_names_the_shapes(backend, rng):
    layer = Convolution(rng.standard_normal((2, 3, 3, 3)), np.zeros(2))
    with pytest.raises(ValueError, match=r"\(2, 3, 3, 3\)"):
        layer.forward(rng.standard_normal((1, 2, 5, 5)))


# ---------------------------------------------------------------- Pooling


@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize("pool, stride, pad", [((2, 2), 2, 0), ((3, 3), 2, 1), ((3, 2), 1, 1)])
def test_pooling_gradient_check(backend, rng, mode, pool, stride, pad):
    x = distinct_values(rng, (2, 3, 5, 6))
    layer = Pooling(*pool, stride=stride, pad=pad, mode=mode)
    out = layer.forward(x)
    assert out.shape == (2, 3, (5 + 2 * pad - pool[0]) // stride + 1, (6 + 2 * pad - pool[1]) // stride + 1)
    check_layer_gradients(layer, x, layer.forward)


def test_pooling_output_size_honours_pad(backend):
    x = np.arange(16, dtype=np.float64).reshape(1, 1, 4, 4) - 20  # all negative: padding must not win
    out = Pooling(2, 2, stride=2, pad=1).forward(x)
    # windows over padded rows/columns [-1, 0], [1, 2], [3, 4]: the book's layer would give (1, 1, 2, 2)
    np.testing.assert_array_equal(out[0, 0], x[0, 0][np.ix_([0, 2, 3], [0, 2, 3])])
    avg = Pooling(2, 2, stride=2, pad=1, mode="avg").forward(x)
    assert avg.shape == (1, 1, 3, 3)
    assert avg[0, 0, 0, 0] == x[0, 0, 0, 0] / 4  # three zeros of padding counted
    assert avg[0, 0, 1, 1] == x[0, 0, 1:3, 1:3].mean()


def test_max_pooling_routes_the_gradient_to_the_maximum(backend):
    x = np.array([[[[1.0, 5.0], [3.0, 2.0]]]])
    layer = Pooling(2, 2)
    np.testing.assert_array_equal(layer.forward(x), [[[[5.0]]]])
    np.testing.assert_array_equal(layer.backward(np.array([[[[2.0]]]])), [[[[0.0, 2.0], [0.0, 0.0]]]])


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pooling_float32_stays_float32(backend, rng, mode):
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    layer = Pooling(2, 2, mode=mode)
    out = layer.forward(x)
    assert out.dtype == np.float32
    assert layer.backward(np.ones(out.shape, dtype=np.float32)).dtype == np.float32


def test_pooling_rejects_an_unknown_mode():
    with pytest.raises(ValueError, match="mode"):
        Pooling(2, 2, mode="min")


# ---------------------------------------------------------------- BatchNormalization


@pytest.mark.parametrize("shape, per_channel, size", [
    ((5, 4), True, 4),  # per feature
    ((3, 2, 3, 4), True, 2),  # per channel
    ((3, 2, 2, 3), False, 12),  # the book's per activation
])
def test_batchnorm_train_mode_gradient_check(backend, rng, shape, per_channel, size):
    x = rng.standard_normal(shape) * 2 + 0.5
    gamma = rng.standard_normal(size)
    beta = rng.standard_normal(size)
    layer = BatchNormalization(gamma, beta, per_channel=per_channel)

    def forward(a):
        return layer.forward(a, train_flg=True)

    assert forward(x).shape == shape
    check_layer_gradients(layer, x, forward, [(gamma, "dgamma"), (beta, "dbeta")])


def test_batchnorm_statistics_per_channel_and_per_activation(backend, rng):
    x = rng.standard_normal((4, 3, 2, 5)) * 3 + rng.standard_normal((1, 3, 1, 1))
    out = BatchNormalization(np.ones(3), np.zeros(3)).forward(x)
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(0, 2, 3)), 1, rtol=1e-5)
    flat = BatchNormalization(np.ones(30), np.zeros(30), per_channel=False).forward(x).reshape(4, 30)
    np.testing.assert_allclose(flat.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(flat.var(axis=0), 1, rtol=1e-4)


def test_batchnorm_running_statistics_and_eval_mode(backend, rng):
    x = rng.standard_normal((6, 3)) * 2 + 1
    gamma, beta = rng.standard_normal(3), rng.standard_normal(3)
    layer = BatchNormalization(gamma, beta, momentum=0.8)
    np.testing.assert_array_equal(layer.running_mean, 0)
    np.testing.assert_array_equal(layer.running_var, 1)
    running_mean = layer.running_mean
    layer.forward(x, train_flg=True)
    assert layer.running_mean is running_mean  # updated in place
    np.testing.assert_allclose(layer.running_mean, 0.2 * x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(layer.running_var, 0.8 + 0.2 * x.var(axis=0), rtol=1e-12)

    before = layer.running_mean.copy()
    out = layer.forward(x, train_flg=False)
    np.testing.assert_array_equal(layer.running_mean, before)  # eval mode leaves them alone
    expected = gamma * (x - layer.running_mean) / np.sqrt(layer.running_var + 1e-6) + beta
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    with pytest.raises(RuntimeError, match="train"):
        layer.backward(np.ones_like(x))


def test_batchnorm_given_running_statistics_are_copied_in_gamma_dtype(backend):
    given_mean, given_var = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    layer = BatchNormalization(np.ones(2, np.float32), np.zeros(2, np.float32), running_mean=given_mean,
                               running_var=given_var)
    assert layer.running_mean.dtype == np.float32 and layer.running_mean is not given_mean
    layer.forward(np.ones((2, 2)), train_flg=True)
    np.testing.assert_array_equal(given_mean, [1.0, 2.0])


@pytest.mark.parametrize("shape, per_channel", [((4, 3), True), ((2, 3, 2, 2), True), ((2, 3, 2, 2), False)])
def test_batchnorm_float32_stays_float32(backend, rng, shape, per_channel):
    size = shape[1] if per_channel else int(np.prod(shape[1:]))
    layer = BatchNormalization(np.ones(size, np.float32), np.zeros(size, np.float32), per_channel=per_channel)
    out = layer.forward(rng.standard_normal(shape))  # float64 input converted to gamma's dtype
    assert out.dtype == np.float32 and out.shape == shape
    assert layer.running_mean.dtype == np.float32
    dx = layer.backward(np.ones(shape, dtype=np.float32))
    assert dx.dtype == np.float32 and dx.shape == shape
    assert layer.dgamma.dtype == np.float32 and layer.dbeta.dtype == np.float32


# ---------------------------------------------------------------- Dropout


def fixed_mask_forward(layer, seed=3):
    """``layer.forward`` with the layer's generator reseeded first: the same mask on every call."""

    def forward(a, train_flg=True):
        layer.rng = np.random.default_rng(seed)
        return layer.forward(a, train_flg=train_flg)

    return forward


@pytest.mark.parametrize("inverted", [False, True])
def test_dropout_gradient_check_with_a_fixed_mask(backend, rng, inverted):
    x = rng.standard_normal((4, 3, 5))
    layer = Dropout(0.4, inverted=inverted)
    forward = fixed_mask_forward(layer)
    out = forward(x)
    mask = layer.mask
    assert mask.dtype == np.bool_ and 0 < mask.sum() < mask.size
    scale = 1 / 0.6 if inverted else 1.0
    np.testing.assert_allclose(out, np.where(mask, x * scale, 0), rtol=1e-15)
    check_layer_gradients(layer, x, forward)


@pytest.mark.parametrize("inverted, eval_scale", [(False, 0.7), (True, 1.0)])
def test_dropout_train_and_eval_modes(backend, rng, inverted, eval_scale):
    x = rng.standard_normal((200, 500))
    layer = Dropout(0.3, inverted=inverted, seed=0)
    out = layer.forward(x, train_flg=True)
    kept = layer.mask.mean()
    assert abs(kept - 0.7) < 0.01  # 1e5 draws: the std of the mean is 0.0015
    first_mask = layer.mask.copy()
    layer.forward(x, train_flg=True)
    assert not np.array_equal(layer.mask, first_mask)  # a new mask per call
    assert np.mean(out) == pytest.approx(np.mean(x * first_mask) / (0.7 if inverted else 1.0), rel=1e-12)
    np.testing.assert_allclose(layer.forward(x, train_flg=False), eval_scale * x, rtol=1e-15)
    dout = rng.standard_normal(x.shape)
    np.testing.assert_allclose(layer.backward(dout), eval_scale * dout, rtol=1e-15)  # eval mode is linear


def test_dropout_seed_reproduces_masks(backend, rng):
    x = rng.standard_normal((10, 10))
    a, b, c = Dropout(seed=5), Dropout(seed=5), Dropout(seed=6)
    np.testing.assert_array_equal(a.forward(x), b.forward(x))
    assert not np.array_equal(a.forward(x), c.forward(x))


def test_dropout_float32_stays_float32(backend, rng):
    x = rng.standard_normal((3, 4)).astype(np.float32)
    for inverted in (False, True):
        layer = Dropout(0.5, inverted=inverted, seed=1)
        assert layer.forward(x).dtype == np.float32
        assert layer.backward(np.ones((3, 4), np.float32)).dtype == np.float32
        assert layer.forward(x, train_flg=False).dtype == np.float32


@pytest.mark.parametrize("ratio", [-0.1, 1.0, 1.5])
def test_dropout_rejects_a_ratio_outside_0_1(ratio):
    with pytest.raises(ValueError, match="dropout_ratio"):
        Dropout(ratio)


# ---------------------------------------------------------------- state kept for backward


def make_layers(rng):
    """One of each new layer, with a forward taking x (2, 2, 4, 4)."""
    return [
        Convolution(rng.standard_normal((2, 2, 3, 3)), np.zeros(2), pad=1),
        Pooling(2, 2),
        Pooling(2, 2, mode="avg"),
        BatchNormalization(np.ones(2), np.zeros(2)),
        Dropout(0.5, seed=0),
    ]


def changed_attributes(layer, before):
    """The names of the layer's attributes that no longer refer to the objects in ``before`` (a vars() copy)."""
    return {k for k, v in vars(layer).items() if k not in before or before[k] is not v}


def test_inference_pass_keeps_nothing_and_leaves_earlier_state(backend, rng):
    x = rng.standard_normal((2, 2, 4, 4))
    for layer in make_layers(rng):
        name = type(layer).__name__
        fresh = dict(vars(layer))
        layer.forward(x, keep_state=False)
        assert changed_attributes(layer, fresh) == set(), name
        with pytest.raises(RuntimeError, match="before forward"):
            layer.backward(np.ones((2, 2, 4, 4)))

        out = layer.forward(x)
        assert changed_attributes(layer, fresh), name  # a kept pass stores what backward needs
        kept = dict(vars(layer))
        layer.forward(rng.standard_normal((3, 2, 4, 4)), keep_state=False)
        assert changed_attributes(layer, kept) == set(), name
        assert layer.backward(np.ones(out.shape)).shape == x.shape


def test_batchnorm_inference_pass_in_train_mode_still_updates_running_statistics(backend, rng):
    layer = BatchNormalization(np.ones(3), np.zeros(3))
    layer.forward(rng.standard_normal((4, 3)) + 5, train_flg=True, keep_state=False)
    assert np.all(layer.running_mean > 0.3)
    assert layer.x is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scalar_bias_as_in_the_books_apply_filter(backend, dtype):
    # ch07/apply_filter.py: Convolution(w, 0) with one filter taken from a trained network
    gen = np.random.default_rng(0)
    w = gen.standard_normal((1, 1, 3, 3)).astype(dtype)
    img = gen.random((1, 1, 6, 6), dtype=np.float32)  # imread gives float32
    conv = Convolution(w, 0)
    assert conv.b.shape == (1,) and conv.b.dtype == dtype and conv.b[0] == 0
    np.testing.assert_allclose(conv.forward(img), Convolution(w, np.zeros(1, dtype)).forward(img))
    shifted = Convolution(w, 1.5).forward(img)
    np.testing.assert_allclose(shifted, conv.forward(img) + 1.5, rtol=1e-6)
    affine = Affine(gen.standard_normal((4, 3)).astype(dtype), 0.25)
    assert affine.b.shape == (3,) and affine.b.dtype == dtype
    np.testing.assert_allclose(affine.forward(np.zeros((2, 4), dtype)), np.full((2, 3), 0.25))
