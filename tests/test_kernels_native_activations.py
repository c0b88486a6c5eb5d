"""Every activation kernel against its NumPy twin in ferronet.ops.reference:
hypothesis shapes (0-d and empty ones included), float32 and float64,
extreme and non-finite inputs, any thread count.

Tolerances, native against the reference, in units of the dtype's epsilon
(float32 1.19e-7, float64 2.2e-16):

* bit for bit where both do the same arithmetic: ReLU, leaky ReLU, ReLU6,
  randomized ReLU (its slopes too), PReLU's forward and dx, and the
  backward passes that read y (ReLU, sigmoid, tanh, ELU, leaky, RReLU, ReLU6);
* forward passes built on exp, log1p and tanh: relative 4 eps (the native
  exponential is within 1-2 ulp of NumPy's; measured: at most 2.8 eps), plus
  an absolute 1e-35 (float32) or 1e-300 (float64), because the native
  exponential flushes results below the smallest normal number to zero where
  NumPy keeps subnormals;
* backward passes that read x (softplus, swish, GELU): relative 4 eps plus
  absolute 4 eps times |dout|: the derivatives of swish and GELU cross zero,
  where terms of size ~1 cancel, so their error is relative to |dout|;
* PReLU's dalpha: both sum exact float64 products in float64 and round once,
  so they differ by the float64 summation order only: 2 eps of the dtype
  relative, plus 1e-14 of the sum of |terms|.
"""

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
SEED = 0x5EED_0F_A11_5105

#: name -> (hyper-parameters after the arrays, which forward array the backward reads, bit for bit?)
ELEMENTWISE = {
    "relu": ((), "y", True),
    "sigmoid": ((), "y", False),
    "tanh": ((), "y", False),
    "leaky_relu": ((0.1,), "y", True),
    "rrelu": ((0.125, 1 / 3, SEED), "y", True),
    "relu6": ((), "y", True),
    "softplus": ((), "x", False),
    "swish": ((1.5,), "x", False),
    "gelu": ((), "x", False),
    "elu": ((1.3,), "y", False),
}
#: backward passes of the inexact ones that still do the same arithmetic as the reference (they read y)
EXACT_BACKWARD = {"sigmoid", "tanh", "elu"}

SPECIALS = [-np.inf, -1e30, -800.0, -100.0, -88.0, -30.0, -6.0, -1.0, -1e-30, -0.0, 0.0, 1e-30, 0.5, 1.0,
            6.0, 7.0, 30.0, 88.0, 100.0, 800.0, 1e30, np.inf, np.nan]


def eps(dtype) -> float:
    return float(np.finfo(dtype).eps)


def tiny_abs(dtype) -> float:
    return 1e-35 if dtype == np.float32 else 1e-300


def assert_same_values(got: np.ndarray, want: np.ndarray, rtol: float, atol) -> None:
    """Same NaN positions, same infinities, finite values close."""
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    inf = np.isinf(want) | np.isinf(got)
    np.testing.assert_array_equal(got[inf], want[inf])
    finite = ~np.isnan(want) & ~inf
    g, w = got[finite].astype(np.float64), want[finite].astype(np.float64)
    bound = np.broadcast_to(atol, want.shape)[finite] + rtol * np.abs(w)
    excess = np.abs(g - w) - bound
    if excess.size and excess.max() > 0:
        i = int(np.argmax(excess))
        raise AssertionError(f"{int((excess > 0).sum())} values out of tolerance; worst: got {g[i]!r}, "
                             f"want {w[i]!r} (bound {bound[i]:.3g})")


def compare(name: str, x: np.ndarray, dout: np.ndarray) -> None:
    extra, saved_name, exact = ELEMENTWISE[name]
    fwd, bwd = f"{name}_forward", f"{name}_backward"
    dtype = x.dtype.type
    x_before, dout_before = x.copy(), dout.copy()
    y, y_ref = getattr(nat, fwd)(x, *extra), getattr(ref, fwd)(x, *extra)
    assert isinstance(y, np.ndarray) and isinstance(y_ref, np.ndarray)  # arrays even for 0-d x
    if exact:
        np.testing.assert_array_equal(y, y_ref)
    else:
        assert_same_values(y, y_ref, 4 * eps(dtype), tiny_abs(dtype))
    saved = y_ref if saved_name == "y" else x
    dx, dx_ref = getattr(nat, bwd)(dout, saved, *extra), getattr(ref, bwd)(dout, saved, *extra)
    assert isinstance(dx, np.ndarray) and isinstance(dx_ref, np.ndarray)
    if exact or name in EXACT_BACKWARD:
        np.testing.assert_array_equal(dx, dx_ref)
    else:
        assert_same_values(dx, dx_ref, 4 * eps(dtype), 4 * eps(dtype) * np.abs(dout) + tiny_abs(dtype))
    np.testing.assert_array_equal(x, x_before)  # inputs are never modified
    np.testing.assert_array_equal(dout, dout_before)


