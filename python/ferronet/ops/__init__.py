"""``ferronet.ops.NAME(...)``: every kernel, dispatched on the active backend.

The layers, networks and optimizers call kernels only through this module,
so they all run on both backends.  ``ferronet.ops.reference`` is the NumPy
definition of each kernel (one module per family, named like the Rust
bindings); ``ferronet.ops.native`` the Rust one.  Each name below has the
signature and docstring of its reference twin; which twin runs is decided
per call by :func:`ferronet.backend.get_backend`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING

from ferronet import backend
from ferronet.ops import reference

try:
    from ferronet.ops import native
except ImportError:  # the compiled core is missing; ``backend`` already warned
    native = None  # type: ignore[assignment]

if TYPE_CHECKING:  # each kernel keeps its reference twin's signature for type checkers
    from typing import TypeVar

    from typing_extensions import ParamSpec

    P = ParamSpec("P")
    R = TypeVar("R")

_MODULES: dict[str, ModuleType | None] = {"numpy": reference, "native": native}


def implementation() -> ModuleType:
    """The module whose kernels run right now: ``ops.reference`` or ``ops.native``."""
    module = _MODULES[backend.get_backend()]
    assert module is not None, "backend.set_backend refuses 'native' without the native core"
    return module


def _dispatched(twin: Callable[P, R]) -> Callable[P, R]:
    """A kernel that runs ``twin`` on the NumPy backend and its native namesake on the native one."""
    name = twin.__name__
    versions = {"numpy": twin, "native": getattr(native, name, None)}

    @functools.wraps(twin)
    def kernel(*args: P.args, **kwargs: P.kwargs) -> R:
        return versions[backend.get_backend()](*args, **kwargs)  # type: ignore[misc]

    return kernel


# dense algebra (rust/bindings/dense.rs)
matmul = _dispatched(reference.matmul)
affine_forward = _dispatched(reference.affine_forward)
affine_backward = _dispatched(reference.affine_backward)
# activations (activation.rs)
relu_forward = _dispatched(reference.relu_forward)
relu_backward = _dispatched(reference.relu_backward)
sigmoid_forward = _dispatched(reference.sigmoid_forward)
sigmoid_backward = _dispatched(reference.sigmoid_backward)
tanh_forward = _dispatched(reference.tanh_forward)
tanh_backward = _dispatched(reference.tanh_backward)
leaky_relu_forward = _dispatched(reference.leaky_relu_forward)
leaky_relu_backward = _dispatched(reference.leaky_relu_backward)
prelu_forward = _dispatched(reference.prelu_forward)
prelu_backward = _dispatched(reference.prelu_backward)
rrelu_forward = _dispatched(reference.rrelu_forward)
rrelu_backward = _dispatched(reference.rrelu_backward)
relu6_forward = _dispatched(reference.relu6_forward)
relu6_backward = _dispatched(reference.relu6_backward)
softplus_forward = _dispatched(reference.softplus_forward)
softplus_backward = _dispatched(reference.softplus_backward)
swish_forward = _dispatched(reference.swish_forward)
swish_backward = _dispatched(reference.swish_backward)
gelu_forward = _dispatched(reference.gelu_forward)
gelu_backward = _dispatched(reference.gelu_backward)
elu_forward = _dispatched(reference.elu_forward)
elu_backward = _dispatched(reference.elu_backward)
# softmax and the fused softmax losses (softmax.rs)
softmax = _dispatched(reference.softmax)
softmax_cross_entropy_forward = _dispatched(reference.softmax_cross_entropy_forward)
softmax_cross_entropy_backward = _dispatched(reference.softmax_cross_entropy_backward)
kl_div_forward = _dispatched(reference.kl_div_forward)
kl_div_backward = _dispatched(reference.kl_div_backward)
# element-wise losses (loss.rs)
mse_forward = _dispatched(reference.mse_forward)
mse_backward = _dispatched(reference.mse_backward)
l1_forward = _dispatched(reference.l1_forward)
l1_backward = _dispatched(reference.l1_backward)
huber_forward = _dispatched(reference.huber_forward)
huber_backward = _dispatched(reference.huber_backward)
sigmoid_bce_forward = _dispatched(reference.sigmoid_bce_forward)
sigmoid_bce_backward = _dispatched(reference.sigmoid_bce_backward)
# optimizer steps (optim.rs)
sgd_step = _dispatched(reference.sgd_step)
momentum_step = _dispatched(reference.momentum_step)
nesterov_step = _dispatched(reference.nesterov_step)
adagrad_step = _dispatched(reference.adagrad_step)
rmsprop_step = _dispatched(reference.rmsprop_step)
adadelta_step = _dispatched(reference.adadelta_step)
adam_step = _dispatched(reference.adam_step)
adamw_step = _dispatched(reference.adamw_step)
# weight penalties, their gradients, gradient scaling, max-norm (regularize.rs)
sum_of_squares = _dispatched(reference.sum_of_squares)
sum_of_abs = _dispatched(reference.sum_of_abs)
l2_grad_step = _dispatched(reference.l2_grad_step)
l1_grad_step = _dispatched(reference.l1_grad_step)
scale_step = _dispatched(reference.scale_step)
max_norm_step = _dispatched(reference.max_norm_step)
# im2col / col2im and convolution (conv.rs)
im2col = _dispatched(reference.im2col)
col2im = _dispatched(reference.col2im)
conv_forward = _dispatched(reference.conv_forward)
conv_backward = _dispatched(reference.conv_backward)
# pooling (pooling.rs)
max_pool_forward = _dispatched(reference.max_pool_forward)
max_pool_backward = _dispatched(reference.max_pool_backward)
avg_pool_forward = _dispatched(reference.avg_pool_forward)
avg_pool_backward = _dispatched(reference.avg_pool_backward)
# batch normalization (batchnorm.rs)
batchnorm_forward = _dispatched(reference.batchnorm_forward)
batchnorm_backward = _dispatched(reference.batchnorm_backward)
# dropout (dropout.rs)
dropout_forward = _dispatched(reference.dropout_forward)
dropout_backward = _dispatched(reference.dropout_backward)
# data augmentation: the batched affine warp, random erasing's boxes (augment.rs)
affine_warp = _dispatched(reference.affine_warp)
erase_boxes = _dispatched(reference.erase_boxes)

#: Every kernel's name, in the order above.
KERNELS = (
    "matmul", "affine_forward", "affine_backward",
    "relu_forward", "relu_backward", "sigmoid_forward", "sigmoid_backward", "tanh_forward", "tanh_backward",
    "leaky_relu_forward", "leaky_relu_backward", "prelu_forward", "prelu_backward", "rrelu_forward", "rrelu_backward",
    "relu6_forward", "relu6_backward", "softplus_forward", "softplus_backward", "swish_forward", "swish_backward",
    "gelu_forward", "gelu_backward", "elu_forward", "elu_backward",
    "softmax", "softmax_cross_entropy_forward", "softmax_cross_entropy_backward", "kl_div_forward", "kl_div_backward",
    "mse_forward", "mse_backward", "l1_forward", "l1_backward", "huber_forward", "huber_backward",
    "sigmoid_bce_forward", "sigmoid_bce_backward",
    "sgd_step", "momentum_step", "nesterov_step", "adagrad_step", "rmsprop_step", "adadelta_step", "adam_step",
    "adamw_step",
    "sum_of_squares", "sum_of_abs", "l2_grad_step", "l1_grad_step", "scale_step", "max_norm_step",
    "im2col", "col2im", "conv_forward", "conv_backward",
    "max_pool_forward", "max_pool_backward", "avg_pool_forward", "avg_pool_backward",
    "batchnorm_forward", "batchnorm_backward",
    "dropout_forward", "dropout_backward",
    "affine_warp", "erase_boxes",
)

__all__ = ["KERNELS", "implementation", *KERNELS]
