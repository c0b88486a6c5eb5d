"""The book's optimizers (chapter 6), each step one fused kernel of :mod:`ferronet.ops`.

``update(params, grads)`` updates every array of ``params`` **in place**
(so layers sharing those arrays see the change).  Per-parameter state
(velocities, squared-gradient averages, ...) lives in dicts on the
optimizer, keyed like ``params``, created on the first update as zeros of
the parameter's shape and dtype.  One ``update`` is one kernel call for all
the parameters (a multi-tensor step), so a small network's update costs
about what the book's plain NumPy loop costs.  A gradient whose dtype differs from its
parameter's (e.g. a float64 numerical gradient for a float32 network) is
converted to the parameter's dtype first; the parameter itself must be a
C-contiguous, writeable float32/float64 array.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ferronet import ops


class Optimizer:
    """Base class: one kernel call updates every parameter of a step.

    ``update`` gathers the parameters, their gradients (converted to each
    parameter's dtype) and the optimizer's state arrays into lists and hands
    them to ``_step``, which makes one multi-tensor call of its kernel (one
    per dtype when a dict mixes float32 and float64).
    """

    #: names of the per-parameter state dicts (e.g. ("m", "v")), created as zeros
    state_names: tuple[str, ...] = ()

    def update(self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray]) -> None:
        """Update every ``params[key]`` in place from ``grads[key]``."""
        self._begin_update()
        for keys in self._groups(params):
            ps = [params[k] for k in keys]
            gs = [np.asarray(grads[k], dtype=p.dtype) for k, p in zip(keys, ps)]
            states = [[self._state(getattr(self, name), k, p) for k, p in zip(keys, ps)]
                      for name in self.state_names]
            self._step(ps, gs, *states)

    def _begin_update(self) -> None:
        """Hook run once per ``update`` call (Adam counts its steps here)."""

    def _step(self, params: list[np.ndarray], grads: list[np.ndarray], *states: list[np.ndarray]) -> None:
        raise NotImplementedError

    @staticmethod
    def _groups(params: Mapping[str, np.ndarray]) -> list[list[str]]:
        """The keys of ``params`` grouped by dtype (one group for a network)."""
        groups: dict[Any, list[str]] = {}
        for key, p in params.items():
            groups.setdefault(getattr(p, "dtype", None), []).append(key)
        return list(groups.values())

    @staticmethod
    def _state(store: dict[str, np.ndarray], key: str, param: np.ndarray) -> np.ndarray:
        """``store[key]``, created as C-contiguous zeros like ``param`` on first use."""
        s = store.get(key)
        if s is None:
            s = store[key] = np.zeros_like(param, order="C")
        return s

    def __repr__(self) -> str:
        hyper = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if isinstance(v, (int, float)))
        return f"{type(self).__name__}({hyper})"


class SGD(Optimizer):
    """``param -= lr * grad``."""

    def __init__(self, lr: float = 0.01) -> None:
        self.lr = lr

    def _step(self, params, grads, *states) -> None:
        ops.sgd_step(params, grads, self.lr)


class Momentum(Optimizer):
    """``v = momentum * v - lr * grad; param += v`` (state ``v``)."""

    state_names = ("v",)

    def __init__(self, lr: float = 0.01, momentum: float = 0.9) -> None:
        self.lr = lr
        self.momentum = momentum
        self.v: dict[str, np.ndarray] = {}

    def _step(self, params, grads, *states) -> None:
        ops.momentum_step(params, grads, *states, self.lr, self.momentum)


class Nesterov(Optimizer):
    """Nesterov momentum (Bengio et al. 2012), state ``v``.

    ``param += momentum**2 * v - (1 + momentum) * lr * grad`` with the
    velocity *before* this step, then ``v = momentum * v - lr * grad``.
    """

    state_names = ("v",)

    def __init__(self, lr: float = 0.01, momentum: float = 0.9) -> None:
        self.lr = lr
        self.momentum = momentum
        self.v: dict[str, np.ndarray] = {}

    def _step(self, params, grads, *states) -> None:
        ops.nesterov_step(params, grads, *states, self.lr, self.momentum)


class AdaGrad(Optimizer):
    """``h += grad**2; param -= lr * grad / (sqrt(h) + 1e-7)`` (state ``h``)."""

    state_names = ("h",)

    def __init__(self, lr: float = 0.01) -> None:
        self.lr = lr
        self.h: dict[str, np.ndarray] = {}

    def _step(self, params, grads, *states) -> None:
        ops.adagrad_step(params, grads, *states, self.lr)


class RMSprop(Optimizer):
    """``h = decay_rate * h + (1 - decay_rate) * grad**2; param -= lr * grad / (sqrt(h) + 1e-7)``."""

    state_names = ("h",)

    def __init__(self, lr: float = 0.01, decay_rate: float = 0.99) -> None:
        self.lr = lr
        self.decay_rate = decay_rate
        self.h: dict[str, np.ndarray] = {}

    def _step(self, params, grads, *states) -> None:
        ops.rmsprop_step(params, grads, *states, self.lr, self.decay_rate)


class AdaDelta(Optimizer):
    """AdaDelta (Zeiler 2012) with a learning-rate multiplier ``lr`` (1 in the paper).

    State ``h`` (running mean of grad**2) and ``d`` (running mean of the
    squared updates); ``delta = sqrt(d + eps) / sqrt(h + eps) * grad``,
    ``param -= lr * delta``.
    """

    state_names = ("h", "d")

    def __init__(self, lr: float = 1.0, rho: float = 0.95, eps: float = 1e-6) -> None:
        self.lr = lr
        self.rho = rho
        self.eps = eps
        self.h: dict[str, np.ndarray] = {}
        self.d: dict[str, np.ndarray] = {}

    def _step(self, params, grads, *states) -> None:
        ops.adadelta_step(params, grads, *states, self.lr, self.rho, self.eps)


class Adam(Optimizer):
    """Adam in the book's form, with bias correction folded into the step size.

    State ``m``, ``v`` and the step counter ``iter`` (the ``t`` of the paper),
    which is 1 during the first ``update`` call and grows by one per call.
    """

    state_names = ("m", "v")

    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999) -> None:
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.iter = 0
        self.m: dict[str, np.ndarray] = {}
        self.v: dict[str, np.ndarray] = {}

    def _begin_update(self) -> None:
        self.iter += 1

    def _step(self, params, grads, *states) -> None:
        ops.adam_step(params, grads, *states, self.lr, self.beta1, self.beta2, self.iter)


OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.__name__.lower(): cls for cls in (SGD, Momentum, Nesterov, AdaGrad, RMSprop, AdaDelta, Adam)
}


def get_optimizer(name: str, **params: Any) -> Optimizer:
    """A new optimizer from its class name, any case: ``get_optimizer('adam', lr=1e-3)``."""
    try:
        cls = OPTIMIZERS[name.lower()]
    except KeyError:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {sorted(OPTIMIZERS)}") from None
    return cls(**params)
