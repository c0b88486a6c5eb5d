//! Bindings for dropout with a counter-based mask (see `kernels::dropout`),
//! with the NumPy reference's argument checks.

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt};

use super::array::{float_dtype, require_dtype, same_shape, type_error, value_error, Elem, Input, Output};
use super::call::{detached, dispatch};
use super::scalars::{seed64, Flag};
use crate::kernels::dropout as kernel;

/// A dropout ratio: an int or float (Python's or NumPy's, not bool) in [0, 1).
fn dropout_ratio(obj: &Bound<'_, PyAny>) -> PyResult<f64> {
    let number = if obj.is_instance_of::<PyBool>() {
        false
    } else if obj.is_instance_of::<PyFloat>() || obj.is_instance_of::<PyInt>() {
        true
    } else {
        let numpy = obj.py().import("numpy")?;
        !obj.is_instance(&numpy.getattr("bool_")?)?
            && (obj.is_instance(&numpy.getattr("integer")?)? || obj.is_instance(&numpy.getattr("floating")?)?)
    };
    if !number {
        let ty = obj.get_type().name()?;
        return Err(type_error(format!("dropout_ratio must be a float, got {ty}")));
    }
    let ratio: f64 = obj.extract()?;
    if !(0.0..1.0).contains(&ratio) {
        return Err(value_error(format!("dropout_ratio must lie in [0, 1), got {ratio:?}")));
    }
    Ok(ratio)
}

/// `(out, mask)`: mask bool like x; out = x * mask, or where(mask, x * scale, 0) when inverted.
#[pyfunction]
#[pyo3(signature = (x, dropout_ratio, seed, inverted=Flag(false)), text_signature = "(x, dropout_ratio, seed, inverted=False)")]
pub fn dropout_forward<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    dropout_ratio: &Bound<'py, PyAny>,
    seed: &Bound<'py, PyAny>,
    inverted: Flag,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    let inverted = inverted.0;
    let dtype = float_dtype("x", x)?;
    let (ratio, seed) = (self::dropout_ratio(dropout_ratio)?, seed64(seed)?);
    dispatch!(dtype, forward(py, x, ratio, seed, inverted))
}

fn forward<'py, T: Elem>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    ratio: f64,
    seed: u64,
    inverted: bool,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    let x = Input::<T>::new("x", x)?;
    let mut out = Output::<T>::try_new(py, x.shape())?;
    let mut mask = Output::<bool>::zeros(py, x.shape())?;
    let (xs, o, m) = (x.slice(), out.data(), mask.data());
    detached(py, || kernel::dropout_forward(xs, ratio, seed, inverted, o, m))?;
    Ok((out.into_any(), mask.into_any()))
}

/// `dout * mask`, or `where(mask, dout * scale, 0)` when inverted.
#[pyfunction]
#[pyo3(signature = (dout, mask, dropout_ratio, inverted=Flag(false)), text_signature = "(dout, mask, dropout_ratio, inverted=False)")]
pub fn dropout_backward<'py>(
    py: Python<'py>,
    dout: &Bound<'py, PyAny>,
    mask: &Bound<'py, PyAny>,
    dropout_ratio: &Bound<'py, PyAny>,
    inverted: Flag,
) -> PyResult<Bound<'py, PyAny>> {
    let inverted = inverted.0;
    dispatch!(
        float_dtype("dout", dout)?,
        backward(py, dout, mask, dropout_ratio, inverted)
    )
}

fn backward<'py, T: Elem>(
    py: Python<'py>,
    dout: &Bound<'py, PyAny>,
    mask: &Bound<'py, PyAny>,
    dropout_ratio: &Bound<'py, PyAny>,
    inverted: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let dout = Input::<T>::new("dout", dout)?;
    require_dtype::<bool>("mask", "bool", mask)?;
    // Read the mask's bytes as uint8: a bool array's bytes need not be 0 or 1
    // (views of other data), and Rust may only see 0/1 as bool.
    let bytes = mask.call_method1("view", (numpy::dtype::<u8>(py),))?;
    let mask = Input::<u8>::new("mask", &bytes)?;
    same_shape("dout", dout.shape(), "mask", mask.shape())?;
    let ratio = self::dropout_ratio(dropout_ratio)?;
    let mut dx = Output::<T>::try_new(py, dout.shape())?;
    let (gs, ms, d) = (dout.slice(), mask.slice(), dx.data());
    detached(py, || kernel::dropout_backward(gs, ms, ratio, inverted, d))?;
    Ok(dx.into_any())
}
