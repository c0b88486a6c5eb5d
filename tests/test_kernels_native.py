"""Every native kernel against its NumPy twin in ferronet.ops.reference."""

from __future__ import annotations

import numpy as np
import pytest

import ferronet
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import requires_native
from ferronet.ops import reference as ref

pytestmark = requires_native

try:
    from ferronet.ops import native as nat
except ImportError:  # the module is skipped when the core is not built
    nat = None


DTYPES = [np.float32, np.float64]
dtypes = st.sampled_from(DTYPES)
dims = st.integers(min_value=1, max_value=70)
seeds = st.integers(min_value=0, max_value=2**32 - 1)
SETTINGS = settings(max_examples=40, deadline=None)


def tol(dtype, k: int = 1) -> dict:
    """Tolerances for results of sums over k terms."""
    if dtype == np.float32:
        return {"rtol": 2e-5 * max(1.0, np.sqrt(k)), "atol": 2e-5 * max(1.0, np.sqrt(k))}
    return {"rtol": 1e-12, "atol": 1e-12}


def rand(rng: np.random.Generator, shape, dtype, scale: float = 1.0) -> np.ndarray:
    return (rng.standard_normal(shape) * scale).astype(dtype)


@SETTINGS
@given(m=dims, k=dims, n=dims, trans_a=st.booleans(), trans_b=st.booleans(), dtype=dtypes, seed=seeds)
def test_matmul_matches_reference(m, k, n, trans_a, trans_b, dtype, seed):
    rng = np.random.default_rng(seed)
    a = rand(rng, (k, m) if trans_a else (m, k), dtype)
    b = rand(rng, (n, k) if trans_b else (k, n), dtype)
    got = nat.matmul(a, b, trans_a=trans_a, trans_b=trans_b)
    want = ref.matmul(a, b, trans_a=trans_a, trans_b=trans_b)
    assert got.dtype == dtype and got.shape == (m, n)
    np.testing.assert_allclose(got, want, **tol(dtype, k))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", [64, 129, 300])
def test_matmul_large_and_threaded(dtype, size, rng):
    a = rand(rng, (size, size + 3), dtype)
    b = rand(rng, (size + 3, size - 1), dtype)
    np.testing.assert_allclose(nat.matmul(a, b), a @ b, **tol(dtype, size))


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("m, k, n", [(100, 784, 100), (100, 100, 100), (20, 65, 17), (784, 100, 100), (50, 300, 36)])
def test_matmul_with_a_part_filled_last_vector(m, k, n, trans_a, threads, rng):
    # outputs whose width leaves the GEMM's last vector at most half full:
    # their last columns are computed apart (rust/kernels/matmul_edge.rs)
    a = rand(rng, (k, m) if trans_a else (m, k), np.float32)
    b = rand(rng, (k, n), np.float32)
    bias = rand(rng, (n,), np.float32)
    before = ferronet.get_num_threads()
    ferronet.set_num_threads(threads)
    try:
        got = nat.matmul(a, b, trans_a=trans_a)
        y = nat.affine_forward(a.T.copy() if trans_a else a, b, bias)  # the bias is the GEMM's start
    finally:
        ferronet.set_num_threads(before)
    np.testing.assert_allclose(got, ref.matmul(a, b, trans_a=trans_a), **tol(np.float32, k))
    np.testing.assert_allclose(y, ref.affine_forward(a.T.copy() if trans_a else a, b, bias), **tol(np.float32, k))


@pytest.mark.parametrize("dtype", DTYPES)
def test_matmul_strided_views_and_out(dtype, rng):
    base_a = rand(rng, (40, 60), dtype)
    base_b = rand(rng, (50, 70), dtype)
    a = base_a[::2, 1::2]  # (20, 30) non-contiguous
    b = base_b[:30, ::3].T  # (24, 30) transposed view
    want = a @ b.T
    np.testing.assert_allclose(nat.matmul(a, b, trans_b=True), want, **tol(dtype, 30))
    out = np.empty((20, 24), dtype=dtype)
    result = nat.matmul(a, b, trans_b=True, out=out)
    assert result is out
    np.testing.assert_allclose(out, want, **tol(dtype, 30))
    reversed_a = base_a[::-1]  # negative strides are copied, not misread
    np.testing.assert_allclose(nat.matmul(reversed_a, base_a.T), reversed_a @ base_a.T, **tol(dtype, 60))


