//! Bindings for the thread count and the build description.

use pyo3::prelude::*;

use super::array::value_error;
use crate::kernels::{parallel, simd};

/// Use `n` (>= 1) threads in the native kernels.
#[pyfunction]
pub fn set_num_threads(n: usize) -> PyResult<()> {
    if n == 0 {
        return Err(value_error("the thread count must be at least 1, got 0"));
    }
    parallel::set_num_threads(n);
    Ok(())
}

/// Threads the native kernels may use.
#[pyfunction]
pub fn get_num_threads() -> usize {
    parallel::num_threads()
}

/// SIMD extensions found on this CPU at run time.
#[pyfunction]
pub fn simd_features() -> Vec<&'static str> {
    simd::detected_features()
}

/// The instruction set ferronet's element-wise kernels use on this CPU.
#[pyfunction]
pub fn simd_tier() -> &'static str {
    simd::active_tier()
}