shapes = st.lists(st.integers(min_value=0, max_value=9), min_size=0, max_size=4).map(tuple)


@SETTINGS
@given(shape=shapes, dtype=st.sampled_from(DTYPES), seed=st.integers(0, 2**32 - 1),
       scale=st.sampled_from([1.0, 30.0, 1000.0]))
@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_elementwise_activations_match_reference(name, shape, dtype, seed, scale):
    rng = np.random.default_rng(seed)
    x = np.asarray(rng.standard_normal(shape) * scale, dtype=dtype)  # an array even for shape ()
    dout = np.asarray(rng.standard_normal(shape), dtype=dtype)
    compare(name, x, dout)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_non_finite_and_extreme_inputs_behave_as_in_the_reference(name, dtype):
    x = np.array(SPECIALS, dtype=dtype)
    dout = np.linspace(-2.0, 3.0, x.size).astype(dtype)
    compare(name, x, dout)
    compare(name, x[::-1].copy(), np.ones_like(x))


@pytest.mark.parametrize("dtype", DTYPES)
def test_limits_at_infinity(dtype):
    """Infinities give the functions' limits, not NaN: the exponentials never overflow."""
    x = np.array([-np.inf, np.inf], dtype=dtype)
    ones = np.ones_like(x)
    for kernels in (nat, ref):
        np.testing.assert_array_equal(kernels.tanh_forward(x), [-1, 1])
        np.testing.assert_array_equal(kernels.softplus_forward(x), [0, np.inf])
        np.testing.assert_array_equal(kernels.softplus_backward(ones, x), [0, 1])
        np.testing.assert_array_equal(kernels.swish_forward(x, 1.0), [0, np.inf])
        np.testing.assert_array_equal(kernels.swish_backward(ones, x, 1.0), [0, 1])
        np.testing.assert_array_equal(kernels.gelu_forward(x), [0, np.inf])
        np.testing.assert_array_equal(kernels.gelu_backward(ones, x), [0, 1])
        np.testing.assert_array_equal(kernels.elu_forward(x, 2.0), [-2, np.inf])


@pytest.mark.parametrize("dtype", DTYPES)
def test_gelu_is_the_tanh_form(dtype):
    x = np.linspace(-8, 8, 1601).astype(dtype)
    tanh_form = 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))
    np.testing.assert_allclose(nat.gelu_forward(x), tanh_form, rtol=8 * eps(dtype), atol=8 * eps(dtype))


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_results_do_not_depend_on_the_thread_count(name):
    extra, saved_name, _ = ELEMENTWISE[name]
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(300_001) * 5).astype(np.float32)
    dout = rng.standard_normal(x.shape).astype(np.float32)
    before = ferronet.get_num_threads()
    runs = []
    try:
        for threads in (1, 2):
            ferronet.set_num_threads(threads)
            y = getattr(nat, f"{name}_forward")(x, *extra)
            runs.append((y, getattr(nat, f"{name}_backward")(dout, y if saved_name == "y" else x, *extra)))
    finally:
        ferronet.set_num_threads(before)
    for one, two in zip(*runs):
        np.testing.assert_array_equal(one, two)


# ---------------------------------------------------------------------- randomized leaky ReLU


