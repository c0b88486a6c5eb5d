//! Kernel errors as Python exceptions, in one place.
//!
//! * [`KernelError::OutOfMemory`] -> `MemoryError`
//! * [`KernelError::TooLarge`] and geometry that does not fit -> `ValueError`
//! * [`KernelError::Interrupted`] -> the exception the signal handler raised
//!   (`KeyboardInterrupt` for Ctrl-C), see [`crate::bindings::run`]
//! * [`NotProbabilities`] (targets outside [0, 1] where a loss needs probabilities) -> `ValueError`

use pyo3::exceptions::{PyKeyboardInterrupt, PyMemoryError};
use pyo3::PyErr;

use super::array::{fmt_shape, value_error};
use crate::kernels::error::KernelError;
use crate::kernels::geometry::GeometryError;
use crate::kernels::loss::NotProbabilities;

/// A geometry error about the 4-d array (or `input_shape` tuple) `what` of `shape`.
pub fn geometry_error(e: GeometryError, what: &str, shape: &[usize]) -> PyErr {
    let shape = fmt_shape(shape);
    let msg = match e {
        GeometryError::WindowTooLarge { fh, fw, ph, pw } => {
            format!("window ({fh}, {fw}) is larger than the padded input ({ph}, {pw}) of {what} with shape {shape}")
        }
        GeometryError::TooLarge => {
            format!("the arrays for {what} with shape {shape} and this window would be too large")
        }
        GeometryError::PadOverflow { pad } => format!("pad {pad} is too large for {what} with shape {shape}"),
        other => format!("{other} ({what} has shape {shape})"),
    };
    value_error(msg)
}

impl From<KernelError> for PyErr {
    fn from(e: KernelError) -> Self {
        match e {
            KernelError::OutOfMemory { .. } => PyMemoryError::new_err(e.to_string()),
            KernelError::Interrupted => PyKeyboardInterrupt::new_err("interrupted"),
            KernelError::TooLarge { .. } | KernelError::Geometry(_) => value_error(e.to_string()),
        }
    }
}

impl From<NotProbabilities> for PyErr {
    fn from(e: NotProbabilities) -> Self {
        value_error(format!(
            "targets must be probabilities in [0, 1], got min {:?} max {:?}",
            e.min, e.max
        ))
    }
}
