"""The native kernels: thin re-exports of ``ferronet._native``.

Each function has the signature and semantics of its twin in
``ferronet.ops.reference``; argument checks, dtype dispatch and GIL release
happen in the Rust bindings (``rust/bindings``).
"""

from ferronet._native import (  # noqa: F401
    adadelta_step,
    adagrad_step,
    adam_step,
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
    huber_backward,
    huber_forward,
    im2col,
    kl_div_backward,
    kl_div_forward,
    l1_backward,
    l1_forward,
    matmul,
    max_pool_backward,
    max_pool_forward,
    momentum_step,
    mse_backward,
    mse_forward,
    nesterov_step,
    relu_backward,
    relu_forward,
    rmsprop_step,
    sgd_step,
    sigmoid_bce_backward,
    sigmoid_bce_forward,
    sigmoid_backward,
    sigmoid_forward,
    softmax,
    softmax_cross_entropy_backward,
    softmax_cross_entropy_forward,
)
