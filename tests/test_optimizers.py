"""Optimizers (ferronet.optimizers) against hand-written per-step formulas."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from ferronet import optimizers as O

STEPS = 4


def reference_run(name, hyper, p0, grads):
    """The update rules written out in float64, one step at a time."""
    p = p0.astype(np.float64)
    v = np.zeros_like(p)
    h = np.zeros_like(p)
    d = np.zeros_like(p)
    m = np.zeros_like(p)
    for step, g in enumerate(grads, start=1):
        if name == "SGD":
            p = p - hyper["lr"] * g
        elif name == "Momentum":
            v = hyper["momentum"] * v - hyper["lr"] * g
            p = p + v
        elif name == "Nesterov":
            mu, lr = hyper["momentum"], hyper["lr"]
            v_old = v
            v = mu * v_old - lr * g
            p = p + mu * mu * v_old - (1 + mu) * lr * g  # uses the velocity before this step
        elif name == "AdaGrad":
            h = h + g * g
            p = p - hyper["lr"] * g / (np.sqrt(h) + 1e-7)
        elif name == "RMSprop":
            r = hyper["decay_rate"]
            h = r * h + (1 - r) * g * g
            p = p - hyper["lr"] * g / (np.sqrt(h) + 1e-7)
        elif name == "AdaDelta":
            rho, eps = hyper["rho"], hyper["eps"]
            h = rho * h + (1 - rho) * g * g
            delta = np.sqrt(d + eps) / np.sqrt(h + eps) * g
            d = rho * d + (1 - rho) * delta * delta
            p = p - hyper["lr"] * delta
        elif name in ("Adam", "AdamW"):
            p = p * (1 - hyper["lr"] * hyper.get("weight_decay", 0.0))  # AdamW: the decoupled shrink first
            b1, b2 = hyper["beta1"], hyper["beta2"]
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            m_hat = m / (1 - b1**step)  # bias correction, step counted from 1
            v_hat = v / (1 - b2**step)
            # the book's epsilon sits outside the corrected sqrt(v): scale it accordingly
            p = p - hyper["lr"] * m_hat / (np.sqrt(v_hat) + 1e-7 / np.sqrt(1 - b2**step))
        else:
            raise AssertionError(name)
    return p


CASES = [
    ("SGD", {"lr": 0.1}),
    ("Momentum", {"lr": 0.1, "momentum": 0.8}),
    ("Nesterov", {"lr": 0.1, "momentum": 0.8}),
    ("AdaGrad", {"lr": 0.1}),
    ("RMSprop", {"lr": 0.05, "decay_rate": 0.9}),
    ("AdaDelta", {"lr": 1.0, "rho": 0.9, "eps": 1e-6}),
    ("Adam", {"lr": 0.01, "beta1": 0.8, "beta2": 0.95}),
    ("AdamW", {"lr": 0.01, "beta1": 0.8, "beta2": 0.95, "weight_decay": 0.5}),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name, hyper", CASES)
def test_matches_hand_written_formula(backend, rng, name, hyper, dtype):
    shapes = {"W": (3, 4), "b": (4,)}
    p0 = {k: rng.standard_normal(s) for k, s in shapes.items()}
    grads = [{k: rng.standard_normal(s) for k, s in shapes.items()} for _ in range(STEPS)]
    params = {k: v.astype(dtype) for k, v in p0.items()}
    arrays = dict(params)  # the same objects: updates must land in them
    opt = getattr(O, name)(**hyper)
    for g in grads:
        opt.update(params, {k: v.astype(dtype) for k, v in g.items()})
    rtol = 1e-12 if dtype == np.float64 else 2e-5
    for k in shapes:
        assert params[k] is arrays[k] and params[k].dtype == dtype
        expected = reference_run(name, hyper, p0[k].astype(dtype), [g[k] for g in grads])
        np.testing.assert_allclose(params[k], expected, rtol=rtol, atol=rtol)


def test_nesterov_differs_from_momentum_by_the_lookahead(backend):
    p = np.array([1.0])
    g = np.array([1.0])
    opt = O.Nesterov(lr=0.1, momentum=0.9)
    opt.update({"p": p}, {"p": g})
    assert p[0] == pytest.approx(1.0 - 1.9 * 0.1)  # v was 0: only -(1 + mu) lr g
    opt.update({"p": p}, {"p": g})
    # v = -0.1 before the step: mu^2 v - (1 + mu) lr g
    assert p[0] == pytest.approx(1.0 - 0.19 + 0.81 * -0.1 - 0.19)
    assert opt.v["p"][0] == pytest.approx(0.9 * -0.1 - 0.1)


def test_adam_counts_steps_from_one_and_bias_corrects(backend, rng):
    g = rng.standard_normal(5) * 10
    p = np.zeros(5)
    opt = O.Adam(lr=0.001)
    opt.update({"p": p}, {"p": g})
    assert opt.iter == 1
    # with t = 1 the bias-corrected step is lr * g / (|g| + eps'): about lr per element,
    # where the uncorrected m / sqrt(v) would give lr * 0.1 / sqrt(0.001) = 3.16 lr
    eps_scaled = 1e-7 / np.sqrt(1 - 0.999)
    np.testing.assert_allclose(p, -0.001 * g / (np.abs(g) + eps_scaled), rtol=1e-12)
    np.testing.assert_allclose(np.abs(p), 0.001, rtol=1e-5)
    opt.update({"p": p}, {"p": g})
    opt.update({"p": p}, {"p": g})
    assert opt.iter == 3


@pytest.mark.parametrize("name, hyper", CASES)
def test_state_is_lazy_zero_like_and_owned(backend, name, hyper):
    opt = getattr(O, name)(**hyper)
    stores = [v for v in vars(opt).values() if isinstance(v, dict)]
    assert all(len(s) == 0 for s in stores)
    p = np.ones((2, 3), dtype=np.float32)
    opt.update({"w": p}, {"w": np.full((2, 3), 0.5, dtype=np.float32)})
    for s in stores:
        assert s["w"].shape == p.shape and s["w"].dtype == np.float32 and s["w"].flags.c_contiguous
        assert s["w"] is not p


def test_float64_gradients_for_float32_params_are_converted(backend):
    p = np.ones(3, dtype=np.float32)
    O.SGD(lr=0.5).update({"p": p}, {"p": np.ones(3)})
    assert p.dtype == np.float32
    np.testing.assert_array_equal(p, 0.5)


def test_default_hyperparameters_follow_the_book():
    expected = {
        "SGD": {"lr": 0.01},
        "Momentum": {"lr": 0.01, "momentum": 0.9},
        "Nesterov": {"lr": 0.01, "momentum": 0.9},
        "AdaGrad": {"lr": 0.01},
        "RMSprop": {"lr": 0.01, "decay_rate": 0.99},
        "AdaDelta": {"lr": 1.0, "rho": 0.95, "eps": 1e-6},
        "Adam": {"lr": 0.001, "beta1": 0.9, "beta2": 0.999},
        "AdamW": {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "weight_decay": 0.01},
    }
    for name, defaults in expected.items():
        sig = inspect.signature(getattr(O, name))
        positional = {k: p.default for k, p in sig.parameters.items() if p.kind != p.KEYWORD_ONLY}
        assert positional == defaults
        assert {k: p.default for k, p in sig.parameters.items() if p.kind == p.KEYWORD_ONLY} == {"clip_norm": None}


def test_get_optimizer_is_case_insensitive():
    for spelling in ("adam", "ADAM", "Adam"):
        opt = O.get_optimizer(spelling, lr=0.02)
        assert isinstance(opt, O.Adam) and opt.lr == 0.02
    assert isinstance(O.get_optimizer("rmsprop"), O.RMSprop)
    assert isinstance(O.get_optimizer("sgd"), O.SGD)
    with pytest.raises(ValueError):
        O.get_optimizer("lbfgs")


# ---------------------------------------------------------------- AdamW


def test_adamw_decay_is_decoupled_from_the_gradient(backend):
    """With a zero gradient Adam does not move; AdamW still shrinks by lr * weight_decay per step."""
    p = np.array([2.0, -4.0])
    opt = O.AdamW(lr=0.1, weight_decay=0.5)
    for _ in range(3):
        opt.update({"p": p}, {"p": np.zeros(2)})
    np.testing.assert_allclose(p, np.array([2.0, -4.0]) * 0.95**3, rtol=1e-12)
    q = np.array([2.0, -4.0])
    O.Adam(lr=0.1).update({"q": q}, {"q": np.zeros(2)})
    np.testing.assert_array_equal(q, [2.0, -4.0])


@pytest.mark.parametrize("weight_decay, error", [(-0.1, ValueError), (float("nan"), ValueError), ("0.1", TypeError)])
def test_adamw_refuses_bad_weight_decay(backend, weight_decay, error):
    with pytest.raises(error, match="weight_decay|real number"):
        O.AdamW(weight_decay=weight_decay).update({"p": np.ones(2)}, {"p": np.ones(2)})


# ---------------------------------------------------------------- parameters that are numbers


def f(x, y):
    """The book's ch06 function, elongated along x."""
    return x**2 / 20.0 + y**2


