"""Activation layers: element-wise (any shape, float32/float64) except PReLU,
whose slopes are per channel of ``(N, C, ...)``.

Each layer runs the kernels ``ops.<name>_forward`` / ``ops.<name>_backward``
and keeps for backward what its derivative needs: the forward output
(``out``) where it gives the derivative exactly, else the input (``x``).
``forward(x, keep_state=False)`` is an inference pass: it keeps nothing for
backward (and leaves what an earlier pass kept untouched).  ``backward``
returns a new array; ``dout`` is never modified.

Networks build activations by name (:data:`ACTIVATIONS`,
:func:`activation_layer`) through :meth:`Activation.for_width`, which gives
PReLU one slope per unit or channel and RReLU a seed from the network's
generator.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
from numpy.typing import DTypeLike

from ferronet import ops
from ferronet.ops import _checks
from ferronet.arrays import FLOAT_DTYPES
from ferronet.layers.base import Layer


def _at_least(name: str, value: float, minimum: float, inclusive: bool = True) -> float:
    """``value`` as a float: a real number (else TypeError), finite and ``>= minimum`` (``> minimum``
    unless ``inclusive``), else ValueError."""
    v = _checks.finite(name, value)
    if v < minimum or (v == minimum and not inclusive):
        raise ValueError(f"{name} must be {'>=' if inclusive else '>'} {minimum:g}, got {v}")
    return v


class Activation(Layer):
    """An activation running ``forward_kernel(x, *hyper)`` and ``backward_kernel(dout, kept, *hyper)``.

    ``keeps`` names what backward reads: ``"out"`` (the forward output) or
    ``"x"`` (the input).  Subclasses set the kernels and ``keeps``, and
    override :meth:`hyper` when their kernels take hyper-parameters.
    """

    forward_kernel: ClassVar[Callable[..., np.ndarray]]
    backward_kernel: ClassVar[Callable[..., np.ndarray]]
    keeps: ClassVar[str] = "out"

    def __init__(self) -> None:
        setattr(self, self.keeps, None)

    @classmethod
    def for_width(cls, width: int, dtype: DTypeLike, rng: np.random.Generator) -> Activation:
        """The layer a network puts after ``width`` units (or channels) of ``dtype``; ``rng`` is the
        network's generator.  Most activations need none of it."""
        return cls()

    def hyper(self) -> tuple[Any, ...]:
        """The kernels' arguments after the arrays."""
        return ()

    def _forward(self, x: np.ndarray, train_flg: bool, keep_state: bool) -> np.ndarray:
        out = type(self).forward_kernel(x, *self.hyper())
        if keep_state:
            setattr(self, self.keeps, out if self.keeps == "out" else x)
        return out

    def _backward(self, dout: np.ndarray) -> np.ndarray:
        return type(self).backward_kernel(dout, getattr(self, self.keeps), *self.hyper())


class Relu(Activation):
    """``max(x, 0)``; backward ``dout * (out > 0)`` (the book's version wrote into dout)."""

    forward_kernel, backward_kernel = ops.relu_forward, ops.relu_backward


class Sigmoid(Activation):
    """``1 / (1 + exp(-x))`` without overflow for large negative x; backward ``dout * out * (1 - out)``."""

    forward_kernel, backward_kernel = ops.sigmoid_forward, ops.sigmoid_backward


class Tanh(Activation):
    """``tanh(x)``; backward ``dout * (1 - out) * (1 + out)``."""

    forward_kernel, backward_kernel = ops.tanh_forward, ops.tanh_backward


class LeakyReLU(Activation):
    """``x`` where ``x > 0``, else ``alpha * x``; alpha finite and >= 0 (ValueError otherwise: backward
    reads the sign of x from ``out``)."""

    forward_kernel, backward_kernel = ops.leaky_relu_forward, ops.leaky_relu_backward

    def __init__(self, alpha: float = 0.01) -> None:
        super().__init__()
        self.alpha = _at_least("alpha", alpha, 0.0)

    def hyper(self) -> tuple[float]:
        return (self.alpha,)


class ReLU6(Activation):
    """``min(max(x, 0), 6)``; backward ``dout`` where ``0 < out < 6``, else 0."""

    forward_kernel, backward_kernel = ops.relu6_forward, ops.relu6_backward


class Softplus(Activation):
    """``log(1 + exp(x))``, overflow-free; backward ``dout * sigmoid(x)`` (keeps x)."""

    forward_kernel, backward_kernel = ops.softplus_forward, ops.softplus_backward
    keeps = "x"


class Swish(Activation):
    """``x * sigmoid(beta * x)``; ``SiLU`` is Swish with ``beta = 1`` (the default).  Keeps x.
    beta: any finite number (ValueError otherwise)."""

    forward_kernel, backward_kernel = ops.swish_forward, ops.swish_backward
    keeps = "x"

    def __init__(self, beta: float = 1.0) -> None:
        super().__init__()
        self.beta = _checks.finite("beta", beta)

    def hyper(self) -> tuple[float]:
        return (self.beta,)


SiLU = Swish


class GELU(Activation):
    """GELU in its tanh form, ``x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`` (as in BERT and GPT-2, and
    PyTorch's ``approximate='tanh'``), on both backends; within 5e-4 of the erf form ``x Phi(x)``.  Keeps x."""

    forward_kernel, backward_kernel = ops.gelu_forward, ops.gelu_backward
    keeps = "x"


class ELU(Activation):
    """``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)``; backward ``dout * (out + alpha)`` there.
    alpha finite and > 0 (ValueError otherwise)."""

    forward_kernel, backward_kernel = ops.elu_forward, ops.elu_backward

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = _at_least("alpha", alpha, 0.0, inclusive=False)

    def hyper(self) -> tuple[float]:
        return (self.alpha,)


