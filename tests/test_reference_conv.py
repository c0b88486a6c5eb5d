"""The NumPy reference of the CNN kernels against naive loops on tiny shapes.

``ferronet.ops.reference`` is the oracle the native kernels are compared
with, so it is itself checked here against obviously-correct (slow) loop
code, adjointness and numerical gradients.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from ferronet import utils
from ferronet.ops import reference as ref

DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=2e-5, atol=2e-5), np.float64: dict(rtol=1e-12, atol=1e-12)}

# (N, C, H, W, fh, fw, stride, pad): odd sizes, stride 2, padding, batch 1, channels 1 and 3
CONV_CASES = [
    (1, 1, 5, 5, 3, 3, 1, 0),
    (2, 3, 7, 6, 3, 2, 2, 1),
    (1, 3, 4, 5, 1, 1, 1, 0),
    (2, 1, 6, 7, 5, 3, 2, 2),
    (3, 3, 5, 5, 5, 5, 1, 0),  # the filter covers the whole input
    (1, 2, 3, 3, 4, 4, 3, 1),  # the filter only fits thanks to the padding
]

# (N, C, H, W, pool_h, pool_w, stride, pad), pad < pool
POOL_CASES = [
    (1, 1, 4, 4, 2, 2, 2, 0),
    (2, 3, 7, 6, 3, 2, 2, 1),
    (1, 3, 5, 5, 3, 3, 1, 1),  # overlapping windows
    (2, 1, 6, 7, 2, 3, 3, 1),
    (1, 1, 3, 5, 3, 5, 2, 0),  # one window
    (1, 2, 5, 4, 3, 3, 2, 2),
]


def data(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


def out_size(size, f, stride, pad):
    return (size + 2 * pad - f) // stride + 1


# --------------------------------------------------------------------------
# Naive loop implementations (the definitions, written out)
# --------------------------------------------------------------------------


def naive_pad(x, pad):
    n, c, h, w = x.shape
    xp = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=x.dtype)
    xp[:, :, pad:pad + h, pad:pad + w] = x
    return xp


def naive_im2col(x, fh, fw, stride, pad):
    n, c, h, w = x.shape
    oh, ow = out_size(h, fh, stride, pad), out_size(w, fw, stride, pad)
    xp = naive_pad(x, pad)
    col = np.zeros((n * oh * ow, c * fh * fw), dtype=x.dtype)
    for b, i, j in itertools.product(range(n), range(oh), range(ow)):
        row = (b * oh + i) * ow + j
        for ch, ky, kx in itertools.product(range(c), range(fh), range(fw)):
            col[row, (ch * fh + ky) * fw + kx] = xp[b, ch, i * stride + ky, j * stride + kx]
    return col


def naive_conv(x, W, b, stride, pad):
    n, c, h, w = x.shape
    fn, _, fh, fw = W.shape
    oh, ow = out_size(h, fh, stride, pad), out_size(w, fw, stride, pad)
    xp = naive_pad(x, pad).astype(np.float64)
    out = np.zeros((n, fn, oh, ow))
    for s, f, i, j in itertools.product(range(n), range(fn), range(oh), range(ow)):
        patch = xp[s, :, i * stride:i * stride + fh, j * stride:j * stride + fw]
        out[s, f, i, j] = b[f] + np.sum(W[f].astype(np.float64) * patch)
    return out


def real_window(x2d, i, j, ph, pw, stride, pad):
    """[(value, flat index h*W + w)] of the real elements of one window, row-major."""
    h, w = x2d.shape
    cells = []
    for ky, kx in itertools.product(range(ph), range(pw)):
        r, q = i * stride + ky - pad, j * stride + kx - pad
        if 0 <= r < h and 0 <= q < w:
            cells.append((x2d[r, q], r * w + q))
    return cells


def naive_max_pool(x, ph, pw, stride, pad):
    n, c, h, w = x.shape
    oh, ow = out_size(h, ph, stride, pad), out_size(w, pw, stride, pad)
    out = np.zeros((n, c, oh, ow), dtype=x.dtype)
    arg = np.zeros((n, c, oh, ow), dtype=np.int64)
    for s, ch, i, j in itertools.product(range(n), range(c), range(oh), range(ow)):
        cells = real_window(x[s, ch], i, j, ph, pw, stride, pad)
        k = int(np.argmax([v for v, _ in cells]))  # first maximum, first NaN
        out[s, ch, i, j], arg[s, ch, i, j] = cells[k]
    return out, arg


def naive_avg_pool(x, ph, pw, stride, pad):
    n, c, h, w = x.shape
    oh, ow = out_size(h, ph, stride, pad), out_size(w, pw, stride, pad)
    out = np.zeros((n, c, oh, ow))
    for s, ch, i, j in itertools.product(range(n), range(c), range(oh), range(ow)):
        out[s, ch, i, j] = sum(float(v) for v, _ in real_window(x[s, ch], i, j, ph, pw, stride, pad)) / (ph * pw)
    return out


def naive_avg_pool_backward(dout, shape, ph, pw, stride, pad):
    n, c, h, w = shape
    dx = np.zeros(shape)
    plane = np.zeros((h, w))
    for s, ch, i, j in itertools.product(range(n), range(c), range(dout.shape[2]), range(dout.shape[3])):
        for _, flat in real_window(plane, i, j, ph, pw, stride, pad):
            dx[s, ch, flat // w, flat % w] += dout[s, ch, i, j] / (ph * pw)
    return dx


def splitmix64(seed, i):
    """The spec's counter hash with Python ints."""
    m = 2**64 - 1
    z = (seed + (i + 1) * 0x9E3779B97F4A7C15) & m
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & m
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & m
    return z ^ (z >> 31)