@SETTINGS
@given(n=dims, d=dims, m=dims, dtype=dtypes, seed=seeds)
def test_affine_matches_reference(n, d, m, dtype, seed):
    rng = np.random.default_rng(seed)
    x, w, b = rand(rng, (n, d), dtype), rand(rng, (d, m), dtype), rand(rng, (m,), dtype)
    dout = rand(rng, (n, m), dtype)
    y = nat.affine_forward(x, w, b)
    assert y.dtype == dtype
    np.testing.assert_allclose(y, ref.affine_forward(x, w, b), **tol(dtype, d))
    for got, want, k in zip(nat.affine_backward(dout, x, w), ref.affine_backward(dout, x, w), (m, n, n)):
        assert got.dtype == dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, **tol(dtype, k))
    no_dx, dw, db = nat.affine_backward(dout, x, w, need_dx=False)
    assert no_dx is None and ref.affine_backward(dout, x, w, need_dx=False)[0] is None
    np.testing.assert_allclose(dw, ref.affine_backward(dout, x, w)[1], **tol(dtype, n))
    np.testing.assert_allclose(db, dout.sum(axis=0), **tol(dtype, n))


# The activations are compared in test_kernels_native_activations.py.


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_extremes_do_not_overflow(dtype):
    x = np.array([-1000.0, -100.0, -50.0, 0.0, 50.0, 1000.0], dtype=dtype)
    y = nat.sigmoid_forward(x)
    assert np.all(np.isfinite(y))
    assert y[0] == 0.0 and y[-1] == 1.0 and y[3] == 0.5


def targets(rng, n, c, one_hot, dtype, label_dtype=np.int64):
    labels = rng.integers(0, c, size=n).astype(label_dtype)
    if one_hot:
        t = np.zeros((n, c), dtype=dtype)
        t[np.arange(n), labels] = 1
        return t
    return labels


@SETTINGS
@given(n=dims, c=st.integers(1, 40), dtype=dtypes, seed=seeds, one_hot=st.booleans(),
       scale=st.sampled_from([1.0, 50.0, 1000.0]), dout=st.sampled_from([1.0, 0.5, 3.0]))
def test_softmax_cross_entropy_matches_reference(n, c, dtype, seed, one_hot, scale, dout):
    rng = np.random.default_rng(seed)
    x = rand(rng, (n, c), dtype, scale)
    t = targets(rng, n, c, one_hot, dtype)
    loss, y = nat.softmax_cross_entropy_forward(x, t)
    loss_ref, y_ref = ref.softmax_cross_entropy_forward(x, t)
    assert isinstance(loss, float) and y.dtype == dtype
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(loss, loss_ref, rtol=rtol, atol=rtol * scale)
    np.testing.assert_allclose(y, y_ref, rtol=rtol, atol=1e-30)
    np.testing.assert_allclose(nat.softmax(x), ref.softmax(x), rtol=rtol, atol=1e-30)
    dx = nat.softmax_cross_entropy_backward(y_ref, t, dout)
    np.testing.assert_allclose(dx, ref.softmax_cross_entropy_backward(y_ref, t, dout), rtol=rtol, atol=1e-30)


@pytest.mark.parametrize("label_dtype", [np.uint8, np.int16, np.int32, np.int64, np.uint64])
def test_labels_of_any_integer_dtype(label_dtype, rng):
    x = rand(rng, (7, 5), np.float64)
    t = targets(rng, 7, 5, False, np.float64, label_dtype)
    assert nat.softmax_cross_entropy_forward(x, t)[0] == pytest.approx(ref.softmax_cross_entropy_forward(x, t)[0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_huge_logits_give_the_exact_loss(dtype):
    # Logits (1000, 0, -1000): label 1 costs exactly 1000 (+ e^-1000), label 0 costs ~0.
    x = np.array([[1000.0, 0.0, -1000.0], [1000.0, 0.0, -1000.0]], dtype=dtype)
    loss, y = nat.softmax_cross_entropy_forward(x, np.array([1, 0]))
    assert loss == pytest.approx(500.0, rel=1e-6)
    assert np.all(np.isfinite(y))


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_one_dimensional_and_batch_of_one(dtype, rng):
    x = rand(rng, (11,), dtype, 10)
    np.testing.assert_allclose(nat.softmax(x), ref.softmax(x), rtol=1e-5)
    loss, _ = nat.softmax_cross_entropy_forward(x[None, :], np.array([3]))
    assert loss == pytest.approx(ref.softmax_cross_entropy_forward(x[None, :], np.array([3]))[0], rel=1e-5)


STEPS = {
    "sgd_step": ([], {"lr": 0.1}),
    "momentum_step": (["v"], {"lr": 0.1, "momentum": 0.9}),
    "nesterov_step": (["v"], {"lr": 0.1, "momentum": 0.9}),
    "adagrad_step": (["h"], {"lr": 0.1}),
    "rmsprop_step": (["h"], {"lr": 0.01, "decay_rate": 0.99}),
    "adadelta_step": (["h", "d"], {"lr": 1.0, "rho": 0.95, "eps": 1e-6}),
    "adam_step": (["m", "v"], {"lr": 0.001, "beta1": 0.9, "beta2": 0.999}),
    "adamw_step": (["m", "v"], {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "weight_decay": 0.1}),
}


@pytest.mark.parametrize("name", sorted(STEPS))
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1,), (3, 5), (70_000,), (300, 700)])
def test_optimizer_steps_match_reference(name, dtype, shape, rng):
    state_names, hyper = STEPS[name]
    p_nat = rand(rng, shape, dtype)
    p_ref = p_nat.copy()
    s_nat = [np.zeros(shape, dtype) for _ in state_names]
    s_ref = [s.copy() for s in s_nat]
    for step in range(1, 4):
        g = rand(rng, shape, dtype)
        extra = {"t": step} if name in ("adam_step", "adamw_step") else {}
        assert getattr(nat, name)(p_nat, g, *s_nat, **hyper, **extra) is None
        getattr(ref, name)(p_ref, g, *s_ref, **hyper, **extra)
    rtol = 2e-6 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(p_nat, p_ref, rtol=rtol, atol=rtol)
    for a, b in zip(s_nat, s_ref):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol)
        assert a.dtype == dtype