def df(x, y):
    return x / 10.0, 2.0 * y


NAIVE_LR = {"SGD": 0.95, "Momentum": 0.1, "Nesterov": 0.1, "AdaGrad": 1.5, "RMSprop": 0.1, "AdaDelta": 1.0,
            "Adam": 0.3, "AdamW": 0.3}


@pytest.mark.parametrize("name", sorted(NAIVE_LR))
def test_the_books_naive_comparison_with_python_floats(backend, name):
    """ch06/optimizer_compare_naive.py: params and grads are Python floats; update rebinds them."""
    assert set(NAIVE_LR) == {cls.__name__ for cls in O.OPTIMIZERS.values()}
    optimizer = getattr(O, name)(lr=NAIVE_LR[name])
    params = {"x": -7.0, "y": 2.0}
    grads = {"x": 0, "y": 0}
    history = []
    for _ in range(30):
        history.append((params["x"], params["y"]))
        grads["x"], grads["y"] = df(params["x"], params["y"])
        optimizer.update(params, grads)
        assert type(params["x"]) is float and type(params["y"]) is float
    assert f(params["x"], params["y"]) < f(-7.0, 2.0)

    # the same run on 1-element arrays, updated in place, gives the same numbers
    again = getattr(O, name)(lr=NAIVE_LR[name])
    arrays = {"x": np.array([-7.0]), "y": np.array([2.0])}
    for x, y in history:
        assert (arrays["x"][0], arrays["y"][0]) == pytest.approx((x, y), rel=1e-12, abs=1e-300)
        gx, gy = df(arrays["x"], arrays["y"])
        again.update(arrays, {"x": gx, "y": gy})
    assert (arrays["x"][0], arrays["y"][0]) == pytest.approx((params["x"], params["y"]), rel=1e-12, abs=1e-300)