def naive_mask(shape, ratio, seed):
    threshold = int(ratio * 16777216.0)
    size = int(np.prod(shape))
    return np.array([(splitmix64(seed, i) >> 40) >= threshold for i in range(size)], dtype=bool).reshape(shape)


# --------------------------------------------------------------------------
# im2col / col2im
# --------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CONV_CASES)
def test_im2col_matches_loops(rng, case, dtype):
    n, c, h, w, fh, fw, s, p = case
    x = data(rng, (n, c, h, w), dtype)
    col = ref.im2col(x, fh, fw, s, p)
    assert col.dtype == dtype  # no float64 upcast
    np.testing.assert_array_equal(col, naive_im2col(x, fh, fw, s, p))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CONV_CASES)
def test_col2im_is_the_adjoint_of_im2col(rng, case, dtype):
    n, c, h, w, fh, fw, s, p = case
    x = data(rng, (n, c, h, w), dtype)
    oh, ow = out_size(h, fh, s, p), out_size(w, fw, s, p)
    cols = data(rng, (n * oh * ow, c * fh * fw), dtype)
    back = ref.col2im(cols, (n, c, h, w), fh, fw, s, p)
    assert back.dtype == dtype and back.shape == x.shape and back.flags.c_contiguous
    lhs = np.vdot(back.astype(np.float64), x.astype(np.float64))
    rhs = np.vdot(cols.astype(np.float64), ref.im2col(x, fh, fw, s, p).astype(np.float64))
    np.testing.assert_allclose(lhs, rhs, **TOL[dtype])