# ---------------------------------------------------------------- regularisation (regularize.rs)

shapes = st.lists(st.integers(min_value=1, max_value=9), min_size=1, max_size=4).map(tuple)
tensor_lists = st.lists(shapes, min_size=0, max_size=4)


def tensors(rng, shape_list, dtype, scale=1.0):
    return [rand(rng, s, dtype, scale) for s in shape_list]


@SETTINGS
@given(shape_list=tensor_lists, dtype=dtypes, seed=seeds, scale=st.sampled_from([1e-3, 1.0, 1e3]))
def test_penalty_sums_match_reference(shape_list, dtype, seed, scale):
    rng = np.random.default_rng(seed)
    xs = tensors(rng, shape_list, dtype, scale)
    for name in ("sum_of_squares", "sum_of_abs"):
        got, want = getattr(nat, name)(xs), getattr(ref, name)(xs)
        assert isinstance(got, float)
        assert got == pytest.approx(want, rel=1e-12, abs=0)  # both accumulate in float64
        if xs:
            assert getattr(nat, name)(xs[0]) == pytest.approx(getattr(ref, name)(xs[0]), rel=1e-12, abs=0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", [70_000, 1_000_003])
def test_large_penalty_sums_are_threaded_and_exact_in_float64(dtype, size, rng):
    import ferronet

    x = rand(rng, (size,), dtype)
    want = float(np.sum(x.astype(np.float64) ** 2))
    before = ferronet.get_num_threads()
    try:
        sums = []
        for threads in (1, 2):
            ferronet.set_num_threads(threads)
            sums.append(nat.sum_of_squares(x))
    finally:
        ferronet.set_num_threads(before)
    assert sums[0] == sums[1]  # fixed blocks: the same bits whatever the thread count
    assert sums[0] == pytest.approx(want, rel=1e-12)
    assert nat.sum_of_abs(x) == pytest.approx(float(np.sum(np.abs(x.astype(np.float64)))), rel=1e-12)


@SETTINGS
@given(shape_list=tensor_lists, dtype=dtypes, seed=seeds, lam=st.sampled_from([0.0, 1e-4, 0.5, -2.0]))
def test_penalty_gradients_match_reference(shape_list, dtype, seed, lam):
    rng = np.random.default_rng(seed)
    ws = tensors(rng, shape_list, dtype)
    for w in ws:
        w.ravel()[::3] = 0  # sign(0) = 0
    for name in ("l2_grad_step", "l1_grad_step"):
        g_nat = tensors(rng, shape_list, dtype)
        g_ref = [g.copy() for g in g_nat]
        assert getattr(nat, name)(g_nat, ws, lam) is None
        getattr(ref, name)(g_ref, ws, lam)
        for a, b in zip(g_nat, g_ref):
            assert a.dtype == dtype
            np.testing.assert_array_equal(a, b)  # one multiply and one add per element on both


@SETTINGS
@given(shape_list=tensor_lists, dtype=dtypes, seed=seeds, factor=st.sampled_from([0.0, 0.25, 1.0, 3.5]))
def test_scale_matches_reference(shape_list, dtype, seed, factor):
    rng = np.random.default_rng(seed)
    x_nat = tensors(rng, shape_list, dtype)
    x_ref = [x.copy() for x in x_nat]
    nat.scale_step(x_nat, factor)
    ref.scale_step(x_ref, factor)
    for a, b in zip(x_nat, x_ref):
        np.testing.assert_array_equal(a, b)


@SETTINGS
@given(shape=st.lists(st.integers(1, 9), min_size=1, max_size=4).map(tuple), dtype=dtypes, seed=seeds,
       axis_pick=st.integers(0, 7), bound=st.sampled_from([0.1, 1.0, 3.0, 100.0]))
def test_max_norm_matches_reference(shape, dtype, seed, axis_pick, bound):
    rng = np.random.default_rng(seed)
    axis = axis_pick % (2 * len(shape)) - len(shape)  # negative and positive axes
    w_nat = rand(rng, shape, dtype, 2.0)
    w_ref = w_nat.copy()
    nat.max_norm_step(w_nat, bound, axis)
    ref.max_norm_step(w_ref, bound, axis)
    np.testing.assert_allclose(w_nat, w_ref, **tol(dtype))
    others = tuple(i for i in range(len(shape)) if i != axis % len(shape))
    norms = np.sqrt(np.sum(w_nat.astype(np.float64) ** 2, axis=others))
    assert np.all(norms <= bound * (1 + (1e-6 if dtype == np.float32 else 1e-13)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, axis", [((1000, 600), 1), ((1000, 600), 0), ((64, 32, 3, 3), 0), ((3, 5000, 40), 1)])
def test_large_max_norm_is_threaded_and_matches_reference(dtype, shape, axis, rng):
    w_nat = rand(rng, shape, dtype)
    w_ref = w_nat.copy()
    nat.max_norm_step([w_nat], 4.0, axis)
    ref.max_norm_step([w_ref], 4.0, axis)
    np.testing.assert_allclose(w_nat, w_ref, **tol(dtype))


def test_thread_count_knob_and_results_independent_of_it(rng):
    import ferronet

    before = ferronet.get_num_threads()
    x = rand(rng, (400, 300), np.float32)
    w = rand(rng, (300, 200), np.float32)
    try:
        ferronet.set_num_threads(1)
        assert ferronet.get_num_threads() == 1
        one = nat.matmul(x, w)
        ferronet.set_num_threads(2)
        assert ferronet.get_num_threads() == 2
        two = nat.matmul(x, w)
    finally:
        ferronet.set_num_threads(before)
    np.testing.assert_allclose(one, two, rtol=1e-5, atol=1e-4)
    with pytest.raises(ValueError):
        ferronet.set_num_threads(0)


def test_stubs_and_signatures_match_the_reference():
    """_native.pyi lists every native function, and each native kernel takes
    the reference's parameters (names and defaults) so the backends are
    interchangeable."""
    import ast
    import inspect
    from pathlib import Path

    import ferronet
    from ferronet import _native, ops

    stub = ast.parse((Path(ferronet.__file__).parent / "_native.pyi").read_text())
    stubbed = {node.name for node in stub.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    public = {name for name in dir(_native) if not name.startswith("_")}
    assert {name for name in stubbed if not name.startswith("_")} == public
    assert all(hasattr(_native, name) for name in stubbed)  # the private helpers stubbed exist too
    for name in ops.KERNELS:
        want = inspect.signature(getattr(ref, name))
        got = inspect.signature(getattr(_native, name))
        assert list(got.parameters) == list(want.parameters), name
        for p, q in zip(got.parameters.values(), want.parameters.values()):
            assert p.default == q.default or (p.default is None and q.default is None), (name, p, q)


@pytest.mark.parametrize("tier", ["sse2", "avx2"])
def test_lower_simd_tiers_match_the_reference(tier):
    """Run this file's (and the CNN, activation, loss and augmentation kernels') comparisons again with the
    kernels capped at an older instruction set, so every compiled variant is checked on this CPU."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, FERRONET_MAX_SIMD=tier)
    probe = subprocess.run([sys.executable, "-c", "from ferronet import _native; print(_native.simd_tier())"],
                           env=env, capture_output=True, text=True, check=True)
    assert probe.stdout.strip() in (tier, "sse2")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", __file__,
         os.path.join(os.path.dirname(__file__), "test_kernels_native_cnn.py"),
         os.path.join(os.path.dirname(__file__), "test_kernels_native_activations.py"),
         os.path.join(os.path.dirname(__file__), "test_kernels_native_loss.py"),
         os.path.join(os.path.dirname(__file__), "test_kernels_native_augment.py"),
         "-k", "not lower_simd_tiers", "-W", "error"],
        env=env, capture_output=True, text=True, cwd=os.path.dirname(__file__))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
