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
        elif name == "Adam":
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
    }
    for name, defaults in expected.items():
        sig = inspect.signature(getattr(O, name))
        assert {k: p.default for k, p in sig.parameters.items()} == defaults


def test_get_optimizer_is_case_insensitive():
    for spelling in ("adam", "ADAM", "Adam"):
        opt = O.get_optimizer(spelling, lr=0.02)
        assert isinstance(opt, O.Adam) and opt.lr == 0.02
    assert isinstance(O.get_optimizer("rmsprop"), O.RMSprop)
    assert isinstance(O.get_optimizer("sgd"), O.SGD)
    with pytest.raises(ValueError):
        O.get_optimizer("lbfgs")
