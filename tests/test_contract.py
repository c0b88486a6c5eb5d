"""One contract on both backends for the edge cases users hit: empty
batches, non-finite or mistyped hyper-parameters, ints for flags, NaN and
inf in the data.  Each case states the rule and checks both backends."""

from __future__ import annotations

import numpy as np
import pytest

import ferronet
from ferronet import ops
from conftest import AVAILABLE_BACKENDS

F32, F64 = np.float32, np.float64


def on_every_backend(fn):
    """fn() run on each backend: its results, or the exception types it raised."""
    outcomes = {}
    for name in AVAILABLE_BACKENDS:
        # NumPy warns about invalid values where the native kernels stay silent
        with ferronet.use_backend(name), np.errstate(all="ignore"):
            try:
                outcomes[name] = fn()
            except Exception as exc:  # noqa: BLE001 - compared below
                outcomes[name] = type(exc)
    return outcomes


def raises_everywhere(exc_type, fn):
    outcomes = on_every_backend(fn)
    assert all(o is exc_type or (isinstance(o, type) and issubclass(o, exc_type)) for o in outcomes.values()), outcomes


# ---------------------------------------------------------------- empty batches


@pytest.mark.parametrize("shape", [(3, 0), (0,)])
def test_softmax_over_zero_classes_is_a_value_error(shape):
    raises_everywhere(ValueError, lambda: ops.softmax(np.ones(shape)))


def test_softmax_of_zero_rows_is_empty(backend):
    assert ops.softmax(np.ones((0, 4), F32)).shape == (0, 4)


@pytest.mark.parametrize("fn", ["softmax_cross_entropy_forward", "softmax_cross_entropy_backward"])
def test_the_softmax_loss_needs_at_least_one_row(fn):
    raises_everywhere(ValueError, lambda: getattr(ops, fn)(np.ones((0, 3)), np.zeros(0, np.int64)))


# ---------------------------------------------------------------- hyper-parameters


STEPS = {
    "sgd_step": ([], ("lr",)),
    "momentum_step": (["v"], ("lr", "momentum")),
    "nesterov_step": (["v"], ("lr", "momentum")),
    "adagrad_step": (["h"], ("lr",)),
    "rmsprop_step": (["h"], ("lr", "decay_rate")),
    "adadelta_step": (["h", "d"], ("lr", "rho", "eps")),
    "adam_step": (["m", "v"], ("lr", "beta1", "beta2")),
    "adamw_step": (["m", "v"], ("lr", "beta1", "beta2", "weight_decay")),
}
COUNTED = ("adam_step", "adamw_step")  # the steps that take a step count t
GOOD = {"lr": 0.1, "momentum": 0.9, "decay_rate": 0.99, "rho": 0.95, "eps": 1e-6, "beta1": 0.9, "beta2": 0.999,
        "weight_decay": 0.01}


def step_call(name, **override):
    """A call of optimizer step ``name`` on fresh arrays, hyper-parameters overridden."""
    states, hypers = STEPS[name]

    def call():
        p = np.ones((3, 4))
        args = [p, np.full((3, 4), 0.5)] + [np.zeros((3, 4)) for _ in states]
        args += [override.get(h, GOOD[h]) for h in hypers]
        if name in COUNTED:
            args.append(override.get("t", 1))
        getattr(ops, name)(*args)
        return p

    return call


@pytest.mark.parametrize("name", sorted(STEPS))
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_hyper_parameters_are_value_errors(name, value):
    """Rule: hyper-parameters must be finite (NumPy used to fill the parameters with NaN)."""
    for hyper in STEPS[name][1]:
        raises_everywhere(ValueError, step_call(name, **{hyper: value}))


@pytest.mark.parametrize("name", sorted(STEPS))
@pytest.mark.parametrize("value", ["0.1", True, None, [0.1]])
def test_hyper_parameters_must_be_real_numbers(name, value):
    """Rule: a string, bool or container is a TypeError (NumPy used to parse '0.1')."""
    raises_everywhere(TypeError, step_call(name, lr=value))


