"""``ferronet.ops.NAME(...)``: every kernel, dispatched on the active backend.

The layers, networks and optimizers call kernels only through this module,
so they all run on both backends.  ``ferronet.ops.reference`` is the NumPy
definition of each kernel; ``ferronet.ops.native`` the Rust one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ferronet.ops import reference

KERNELS = (
    "matmul",
    "affine_forward",
    "affine_backward",
    "relu_forward",
    "relu_backward",
    "sigmoid_forward",
    "sigmoid_backward",
    "softmax",
    "softmax_cross_entropy_forward",
    "softmax_cross_entropy_backward",
    "sgd_step",
    "momentum_step",
    "nesterov_step",
    "adagrad_step",
    "rmsprop_step",
    "adadelta_step",
    "adam_step",
    "im2col",
    "col2im",
    "conv_forward",
    "conv_backward",
    "max_pool_forward",
    "max_pool_backward",
    "avg_pool_forward",
    "avg_pool_backward",
    "batchnorm_forward",
    "batchnorm_backward",
    "dropout_forward",
    "dropout_backward",
)


def _dispatcher(name: str) -> Callable[..., Any]:
    from ferronet import backend

    @functools.wraps(getattr(reference, name))
    def dispatch(*args: Any, **kwargs: Any) -> Any:
        return getattr(backend.active_ops(), name)(*args, **kwargs)

    return dispatch


for _name in KERNELS:
    globals()[_name] = _dispatcher(_name)
del _name

__all__ = list(KERNELS)