def test_numpy_scalars_keep_their_type_and_0d_arrays_update_in_place(backend):
    zero_d = np.array(3.0)
    params = {"a": np.float32(1.5), "b": np.float64(-2.0), "c": 4, "d": zero_d}
    O.SGD(lr=0.5).update(params, {"a": 1.0, "b": np.float64(2.0), "c": 2, "d": 1.0})
    assert type(params["a"]) is np.float32 and params["a"] == np.float32(1.0)
    assert type(params["b"]) is np.float64 and params["b"] == -3.0
    assert type(params["c"]) is float and params["c"] == 3.0
    assert params["d"] is zero_d and zero_d == 2.5


def test_scalar_state_persists_between_updates(backend):
    opt = O.Momentum(lr=0.1, momentum=0.5)
    params = {"x": 1.0}
    opt.update(params, {"x": 1.0})  # v = -0.1
    opt.update(params, {"x": 1.0})  # v = -0.05 - 0.1
    assert params["x"] == pytest.approx(1.0 - 0.1 - 0.15)
    assert opt.v["x"].shape == () and opt.v["x"] == pytest.approx(-0.15)


@pytest.mark.parametrize("value", ["1.0", None, [1.0, 2.0], True])
def test_parameters_must_be_arrays_or_numbers(backend, value):
    with pytest.raises(TypeError, match="params\\['p'\\]"):
        O.SGD().update({"p": value}, {"p": 1.0})


