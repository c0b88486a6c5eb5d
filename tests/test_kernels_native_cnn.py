"""The convolutional-network kernels (im2col, convolution, pooling, batch
normalization, dropout): native against the NumPy reference."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from conftest import requires_native
from ferronet.ops import reference as ref

pytestmark = requires_native

try:
    from ferronet.ops import native as nat
except ImportError:  # the module is skipped when the core is not built
    nat = None

DTYPES = [np.float32, np.float64]
SETTINGS = settings(max_examples=30, deadline=None)


def tol(dtype, k: int = 1) -> dict:
    """Tolerances for sums of k products of unit-sized values."""
    if dtype == np.float32:
        return {"rtol": 1e-5 * max(1.0, np.sqrt(k)), "atol": 1e-5 * max(1.0, np.sqrt(k))}
    return {"rtol": 1e-12, "atol": 1e-12}


@st.composite
def geometries(draw, max_pad_below_window: bool = False):
    """(x shape (N, C, H, W), window (fh, fw), stride, pad) that fit together."""
    n = draw(st.integers(1, 4))
    c = draw(st.sampled_from([1, 2, 3, 5]))
    h, w = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    fh, fw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    stride = draw(st.integers(1, 3))
    pad = draw(st.integers(0, 2))
    if max_pad_below_window:
        assume(pad < fh and pad < fw)
    assume(fh <= h + 2 * pad and fw <= w + 2 * pad)
    return (n, c, h, w), (fh, fw), stride, pad


def rand(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


def assert_conv_close(got, want, scale, dtype):
    """A convolution result against the NumPy reference's. ``scale``: the same computation on absolute
    values, the sum of |products| behind each element.

    float32: within 1e-4 of the largest such sum in the same output plane (the last two axes). Winograd's
    F(4x4, 3x3) trades precision for speed: it mixes a tile's 6x6 inputs with coefficients up to 8; its
    error measured at most 1.4e-5 of that sum on DeepConvNet's layers, where the unrolled product and
    F(2x2, 3x3) stay near 3e-7. float64: within 1e-12 of it.

    With F(4x4, 3x3) forced everywhere (``FERRONET_CONV=winograd4``, which the automatic choice never does
    on planes this small) float32 gets 1e-3: on a 1x1 plane the input gradient is one product, which the
    transforms compute from all nine taps of the filter, so its error follows their size, not that
    product's (1.4e-4 of it measured, with a centre tap small beside the others)."""
    assert got.dtype == dtype and got.shape == want.shape
    bound = np.max(np.abs(scale), axis=(-2, -1), keepdims=True) if scale.ndim >= 2 else np.abs(scale)
    rel = (1e-3 if os.environ.get("FERRONET_CONV") == "winograd4" else 1e-4) if dtype == np.float32 else 1e-12
    err = np.abs(got.astype(np.float64) - want.astype(np.float64))
    assert np.all(err <= rel * bound + 1e-30), f"worst error {np.max(err / (bound + 1e-30)):.2e} of the bound's scale"


def check_convolution(x, W, b, stride, pad, need_dx=True):
    """Native forward and backward against the reference, with :func:`assert_conv_close`."""
    dtype = x.dtype
    out = nat.conv_forward(x, W, b, stride, pad)
    want = ref.conv_forward(x, W, b, stride, pad)
    assert out.flags.c_contiguous
    assert_conv_close(out, want, ref.conv_forward(np.abs(x), np.abs(W), np.abs(b), stride, pad), dtype)
    dout = rand(np.random.default_rng(x.size), want.shape, dtype)
    got = nat.conv_backward(dout, x, W, stride, pad, need_dx=need_dx)
    expected = ref.conv_backward(dout, x, W, stride, pad, need_dx=need_dx)
    scales = ref.conv_backward(np.abs(dout), np.abs(x), np.abs(W), stride, pad, need_dx=need_dx)
    if need_dx:
        assert_conv_close(got[0], expected[0], scales[0], dtype)
    else:
        assert got[0] is None
    assert_conv_close(got[1], expected[1], scales[1], dtype)
    assert_conv_close(got[2], expected[2], scales[2], dtype)


# ----------------------------------------------------------------- im2col and convolution


