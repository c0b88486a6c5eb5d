"""Optimizer steps, in place, one call for every parameter of a step
(``rust/bindings/optim.rs``).

``param`` is one array or a sequence of arrays (a multi-tensor step);
``grad`` and each state argument are alike.  Hyper-parameters are checked
first (real numbers, finite), then the arrays."""

from __future__ import annotations

import numpy as np

from ferronet.ops import _checks


def _step_tensors(param, grad, **states: object) -> list[tuple[np.ndarray, ...]]:
    """Check a step's arrays; returns per tensor ``(param, grad, *states)``.

    All arrays share one float dtype; params and states are C-contiguous,
    writeable and distinct (ValueError if two of them overlap), each grad
    and state has its param's shape.
    """
    first = _checks.tensor_items("param", param)
    params = first[1]
    items = {name: _checks.matching_items(name, arg, "param", first) for name, arg in {"grad": grad, **states}.items()}
    every = dict(params)
    for arg_items in items.values():
        every.update(arg_items)
    if not every:
        return []
    _checks.same_dtype(**every)
    written: _checks.Items = []
    tensors = []
    for i, (pname, p) in enumerate(params):
        _checks.writable(pname, p)
        gname, g = items["grad"][i]
        _checks.same_shape(pname, p, gname, g)
        row = [p, g]
        written.append((pname, p))
        for state in states:
            sname, s = items[state][i]
            _checks.writable(sname, s)
            _checks.same_shape(pname, p, sname, s)
            written.append((sname, s))
            row.append(s)
        tensors.append(tuple(row))
    _checks.no_overlap(written)
    return tensors


def sgd_step(param, grad, lr: float) -> None:
    """``param -= lr * grad``."""
    (lr,) = _checks.finite_reals(lr=lr)
    for p, g in _step_tensors(param, grad):
        p -= p.dtype.type(lr) * g


def momentum_step(param, grad, v, lr: float, momentum: float) -> None:
    """``v = momentum * v - lr * grad; param += v``."""
    lr, momentum = _checks.finite_reals(lr=lr, momentum=momentum)
    for p, g, v_ in _step_tensors(param, grad, v=v):
        t = p.dtype.type
        v_ *= t(momentum)
        v_ -= t(lr) * g
        p += v_


def nesterov_step(param, grad, v, lr: float, momentum: float) -> None:
    """Nesterov momentum as in Bengio et al. 2012 (uses v before its update).

    ``param += mu*mu*v - (1+mu)*lr*grad``, then ``v = mu*v - lr*grad``.
    """
    lr, momentum = _checks.finite_reals(lr=lr, momentum=momentum)
    for p, g, v_ in _step_tensors(param, grad, v=v):
        t = p.dtype.type
        mu, lr_ = t(momentum), t(lr)
        p += mu * mu * v_ - (1 + mu) * lr_ * g
        v_ *= mu
        v_ -= lr_ * g


def adagrad_step(param, grad, h, lr: float) -> None:
    """``h += grad**2; param -= lr * grad / (sqrt(h) + 1e-7)``."""
    (lr,) = _checks.finite_reals(lr=lr)
    for p, g, h_ in _step_tensors(param, grad, h=h):
        t = p.dtype.type
        h_ += g * g
        p -= t(lr) * g / (np.sqrt(h_) + t(1e-7))


def rmsprop_step(param, grad, h, lr: float, decay_rate: float) -> None:
    """``h = decay*h + (1-decay)*grad**2; param -= lr * grad / (sqrt(h) + 1e-7)``."""
    lr, decay_rate = _checks.finite_reals(lr=lr, decay_rate=decay_rate)
    for p, g, h_ in _step_tensors(param, grad, h=h):
        t = p.dtype.type
        h_ *= t(decay_rate)
        h_ += t(1 - decay_rate) * g * g
        p -= t(lr) * g / (np.sqrt(h_) + t(1e-7))