def test_col2im_sums_overlaps_and_drops_padding():
    cols = np.ones((9, 4))  # 2x2 filter, stride 1, pad 1 over a 2x2 image: 3x3 windows
    np.testing.assert_array_equal(ref.col2im(cols, (1, 1, 2, 2), 2, 2, 1, 1), np.full((1, 1, 2, 2), 4.0))
    cols = np.ones((4, 4))  # no padding: the centre of a 3x3 image lies in all four windows
    np.testing.assert_array_equal(ref.col2im(cols, (1, 1, 3, 3), 2, 2)[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


@pytest.mark.parametrize("dtype", DTYPES)
def test_utils_helpers_keep_the_dtype_and_match_ops(backend, rng, dtype):
    x = data(rng, (2, 3, 5, 4), dtype)
    col = utils.im2col(x, 3, 2, stride=2, pad=1)
    assert col.dtype == dtype
    np.testing.assert_array_equal(col, ref.im2col(x, 3, 2, 2, 1))
    back = utils.col2im(col, x.shape, 3, 2, stride=2, pad=1)
    assert back.dtype == dtype
    np.testing.assert_array_equal(back, ref.col2im(col, x.shape, 3, 2, 2, 1))


def test_conv_output_size_is_an_int():
    assert utils.conv_output_size(28, 5) == 24 and type(utils.conv_output_size(28, 5)) is int
    assert utils.conv_output_size(7, 3, stride=2, pad=1) == 4
    assert utils.conv_output_size(3, 5, pad=1) == 1
    with pytest.raises(ValueError, match="larger"):
        utils.conv_output_size(3, 5)
    with pytest.raises(ValueError, match="stride"):
        utils.conv_output_size(5, 3, stride=0)


# --------------------------------------------------------------------------
# Convolution
# --------------------------------------------------------------------------


def conv_args(rng, case, dtype, fn=4):
    n, c, h, w, fh, fw, s, p = case
    return data(rng, (n, c, h, w), dtype), data(rng, (fn, c, fh, fw), dtype), data(rng, (fn,), dtype), s, p


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CONV_CASES)
def test_conv_forward_matches_loops(rng, case, dtype):
    x, W, b, s, p = conv_args(rng, case, dtype)
    out = ref.conv_forward(x, W, b, s, p)
    assert out.dtype == dtype and out.flags.c_contiguous
    np.testing.assert_allclose(out, naive_conv(x, W, b, s, p), **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CONV_CASES)
def test_conv_backward_is_the_adjoint(rng, case, dtype):
    """<dout, conv(x, W, 0)> is bilinear: its gradients are the adjoint products."""
    x, W, b, s, p = conv_args(rng, case, dtype)
    dout = data(rng, ref.conv_forward(x, W, b, s, p).shape, dtype)
    dx, dW, db = ref.conv_backward(dout, x, W, s, p)
    assert dx.dtype == dW.dtype == db.dtype == dtype
    assert dx.shape == x.shape and dW.shape == W.shape and db.shape == b.shape
    zero = np.zeros_like(b)
    d64 = dout.astype(np.float64)
    pairing = np.vdot(d64, naive_conv(x, W, zero, s, p))
    tol = TOL[dtype]
    np.testing.assert_allclose(np.vdot(dx.astype(np.float64), x), pairing, rtol=max(tol["rtol"], 1e-10) * 10)
    np.testing.assert_allclose(np.vdot(dW.astype(np.float64), W), pairing, rtol=max(tol["rtol"], 1e-10) * 10)
    np.testing.assert_allclose(db, d64.sum(axis=(0, 2, 3)), **tol)
    dx2, dW2, db2 = ref.conv_backward(dout, x, W, s, p, need_dx=False)
    assert dx2 is None
    np.testing.assert_array_equal(dW2, dW)
    np.testing.assert_array_equal(db2, db)


def numerical_grad(f, a, h=1e-6):
    g = np.zeros_like(a)
    for idx in np.ndindex(a.shape):
        keep = a[idx]
        a[idx] = keep + h
        up = f()
        a[idx] = keep - h
        down = f()
        a[idx] = keep
        g[idx] = (up - down) / (2 * h)
    return g


@pytest.mark.parametrize("case", [CONV_CASES[1], CONV_CASES[3], CONV_CASES[5]])
def test_conv_backward_numerical_gradient(rng, case):
    x, W, b, s, p = conv_args(rng, case, np.float64, fn=2)
    dout = data(rng, ref.conv_forward(x, W, b, s, p).shape, np.float64)

    def loss():
        return float(np.vdot(ref.conv_forward(x, W, b, s, p), dout))

    dx, dW, db = ref.conv_backward(dout, x, W, s, p)
    np.testing.assert_allclose(dx, numerical_grad(loss, x), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(dW, numerical_grad(loss, W), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(db, numerical_grad(loss, b), rtol=1e-6, atol=1e-7)


def test_conv_float32_tracks_float64(rng):
    x, W, b, s, p = conv_args(rng, CONV_CASES[1], np.float64)
    f32 = ref.conv_forward(x.astype(np.float32), W.astype(np.float32), b.astype(np.float32), s, p)
    np.testing.assert_allclose(f32, ref.conv_forward(x, W, b, s, p), rtol=1e-5, atol=1e-5)


# --------------------------------------------------------------------------
# Pooling
# --------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", POOL_CASES)
def test_max_pool_forward_matches_loops(rng, case, dtype):
    n, c, h, w, ph, pw, s, p = case
    x = data(rng, (n, c, h, w), dtype)
    out, arg = ref.max_pool_forward(x, ph, pw, s, p)
    want_out, want_arg = naive_max_pool(x, ph, pw, s, p)
    assert out.dtype == dtype and arg.dtype == np.int32
    np.testing.assert_array_equal(out, want_out)
    np.testing.assert_array_equal(arg, want_arg)
    np.testing.assert_array_equal(out, np.take_along_axis(x.reshape(n, c, -1), arg.reshape(n, c, -1), 2)
                                  .reshape(out.shape))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", POOL_CASES)
def test_max_pool_backward_matches_loops(rng, case, dtype):
    n, c, h, w, ph, pw, s, p = case
    x = data(rng, (n, c, h, w), dtype)
    out, arg = ref.max_pool_forward(x, ph, pw, s, p)
    dout = data(rng, out.shape, dtype)
    dx = ref.max_pool_backward(dout, arg, x.shape)
    want = np.zeros((n, c, h * w))
    for idx in np.ndindex(arg.shape):
        want[idx[0], idx[1], arg[idx]] += dout[idx]  # overlapping windows sum
    assert dx.dtype == dtype
    np.testing.assert_allclose(dx, want.reshape(x.shape), **TOL[dtype])


def test_max_pool_padding_is_honoured_in_the_output_size():
    x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    out, arg = ref.max_pool_forward(x, 2, 2, stride=2, pad=1)
    assert out.shape == (1, 1, 3, 3)  # the book's Pooling ignores pad and gives (2, 2)
    np.testing.assert_array_equal(out[0, 0], [[0, 2, 3], [8, 10, 11], [12, 14, 15]])
    np.testing.assert_array_equal(arg[0, 0], out[0, 0].astype(np.int32))


def test_max_pool_padding_never_wins():
    """Padding is -inf but only real elements compete, even when they are -inf or negative."""
    x = np.full((1, 1, 3, 3), -np.inf)
    out, arg = ref.max_pool_forward(x, 3, 3, stride=1, pad=2)
    assert out.shape == (1, 1, 5, 5)
    assert np.all(out == -np.inf)
    _, want = naive_max_pool(x, 3, 3, 1, 2)
    np.testing.assert_array_equal(arg, want)
    assert arg[0, 0, 0, 0] == 0 and arg[0, 0, 4, 4] == 8 and arg[0, 0, 0, 4] == 2
    x = -np.ones((1, 1, 2, 2), dtype=np.float32)
    out, _ = ref.max_pool_forward(x, 2, 2, stride=1, pad=1)
    assert np.all(out == -1)


def test_max_pool_ties_and_nan():
    x = np.zeros((1, 1, 2, 4))
    x[0, 0, 1, 1] = np.nan
    x[0, 0, 0, 3] = np.nan
    x[0, 0, 1, 2] = np.nan
    out, arg = ref.max_pool_forward(x, 2, 2)
    np.testing.assert_array_equal(arg[0, 0], [[5, 3]])  # first NaN in row-major window order
    assert np.isnan(out).all()
    out, arg = ref.max_pool_forward(np.ones((1, 1, 2, 2)), 2, 2)
    assert arg[0, 0, 0, 0] == 0  # ties: the first


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", POOL_CASES)
def test_avg_pool_matches_loops(rng, case, dtype):
    n, c, h, w, ph, pw, s, p = case
    x = data(rng, (n, c, h, w), dtype)
    out = ref.avg_pool_forward(x, ph, pw, s, p)
    assert out.dtype == dtype
    np.testing.assert_allclose(out, naive_avg_pool(x, ph, pw, s, p), **TOL[dtype])
    dout = data(rng, out.shape, dtype)
    dx = ref.avg_pool_backward(dout, x.shape, ph, pw, s, p)
    assert dx.dtype == dtype and dx.flags.c_contiguous
    np.testing.assert_allclose(dx, naive_avg_pool_backward(dout, x.shape, ph, pw, s, p), **TOL[dtype])
    # the backward pass is the adjoint of the forward one
    np.testing.assert_allclose(np.vdot(dx.astype(np.float64), x), np.vdot(dout.astype(np.float64), out),
                               rtol=1e-5 if dtype == np.float32 else 1e-12)


def test_avg_pool_counts_padding():
    out = ref.avg_pool_forward(np.ones((1, 1, 2, 2)), 2, 2, stride=2, pad=1)
    np.testing.assert_array_equal(out[0, 0], np.full((2, 2), 0.25))


# --------------------------------------------------------------------------
# Batch normalization
# --------------------------------------------------------------------------


def bn_args(rng, shape, dtype):
    c = shape[1]
    return (data(rng, shape, dtype) * 2 + 1, data(rng, (c,), dtype) + 1, data(rng, (c,), dtype),
            np.zeros(c, dtype), np.ones(c, dtype))


def naive_bn(x, gamma, beta, mean, var, eps):
    out = np.zeros(x.shape)
    for ch in range(x.shape[1]):
        out[:, ch] = gamma[ch] * (x[:, ch] - mean[ch]) / np.sqrt(float(var[ch]) + eps) + beta[ch]
    return out


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 3, 5), (1, 1, 2, 3), (7, 1)])
def test_batchnorm_train_matches_loops(rng, shape, dtype):
    x, gamma, beta, rm, rv = bn_args(rng, shape, dtype)
    rm[:] = 0.5
    x64 = x.astype(np.float64)
    mean = np.array([x64[:, ch].mean() for ch in range(shape[1])])
    var = np.array([x64[:, ch].var() for ch in range(shape[1])])  # biased
    out, got_mean, inv_std = ref.batchnorm_forward(x, gamma, beta, rm, rv, True, 0.8, 1e-6)
    assert out.dtype == got_mean.dtype == inv_std.dtype == dtype
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else TOL[dtype]
    np.testing.assert_allclose(got_mean, mean, **tol)
    np.testing.assert_allclose(inv_std, 1 / np.sqrt(var + 1e-6), **tol)
    np.testing.assert_allclose(out, naive_bn(x, gamma, beta, mean, var, 1e-6), **tol)
    # running averages updated in place, in x's dtype
    assert rm.dtype == rv.dtype == dtype
    np.testing.assert_allclose(rm, 0.8 * 0.5 + 0.2 * mean, **tol)
    np.testing.assert_allclose(rv, 0.8 * 1.0 + 0.2 * var, **tol)