@SETTINGS
@given(geo=geometries(), dtype=st.sampled_from(DTYPES), seed=st.integers(0, 2**32 - 1))
def test_im2col_and_col2im_match_reference(geo, dtype, seed):
    shape, (fh, fw), stride, pad = geo
    rng = np.random.default_rng(seed)
    x = rand(rng, shape, dtype)
    col = nat.im2col(x, fh, fw, stride, pad)
    assert col.dtype == dtype
    np.testing.assert_array_equal(col, ref.im2col(x, fh, fw, stride, pad))
    back = nat.col2im(col, shape, fh, fw, stride, pad)
    assert back.dtype == dtype and back.shape == shape
    np.testing.assert_allclose(back, ref.col2im(col, shape, fh, fw, stride, pad), **tol(dtype, fh * fw))


@SETTINGS
@given(geo=geometries(), filters=st.integers(1, 6), dtype=st.sampled_from(DTYPES),
       need_dx=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_convolution_matches_reference(geo, filters, dtype, need_dx, seed):
    shape, (fh, fw), stride, pad = geo
    rng = np.random.default_rng(seed)
    x, W, b = rand(rng, shape, dtype), rand(rng, (filters, shape[1], fh, fw), dtype), rand(rng, (filters,), dtype)
    check_convolution(x, W, b, stride, pad, need_dx)


@st.composite
def conv3x3_geometries(draw):
    """3x3 stride-1 convolutions around the methods' limits: 1 or 7 (unrolled) or 8 and more images (Winograd:
    groups of up to 16 per SIMD lane, one partly filled), 1 to 3 input channels (direct forward; 1: direct
    weight gradient) or more, odd and even planes from 1 to 30 (F(2x2, 3x3) below 3 outputs a side), pads
    0 to 3 (3: the input gradient unrolled)."""
    n = draw(st.sampled_from([1, 7, 8, 9, 16, 17, 33]))
    c = draw(st.sampled_from([1, 2, 3, 4, 16, 17]))
    filters = draw(st.sampled_from([1, 2, 5, 16, 17]))
    h, w = draw(st.integers(1, 30)), draw(st.integers(1, 30))
    pad = draw(st.integers(0, 3))
    assume(h + 2 * pad >= 3 and w + 2 * pad >= 3)
    return (n, c, h, w), filters, pad


@settings(max_examples=25, deadline=None)
@given(geo=conv3x3_geometries(), dtype=st.sampled_from(DTYPES), threads=st.sampled_from([1, 2]),
       seed=st.integers(0, 2**32 - 1))
def test_3x3_convolution_matches_reference(geo, dtype, threads, seed):
    import ferronet

    shape, filters, pad = geo
    rng = np.random.default_rng(seed)
    x, W, b = rand(rng, shape, dtype), rand(rng, (filters, shape[1], 3, 3), dtype), rand(rng, (filters,), dtype)
    before = ferronet.get_num_threads()
    try:
        ferronet.set_num_threads(threads)
        check_convolution(x, W, b, 1, pad)
    finally:
        ferronet.set_num_threads(before)


DEEP_CONV_NET = [((1, 28, 28), 16, 1), ((16, 28, 28), 16, 1), ((16, 14, 14), 32, 1), ((32, 14, 14), 32, 2),
                 ((32, 8, 8), 64, 1), ((64, 8, 8), 64, 1)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("image,filters,pad", DEEP_CONV_NET)
def test_deep_conv_net_convolutions_match_reference(image, filters, pad, dtype):
    """DeepConvNet's six convolutions (He-scaled filters, ReLU-like inputs), 40 images, 1 and 2 threads."""
    import ferronet

    rng = np.random.default_rng(filters + pad)
    x = np.maximum(rand(rng, (40, *image), dtype), 0)
    W = (rand(rng, (filters, image[0], 3, 3), dtype) * np.sqrt(2 / (9 * image[0]))).astype(dtype)
    b = rand(rng, (filters,), dtype)
    before = ferronet.get_num_threads()
    try:
        for threads in (1, 2):
            ferronet.set_num_threads(threads)
            check_convolution(x, W, b, 1, pad)
    finally:
        ferronet.set_num_threads(before)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,filters,size,pad", [((100, 1, 28, 28), 30, 5, 0), ((20, 16, 14, 14), 16, 3, 1),
                                                    ((8, 3, 32, 32), 8, 3, 2), ((4, 16, 28, 28), 16, 3, 1)])