class Identity(Activation):
    """``x`` itself (the output layer of a regression net, or no activation); backward returns ``dout``."""

    def __init__(self) -> None:
        pass  # keeps nothing

    def _forward(self, x: np.ndarray, train_flg: bool, keep_state: bool) -> np.ndarray:
        return x

    def _backward(self, dout: np.ndarray) -> np.ndarray:
        return dout


class PReLU(Activation):
    """``x`` where ``x > 0``, else ``alpha[c] * x``, with a learned slope per channel.

    alpha: (C,) float32 or float64, the caller's array (a network's optimizer
    updates it in place; ``params`` declares it, with gradient ``dalpha``).
    forward: x (N, C) (one slope per feature) or (N, C, ...) such as (N, C,
    H, W) (one per channel), converted to alpha's dtype; an x whose axis 1
    does not have alpha's length is a ValueError naming both shapes.
    backward: dout of x's shape -> dx; stores ``dalpha`` (C,) in alpha's dtype.
    ``for_width`` starts every slope at 0.25 (the PReLU paper's choice).
    """

    forward_kernel, backward_kernel = ops.prelu_forward, ops.prelu_backward
    params = {"alpha": "dalpha"}
    keeps = "x"
    INITIAL_SLOPE = 0.25

    def __init__(self, alpha: np.ndarray) -> None:
        super().__init__()
        if not isinstance(alpha, np.ndarray) or alpha.dtype not in FLOAT_DTYPES or alpha.ndim != 1:
            shown = f"shape {alpha.shape} and dtype {alpha.dtype}" if isinstance(alpha, np.ndarray) else repr(alpha)
            raise ValueError(f"alpha must be a 1-d float32 or float64 array of one slope per channel (C,), "
                             f"got {shown}")
        self.alpha = alpha
        self.dalpha: np.ndarray | None = None

    @classmethod
    def for_width(cls, width: int, dtype: DTypeLike, rng: np.random.Generator) -> PReLU:
        return cls(np.full(width, cls.INITIAL_SLOPE, dtype=dtype))

    def _forward(self, x: np.ndarray, train_flg: bool, keep_state: bool) -> np.ndarray:
        return super()._forward(np.asarray(x, dtype=self.alpha.dtype), train_flg, keep_state)

    def _backward(self, dout: np.ndarray) -> np.ndarray:
        dx, self.dalpha = ops.prelu_backward(np.asarray(dout, dtype=self.alpha.dtype), self.x, self.alpha)
        return dx  # like x

    def hyper(self) -> tuple[np.ndarray]:
        return (self.alpha,)


class RReLU(Activation):
    """Randomized leaky ReLU: while training, each element's slope is drawn uniformly from
    ``[lower, upper)``; at inference it is the mean slope ``(lower + upper) / 2`` (a leaky ReLU).

    lower, upper: finite, ``0 <= lower <= upper`` (ValueError otherwise).  Like
    :class:`~ferronet.layers.Dropout`, ``seed`` seeds ``rng``, which draws a
    new 64-bit seed for the kernels on every train-mode pass; the kernels
    derive the slope of each element from (that seed, its index), so both
    backends draw the same slopes and backward draws them again instead of
    storing them.  Replacing ``rng`` with a newly seeded generator before each
    forward gives the same slopes every time (what a gradient check needs).
    ``kernel_seed`` is the seed of the last kept train-mode pass (None after
    an inference pass).  Keeps ``out``.
    """

    forward_kernel, backward_kernel = ops.rrelu_forward, ops.rrelu_backward

    def __init__(self, lower: float = 1 / 8, upper: float = 1 / 3, seed: int | None = None) -> None:
        super().__init__()
        self.lower = _at_least("lower", lower, 0.0)
        self.upper = _at_least("upper", upper, 0.0)
        if self.lower > self.upper:
            raise ValueError(f"lower must be <= upper, got lower {lower} and upper {upper}")
        self.rng = np.random.default_rng(seed)
        self.kernel_seed: int | None = None

    @classmethod
    def for_width(cls, width: int, dtype: DTypeLike, rng: np.random.Generator) -> RReLU:
        return cls(seed=int(rng.integers(2**63)))

    @property
    def mean_slope(self) -> float:
        return (self.lower + self.upper) / 2

    def _forward(self, x: np.ndarray, train_flg: bool, keep_state: bool) -> np.ndarray:
        if train_flg:
            seed = int(self.rng.integers(0, 2**64, dtype=np.uint64))
            out = ops.rrelu_forward(x, self.lower, self.upper, seed)
        else:
            seed, out = None, ops.leaky_relu_forward(x, self.mean_slope)
        if keep_state:
            self.out, self.kernel_seed = out, seed
        return out

    def _backward(self, dout: np.ndarray) -> np.ndarray:
        if self.kernel_seed is None:  # after an inference pass: the mean slope
            return ops.leaky_relu_backward(dout, self.out, self.mean_slope)
        return ops.rrelu_backward(dout, self.out, self.lower, self.upper, self.kernel_seed)


#: The activation layers by the names networks accept for ``activation=``.
ACTIVATIONS: dict[str, type[Activation]] = {
    "relu": Relu,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "leaky_relu": LeakyReLU,
    "prelu": PReLU,
    "rrelu": RReLU,
    "relu6": ReLU6,
    "softplus": Softplus,
    "swish": Swish,
    "silu": SiLU,
    "gelu": GELU,
    "elu": ELU,
    "identity": Identity,
}


def activation_layer(name: str) -> type[Activation]:
    """The layer class of the activation called ``name`` (any case); ValueError listing the names."""
    try:
        return ACTIVATIONS[name.lower()]
    except (KeyError, AttributeError):
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}") from None
