"""The book's optimizers (chapter 6) and AdamW, each step one fused kernel of :mod:`ferronet.ops`.

``update(params, grads)`` updates every array of ``params`` **in place**
(so layers sharing those arrays see the change).  Per-parameter state
(velocities, squared-gradient averages, ...) lives in dicts on the
optimizer, keyed like ``params``, created on the first update as zeros of
the parameter's shape and dtype.  One ``update`` is one kernel call for all
the parameters (a multi-tensor step), so a small network's update costs
about what the book's plain NumPy loop costs.  A gradient whose dtype differs from its
parameter's (e.g. a float64 numerical gradient for a float32 network) is
converted to the parameter's dtype first; an array parameter must be a
C-contiguous, writeable float32/float64 array.

A parameter that is not an array -- a Python number or a NumPy scalar, as
in the book's ``optimizer_compare_naive.py`` -- cannot change in place:
its new value is computed (in float64, or float32 for a NumPy float32)
and stored back into ``params[key]`` with its type kept (a Python number
becomes a Python float, a NumPy scalar stays that NumPy type).

Hyper-parameters are Python or NumPy numbers.  Every optimizer takes
``clip_norm=`` (None: off): before each step the gradients are clipped to
that global norm (:func:`ferronet.clipping.clip_grads`, in place) and the
norm measured before clipping is kept in ``grad_norm``.  Learning-rate
schedules set ``lr`` between updates (:mod:`ferronet.schedules`).

``state_dict()`` returns everything later updates depend on (the
hyper-parameters and counters as Python numbers, copies of the state
arrays) as plain data, and ``load_state_dict()`` puts it back into an
optimizer of the same class: the Trainer's checkpoints save an optimizer
this way, without pickle, and a resumed run continues bit for bit.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

import numpy as np

from ferronet import ops
from ferronet.arrays import as_float_array, updatable
from ferronet.clipping import clip_grads
from ferronet.ops import _checks


class Optimizer:
    """Base class: one kernel call updates every parameter of a step.

    ``update`` gathers the parameters, their gradients (converted to each
    parameter's dtype) and the optimizer's state arrays into lists and hands
    them to ``_step``, which makes one multi-tensor call of its kernel (one
    per dtype when a dict mixes float32 and float64).
    """

    #: names of the per-parameter state dicts (e.g. ("m", "v")), created as zeros
    state_names: tuple[str, ...] = ()
    #: the global norm the gradients are clipped to before each step (None: no clipping)
    clip_norm: float | None = None
    #: the gradients' global norm in the last update, before clipping (measured with clip_norm only)
    grad_norm: float | None = None

    def __init__(self, clip_norm: float | None = None) -> None:
        self.clip_norm = None if clip_norm is None else _checks.positive("clip_norm", clip_norm)

    def update(self, params: MutableMapping[str, Any], grads: Mapping[str, Any]) -> None:
        """Update every ``params[key]`` from ``grads[key]``: arrays in place, numbers stored back."""
        self._begin_update()
        arrays = {key: _updated_array(key, value) for key, value in params.items()}
        groups = []
        for keys in self._groups(arrays):
            ps = [arrays[k] for k in keys]
            gs = [np.asarray(grads[k], dtype=p.dtype) for k, p in zip(keys, ps)]
            groups.append((keys, ps, gs))
        if self.clip_norm is not None:
            groups = [(keys, ps, [updatable(g) for g in gs]) for keys, ps, gs in groups]
            self.grad_norm = clip_grads([g for _, _, gs in groups for g in gs], self.clip_norm)
        for keys, ps, gs in groups:
            states = [[self._state(getattr(self, name), k, p) for k, p in zip(keys, ps)]
                      for name in self.state_names]
            self._step(ps, gs, *states)
        for key, value in params.items():
            if not isinstance(value, np.ndarray):
                params[key] = _stored_back(value, arrays[key])

    def _begin_update(self) -> None:
        """Hook run once per ``update`` call (Adam counts its steps here)."""

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state as plain data: ``{"type", "scalars", "state"}``.

        * ``type``: the class name (``"Adam"``);
        * ``scalars``: every number attribute - the hyper-parameters (``lr``,
          ``beta1``, ``clip_norm``, ...), the counters (Adam's ``iter``), a
          schedule's ``initial_lr``, the last ``grad_norm`` - as Python
          ints, floats or None;
        * ``state``: ``{state name: {param key: array}}`` for each of
          :attr:`state_names`, copies of the arrays (each of its parameter's
          shape and dtype, C-contiguous).

        Nothing in it needs pickle (numbers, strings and arrays of floats).
        """
        scalars = {name: _plain_number(value) for name, value in vars(self).items()
                   if name not in self.state_names and (value is None or _is_real(value))}
        state = {name: {key: array.copy() for key, array in getattr(self, name).items()}
                 for name in self.state_names}
        return {"type": type(self).__name__, "scalars": scalars, "state": state}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Continue from ``state_dict`` (what :meth:`state_dict` of the same class returned).

        Sets every scalar it holds and replaces the state arrays with
        C-contiguous copies.  Everything is checked before anything changes:
        another class, other state names, an unknown scalar name, a scalar
        that is not a number or an array that is not float32/float64 raise
        ValueError (TypeError for a non-mapping) and leave the optimizer as it was.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"an optimizer state must be a mapping, got {type(state_dict).__name__}")
        kind = state_dict.get("type")
        if kind != type(self).__name__:
            raise ValueError(f"the optimizer state is for {kind!r}, this optimizer is {type(self).__name__!r}")
        scalars, state = state_dict.get("scalars"), state_dict.get("state")
        if not isinstance(scalars, Mapping) or not isinstance(state, Mapping):
            raise ValueError("an optimizer state needs the mappings 'scalars' and 'state'")
        known = set(vars(self)) | set(_LATER_SCALARS)
        for name, value in scalars.items():
            if name in self.state_names or name not in known:
                raise ValueError(f"{type(self).__name__} has no number attribute {name!r}")
            if value is not None and not _is_real(value):
                raise ValueError(f"optimizer scalar {name!r} must be a number or None, got {type(value).__name__}")
        if set(state) != set(self.state_names):
            raise ValueError(f"{type(self).__name__} keeps the state {sorted(self.state_names)}, "
                             f"the optimizer state holds {sorted(state)}")
        arrays: dict[str, dict[str, np.ndarray]] = {}
        for name, store in state.items():
            if not isinstance(store, Mapping):
                raise ValueError(f"optimizer state {name!r} must map parameter names to arrays")
            for key, array in store.items():
                if not isinstance(array, np.ndarray) or array.dtype not in (np.float32, np.float64):
                    raise ValueError(f"optimizer state {name}[{key!r}] must be a float32 or float64 array, "
                                     f"got {getattr(array, 'dtype', type(array).__name__)}")
            arrays[name] = {key: np.array(array, order="C") for key, array in store.items()}
        for name, value in scalars.items():
            setattr(self, name, _plain_number(value))
        for name, store in arrays.items():
            setattr(self, name, store)

    def _step(self, params: list[np.ndarray], grads: list[np.ndarray], *states: list[np.ndarray]) -> None:
        raise NotImplementedError

    @staticmethod
    def _groups(params: Mapping[str, np.ndarray]) -> list[list[str]]:
        """The keys of ``params`` grouped by dtype (one group for a network)."""
        groups: dict[Any, list[str]] = {}
        for key, p in params.items():
            groups.setdefault(p.dtype, []).append(key)
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