@pytest.mark.parametrize("name", sorted(NAIVE_LR))
def test_hyper_parameters_take_python_and_numpy_numbers(backend, name):
    for lr in (1, np.float32(0.5), np.int64(1)):
        opt = getattr(O, name)(lr=lr)
        p = np.ones(3)
        opt.update({"p": p}, {"p": np.full(3, 0.5)})
        assert np.all(p < 1)


# ---------------------------------------------------------------- gradient clipping


def test_clip_grads_scales_by_the_global_norm(backend):
    from ferronet.clipping import clip_grads, global_norm

    grads = {"W": np.full((2, 2), 3.0), "b": np.array([4.0, 0.0, 0.0, 0.0], dtype=np.float32)}  # norm sqrt(36+16)
    arrays = dict(grads)
    norm = clip_grads(grads, 1.0)
    assert norm == pytest.approx(np.sqrt(52.0))
    assert grads["W"] is arrays["W"] and grads["b"].dtype == np.float32  # in place, dtypes kept
    assert global_norm(grads) == pytest.approx(1.0, rel=1e-6)
    np.testing.assert_allclose(grads["W"], 3.0 / np.sqrt(52.0))
    small = [np.array([0.3, 0.4])]
    assert clip_grads(small, 1.0) == pytest.approx(0.5)
    np.testing.assert_array_equal(small[0], [0.3, 0.4])  # under the bound: untouched
    nan = [np.array([np.nan, 1.0])]
    assert np.isnan(clip_grads(nan, 1.0))
    assert nan[0][1] == 1.0  # a non-finite norm leaves the gradients alone
    for bad, error in [(0, ValueError), (-1.0, ValueError), (float("inf"), ValueError), ("1", TypeError)]:
        with pytest.raises(error, match="max_norm|real number"):
            clip_grads(small, bad)


@pytest.mark.parametrize("name", sorted(NAIVE_LR))
def test_clip_norm_option_clips_before_every_step(backend, name):
    rng = np.random.default_rng(0)
    g = {"W": rng.standard_normal((3, 4)) * 10, "b": rng.standard_normal(4) * 10}
    norm = float(np.sqrt(sum(np.sum(v**2) for v in g.values())))
    clipped = {k: v * (2.0 / norm) for k, v in g.items()}
    p0 = {k: rng.standard_normal(v.shape) for k, v in g.items()}
    with_clip = {k: v.copy() for k, v in p0.items()}
    by_hand = {k: v.copy() for k, v in p0.items()}
    opt = getattr(O, name)(clip_norm=2.0)
    opt.update(with_clip, {k: v.copy() for k, v in g.items()})
    getattr(O, name)().update(by_hand, clipped)
    assert opt.grad_norm == pytest.approx(norm)
    for k in p0:
        np.testing.assert_allclose(with_clip[k], by_hand[k], rtol=1e-12, atol=1e-15)


def test_clip_norm_leaves_read_only_gradients_alone(backend):
    g = np.full(4, 10.0)
    g.flags.writeable = False
    p = np.zeros(4)
    O.SGD(lr=1.0, clip_norm=1.0).update({"p": p}, {"p": g})
    np.testing.assert_allclose(p, -0.5)  # the clipped gradient is a copy: (10,)*4 has norm 20
    assert g[0] == 10.0


@pytest.mark.parametrize("bad, error", [(0, ValueError), (-1, ValueError), (float("nan"), ValueError),
                                        ("1", TypeError)])
def test_clip_norm_must_be_positive(bad, error):
    with pytest.raises(error, match="clip_norm|real number"):
        O.Adam(clip_norm=bad)


# ---------------------------------------------------------------- state_dict / load_state_dict