@pytest.mark.parametrize("dtype", DTYPES)
def test_batchnorm_eval_uses_and_keeps_the_running_stats(rng, dtype):
    x, gamma, beta, rm, rv = bn_args(rng, (4, 3, 2, 2), dtype)
    rm[:] = [0.1, -0.2, 0.3]
    rv[:] = [1.5, 0.5, 2.0]
    before = rm.copy(), rv.copy()
    out, mean, inv_std = ref.batchnorm_forward(x, gamma, beta, rm, rv, train=False)
    np.testing.assert_array_equal(rm, before[0])
    np.testing.assert_array_equal(rv, before[1])
    assert mean is not rm and out.dtype == dtype
    np.testing.assert_array_equal(mean, rm)
    np.testing.assert_allclose(out, naive_bn(x, gamma, beta, rm, rv, 1e-6), **TOL[dtype])
    frozen = rm.copy()
    frozen.flags.writeable = False  # eval mode does not write: read-only stats are fine
    ref.batchnorm_forward(x, gamma, beta, frozen, rv, train=False)


def test_batchnorm_running_average_converges(rng):
    x, gamma, beta, rm, rv = bn_args(rng, (50, 2, 3, 3), np.float64)
    for _ in range(200):
        ref.batchnorm_forward(x, gamma, beta, rm, rv, momentum=0.9)
    np.testing.assert_allclose(rm, x.mean(axis=(0, 2, 3)), rtol=1e-6)
    np.testing.assert_allclose(rv, x.var(axis=(0, 2, 3)), rtol=1e-6)


