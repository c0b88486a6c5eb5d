//! Bindings for the thread count and the build description.

use pyo3::prelude::*;

use super::array::{type_error, value_error};
use crate::kernels::{buffers, parallel, simd};

/// Use `n` threads in the native kernels: an int >= 1 (`TypeError` for
/// other types, bool included; `ValueError` below 1), capped at
/// [`max_threads`]. Returns the count in effect.
#[pyfunction]
pub fn set_num_threads(n: &Bound<'_, PyAny>) -> PyResult<usize> {
    if n.is_instance_of::<pyo3::types::PyBool>() || !n.hasattr("__index__")? {
        let ty = n.get_type().name()?;
        return Err(type_error(format!("the thread count must be an int, got {ty}")));
    }
    let n = n.call_method0("__index__")?;
    if n.lt(1)? {
        return Err(value_error(format!("the thread count must be at least 1, got {n}")));
    }
    // an int beyond usize is simply more than the cap
    let wanted = n.extract::<usize>().unwrap_or(usize::MAX);
    Ok(parallel::set_num_threads(wanted))
}

/// The most threads `set_num_threads` accepts on this machine (a few per CPU).
#[pyfunction]
pub fn max_threads() -> usize {
    parallel::max_threads()
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

/// The buffer cache (`kernels::buffers`): bytes kept for reuse now, the
/// most it keeps, and whether new outputs start as NaN (`FERRONET_POISON_OUTPUTS`).
#[pyfunction]
pub fn buffer_cache() -> (usize, usize, bool) {
    (buffers::kept_bytes(), buffers::limit(), super::array::poison_outputs())
}

/// Keep at most `max_bytes` of freed output arrays for reuse (0: none).
#[pyfunction]
pub fn set_buffer_cache_limit(max_bytes: usize) {
    buffers::set_limit(max_bytes)
}

/// Give every kept buffer back to the system; returns how many bytes that was.
#[pyfunction]
pub fn release_buffers() -> usize {
    buffers::release()
}