@pytest.mark.parametrize("dtype", DTYPES)
def test_rrelu_slopes_are_the_counter_hash_bit_for_bit(dtype):
    """Both backends draw slope_i = lower + (upper - lower) * (splitmix64(seed, i) >> 40) / 2**24."""
    x = -np.ones(200_000, dtype=dtype)
    lower, upper = 0.125, 1 / 3
    for seed in (0, 1, 2**64 - 1):
        y = nat.rrelu_forward(x, lower, upper, seed)
        np.testing.assert_array_equal(y, ref.rrelu_forward(x, lower, upper, seed))
        slopes = -y
        assert slopes.min() >= dtype(lower) and slopes.max() <= dtype(upper)
        assert abs(float(slopes.mean()) - (lower + upper) / 2) < 1e-3
        np.testing.assert_array_equal(nat.rrelu_backward(-x, y, lower, upper, seed), slopes)
    assert not np.array_equal(nat.rrelu_forward(x, lower, upper, 1), nat.rrelu_forward(x, lower, upper, 2))
    np.testing.assert_array_equal(nat.rrelu_forward(x, 0.25, 0.25, 7), np.full_like(x, -0.25))


# ---------------------------------------------------------------------- PReLU


def dalpha_tolerance(dout: np.ndarray, x: np.ndarray) -> dict:
    terms = np.abs(dout.astype(np.float64) * x)
    others = (0, *range(2, x.ndim))
    return {"rtol": 2 * eps(x.dtype.type), "atol": 1e-14 * terms.sum(axis=others) + tiny_abs(x.dtype.type)}


@SETTINGS
@given(n=st.integers(0, 6), c=st.integers(0, 300), spatial=st.sampled_from([(), (5,), (3, 4), (1, 1), (0, 3)]),
       dtype=st.sampled_from(DTYPES), seed=st.integers(0, 2**32 - 1))
def test_prelu_matches_reference(n, c, spatial, dtype, seed):
    rng = np.random.default_rng(seed)
    shape = (n, c, *spatial)
    x, dout = rng.standard_normal(shape).astype(dtype), rng.standard_normal(shape).astype(dtype)
    alpha = rng.standard_normal(c).astype(dtype)  # learned slopes may be negative
    np.testing.assert_array_equal(nat.prelu_forward(x, alpha), ref.prelu_forward(x, alpha))
    (dx, dalpha), (dx_ref, dalpha_ref) = nat.prelu_backward(dout, x, alpha), ref.prelu_backward(dout, x, alpha)
    np.testing.assert_array_equal(dx, dx_ref)
    assert dalpha.dtype == dtype and dalpha.shape == (c,)
    assert_same_values(dalpha, dalpha_ref, **dalpha_tolerance(dout, x))


@pytest.mark.parametrize("shape", [(20_000, 40), (64, 3, 50, 40), (3, 1000, 7)])
def test_prelu_large_threaded_and_independent_of_the_thread_count(shape):
    rng = np.random.default_rng(9)
    x, dout = rng.standard_normal(shape).astype(np.float32), rng.standard_normal(shape).astype(np.float32)
    alpha = rng.uniform(-0.5, 0.5, shape[1]).astype(np.float32)
    before = ferronet.get_num_threads()
    runs = []
    try:
        for threads in (1, 2):
            ferronet.set_num_threads(threads)
            runs.append((nat.prelu_forward(x, alpha), *nat.prelu_backward(dout, x, alpha)))
    finally:
        ferronet.set_num_threads(before)
    for one, two in zip(*runs):
        np.testing.assert_array_equal(one, two)
    y, dx, dalpha = runs[0]
    np.testing.assert_array_equal(y, ref.prelu_forward(x, alpha))
    dx_ref, dalpha_ref = ref.prelu_backward(dout, x, alpha)
    np.testing.assert_array_equal(dx, dx_ref)
    assert_same_values(dalpha, dalpha_ref, **dalpha_tolerance(dout, x))


@pytest.mark.parametrize("dtype", DTYPES)
def test_prelu_non_finite_inputs(dtype):
    x = np.array(SPECIALS, dtype=dtype).reshape(1, -1)
    alpha = np.linspace(-1, 1, x.shape[1]).astype(dtype)
    dout = np.ones_like(x)
    with np.errstate(invalid="ignore"):
        want = ref.prelu_backward(dout, x, alpha)
    np.testing.assert_array_equal(nat.prelu_forward(x, alpha), ref.prelu_forward(x, alpha))
    for got, expected in zip(nat.prelu_backward(dout, x, alpha), want):
        assert_same_values(got, expected, 2 * eps(dtype), 0)
