"""The NumPy oracle: one function per native kernel, with the same signature.

Every function here is the definition of what its native twin in
``ferronet._native`` computes; the tests compare the two.  All functions take
float32 or float64 arrays and never change their dtype (no silent casting).
Functions ending in ``_step`` update their first array(s) in place and return
``None``, exactly like the native optimizer and regularization kernels; ``batchnorm_forward``
in training mode also updates its running statistics in place.  Image
kernels use the NCHW layout (the augmentation kernels too); dropout masks come from a counter-based hash of
(seed, flat index), so both backends draw identical masks.

The kernels live in one module per family, named like the Rust bindings
(``rust/bindings/<family>.rs``); they are all re-exported here.
"""

from ferronet.ops.reference.dense import matmul, affine_forward, affine_backward
from ferronet.ops.reference.activation import (elu_backward, elu_forward, gelu_backward, gelu_forward,
                                              leaky_relu_backward, leaky_relu_forward, prelu_backward, prelu_forward,
                                              relu6_backward, relu6_forward, relu_backward, relu_forward,
                                              rrelu_backward, rrelu_forward, sigmoid_backward, sigmoid_forward,
                                              softplus_backward, softplus_forward, swish_backward, swish_forward,
                                              tanh_backward, tanh_forward)
from ferronet.ops.reference.softmax import (kl_div_backward, kl_div_forward, softmax, softmax_cross_entropy_backward,
                                           softmax_cross_entropy_forward)
from ferronet.ops.reference.loss import (huber_backward, huber_forward, l1_backward, l1_forward, mse_backward,
                                        mse_forward, sigmoid_bce_backward, sigmoid_bce_forward)
from ferronet.ops.reference.optim import (adadelta_step, adagrad_step, adam_step, adamw_step, momentum_step,
                                         nesterov_step, rmsprop_step, sgd_step)
from ferronet.ops.reference.regularize import (l1_grad_step, l2_grad_step, max_norm_step, scale_step, sum_of_abs,
                                              sum_of_squares)
from ferronet.ops.reference.conv import im2col, col2im, conv_forward, conv_backward
from ferronet.ops.reference.pooling import max_pool_forward, max_pool_backward, avg_pool_forward, avg_pool_backward
from ferronet.ops.reference.batchnorm import batchnorm_forward, batchnorm_backward
from ferronet.ops.reference.dropout import dropout_forward, dropout_backward
from ferronet.ops.reference.augment import affine_warp, erase_boxes

__all__ = [
    "adadelta_step",
    "adagrad_step",
    "adam_step",
    "adamw_step",
    "affine_backward",
    "affine_forward",
    "affine_warp",
    "avg_pool_backward",
    "avg_pool_forward",
    "batchnorm_backward",
    "batchnorm_forward",
    "col2im",
    "conv_backward",
    "conv_forward",
    "dropout_backward",
    "dropout_forward",
    "elu_backward",
    "erase_boxes",
    "elu_forward",
    "gelu_backward",
    "gelu_forward",
    "huber_backward",
    "huber_forward",
    "im2col",
    "kl_div_backward",
    "kl_div_forward",
    "l1_backward",
    "l1_forward",
    "l1_grad_step",
    "l2_grad_step",
    "leaky_relu_backward",
    "leaky_relu_forward",
    "matmul",
    "max_norm_step",
    "max_pool_backward",
    "max_pool_forward",
    "momentum_step",
    "mse_backward",
    "mse_forward",
    "nesterov_step",
    "prelu_backward",
    "prelu_forward",
    "relu6_backward",
    "relu6_forward",
    "relu_backward",
    "relu_forward",
    "rmsprop_step",
    "rrelu_backward",
    "rrelu_forward",
    "scale_step",
    "sgd_step",
    "sigmoid_backward",
    "sigmoid_bce_backward",
    "sigmoid_bce_forward",
    "sigmoid_forward",
    "softmax",
    "softmax_cross_entropy_backward",
    "softmax_cross_entropy_forward",
    "softplus_backward",
    "softplus_forward",
    "sum_of_abs",
    "sum_of_squares",
    "swish_backward",
    "swish_forward",
    "tanh_backward",
    "tanh_forward",
]
