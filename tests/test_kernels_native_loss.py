"""The native loss kernels against their NumPy twins: the element-wise losses
(ferronet.ops.reference.loss) and the KL divergence (ferronet.ops.reference.softmax)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ferronet
from conftest import requires_native
from ferronet.ops import reference as ref

pytestmark = requires_native

try:
    from ferronet.ops import native as nat
except ImportError:  # the module is skipped when the core is not built
    nat = None

DTYPES = [np.float32, np.float64]
SETTINGS = settings(max_examples=40, deadline=None)
shapes = st.lists(st.integers(min_value=1, max_value=12), min_size=0, max_size=4).map(tuple)
seeds = st.integers(min_value=0, max_value=2**32 - 1)
scales = st.sampled_from([1.0, 30.0, 1000.0])
douts = st.sampled_from([1.0, 0.5, -3.0])

#: name -> (extra positional arguments of forward and backward, targets are probabilities)
ELEMENTWISE = {
    "mse": ((), False),
    "l1": ((), False),
    "huber": ((0.7,), False),
    "sigmoid_bce": ((), True),
}


def eps(dtype) -> float:
    return float(np.finfo(dtype).eps)


def scores_and_targets(rng, shape, dtype, scale, probabilities, hard=False):
    y = np.asarray(rng.standard_normal(shape) * scale, dtype=dtype)  # an array even for shape ()
    if probabilities:
        t = rng.integers(0, 2, size=shape) if hard else rng.uniform(size=shape)
    else:
        t = rng.standard_normal(shape) * scale
    return y, np.asarray(t, dtype=dtype)


def call_both(name, *args):
    return getattr(nat, name)(*args), getattr(ref, name)(*args)


def assert_losses_agree(got, want, dtype, scale):
    assert isinstance(got, float) and isinstance(want, float)
    np.testing.assert_allclose(got, want, rtol=8 * eps(dtype), atol=8 * eps(dtype) * scale)


def assert_gradients_agree(got, want, y, step):
    """dy of y's shape and dtype; within a few epsilons of ``step`` (the gradient's scale, dout / size)."""
    assert got.shape == y.shape and got.dtype == y.dtype
    np.testing.assert_allclose(got, want, rtol=8 * eps(y.dtype), atol=4 * eps(y.dtype) * abs(step))


@SETTINGS
@given(name=st.sampled_from(sorted(ELEMENTWISE)), shape=shapes, dtype=st.sampled_from(DTYPES), seed=seeds,
       scale=scales, dout=douts, hard=st.booleans())
def test_elementwise_losses_match_reference(name, shape, dtype, seed, scale, dout, hard):
    extra, probabilities = ELEMENTWISE[name]
    y, t = scores_and_targets(np.random.default_rng(seed), shape, dtype, scale, probabilities, hard)
    assert_losses_agree(*call_both(f"{name}_forward", y, t, *extra), dtype, scale**2)
    step = dout / y.size * (1.0 if probabilities else scale)  # sigmoid(y) - t lies in [-1, 1]
    assert_gradients_agree(*call_both(f"{name}_backward", y, t, *extra, dout), y, step)


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
@pytest.mark.parametrize("dtype", DTYPES)
def test_elementwise_losses_over_threads_give_the_same_bits(name, dtype, rng):
    """Large inputs (many blocks, two threads) match the reference, and 1 or 2 threads give identical results."""
    extra, probabilities = ELEMENTWISE[name]
    y, t = scores_and_targets(rng, (700, 1001), dtype, 3.0, probabilities)
    before = ferronet.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            ferronet.set_num_threads(threads)
            results.append((getattr(nat, f"{name}_forward")(y, t, *extra),
                            getattr(nat, f"{name}_backward")(y, t, *extra, 2.0)))
    finally:
        ferronet.set_num_threads(before)
    (loss1, dy1), (loss2, dy2) = results
    assert loss1 == loss2
    np.testing.assert_array_equal(dy1, dy2)
    assert_losses_agree(loss1, getattr(ref, f"{name}_forward")(y, t, *extra), dtype, 9.0)
    assert_gradients_agree(dy1, getattr(ref, f"{name}_backward")(y, t, *extra, 2.0), y, 6.0 / y.size)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_bce_is_exact_and_finite_for_huge_logits(dtype):
    x = np.array([1000.0, 1000.0, -1000.0, -1000.0, 30.0], dtype)
    t = np.array([1.0, 0.0, 1.0, 0.0, 1.0], dtype)
    each = [nat.sigmoid_bce_forward(x[i:i + 1], t[i:i + 1]) for i in range(5)]
    assert each[:4] == [0.0, 1000.0, 1000.0, 0.0]
    assert each[4] == pytest.approx(np.exp(-30.0), rel=1e-6)  # log1p(e^-30): far below the dtype's epsilon
    dx = nat.sigmoid_bce_backward(x, t, 5.0)
    np.testing.assert_array_equal(dx[:4], [0.0, 1.0, -1.0, 0.0])
    assert dx[4] == pytest.approx(-np.exp(-30.0), rel=1e-6)  # sigmoid(30) - 1 without cancelling to 0


def distributions(rng, n, c, dtype, zeros: bool):
    t = rng.uniform(size=(n, c))
    if zeros:
        t[rng.uniform(size=(n, c)) < 0.3] = 0
        t[:, 0] += 1e-3  # no empty row
    return (t / t.sum(axis=1, keepdims=True)).astype(dtype)


@SETTINGS
@given(n=st.integers(1, 70), c=st.integers(1, 40), dtype=st.sampled_from(DTYPES), seed=seeds, scale=scales,
       dout=douts, zeros=st.booleans())
def test_kl_div_matches_reference(n, c, dtype, seed, scale, dout, zeros):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((n, c)) * scale).astype(dtype)
    t = distributions(rng, n, c, dtype, zeros)
    (loss, y), (loss_ref, y_ref) = call_both("kl_div_forward", x, t)
    assert y.dtype == dtype and y.shape == (n, c)
    assert_losses_agree(loss, loss_ref, dtype, 4 * scale)
    np.testing.assert_allclose(y, y_ref, rtol=8 * eps(dtype), atol=1e-30)
    assert_gradients_agree(*call_both("kl_div_backward", y_ref, t, dout), y_ref, dout / n)


@pytest.mark.parametrize("dtype", DTYPES)
def test_kl_div_against_one_hot_targets_is_the_cross_entropy(dtype, rng):
    x = (rng.standard_normal((300, 200)) * 10).astype(dtype)
    labels = rng.integers(0, 200, size=300)
    one_hot = np.eye(200, dtype=dtype)[labels]
    loss, y = nat.kl_div_forward(x, one_hot)
    ce, y_ce = nat.softmax_cross_entropy_forward(x, labels)
    assert loss == pytest.approx(ce, rel=8 * eps(dtype))
    np.testing.assert_array_equal(y, y_ce)
    np.testing.assert_allclose(nat.kl_div_backward(y, one_hot, 2.0), nat.softmax_cross_entropy_backward(y, labels, 2.0),
                               rtol=8 * eps(dtype), atol=1e-30)
    assert nat.kl_div_forward(x, y)[0] == pytest.approx(0.0, abs=1e3 * eps(dtype))  # no divergence from itself


def nan_patterns_agree(got, want):
    got, want = np.asarray(got), np.asarray(want)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
    finite = np.isfinite(want)
    np.testing.assert_allclose(got[finite], want[finite], rtol=1e-5)


@pytest.mark.parametrize("dtype", DTYPES)
def test_nan_and_inf_behave_as_in_the_reference(dtype):
    y = np.array([np.nan, np.inf, -np.inf, 1.0, 2.0, 0.5], dtype)
    t = np.array([0.5, 0.0, 1.0, np.nan, 1.0, 0.25], dtype)
    with np.errstate(all="ignore"):
        for name, (extra, _) in ELEMENTWISE.items():
            for i in range(len(y)):  # each value alone, so one NaN does not hide the others
                nan_patterns_agree(*call_both(f"{name}_forward", y[i:i + 1], t[i:i + 1], *extra))
                nan_patterns_agree(*call_both(f"{name}_backward", y[i:i + 1], t[i:i + 1], *extra, 1.0))
        x = np.array([[np.nan, 1.0], [np.inf, 0.0], [-np.inf, 1.0], [-np.inf, 1.0], [1.0, 2.0]], dtype)
        t = np.array([[0.5, 0.5], [0.5, 0.5], [0.0, 1.0], [1.0, 0.0], [np.nan, 0.5]], dtype)
        for i in range(len(x)):
            (loss, y_nat), (loss_ref, y_ref) = call_both("kl_div_forward", x[i:i + 1], t[i:i + 1])
            nan_patterns_agree(loss, loss_ref)
            nan_patterns_agree(y_nat, y_ref)
            nan_patterns_agree(*call_both("kl_div_backward", y_ref, t[i:i + 1], 1.0))