@pytest.mark.parametrize("value", [1, 0.5, np.float32(0.25), np.int64(1)])
def test_python_and_numpy_numbers_are_accepted(value):
    outcomes = on_every_backend(step_call("sgd_step", lr=value))
    want = 1 - float(value) * 0.5
    assert all(np.allclose(p, want) for p in outcomes.values()), outcomes


@pytest.mark.parametrize("name", COUNTED)
@pytest.mark.parametrize("t", [1.5, 2.0, "3", True])
def test_adam_step_count_must_be_an_int(name, t):
    raises_everywhere(TypeError, step_call(name, t=t))


@pytest.mark.parametrize("name", COUNTED)
@pytest.mark.parametrize("t", [0, -1, -(2**70)])
def test_adam_step_count_must_be_positive(name, t):
    raises_everywhere(ValueError, step_call(name, t=t))


def test_a_huge_adam_step_count_is_a_very_late_step():
    """Rule: t = 2**70 is valid; beta**t has underflowed, so lr_t = lr."""
    outcomes = on_every_backend(step_call("adam_step", t=2**70))
    results = list(outcomes.values())
    assert all(isinstance(r, np.ndarray) for r in results), outcomes
    for r in results[1:]:
        np.testing.assert_allclose(r, results[0], rtol=1e-12)


@pytest.mark.parametrize("name", COUNTED)
@pytest.mark.parametrize("beta", [1.0, -0.1, 1.5])
def test_adam_betas_lie_in_zero_one(name, beta):
    raises_everywhere(ValueError, step_call(name, beta1=beta))
    raises_everywhere(ValueError, step_call(name, beta2=beta))


@pytest.mark.parametrize("weight_decay", [-0.01, -1])
def test_adamw_weight_decay_is_not_negative(weight_decay):
    raises_everywhere(ValueError, step_call("adamw_step", weight_decay=weight_decay))


def test_adamw_without_weight_decay_is_adam():
    for name in COUNTED:
        assert name in STEPS
    plain = on_every_backend(step_call("adam_step"))
    decoupled = on_every_backend(step_call("adamw_step", weight_decay=0.0))
    for backend_name in plain:
        np.testing.assert_array_equal(plain[backend_name], decoupled[backend_name])


# ---------------------------------------------------------------- regularisation kernels


REGULARIZE = {  # name -> (call with its hyper-parameter replaced, the hyper-parameter's name)
    "l2_grad_step": (lambda v: ops.l2_grad_step(np.ones((3, 4)), np.ones((3, 4)), v), "lam"),
    "l1_grad_step": (lambda v: ops.l1_grad_step(np.ones((3, 4)), np.ones((3, 4)), v), "lam"),
    "scale_step": (lambda v: ops.scale_step(np.ones((3, 4)), v), "factor"),
    "max_norm_step": (lambda v: ops.max_norm_step(np.ones((3, 4)), v, 1), "max_norm"),
}


@pytest.mark.parametrize("name", sorted(REGULARIZE))
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_regularize_hyper_parameters_must_be_finite(name, value):
    call, _ = REGULARIZE[name]
    raises_everywhere(ValueError, lambda: call(value))


@pytest.mark.parametrize("name", sorted(REGULARIZE))
@pytest.mark.parametrize("value", ["0.1", True, None, [0.1]])
def test_regularize_hyper_parameters_must_be_real_numbers(name, value):
    call, _ = REGULARIZE[name]
    raises_everywhere(TypeError, lambda: call(value))


@pytest.mark.parametrize("bound", [0, 0.0, -1.0])
def test_max_norm_must_be_positive(bound):
    raises_everywhere(ValueError, lambda: ops.max_norm_step(np.ones((3, 4)), bound, 0))


@pytest.mark.parametrize("axis", [2, -3, 2**70, -(2**70)])
def test_max_norm_axis_must_name_an_axis(axis):
    raises_everywhere(ValueError, lambda: ops.max_norm_step(np.ones((3, 4)), 1.0, axis))
    raises_everywhere(ValueError, lambda: ops.max_norm_step(np.ones(()), 1.0, 0))  # a 0-d array has no units


