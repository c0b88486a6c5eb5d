//! Bindings for softmax, the fused softmax-cross-entropy and the fused KL divergence.

use numpy::{PyArrayDescrMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::prelude::*;

use super::array::{
    common_dtype, float_dtype, fmt_shape, labels, require_ndim, same_shape, type_error, value_error, Elem, Input,
    Output,
};
use super::call::{detached, dispatch};
use super::scalars::Real;
use crate::kernels::softmax::{self as kernel, Targets};

/// Row-wise softmax of a 1-d or 2-d array.
#[pyfunction]
pub fn softmax<'py>(py: Python<'py>, x: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    dispatch!(float_dtype("x", x)?, softmax_typed(py, x))
}

fn softmax_typed<'py, T: Elem>(py: Python<'py>, x: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let x = Input::<T>::new("x", x)?;
    if !(1..=2).contains(&x.shape().len()) {
        return Err(value_error(format!(
            "softmax expects a 1-d or 2-d array, got shape {}",
            fmt_shape(x.shape())
        )));
    }
    let cols = *x.shape().last().expect("1-d or 2-d");
    if cols == 0 {
        return Err(value_error(format!(
            "softmax needs at least one class (a non-empty last axis), got shape {}",
            fmt_shape(x.shape())
        )));
    }
    let mut result = Output::<T>::try_new(py, x.shape())?;
    let out = result.data();
    let xs = x.slice();
    detached(py, || kernel::softmax(xs, out, cols))?;
    Ok(result.into_any())
}

/// Targets as read from Python: labels as i64, or a borrowed one-hot array.
enum PyTargets<'py, T: Elem> {
    Labels(Vec<i64>),
    OneHot(Input<'py, T>),
}

impl<'py, T: Elem> PyTargets<'py, T> {
    /// Read `t` for the logits/probabilities `x` (N, C) of dtype `T`.
    fn read(x_name: &str, x_obj: &Bound<'py, PyAny>, shape: &[usize], t: &Bound<'py, PyAny>) -> PyResult<Self> {
        let kind = t
            .cast::<PyUntypedArray>()
            .map(|a| (a.ndim() == 2, a.dtype().kind() == b'f'));
        match kind {
            Ok((true, true)) => {
                common_dtype(&[(x_name, x_obj), ("t", t)])?;
                let onehot = Input::<T>::new("t", t)?;
                same_shape(x_name, shape, "t", onehot.shape())?;
                Ok(Self::OneHot(onehot))
            }
            Ok((true, false)) => Err(type_error(format!(
                "one-hot targets must have the logits' dtype, got {}",
                t.getattr("dtype")?.str()?
            ))),
            _ => Ok(Self::Labels(labels(t, shape[0], shape[1])?)),
        }
    }

    fn view(&self) -> Targets<'_, T> {
        match self {
            Self::Labels(l) => Targets::Labels(l),
            Self::OneHot(o) => Targets::OneHot(o.slice()),
        }
    }
}

/// `(loss, y)`: exact mean cross-entropy of softmax(x) against t, and softmax(x).
#[pyfunction]
pub fn softmax_cross_entropy_forward<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    t: &Bound<'py, PyAny>,
) -> PyResult<(f64, Bound<'py, PyAny>)> {
    dispatch!(float_dtype("x", x)?, sce_forward(py, x, t))
}

fn sce_forward<'py, T: Elem>(
    py: Python<'py>,
    x_obj: &Bound<'py, PyAny>,
    t: &Bound<'py, PyAny>,
) -> PyResult<(f64, Bound<'py, PyAny>)> {
    let x = Input::<T>::new("x", x_obj)?;
    require_ndim("x", x.shape(), 2)?;
    let targets = PyTargets::<T>::read("x", x_obj, x.shape(), t)?;
    let (n, c) = (x.shape()[0], x.shape()[1]);
    if n == 0 || c == 0 {
        return Err(value_error(format!(
            "softmax_cross_entropy_forward needs at least one row and one class, got shape {}",
            fmt_shape(x.shape())
        )));
    }
    let mut result = Output::<T>::try_new(py, &[n, c])?;
    let y = result.data();
    let (xs, tv) = (x.slice(), targets.view());
    let loss = detached(py, || kernel::softmax_cross_entropy_forward(xs, tv, y, c))?;
    Ok((loss, result.into_any()))
}

