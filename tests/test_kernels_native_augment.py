"""The data-augmentation kernels (the batched affine warp, random erasing's
boxes): native against the NumPy reference, bit for bit."""

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
SETTINGS = settings(max_examples=60, deadline=None)


def assert_same_bits(got: np.ndarray, want: np.ndarray) -> None:
    """Equal shapes, dtypes and bits (NaN payloads and the sign of zero included)."""
    assert got.shape == want.shape and got.dtype == want.dtype and got.flags.c_contiguous
    np.testing.assert_array_equal(got.view(f"u{got.itemsize}"), want.view(f"u{want.itemsize}"))


def similarity(rng: np.random.Generator, n: int, h: int, w: int) -> np.ndarray:
    """(n, 2, 3) float64: rotations by any angle and scalings about the centre, plus shifts."""
    angle, scale = rng.uniform(-np.pi, np.pi, n), rng.uniform(0.5, 2.0, n)
    cos, sin = np.cos(angle) / scale, np.sin(angle) / scale
    cx, cy = (w - 1) / 2, (h - 1) / 2
    tx, ty = rng.uniform(-w / 2, w / 2, n), rng.uniform(-h / 2, h / 2, n)
    return np.stack([np.stack([cos, -sin, cx - cos * cx + sin * cy + tx], 1),
                     np.stack([sin, cos, cy - sin * cx - cos * cy + ty], 1)], 1)


@st.composite
def warps(draw):
    """(x (N, C, H, W), matrices (N, 2, 3), fill) of one dtype, matrices of every kind."""
    dtype = draw(st.sampled_from(DTYPES))
    shape = (draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 12)), draw(st.integers(1, 12)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal(shape)
    if draw(st.booleans()):
        x = np.round(x * 2)  # small integers: exact sums, ties in the sampling
    kind = draw(st.sampled_from(["similarity", "general", "integer", "huge"]))
    n, _, h, w = shape
    if kind == "similarity":
        m = similarity(rng, n, h, w)
    elif kind == "general":
        m = rng.uniform(-3, 3, (n, 2, 3)) * [1, 1, max(h, w)]
    elif kind == "integer":
        m = rng.integers(-2, 3, (n, 2, 3)).astype(float) * [1, 1, 3]
    else:  # far outside, or overflowing to inf and NaN coordinates
        m = rng.choice([0.0, 1.0, -1e30, 3e38, 1e308, -1e308], (n, 2, 3))
    with np.errstate(over="ignore"):
        m = m.astype(dtype)
    m[~np.isfinite(m)] = 0  # float32 overflow: the kernel takes finite matrices only
    fill = draw(st.sampled_from([0.0, 1.0, -0.5, 1e30]))
    return x.astype(dtype), m, fill


@SETTINGS
@given(case=warps())
def test_affine_warp_matches_reference_bit_for_bit(case):
    x, m, fill = case
    assert_same_bits(nat.affine_warp(x, m, fill), ref.affine_warp(x, m, fill))


@pytest.mark.parametrize("dtype", DTYPES)
def test_affine_warp_with_nan_and_infinite_pixels(dtype):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((6, 2, 7, 9)).astype(dtype)
    x.flat[rng.integers(0, x.size, 12)] = rng.choice([np.nan, np.inf, -np.inf, -0.0], 12)
    m = similarity(rng, 6, 7, 9).astype(dtype)
    m[0] = [[1, 0, 0], [0, 1, 0]]  # identity: the pixels themselves
    m[1] = [[-1, 0, 8], [0, 1, -2]]  # a flip and an integer shift
    got = nat.affine_warp(x, m, -1.0)
    assert_same_bits(got, ref.affine_warp(x, m, -1.0))
    assert_same_bits(got[0], x[0])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(100, 1, 28, 28), (64, 3, 32, 32), (3, 2, 150, 97)])
def test_affine_warp_at_training_sizes_and_threads(shape, dtype):
    rng = np.random.default_rng(sum(shape))
    x = rng.random(shape).astype(dtype)
    m = similarity(rng, shape[0], *shape[2:]).astype(dtype)
    want = ref.affine_warp(x, m, 0.0)
    before = ferronet.get_num_threads()
    try:
        for threads in (1, 2):
            ferronet.set_num_threads(threads)
            assert_same_bits(nat.affine_warp(x, m), want)
    finally:
        ferronet.set_num_threads(before)


def test_affine_warp_reads_strided_inputs():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 9, 8, 3)).transpose(0, 3, 1, 2)[:, :, ::2]  # (4, 3, 5, 8), not contiguous
    m = np.ascontiguousarray(similarity(rng, 4, 5, 8).transpose(0, 2, 1)).transpose(0, 2, 1)  # a transposed view
    assert not x.flags.c_contiguous and not m.flags.c_contiguous
    want = ref.affine_warp(np.ascontiguousarray(x), np.ascontiguousarray(m))
    assert_same_bits(nat.affine_warp(x, m), want)
    assert_same_bits(ref.affine_warp(x, m), want)


@st.composite
def erasures(draw):
    """(x (N, C, H, W), boxes int64 (N, 4), value): boxes inside, across the edges, empty or absurd."""
    dtype = draw(st.sampled_from(DTYPES))
    shape = (draw(st.integers(1, 5)), draw(st.integers(1, 3)), draw(st.integers(1, 10)), draw(st.integers(1, 10)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    edges = [-(2**63), -3, -1, 0, 1, 2, 5, 9, 11, 2**63 - 1]
    boxes = rng.choice(edges, (shape[0], 4)) if draw(st.booleans()) else rng.integers(-2, 12, (shape[0], 4))
    value = draw(st.sampled_from([0.0, 0.5, -3.0]))
    return rng.standard_normal(shape).astype(dtype), boxes.astype(np.int64), value


@SETTINGS
@given(case=erasures())
def test_erase_boxes_matches_reference_bit_for_bit(case):
    x, boxes, value = case
    want = ref.erase_boxes(x, boxes, value)
    got = nat.erase_boxes(x, boxes, value)
    assert_same_bits(got, want)
    assert not np.shares_memory(got, x)
    out = np.full_like(x, 7.0)
    assert nat.erase_boxes(x, boxes, value, out=out) is out
    assert_same_bits(out, want)
    for module in (nat, ref):  # in place: out=x
        y = x.copy()
        assert module.erase_boxes(y, boxes, value, out=y) is y
        assert_same_bits(y, want)


@pytest.mark.parametrize("dtype", DTYPES)
def test_erase_boxes_at_training_size_and_threads(dtype):
    rng = np.random.default_rng(4)
    x = rng.random((100, 3, 28, 28)).astype(dtype)
    top, left = rng.integers(0, 28, 100), rng.integers(0, 28, 100)
    boxes = np.stack([top, left, top + rng.integers(0, 15, 100), left + rng.integers(0, 15, 100)], 1)
    want = ref.erase_boxes(x, boxes, 0.25)
    before = ferronet.get_num_threads()
    try:
        for threads in (1, 2):
            ferronet.set_num_threads(threads)
            assert_same_bits(nat.erase_boxes(x, boxes, 0.25), want)
    finally:
        ferronet.set_num_threads(before)