@pytest.mark.parametrize("axis", [1.0, "0", True, None])
def test_max_norm_axis_must_be_an_int(axis):
    raises_everywhere(TypeError, lambda: ops.max_norm_step(np.ones((3, 4)), 1.0, axis))


def test_sums_take_one_array_or_a_sequence_of_one_dtype():
    a = np.arange(6.0).reshape(2, 3)
    for name, want in (("sum_of_squares", 55.0), ("sum_of_abs", 15.0)):
        outcomes = on_every_backend(lambda: (getattr(ops, name)(a), getattr(ops, name)([a, -a]),
                                             getattr(ops, name)(())))
        assert all(o == (want, 2 * want, 0.0) for o in outcomes.values()), outcomes
        raises_everywhere(TypeError, lambda: getattr(ops, name)([a, a.astype(F32)]))
        raises_everywhere(TypeError, lambda: getattr(ops, name)({"W": a}))
        raises_everywhere(TypeError, lambda: getattr(ops, name)([a.astype(np.int64)]))
        raises_everywhere(TypeError, lambda: getattr(ops, name)(a.tolist()))


def test_penalty_gradients_check_their_arguments_alike():
    g, w = np.ones(3), np.ones(3)
    raises_everywhere(ValueError, lambda: ops.l2_grad_step([g], [w, w], 0.1))        # lengths differ
    raises_everywhere(ValueError, lambda: ops.l2_grad_step([g], w, 0.1))             # a list and an array
    raises_everywhere(ValueError, lambda: ops.l1_grad_step([g, g], [w, w], 0.1))     # the same grad twice
    raises_everywhere(ValueError, lambda: ops.l1_grad_step([g], [g], 0.1))           # grad is also param
    raises_everywhere(ValueError, lambda: ops.scale_step([g, g], 0.5))
    raises_everywhere(TypeError, lambda: ops.l2_grad_step([g], [w.astype(F32)], 0.1))


# ---------------------------------------------------------------- flags


@pytest.mark.parametrize("value", [1, 0, "yes", None])
def test_flags_are_bools_not_ints(value):
    a = np.ones((2, 3))
    raises_everywhere(TypeError, lambda: ops.matmul(a, a, trans_a=value))
    raises_everywhere(TypeError, lambda: ops.matmul(a, a, trans_b=value))
    raises_everywhere(TypeError, lambda: ops.affine_backward(np.ones((2, 3)), a, np.ones((3, 3)), need_dx=value))
    raises_everywhere(TypeError, lambda: ops.dropout_forward(a, 0.5, 1, inverted=value))
    c = np.ones(3)
    raises_everywhere(TypeError, lambda: ops.batchnorm_forward(a, c, c, c.copy(), c.copy(), train=value))


def test_numpy_bools_are_flags(backend):
    a = np.arange(6.0).reshape(2, 3)
    assert np.allclose(ops.matmul(a, a, trans_b=np.True_), a @ a.T)


# ---------------------------------------------------------------- NaN and inf


def test_batchnorm_propagates_nan_from_an_inf_in_the_batch():
    """Rule: an inf in a channel makes its variance NaN on both backends (native clamped it to 0)."""
    def call():
        x = np.array([[1.0, 2.0], [np.inf, 3.0], [0.5, 4.0]])
        rm, rv = np.zeros(2), np.ones(2)
        out, mean, inv_std = ops.batchnorm_forward(x, np.ones(2), np.zeros(2), rm, rv, train=True)
        return out, mean, inv_std, rm, rv

    outcomes = on_every_backend(call)
    for out, mean, inv_std, rm, rv in outcomes.values():
        assert np.isnan(inv_std[0]) and np.isfinite(inv_std[1])
        assert np.isnan(rv[0]) and np.isfinite(rv[1])
        assert np.all(np.isnan(out[:, 0]))