/// `dout * (y - t) / N`.
#[pyfunction]
#[pyo3(signature = (y, t, dout=Real(1.0)), text_signature = "(y, t, dout=1.0)")]
pub fn softmax_cross_entropy_backward<'py>(
    py: Python<'py>,
    y: &Bound<'py, PyAny>,
    t: &Bound<'py, PyAny>,
    dout: Real,
) -> PyResult<Bound<'py, PyAny>> {
    let dout = dout.0;
    dispatch!(float_dtype("y", y)?, sce_backward(py, y, t, dout))
}

fn sce_backward<'py, T: Elem>(
    py: Python<'py>,
    y_obj: &Bound<'py, PyAny>,
    t: &Bound<'py, PyAny>,
    dout: f64,
) -> PyResult<Bound<'py, PyAny>> {
    let y = Input::<T>::new("y", y_obj)?;
    require_ndim("y", y.shape(), 2)?;
    let targets = PyTargets::<T>::read("y", y_obj, y.shape(), t)?;
    let (n, c) = (y.shape()[0], y.shape()[1]);
    if n == 0 || c == 0 {
        return Err(value_error(format!(
            "softmax_cross_entropy_backward needs at least one row and one class, got shape {}",
            fmt_shape(y.shape())
        )));
    }
    let mut result = Output::<T>::try_new(py, y.shape())?;
    let dx = result.data();
    let (ys, tv) = (y.slice(), targets.view());
    detached(py, || kernel::softmax_cross_entropy_backward(ys, tv, dout, dx, c))?;
    Ok(result.into_any())
}

/// Logits `x` (N, C) and target distributions `t` of its shape and dtype, at least one row and one class.
fn kl_inputs<'py, T: Elem>(
    what: &str,
    x_name: &str,
    x: &Bound<'py, PyAny>,
    t: &Bound<'py, PyAny>,
) -> PyResult<(Input<'py, T>, Input<'py, T>)> {
    let (x, t) = (Input::<T>::new(x_name, x)?, Input::<T>::new("t", t)?);
    require_ndim(x_name, x.shape(), 2)?;
    same_shape(x_name, x.shape(), "t", t.shape())?;
    if x.shape().contains(&0) {
        return Err(value_error(format!(
            "{what} needs at least one row and one class, got shape {}",
            fmt_shape(x.shape())
        )));
    }
    Ok((x, t))
}

/// `(loss, y)`: the mean over rows of KL(t || softmax(x)), and softmax(x).
#[pyfunction]
pub fn kl_div_forward<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    t: &Bound<'py, PyAny>,
) -> PyResult<(f64, Bound<'py, PyAny>)> {
    dispatch!(common_dtype(&[("x", x), ("t", t)])?, kl_forward(py, x, t))
}

fn kl_forward<'py, T: Elem>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    t: &Bound<'py, PyAny>,
) -> PyResult<(f64, Bound<'py, PyAny>)> {
    let (x, t) = kl_inputs::<T>("kl_div_forward", "x", x, t)?;
    let c = x.shape()[1];
    let mut result = Output::<T>::try_new(py, x.shape())?;
    let y = result.data();
    let (xs, ts) = (x.slice(), t.slice());
    let loss = detached(py, || kernel::kl_div_forward(xs, ts, y, c))??;
    Ok((loss, result.into_any()))
}

/// `dout * (y * t.sum(axis=1) - t) / N`.
#[pyfunction]
#[pyo3(signature = (y, t, dout=Real(1.0)), text_signature = "(y, t, dout=1.0)")]
pub fn kl_div_backward<'py>(
    py: Python<'py>,
    y: &Bound<'py, PyAny>,
    t: &Bound<'py, PyAny>,
    dout: Real,
) -> PyResult<Bound<'py, PyAny>> {
    dispatch!(common_dtype(&[("y", y), ("t", t)])?, kl_backward(py, y, t, dout.0))
}

fn kl_backward<'py, T: Elem>(
    py: Python<'py>,
    y: &Bound<'py, PyAny>,
    t: &Bound<'py, PyAny>,
    dout: f64,
) -> PyResult<Bound<'py, PyAny>> {
    let (y, t) = kl_inputs::<T>("kl_div_backward", "y", y, t)?;
    let c = y.shape()[1];
    let mut result = Output::<T>::try_new(py, y.shape())?;
    let dx = result.data();
    let (ys, ts) = (y.slice(), t.slice());
    detached(py, || kernel::kl_div_backward(ys, ts, dout, dx, c))??;
    Ok(result.into_any())
}
