"""The native kernels: thin re-exports of ``ferronet._native``.

Each function has the signature and semantics of its twin in
``ferronet.ops.reference``; argument checks, dtype dispatch and GIL release
happen in the Rust bindings (``rust/bindings``).
"""

from ferronet._native import (  # noqa: F401
    # noqa: F401
    adadelta_step,
    adagrad_step,
    adam_step,
    adamw_step,
    affine_backward,
    affine_forward,
    avg_pool_backward,
    avg_pool_forward,
    batchnorm_backward,
    batchnorm_forward,
    col2im,
    conv_backward,
    conv_forward,
    dropout_backward,
    dropout_forward,
    im2col,
    l1_grad_step,
    l2_grad_step,
    matmul,
    max_norm_step,
    max_pool_backward,
    max_pool_forward,
    momentum_step,
    nesterov_step,
    relu_backward,
    relu_forward,
    rmsprop_step,
    scale_step,
    sgd_step,
    sigmoid_backward,
    sigmoid_forward,
    softmax,
    softmax_cross_entropy_backward,
    softmax_cross_entropy_forward,
    sum_of_abs,
    sum_of_squares,
)
