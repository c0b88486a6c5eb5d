//! Running a kernel: the dtype chosen once, the GIL released, Ctrl-C honoured.

use std::sync::Mutex;

use pyo3::exceptions::PyKeyboardInterrupt;
use pyo3::prelude::*;

use crate::kernels::parallel;

/// Call the generic `$f::<T>(args)` for the element type of `dtype` (an
/// [`Dtype`](super::array::Dtype)): the one place a binding turns a NumPy
/// dtype into a Rust type.
macro_rules! dispatch {
    ($dtype:expr, $f:ident ( $($arg:expr),* $(,)? )) => {
        match $dtype {
            $crate::bindings::array::Dtype::F32 => $f::<f32>($($arg),*),
            $crate::bindings::array::Dtype::F64 => $f::<f64>($($arg),*),
        }
    };
}
pub(crate) use dispatch;

/// Run `work` (a kernel writing fresh outputs) without the GIL. A call that
/// lasts longer than [`parallel::POLL_EVERY`] runs Python's signal handlers
/// between chunks; when one raises (`KeyboardInterrupt` on Ctrl-C) the
/// kernel stops early and that exception is returned (the partial outputs
/// are dropped by the caller).
pub fn detached<R: Send>(py: Python<'_>, work: impl FnOnce() -> R + Send) -> PyResult<R> {
    let raised: Mutex<Option<PyErr>> = Mutex::new(None);
    let poll = || {
        Python::attach(|py| match py.check_signals() {
            Ok(()) => false,
            Err(e) => {
                *raised.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
                true
            }
        })
    };
    match py.detach(|| parallel::interruptible(&poll, work)) {
        Some(result) => Ok(result),
        None => Err(raised
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .unwrap_or_else(|| PyKeyboardInterrupt::new_err("interrupted"))),
    }
}

/// Run `work` (a kernel updating arrays in place: optimizer steps, running
/// statistics) without the GIL and without interruption, so an update is
/// never left half done.
pub fn detached_in_place<R: Send>(py: Python<'_>, work: impl FnOnce() -> R + Send) -> R {
    py.detach(work)
}
