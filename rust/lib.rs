//! ferronet's native core: `kernels` is pure Rust; `bindings` (built with the
//! `python` feature) exposes them as the Python module `ferronet._native`.

pub mod kernels;

#[cfg(feature = "python")]
mod bindings;

#[cfg(feature = "python")]
#[pyo3::pymodule]
fn _native(m: &pyo3::Bound<'_, pyo3::types::PyModule>) -> pyo3::PyResult<()> {
    use bindings::{
        activation, augment, batchnorm, conv, dense, dropout, info, loss, optim, pooling, regularize, softmax,
    };
    use pyo3::prelude::*;

    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(info::set_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(info::get_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(info::max_threads, m)?)?;
    m.add_function(wrap_pyfunction!(info::simd_features, m)?)?;
    m.add_function(wrap_pyfunction!(info::simd_tier, m)?)?;
    m.add_function(wrap_pyfunction!(info::buffer_cache, m)?)?;
    m.add_function(wrap_pyfunction!(info::set_buffer_cache_limit, m)?)?;
    m.add_function(wrap_pyfunction!(info::release_buffers, m)?)?;
    m.add_function(wrap_pyfunction!(bindings::openblas::_openblas_callback_address, m)?)?;
    m.add_function(wrap_pyfunction!(bindings::openblas::_blas_gangs, m)?)?;
    m.add_class::<bindings::array::Buffer>()?;

    m.add_function(wrap_pyfunction!(dense::matmul, m)?)?;
    m.add_function(wrap_pyfunction!(dense::affine_forward_py, m)?)?;
    m.add_function(wrap_pyfunction!(dense::affine_backward_py, m)?)?;

    m.add_function(wrap_pyfunction!(activation::relu_forward, m)?)?;
    m.add_function(wrap_pyfunction!(activation::relu_backward, m)?)?;
    m.add_function(wrap_pyfunction!(activation::sigmoid_forward, m)?)?;
    m.add_function(wrap_pyfunction!(activation::sigmoid_backward, m)?)?;
    m.add_function(wrap_pyfunction!(activation::tanh_forward, m)?)?;
    m.add_function(wrap_pyfunction!(activation::tanh_backward, m)?)?;
    m.add_function(wrap_pyfunction!(activation::leaky_relu_forward, m)?)?;
    m.add_function(wrap_pyfunction!(activation::leaky_relu_backward, m)?)?;
    m.add_function(wrap_pyfunction!(activation::prelu_forward, m)?)?;
    m.add_function(wrap_pyfunction!(activation::prelu_backward, m)?)?;
    m.add_function(wrap_pyfunction!(activation::rrelu_forward, m)?)?;
    m.add_function(wrap_pyfunction!(activation::rrelu_backward, m)?)?;
    m.add_function(wrap_pyfunction!(activation::relu6_forward, m)?)?;
    m.add_function(wrap_pyfunction!(activation::relu6_backward, m)?)?;
    m.add_function(wrap_pyfunction!(activation::softplus_forward, m)?)?;
    m.add_function(wrap_pyfunction!(activation::softplus_backward, m)?)?;
    m.add_function(wrap_pyfunction!(activation::swish_forward, m)?)?;
    m.add_function(wrap_pyfunction!(activation::swish_backward, m)?)?;
    m.add_function(wrap_pyfunction!(activation::gelu_forward, m)?)?;
    m.add_function(wrap_pyfunction!(activation::gelu_backward, m)?)?;
    m.add_function(wrap_pyfunction!(activation::elu_forward, m)?)?;
    m.add_function(wrap_pyfunction!(activation::elu_backward, m)?)?;

    m.add_function(wrap_pyfunction!(softmax::softmax, m)?)?;
    m.add_function(wrap_pyfunction!(softmax::softmax_cross_entropy_forward, m)?)?;
    m.add_function(wrap_pyfunction!(softmax::softmax_cross_entropy_backward, m)?)?;
    m.add_function(wrap_pyfunction!(softmax::kl_div_forward, m)?)?;
    m.add_function(wrap_pyfunction!(softmax::kl_div_backward, m)?)?;

    m.add_function(wrap_pyfunction!(loss::mse_forward, m)?)?;
    m.add_function(wrap_pyfunction!(loss::mse_backward, m)?)?;
    m.add_function(wrap_pyfunction!(loss::l1_forward, m)?)?;
    m.add_function(wrap_pyfunction!(loss::l1_backward, m)?)?;
    m.add_function(wrap_pyfunction!(loss::huber_forward, m)?)?;
    m.add_function(wrap_pyfunction!(loss::huber_backward, m)?)?;
    m.add_function(wrap_pyfunction!(loss::sigmoid_bce_forward, m)?)?;
    m.add_function(wrap_pyfunction!(loss::sigmoid_bce_backward, m)?)?;

    m.add_function(wrap_pyfunction!(conv::im2col, m)?)?;
    m.add_function(wrap_pyfunction!(conv::col2im, m)?)?;
    m.add_function(wrap_pyfunction!(conv::conv_forward, m)?)?;
    m.add_function(wrap_pyfunction!(conv::conv_backward, m)?)?;

    m.add_function(wrap_pyfunction!(batchnorm::batchnorm_forward, m)?)?;
    m.add_function(wrap_pyfunction!(batchnorm::batchnorm_backward, m)?)?;

    m.add_function(wrap_pyfunction!(pooling::max_pool_forward, m)?)?;
    m.add_function(wrap_pyfunction!(pooling::max_pool_backward, m)?)?;
    m.add_function(wrap_pyfunction!(pooling::avg_pool_forward, m)?)?;
    m.add_function(wrap_pyfunction!(pooling::avg_pool_backward, m)?)?;

    m.add_function(wrap_pyfunction!(dropout::dropout_forward, m)?)?;
    m.add_function(wrap_pyfunction!(dropout::dropout_backward, m)?)?;

    m.add_function(wrap_pyfunction!(augment::affine_warp, m)?)?;
    m.add_function(wrap_pyfunction!(augment::erase_boxes, m)?)?;

    m.add_function(wrap_pyfunction!(optim::sgd_step, m)?)?;
    m.add_function(wrap_pyfunction!(optim::momentum_step, m)?)?;
    m.add_function(wrap_pyfunction!(optim::nesterov_step, m)?)?;
    m.add_function(wrap_pyfunction!(optim::adagrad_step, m)?)?;
    m.add_function(wrap_pyfunction!(optim::rmsprop_step, m)?)?;
    m.add_function(wrap_pyfunction!(optim::adadelta_step, m)?)?;
    m.add_function(wrap_pyfunction!(optim::adam_step, m)?)?;
    m.add_function(wrap_pyfunction!(optim::adamw_step, m)?)?;

    m.add_function(wrap_pyfunction!(regularize::sum_of_squares, m)?)?;
    m.add_function(wrap_pyfunction!(regularize::sum_of_abs, m)?)?;
    m.add_function(wrap_pyfunction!(regularize::l2_grad_step, m)?)?;
    m.add_function(wrap_pyfunction!(regularize::l1_grad_step, m)?)?;
    m.add_function(wrap_pyfunction!(regularize::scale_step, m)?)?;
    m.add_function(wrap_pyfunction!(regularize::max_norm_step, m)?)?;
    Ok(())
}