def _run_updates(opt, params, steps, seed, schedule=None):
    rng = np.random.default_rng(seed)
    for n in range(steps):
        if schedule is not None:
            schedule.apply(opt, n)
        opt.update(params, {k: rng.standard_normal(v.shape).astype(v.dtype) * 3 for k, v in params.items()})


@pytest.mark.parametrize("name, hyper", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_loaded_state_continues_bit_for_bit(backend, name, hyper, dtype):
    from ferronet.schedules import StepDecay

    schedule = StepDecay(2, gamma=0.5)
    start = {"W": np.linspace(-1, 1, 12, dtype=dtype).reshape(3, 4), "b": np.zeros(4, dtype=dtype)}
    original = getattr(O, name)(**hyper, clip_norm=1.5)
    params = {k: v.copy() for k, v in start.items()}
    _run_updates(original, params, 3, seed=1, schedule=schedule)
    saved = original.state_dict()
    saved_params = {k: v.copy() for k, v in params.items()}

    restored = getattr(O, name)()  # default hyper-parameters: all of them come from the state
    restored.load_state_dict(saved)
    assert restored.state_dict().keys() == saved.keys()
    _run_updates(original, params, 3, seed=2, schedule=schedule)
    continued = {k: v.copy() for k, v in saved_params.items()}
    _run_updates(restored, continued, 3, seed=2, schedule=schedule)
    for k in params:
        np.testing.assert_array_equal(continued[k], params[k])
    assert restored.lr == original.lr and restored.initial_lr == hyper["lr"]
    assert getattr(restored, "iter", None) == getattr(original, "iter", None)


@pytest.mark.parametrize("name, hyper", CASES)
def test_state_dict_is_plain_data_and_a_copy(backend, name, hyper):
    opt = getattr(O, name)(**hyper)
    params = {"W": np.ones((2, 2))}
    _run_updates(opt, params, 2, seed=0)
    state = opt.state_dict()
    assert state["type"] == name
    assert all(v is None or type(v) in (int, float) for v in state["scalars"].values())
    assert set(state["state"]) == set(opt.state_names)
    for store in state["state"].values():
        for key, array in store.items():
            assert array is not getattr(opt, next(iter(opt.state_names)))[key]
    before = {n: {k: a.copy() for k, a in s.items()} for n, s in state["state"].items()}
    _run_updates(opt, params, 1, seed=3)  # later updates leave the saved copies alone
    for n, store in state["state"].items():
        for k, a in store.items():
            np.testing.assert_array_equal(a, before[n][k])


def test_numpy_hyper_parameters_are_saved_as_python_numbers():
    state = O.Momentum(lr=np.float32(0.5), momentum=np.float64(0.25)).state_dict()
    assert state["scalars"]["lr"] == float(np.float32(0.5)) and type(state["scalars"]["lr"]) is float
    assert state["scalars"]["momentum"] == 0.25 and state["scalars"]["clip_norm"] is None


@pytest.mark.parametrize("edit, message", [
    (lambda s: s.update(type="SGD"), "is for 'SGD'"),
    (lambda s: s["scalars"].update(bogus=1.0), "no number attribute 'bogus'"),
    (lambda s: s["scalars"].update(lr="fast"), "must be a number"),
    (lambda s: s["state"].pop("v"), "keeps the state"),
    (lambda s: s["state"]["m"].update(W=np.zeros(2, dtype=np.int64)), "float32 or float64"),
    (lambda s: s.pop("scalars"), "'scalars' and 'state'"),
])
def test_load_state_dict_refuses_a_mismatch_and_changes_nothing(edit, message):
    source = O.Adam(lr=0.1)
    _run_updates(source, {"W": np.ones(2)}, 2, seed=0)
    state = source.state_dict()
    edit(state)
    target = O.Adam(lr=0.3)
    with pytest.raises(ValueError, match=message):
        target.load_state_dict(state)
    assert target.lr == 0.3 and target.iter == 0 and target.m == {} and target.v == {}
    with pytest.raises(TypeError):
        target.load_state_dict([("type", "Adam")])
