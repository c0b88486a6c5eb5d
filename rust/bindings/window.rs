//! Reading sliding-window geometry (filter or pool size, stride, padding,
//! `input_shape` tuples) from Python arguments, as the NumPy reference
//! does: ints, not bools or floats (`TypeError`); geometry that does not fit
//! is a `ValueError` naming the shapes.

use pyo3::exceptions::PyOverflowError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyList, PyTuple};

use super::array::{fmt_shape, require_ndim, type_error, value_error};
use super::errors::geometry_error;
use crate::kernels::geometry::Window;

/// `value` as a size, or a `ValueError` when it is negative.
pub fn non_negative(name: &str, value: i64) -> PyResult<usize> {
    usize::try_from(value).map_err(|_| value_error(format!("{name} must be non-negative, got {value}")))
}

/// The checked geometry of a `fh x fw` window over the 4-d array `x_name` of `shape`.
pub fn window(x_name: &str, shape: &[usize], [fh, fw, stride, pad]: [Int; 4]) -> PyResult<Window> {
    require_ndim(x_name, shape, 4)?;
    let (fh, fw) = (
        non_negative("filter height", fh.0)?,
        non_negative("filter width", fw.0)?,
    );
    let (stride, pad) = (non_negative("stride", stride.0)?, non_negative("pad", pad.0)?);
    let input = [shape[0], shape[1], shape[2], shape[3]];
    Window::new(input, fh, fw, stride, pad).map_err(|e| geometry_error(e, x_name, shape))
}

/// An int argument (anything with `__index__` but bool), saturated to the
/// i64 range: a value beyond it fails the geometry checks, or (a huge
/// stride) gives the same single window as the true value.
#[derive(Clone, Copy, Debug)]
pub struct Int(pub i64);

impl<'a, 'py> FromPyObject<'a, 'py> for Int {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if obj.is_instance_of::<PyBool>() {
            return Err(type_error("expected an int, got bool"));
        }
        match obj.extract::<i64>() {
            Ok(v) => Ok(Int(v)),
            Err(e) if e.is_instance_of::<PyOverflowError>(obj.py()) => {
                Ok(Int(if obj.gt(0)? { i64::MAX } else { i64::MIN }))
            }
            Err(_) => {
                let ty = obj.get_type().name()?;
                Err(type_error(format!("expected an int, got {ty}")))
            }
        }
    }
}

/// `input_shape`: a tuple or list of 4 non-negative ints.
pub fn input_shape(obj: &Bound<'_, PyAny>) -> PyResult<[usize; 4]> {
    if !obj.is_instance_of::<PyTuple>() && !obj.is_instance_of::<PyList>() {
        let ty = obj.get_type().name()?;
        return Err(type_error(format!(
            "input_shape must be a tuple of 4 ints (N, C, H, W), got {ty}"
        )));
    }
    let dims = obj
        .try_iter()?
        .enumerate()
        .map(|(i, d)| {
            d?.extract::<Int>()
                .map(|v| v.0)
                .map_err(|e| type_error(format!("input_shape[{i}]: {}", e.value(obj.py()))))
        })
        .collect::<PyResult<Vec<i64>>>()?;
    match <[i64; 4]>::try_from(dims.as_slice()) {
        Ok(d) if d.iter().all(|&v| v >= 0) => Ok(d.map(|v| v as usize)),
        _ => Err(value_error(format!(
            "input_shape must be 4 non-negative ints (N, C, H, W), got {dims:?}"
        ))),
    }
}

/// A `ValueError` unless `got` is the `(n, channels, oh, ow)` output of `g`.
pub fn expect_output(name: &str, got: &[usize], g: &Window, channels: usize, source: &str) -> PyResult<()> {
    let want = [g.n, channels, g.oh, g.ow];
    if got != want {
        return Err(value_error(format!(
            "{name} must have shape {} for {source}, got {}",
            fmt_shape(&want),
            fmt_shape(got)
        )));
    }
    Ok(())
}