@pytest.mark.parametrize("dtype", [F32, F64])
def test_nan_and_inf_flow_through_the_dense_kernels_alike(dtype):
    x = np.array([[np.nan, 1.0, -np.inf], [np.inf, 0.0, 2.0]], dtype)
    W = np.eye(3, dtype=dtype)
    for fn in (lambda: ops.relu_forward(x), lambda: ops.sigmoid_forward(x), lambda: ops.matmul(x, W),
               lambda: ops.softmax(x)):
        outcomes = list(on_every_backend(fn).values())
        for o in outcomes[1:]:
            np.testing.assert_array_equal(np.isnan(o), np.isnan(outcomes[0]))
            finite = np.isfinite(outcomes[0])
            np.testing.assert_allclose(o[finite], outcomes[0][finite], rtol=1e-6)


# ---------------------------------------------------------------- multi-tensor steps


@pytest.mark.parametrize("name", sorted(STEPS))
@pytest.mark.parametrize("dtype", [F32, F64])
def test_one_step_call_for_many_tensors_equals_one_call_per_tensor(name, dtype, backend):
    rng = np.random.default_rng(3)
    shapes = [(5, 4), (4,), (3, 2, 2), (0, 3)]
    states, hypers = STEPS[name]
    extra = [GOOD[h] for h in hypers] + ([3] if name in COUNTED else [])

    def fresh():
        ps = [rng.standard_normal(s).astype(dtype) for s in shapes]
        gs = [rng.standard_normal(s).astype(dtype) for s in shapes]
        ss = [[np.abs(rng.standard_normal(s)).astype(dtype) for s in shapes] for _ in states]
        return ps, gs, ss

    ps, gs, ss = fresh()
    copies = ([p.copy() for p in ps], gs, [[s.copy() for s in group] for group in ss])
    getattr(ops, name)(ps, gs, *ss, *extra)
    cp, cg, cs = copies
    for i in range(len(shapes)):
        getattr(ops, name)(cp[i], cg[i], *[group[i] for group in cs], *extra)
    for a, b in zip(ps, cp):
        np.testing.assert_array_equal(a, b)
    for ga, gb in zip(ss, cs):
        for a, b in zip(ga, gb):
            np.testing.assert_array_equal(a, b)


def test_a_step_over_no_tensors_does_nothing(backend):
    ops.sgd_step([], [], 0.1)
    ops.adam_step((), (), (), (), 0.1, 0.9, 0.999, 1)
    ops.adamw_step((), (), (), (), 0.1, 0.9, 0.999, 0.1, 1)
    ops.l2_grad_step([], [], 0.1)
    ops.scale_step((), 2.0)
    ops.max_norm_step([], 1.0, 0)


REGULARIZE_STEPS = {
    "l2_grad_step": lambda x, w: ops.l2_grad_step(x, w, 0.3),
    "l1_grad_step": lambda x, w: ops.l1_grad_step(x, w, 0.3),
    "scale_step": lambda x, w: ops.scale_step(x, 0.3),
}


@pytest.mark.parametrize("name", sorted(REGULARIZE_STEPS))
@pytest.mark.parametrize("dtype", [F32, F64])
def test_one_regularize_call_for_many_tensors_equals_one_call_per_tensor(name, dtype, backend):
    rng = np.random.default_rng(4)
    shapes = [(5, 4), (4,), (3, 2, 2), (0, 3)]
    ws = [rng.standard_normal(s).astype(dtype) for s in shapes]
    xs = [rng.standard_normal(s).astype(dtype) for s in shapes]
    each = [x.copy() for x in xs]
    REGULARIZE_STEPS[name](xs, ws)
    for x, w in zip(each, ws):
        REGULARIZE_STEPS[name](x, w)
    for a, b in zip(xs, each):
        np.testing.assert_array_equal(a, b)
    clipped = [rng.standard_normal(s).astype(dtype) * 3 for s in shapes[:1] + [(2, 6)]]
    single = [c.copy() for c in clipped]
    ops.max_norm_step(clipped, 1.0, 1)
    for c in single:
        ops.max_norm_step(c, 1.0, 1)
    for a, b in zip(clipped, single):
        np.testing.assert_array_equal(a, b)