@pytest.mark.parametrize("shape", [(5, 3), (3, 2, 3, 2)])
def test_batchnorm_backward_numerical_gradient(rng, shape):
    x, gamma, beta, rm, rv = bn_args(rng, shape, np.float64)
    dout = data(rng, shape, np.float64)

    def loss():
        out, _, _ = ref.batchnorm_forward(x, gamma, beta, rm.copy(), rv.copy())
        return float(np.vdot(out, dout))

    _, mean, inv_std = ref.batchnorm_forward(x, gamma, beta, rm.copy(), rv.copy())
    dx, dgamma, dbeta = ref.batchnorm_backward(dout, x, gamma, mean, inv_std)
    np.testing.assert_allclose(dx, numerical_grad(loss, x), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(dgamma, numerical_grad(loss, gamma), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(dbeta, numerical_grad(loss, beta), rtol=1e-5, atol=1e-7)


def test_batchnorm_backward_keeps_float32(rng):
    x, gamma, beta, rm, rv = bn_args(rng, (4, 3, 2, 2), np.float32)
    _, mean, inv_std = ref.batchnorm_forward(x, gamma, beta, rm, rv)
    grads = ref.batchnorm_backward(x, x, gamma, mean, inv_std)
    assert all(g.dtype == np.float32 for g in grads)


# --------------------------------------------------------------------------
# Dropout
# --------------------------------------------------------------------------


def test_splitmix64_known_values():
    """The first outputs of splitmix64 seeded with 0 (Vigna's generator), pinned."""
    z = ref.dropout._splitmix64(0, 3)
    assert z.dtype == np.uint64
    assert [int(v) for v in z] == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]


@pytest.mark.parametrize("seed", [0, 1, 12345, 2**63, 2**64 - 1])
@pytest.mark.parametrize("ratio", [0.0, 0.1, 0.5, 0.9375])
def test_dropout_mask_is_the_spec_hash(seed, ratio):
    shape = (3, 5, 7)
    _, mask = ref.dropout_forward(np.ones(shape, np.float32), ratio, seed)
    assert mask.dtype == np.bool_ and mask.shape == shape
    np.testing.assert_array_equal(mask, naive_mask(shape, ratio, seed))


def test_dropout_mask_pinned():
    """A fixed seed gives this mask on every backend and platform."""
    _, mask = ref.dropout_forward(np.zeros(16), 0.5, 42)
    assert "".join("1" if m else "0" for m in mask) == "".join(
        "1" if (splitmix64(42, i) >> 40) >= 8388608 else "0" for i in range(16))


def test_dropout_determinism_and_ratio(rng):
    x = data(rng, (200, 300), np.float64)
    out1, mask1 = ref.dropout_forward(x, 0.3, 7)
    out2, mask2 = ref.dropout_forward(x, 0.3, 7)
    np.testing.assert_array_equal(mask1, mask2)
    np.testing.assert_array_equal(out1, out2)
    _, other = ref.dropout_forward(x, 0.3, 8)
    assert (other != mask1).mean() > 0.3
    assert abs((~mask1).mean() - 0.3) < 0.01
    assert ref.dropout_forward(x, 0.0, 7)[1].all()
    # the mask depends on the flat index only, not on the shape
    np.testing.assert_array_equal(ref.dropout_forward(x.reshape(-1), 0.3, 7)[1], mask1.reshape(-1))


@pytest.mark.parametrize("dtype", DTYPES)
def test_dropout_book_and_inverted_scaling(rng, dtype):
    x = data(rng, (6, 7), dtype)
    ratio = 0.4
    out, mask = ref.dropout_forward(x, ratio, 3)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, x * mask)
    scale = dtype(1 / (1 - ratio))
    inv, mask_i = ref.dropout_forward(x, ratio, 3, inverted=True)
    np.testing.assert_array_equal(mask_i, mask)
    assert inv.dtype == dtype
    np.testing.assert_array_equal(inv, np.where(mask, x * scale, 0).astype(dtype))
    dout = data(rng, x.shape, dtype)
    db = ref.dropout_backward(dout, mask, ratio)
    di = ref.dropout_backward(dout, mask, ratio, inverted=True)
    assert db.dtype == di.dtype == dtype
    np.testing.assert_array_equal(db, dout * mask)
    np.testing.assert_array_equal(di, np.where(mask, dout * scale, 0).astype(dtype))


def test_dropout_inverted_keeps_the_mean():
    x = np.ones(200_000, dtype=np.float32)
    out, _ = ref.dropout_forward(x, 0.5, 11, inverted=True)
    assert abs(float(out.mean(dtype=np.float64)) - 1.0) < 0.01