def adadelta_step(param, grad, h, d, lr: float, rho: float, eps: float) -> None:
    """AdaDelta (Zeiler 2012), with an optional learning-rate multiplier.

    ``h = rho*h + (1-rho)*grad**2``;
    ``delta = sqrt(d + eps) / sqrt(h + eps) * grad``;
    ``d = rho*d + (1-rho)*delta**2``; ``param -= lr * delta``.
    """
    lr, rho, eps = _checks.finite_reals(lr=lr, rho=rho, eps=eps)
    for p, g, h_, d_ in _step_tensors(param, grad, h=h, d=d):
        t = p.dtype.type
        h_ *= t(rho)
        h_ += t(1 - rho) * g * g
        delta = np.sqrt(d_ + t(eps)) / np.sqrt(h_ + t(eps)) * g
        d_ *= t(rho)
        d_ += t(1 - rho) * delta * delta
        p -= t(lr) * delta


def _check_betas(beta1: float, beta2: float) -> None:
    for name, beta in (("beta1", beta1), ("beta2", beta2)):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"{name} must lie in [0, 1), got {beta}")


def _adam_lr_t(lr: float, beta1: float, beta2: float, t: int) -> float:
    """Adam's step size ``lr * sqrt(1 - beta2**t) / (1 - beta1**t)`` (ValueError unless t >= 1)."""
    if t < 1:
        raise ValueError(f"adam step count t must be >= 1, got {t}")
    t = min(t, 2**31 - 1)  # beta**t has long underflowed to 0 (the native kernel's bound)
    return lr * np.sqrt(1.0 - beta2**t) / (1.0 - beta1**t)


def adam_step(param, grad, m, v, lr: float, beta1: float, beta2: float, t: int) -> None:
    """Adam, the book's form, at step ``t`` (an int, 1 for the first update).

    ``m += (1-beta1)*(grad-m)``; ``v += (1-beta2)*(grad**2-v)``;
    ``param -= lr_t * m / (sqrt(v) + 1e-7)`` with
    ``lr_t = lr * sqrt(1 - beta2**t) / (1 - beta1**t)``; beta1, beta2 in [0, 1).
    """
    for name, value in (("lr", lr), ("beta1", beta1), ("beta2", beta2)):
        _checks.real(name, value)
    step = _checks.integer("t", t)
    lr, beta1, beta2 = _checks.finite_reals(lr=lr, beta1=beta1, beta2=beta2)
    _check_betas(beta1, beta2)
    lr_t = _adam_lr_t(lr, beta1, beta2, step)
    for p, g, m_, v_ in _step_tensors(param, grad, m=m, v=v):
        ty = p.dtype.type
        m_ += ty(1 - beta1) * (g - m_)
        v_ += ty(1 - beta2) * (g * g - v_)
        p -= ty(lr_t) * m_ / (np.sqrt(v_) + ty(1e-7))


def adamw_step(param, grad, m, v, lr: float, beta1: float, beta2: float, weight_decay: float, t: int) -> None:
    """AdamW (Loshchilov & Hutter): :func:`adam_step` with decoupled weight decay.

    ``param *= 1 - lr * weight_decay`` (the decay does not pass through
    ``m`` and ``v``), then Adam's update at step ``t``:
    ``param -= lr_t * m / (sqrt(v) + 1e-7)``; weight_decay >= 0.
    """
    for name, value in (("lr", lr), ("beta1", beta1), ("beta2", beta2), ("weight_decay", weight_decay)):
        _checks.real(name, value)
    step = _checks.integer("t", t)
    lr, beta1, beta2, weight_decay = _checks.finite_reals(lr=lr, beta1=beta1, beta2=beta2, weight_decay=weight_decay)
    _check_betas(beta1, beta2)
    if weight_decay < 0:
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
    lr_t = _adam_lr_t(lr, beta1, beta2, step)
    for p, g, m_, v_ in _step_tensors(param, grad, m=m, v=v):
        ty = p.dtype.type
        m_ += ty(1 - beta1) * (g - m_)
        v_ += ty(1 - beta2) * (g * g - v_)
        p *= ty(1 - lr * weight_decay)
        p -= ty(lr_t) * m_ / (np.sqrt(v_) + ty(1e-7))