def test_multi_tensor_steps_check_their_arguments_alike():
    p, g = np.ones(3), np.ones(3)
    raises_everywhere(ValueError, lambda: ops.sgd_step([p], [g, g], 0.1))          # lengths differ
    raises_everywhere(ValueError, lambda: ops.sgd_step([p], g, 0.1))               # a list and an array
    raises_everywhere(TypeError, lambda: ops.sgd_step({"W": p}, {"W": g}, 0.1))    # not a sequence
    raises_everywhere(TypeError, lambda: ops.sgd_step([p, np.ones(3, F32)], [g, np.ones(3, F32)], 0.1))  # mixed dtypes
    raises_everywhere(ValueError, lambda: ops.sgd_step([p, np.ones(4)], [g, np.ones(3)], 0.1))  # shapes
    raises_everywhere(ValueError, lambda: ops.sgd_step([p, p], [g, g], 0.1))       # the same param twice
    raises_everywhere(ValueError, lambda: ops.momentum_step([p], [g], [p], 0.1, 0.9))  # state aliases param


# ---------------------------------------------------------------- the order of the checks


@pytest.mark.parametrize("call, error, named", [
    # a bad hyper-parameter value and a shape mismatch: the value is reported (dtypes, values, shapes)
    (lambda: ops.rrelu_backward(np.ones(1), np.ones(0), 0.1, 0.2, 1.5), TypeError, "seed"),
    (lambda: ops.rrelu_backward(np.ones(1), np.ones(0), 0.3, 0.2, 0), ValueError, "lower"),
    (lambda: ops.leaky_relu_backward(np.ones(1), np.ones(2), -1.0), ValueError, "alpha"),
    (lambda: ops.elu_backward(np.ones(1), np.ones(2), 0.0), ValueError, "alpha"),
    (lambda: ops.swish_backward(np.ones(1), np.ones(2), np.inf), ValueError, "beta"),
])
def test_hyper_parameters_are_checked_before_the_shapes(call, error, named):
    for name in AVAILABLE_BACKENDS:
        with ferronet.use_backend(name), pytest.raises(error) as info:
            call()
        assert named in str(info.value) and "shape" not in str(info.value), (name, info.value)


def test_a_stride_past_the_plane_leaves_one_window(backend):
    """A stride of 2**63 or more is valid where it leaves one window per axis (NumPy's int64 arithmetic
    in the reference must not overflow on it)."""
    x = np.arange(9, dtype=F32).reshape(1, 1, 3, 3)
    out, argmax = ops.max_pool_forward(x, 2, 2, 2**63, 1)
    assert out.tolist() == [[[[0.0]]]] and argmax.tolist() == [[[[0]]]]
    assert ops.avg_pool_forward(x, 3, 3, 2**63, 0).tolist() == [[[[4.0]]]]


def test_windows_wholly_in_a_huge_padding_are_zeros():
    """A padding of 2**40 with a stride as large: the windows that reach the data see it, the others
    are zeros, alike on both backends, and no backend materialises the padded input."""
    x = np.arange(1, 7, dtype=F64).reshape(1, 1, 2, 3)
    # 3 x 3 positions of a 1x1 window; only the middle one, at x[0, 0], is on the data
    for col in on_every_backend(lambda: ops.im2col(x, 1, 1, 2**40, 2**40)).values():
        assert col.ravel().tolist() == [0, 0, 0, 0, 1, 0, 0, 0, 0]
    calls = [lambda: ops.im2col(x, 2, 2, 2**40, 2**40 - 1),
             lambda: ops.col2im(np.arange(16.0).reshape(4, 4), x.shape, 2, 2, 2**40, 2**40 - 1),
             lambda: ops.conv_forward(x, np.ones((2, 1, 2, 2)), np.ones(2), 2**40, 2**40 - 1),
             lambda: ops.im2col(np.ones((1, 1, 0, 0), F32), 1, 1, 2**40, 2**40)]
    for call in calls:
        native, numpy_ = on_every_backend(call).values() if len(AVAILABLE_BACKENDS) == 2 else (call(), call())
        np.testing.assert_array_equal(native, numpy_)
    # the live window of the 2x2 case starts at x[1, 1]: its taps are x[1, 1], x[1, 2], padding, padding
    assert ops.im2col(x, 2, 2, 2**40, 2**40 - 1)[3].tolist() == [5, 6, 0, 0]