def test_convolution_at_network_sizes_and_threads(shape, filters, size, pad, dtype):
    """Sizes large enough to run on several threads."""
    rng = np.random.default_rng(0)
    x, W, b = rand(rng, shape, dtype), rand(rng, (filters, shape[1], size, size), dtype), rand(rng, (filters,), dtype)
    check_convolution(x, W, b, 1, pad)


@pytest.mark.parametrize("method", ["unrolled", "direct", "winograd2", "winograd4"])
def test_every_convolution_method_matches_the_reference(method):
    """Run this file's convolution comparisons again with ``FERRONET_CONV`` forcing one method wherever it
    applies (direct: stride 1, forward and weight gradient; Winograd: 3x3 filters, stride 1, and pad <= 2 for
    the input gradient), so every method meets
    every geometry, batch size and channel count, not only those the automatic choice gives it. (Skipped
    inside the runs capped at an older instruction set, which cover the automatic choice.)"""
    import os
    import subprocess
    import sys

    if os.environ.get("FERRONET_MAX_SIMD"):
        pytest.skip("already a run at a capped instruction set")
    env = dict(os.environ, FERRONET_CONV=method)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", __file__,
         "-k", "convolution and not every_convolution_method and not scratch", "-W", "error"],
        env=env, capture_output=True, text=True, cwd=os.path.dirname(__file__))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n,c,filters", [(0, 3, 4), (9, 0, 4), (9, 3, 0), (0, 0, 0)])
def test_convolution_with_empty_dimensions(n, c, filters, dtype):
    """No images, channels or filters: the reference's (empty or zero) results, whatever the method."""
    x, W, b = np.ones((n, c, 5, 5), dtype), np.ones((filters, c, 3, 3), dtype), np.ones(filters, dtype)
    np.testing.assert_array_equal(nat.conv_forward(x, W, b, 1, 1), ref.conv_forward(x, W, b, 1, 1))
    dout = np.ones((n, filters, 5, 5), dtype)
    for got, want in zip(nat.conv_backward(dout, x, W, 1, 1), ref.conv_backward(dout, x, W, 1, 1)):
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, want)


def test_convolution_reads_strided_inputs(rng):
    for n in (4, 12):  # unrolled, Winograd
        base = rand(rng, (n, 3, 20, 20), np.float64)
        x = base[:, :, ::2, 1::2]  # not contiguous
        W = rand(rng, (2, 3, 3, 3), np.float64)
        b = np.zeros(2)
        np.testing.assert_allclose(nat.conv_forward(x, W, b, 1, 1),
                                   ref.conv_forward(np.ascontiguousarray(x), W, b, 1, 1))


