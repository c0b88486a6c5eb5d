//! Reading scalar arguments the way the NumPy reference does, so both
//! backends reject the same things with the same exception:
//!
//! * [`Real`]: an int or float (Python or NumPy), not a bool or a string -> else `TypeError`
//! * [`Flag`]: a bool (Python or NumPy), not an int -> else `TypeError`
//! * [`finite`]: NaN and infinity -> `ValueError`
//! * [`positive`]: finite and > 0, else `ValueError`
//! * [`seed64`]: an int in [0, 2**64) -> else `TypeError` (not an int) or `ValueError`

use pyo3::exceptions::PyOverflowError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyString};

use super::array::{type_error, value_error};

fn type_name(obj: &Borrowed<'_, '_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

fn is_numpy_bool(obj: &Borrowed<'_, '_, PyAny>) -> bool {
    let ty = obj.get_type();
    let module = ty.module().map(|m| m.to_string()).unwrap_or_default();
    module == "numpy" && type_name(obj).starts_with("bool")
}

/// A real-number argument: int or float, Python or NumPy.
#[derive(Clone, Copy, Debug)]
pub struct Real(pub f64);

impl<'a, 'py> FromPyObject<'a, 'py> for Real {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let refuse = || type_error(format!("expected a real number, got {}", type_name(&obj)));
        if obj.is_instance_of::<PyBool>() || obj.is_instance_of::<PyString>() || is_numpy_bool(&obj) {
            return Err(refuse());
        }
        obj.extract::<f64>().map(Real).map_err(|_| refuse())
    }
}

/// A bool argument: Python's or NumPy's bool, never an int.
#[derive(Clone, Copy, Debug)]
pub struct Flag(pub bool);

impl<'a, 'py> FromPyObject<'a, 'py> for Flag {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if obj.is_instance_of::<PyBool>() || is_numpy_bool(&obj) {
            return obj.is_truthy().map(Flag);
        }
        Err(type_error(format!("expected a bool, got {}", type_name(&obj))))
    }
}

/// `value` unless it is NaN or infinite (`ValueError` naming `name`).
pub fn finite(name: &str, value: Real) -> PyResult<f64> {
    if value.0.is_finite() {
        Ok(value.0)
    } else {
        Err(value_error(format!("{name} must be finite, got {}", value.0)))
    }
}

/// [`finite`], and > 0 (`ValueError` naming `name` otherwise).
pub fn positive(name: &str, value: Real) -> PyResult<f64> {
    let value = finite(name, value)?;
    if value > 0.0 {
        Ok(value)
    } else {
        Err(value_error(format!("{name} must be > 0, got {value}")))
    }
}

/// A seed: an int (or NumPy integer, not bool) in [0, 2**64).
pub fn seed64(obj: &Bound<'_, PyAny>) -> PyResult<u64> {
    let not_int = || -> PyResult<PyErr> {
        let ty = obj.get_type().name()?;
        Ok(type_error(format!("seed must be an int, got {ty}")))
    };
    if obj.is_instance_of::<PyBool>() {
        return Err(not_int()?);
    }
    match obj.extract::<u64>() {
        Ok(v) => Ok(v),
        Err(e) if e.is_instance_of::<PyOverflowError>(obj.py()) => {
            Err(value_error(format!("seed must lie in [0, 2**64), got {}", obj.str()?)))
        }
        Err(_) => Err(not_int()?),
    }
}