#: number attributes an optimizer gains after construction: a schedule's base rate, the last clipped norm
_LATER_SCALARS = ("initial_lr", "grad_norm")


def _is_real(value: Any) -> bool:
    """True for Python and NumPy ints and floats (not bools)."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _plain_number(value: Any) -> int | float | None:
    """A number as a Python int or float (NumPy scalars converted exactly); None stays None."""
    if value is None:
        return None
    return int(value) if isinstance(value, (int, np.integer)) else float(value)


def _updated_array(key: str, value: Any) -> np.ndarray:
    """The array a step updates for ``params[key]``: the array itself, or a 0-d
    float array holding a number (float32 for a NumPy float32, else float64)."""
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"params[{key!r}] must be a numpy.ndarray or a real number, got {type(value).__name__}")
    return as_float_array(value)


def _stored_back(original: Any, updated: np.ndarray) -> Any:
    """The updated 0-d value in the type of the ``original`` non-array parameter."""
    if isinstance(original, np.generic):
        return updated[()]  # a NumPy scalar of the dtype it was computed in
    return float(updated)


class SGD(Optimizer):
    """``param -= lr * grad``."""

    def __init__(self, lr: float = 0.01, *, clip_norm: float | None = None) -> None:
        super().__init__(clip_norm)
        self.lr = lr

    def _step(self, params, grads, *states) -> None:
        ops.sgd_step(params, grads, self.lr)


class Momentum(Optimizer):
    """``v = momentum * v - lr * grad; param += v`` (state ``v``)."""

    state_names = ("v",)

    def __init__(self, lr: float = 0.01, momentum: float = 0.9, *, clip_norm: float | None = None) -> None:
        super().__init__(clip_norm)
        self.lr = lr
        self.momentum = momentum
        self.v: dict[str, np.ndarray] = {}

    def _step(self, params, grads, *states) -> None:
        ops.momentum_step(params, grads, *states, self.lr, self.momentum)


class Nesterov(Momentum):
    """Nesterov momentum (Bengio et al. 2012): :class:`Momentum`'s state and hyper-parameters, a look-ahead step.

    ``param += momentum**2 * v - (1 + momentum) * lr * grad`` with the
    velocity *before* this step, then ``v = momentum * v - lr * grad``.
    """

    def _step(self, params, grads, *states) -> None:
        ops.nesterov_step(params, grads, *states, self.lr, self.momentum)


class AdaGrad(Optimizer):
    """``h += grad**2; param -= lr * grad / (sqrt(h) + 1e-7)`` (state ``h``)."""

    state_names = ("h",)

    def __init__(self, lr: float = 0.01, *, clip_norm: float | None = None) -> None:
        super().__init__(clip_norm)
        self.lr = lr
        self.h: dict[str, np.ndarray] = {}

    def _step(self, params, grads, *states) -> None:
        ops.adagrad_step(params, grads, *states, self.lr)


class RMSprop(Optimizer):
    """``h = decay_rate * h + (1 - decay_rate) * grad**2; param -= lr * grad / (sqrt(h) + 1e-7)``."""

    state_names = ("h",)

    def __init__(self, lr: float = 0.01, decay_rate: float = 0.99, *, clip_norm: float | None = None) -> None:
        super().__init__(clip_norm)
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

    def __init__(self, lr: float = 1.0, rho: float = 0.95, eps: float = 1e-6, *,
                 clip_norm: float | None = None) -> None:
        super().__init__(clip_norm)
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

    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, *,
                 clip_norm: float | None = None) -> None:
        super().__init__(clip_norm)
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


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay.

    Each step first shrinks every parameter by ``lr * weight_decay`` of
    itself, then takes :class:`Adam`'s step; the decay bypasses ``m`` and
    ``v`` (unlike an L2 penalty added to the gradient, which Adam's
    per-parameter scaling would weaken where gradients are large).  The
    decay follows ``lr``, so a schedule scales both.  It applies to every
    parameter given to ``update`` (biases too): pass a dict without them
    to exempt them.  weight_decay >= 0.
    """

    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, weight_decay: float = 0.01, *,
                 clip_norm: float | None = None) -> None:
        super().__init__(lr, beta1, beta2, clip_norm=clip_norm)
        self.weight_decay = weight_decay

    def _step(self, params, grads, *states) -> None:
        ops.adamw_step(params, grads, *states, self.lr, self.beta1, self.beta2, self.weight_decay, self.iter)


OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.__name__.lower(): cls for cls in (SGD, Momentum, Nesterov, AdaGrad, RMSprop, AdaDelta, Adam, AdamW)
}


def get_optimizer(name: str, **params: Any) -> Optimizer:
    """A new optimizer from its class name, any case: ``get_optimizer('adam', lr=1e-3)``."""
    try:
        cls = OPTIMIZERS[name.lower()]
    except KeyError:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {sorted(OPTIMIZERS)}") from None
    return cls(**params)