@pytest.mark.parametrize("call", [
    "ops.conv_forward(one, big, np.ones(1, np.float32), 1, 300)",
    "ops.conv_backward(big, one, big, 1, 300)",
    "ops.conv_backward(big, one, big, 1, 300, need_dx=False)",
])
def test_convolution_scratch_too_large_is_an_exception_not_an_abort(call):
    """A 1x1 image padded by 300 under a 301x301 filter unrolls to 301**4 floats (33 GB of scratch):
    the kernel must raise MemoryError (or ValueError), not abort the interpreter. Run in a subprocess
    so an abort fails this test instead of killing pytest."""
    import subprocess
    import sys

    code = f"""
import os

import numpy as np
from ferronet.ops import native as ops
one, big = np.ones((1, 1, 1, 1), np.float32), np.ones((1, 1, 301, 301), np.float32)
try:
    {call}
except (MemoryError, ValueError) as e:
    print("raised", type(e).__name__)
else:
    print("returned")
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() in ("raised MemoryError", "raised ValueError"), result.stdout


# ----------------------------------------------------------------- pooling


@SETTINGS
@given(geo=geometries(max_pad_below_window=True), dtype=st.sampled_from(DTYPES), seed=st.integers(0, 2**32 - 1))
def test_max_pooling_matches_reference(geo, dtype, seed):
    shape, (ph, pw), stride, pad = geo
    rng = np.random.default_rng(seed)
    x = rand(rng, shape, dtype)
    if seed % 3 == 0:
        x = np.round(x)  # ties: the first maximum in window order wins
    out, argmax = nat.max_pool_forward(x, ph, pw, stride, pad)
    want_out, want_argmax = ref.max_pool_forward(x, ph, pw, stride, pad)
    assert out.dtype == dtype and argmax.dtype == np.int32
    np.testing.assert_array_equal(out, want_out)
    np.testing.assert_array_equal(argmax, want_argmax)
    dout = rand(rng, out.shape, dtype)
    np.testing.assert_allclose(nat.max_pool_backward(dout, argmax, shape),
                               ref.max_pool_backward(dout, argmax, shape), **tol(dtype, ph * pw))


@SETTINGS
@given(geo=geometries(max_pad_below_window=True), dtype=st.sampled_from(DTYPES), seed=st.integers(0, 2**32 - 1))
def test_average_pooling_matches_reference(geo, dtype, seed):
    shape, (ph, pw), stride, pad = geo
    rng = np.random.default_rng(seed)
    x = rand(rng, shape, dtype)
    out = nat.avg_pool_forward(x, ph, pw, stride, pad)
    np.testing.assert_allclose(out, ref.avg_pool_forward(x, ph, pw, stride, pad), **tol(dtype, ph * pw))
    assert out.dtype == dtype
    dout = rand(rng, out.shape, dtype)
    np.testing.assert_allclose(nat.avg_pool_backward(dout, shape, ph, pw, stride, pad),
                               ref.avg_pool_backward(dout, shape, ph, pw, stride, pad), **tol(dtype, ph * pw))


@pytest.mark.parametrize("dtype", DTYPES)
def test_max_pooling_with_nan_and_infinities(dtype):
    x = np.array([[[[1.0, np.nan, 3.0], [-np.inf, 2.0, np.inf], [0.0, -1.0, np.nan]]]], dtype=dtype)
    for stride, pad in [(1, 0), (1, 1), (2, 1)]:
        out, argmax = nat.max_pool_forward(x, 2, 2, stride, pad)
        want_out, want_argmax = ref.max_pool_forward(x, 2, 2, stride, pad)
        np.testing.assert_array_equal(out, want_out)
        np.testing.assert_array_equal(argmax, want_argmax)
    minus_inf = np.full((1, 1, 3, 3), -np.inf, dtype=dtype)
    for got, want in zip(nat.max_pool_forward(minus_inf, 2, 2, 2, 1), ref.max_pool_forward(minus_inf, 2, 2, 2, 1)):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", DTYPES)
def test_pooling_at_network_size(dtype):
    rng = np.random.default_rng(1)
    x = rand(rng, (100, 30, 24, 24), dtype)
    out, argmax = nat.max_pool_forward(x, 2, 2, 2, 0)
    want_out, want_argmax = ref.max_pool_forward(x, 2, 2, 2, 0)
    np.testing.assert_array_equal(out, want_out)
    np.testing.assert_array_equal(argmax, want_argmax)
    dout = rand(rng, out.shape, dtype)
    np.testing.assert_array_equal(nat.max_pool_backward(dout, argmax, x.shape),
                                  ref.max_pool_backward(dout, argmax, x.shape))


# ----------------------------------------------------------------- batch normalization


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 5), (7, 3), (100, 100), (1, 2, 3, 3), (5, 3, 4, 7), (16, 16, 28, 28)])
def test_batchnorm_matches_reference(shape, dtype):
    rng = np.random.default_rng(sum(shape))
    x = (rng.standard_normal(shape) * 3 + 5).astype(dtype)  # an offset mean tests the variance's accuracy
    c = shape[1]
    gamma, beta = rand(rng, (c,), dtype), rand(rng, (c,), dtype)
    running = [rng.random(c).astype(dtype), rng.random(c).astype(dtype) + 1]
    copies = [a.copy() for a in running]
    loose = {"rtol": 2e-4, "atol": 2e-4} if dtype == np.float32 else {"rtol": 1e-9, "atol": 1e-9}
    got = nat.batchnorm_forward(x, gamma, beta, *running, train=True, momentum=0.8)
    want = ref.batchnorm_forward(x, gamma, beta, *copies, train=True, momentum=0.8)
    for g, w in zip(got, want):
        assert g.dtype == dtype
        np.testing.assert_allclose(g, w, **loose)
    for g, w in zip(running, copies):  # the running statistics moved alike
        np.testing.assert_allclose(g, w, **loose)
    dout = rand(rng, shape, dtype)
    for g, w in zip(nat.batchnorm_backward(dout, x, gamma, want[1], want[2]),
                    ref.batchnorm_backward(dout, x, gamma, want[1], want[2])):
        assert g.dtype == dtype
        np.testing.assert_allclose(g, w, **loose)
    frozen = [a.copy() for a in running]
    for g, w in zip(nat.batchnorm_forward(x, gamma, beta, *running, train=False),
                    ref.batchnorm_forward(x, gamma, beta, *frozen, train=False)):
        np.testing.assert_allclose(g, w, **loose)
    np.testing.assert_array_equal(running[0], frozen[0])  # eval leaves them alone


# ----------------------------------------------------------------- dropout


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(7,), (3, 5), (100, 30, 12, 12), (10**6 + 3,)])
@pytest.mark.parametrize("inverted", [False, True])
def test_dropout_is_bit_identical_to_reference(shape, dtype, inverted):
    rng = np.random.default_rng(5)
    x = rand(rng, shape, dtype)
    for ratio, seed in [(0.5, 0), (0.1, 12345), (0.0, 7), (0.9, 2**64 - 1)]:
        out, mask = nat.dropout_forward(x, ratio, seed, inverted=inverted)
        want_out, want_mask = ref.dropout_forward(x, ratio, seed, inverted=inverted)
        assert mask.dtype == np.bool_ and out.dtype == dtype
        np.testing.assert_array_equal(mask, want_mask)
        np.testing.assert_array_equal(out, want_out)
        dout = rand(rng, shape, dtype)
        np.testing.assert_array_equal(nat.dropout_backward(dout, mask, ratio, inverted=inverted),
                                      ref.dropout_backward(dout, mask, ratio, inverted=inverted))


def test_cnn_results_do_not_depend_on_the_thread_count():
    import ferronet

    rng = np.random.default_rng(3)
    x = rand(rng, (64, 8, 20, 20), np.float64)
    W = rand(rng, (12, 8, 3, 3), np.float64)
    b = rand(rng, (12,), np.float64)
    before = ferronet.get_num_threads()
    results = []
    try:
        for threads in (1, 2):
            ferronet.set_num_threads(threads)
            y = nat.conv_forward(x, W, b, 1, 1)
            grads = nat.conv_backward(y, x, W, 1, 1)
            bn = nat.batchnorm_forward(x, np.ones(8), np.zeros(8), np.zeros(8), np.ones(8))
            results.append([y, *grads, *bn, *nat.max_pool_forward(x, 2, 2, 2, 0),
                            *nat.dropout_forward(x, 0.5, 99)])
    finally:
        ferronet.set_num_threads(before)
    for one, two in zip(*results):
        np.testing.assert_allclose(one, two, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("image,filters,pad", DEEP_CONV_NET)
def test_convolution_gradients_are_the_same_every_call(image, filters, pad):
    """At a given thread count, a seeded training run repeats bit for bit: the weight gradient's
    partial sums each cover a fixed share of the work (they used to take blocks first come, first
    served, so 2-thread Winograd gradients differed in the last bits from call to call)."""
    import ferronet

    rng = np.random.default_rng(filters)
    x = rand(rng, (100, *image), np.float32)
    W = rand(rng, (filters, image[0], 3, 3), np.float32)
    oh = image[1] + 2 * pad - 2
    dout = rand(rng, (100, filters, oh, oh), np.float32)
    before = ferronet.get_num_threads()
    try:
        ferronet.set_num_threads(2)
        first = nat.conv_backward(dout, x, W, 1, pad)
        for _ in range(20):
            for got, want in zip(nat.conv_backward(dout, x, W, 1, pad), first):
                assert got is None and want is None or np.array_equal(got, want)
    finally:
        ferronet.set_num_threads(before)
