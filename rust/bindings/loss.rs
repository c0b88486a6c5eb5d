//! Bindings for the element-wise losses: scores and targets of one shape
//! (any shape with at least one element) and one float dtype.

use pyo3::prelude::*;

use super::array::{common_dtype, fmt_shape, same_shape, value_error, Elem, Input, Output};
use super::call::{detached, dispatch};
use super::scalars::{positive, Real};
use crate::kernels::loss::{self as kernel, Elementwise};

/// One of the bindings: the kernel's loss, the function's name and its
/// scores' argument name (for messages).
#[derive(Clone, Copy)]
struct Which {
    loss: Elementwise,
    function: &'static str,
    y_name: &'static str,
}

impl Which {
    fn new(loss: Elementwise, function: &'static str, y_name: &'static str) -> Self {
        Which { loss, function, y_name }
    }

    /// `y` and `t` of one shape with at least one element (their dtype `T` already checked).
    fn inputs<'py, T: Elem>(
        self,
        y: &Bound<'py, PyAny>,
        t: &Bound<'py, PyAny>,
    ) -> PyResult<(Input<'py, T>, Input<'py, T>)> {
        let (y, t) = (Input::<T>::new(self.y_name, y)?, Input::<T>::new("t", t)?);
        same_shape(self.y_name, y.shape(), "t", t.shape())?;
        if y.shape().contains(&0) {
            return Err(value_error(format!(
                "{} needs at least one element, got shape {}",
                self.function,
                fmt_shape(y.shape())
            )));
        }
        Ok((y, t))
    }
}

fn forward<'py, T: Elem>(py: Python<'py>, which: Which, y: &Bound<'py, PyAny>, t: &Bound<'py, PyAny>) -> PyResult<f64> {
    let (y, t) = which.inputs::<T>(y, t)?;
    let (ys, ts) = (y.slice(), t.slice());
    Ok(detached(py, || kernel::forward(which.loss, ys, ts))??)
}

fn backward<'py, T: Elem>(
    py: Python<'py>,
    which: Which,
    y: &Bound<'py, PyAny>,
    t: &Bound<'py, PyAny>,
    dout: f64,
) -> PyResult<Bound<'py, PyAny>> {
    let (y, t) = which.inputs::<T>(y, t)?;
    let mut result = Output::<T>::try_new(py, y.shape())?;
    let dy = result.data();
    let (ys, ts) = (y.slice(), t.slice());
    detached(py, || kernel::backward(which.loss, ys, ts, dout, dy))??;
    Ok(result.into_any())
}

/// `mean((y - t)**2)` over every element.
#[pyfunction]
pub fn mse_forward<'py>(py: Python<'py>, y: &Bound<'py, PyAny>, t: &Bound<'py, PyAny>) -> PyResult<f64> {
    let which = Which::new(Elementwise::Squared, "mse_forward", "y");
    dispatch!(common_dtype(&[("y", y), ("t", t)])?, forward(py, which, y, t))
}

/// `dout * 2 (y - t) / y.size`.
#[pyfunction]
#[pyo3(signature = (y, t, dout=Real(1.0)), text_signature = "(y, t, dout=1.0)")]
pub fn mse_backward<'py>(
    py: Python<'py>,
    y: &Bound<'py, PyAny>,
    t: &Bound<'py, PyAny>,
    dout: Real,
) -> PyResult<Bound<'py, PyAny>> {
    let which = Which::new(Elementwise::Squared, "mse_backward", "y");
    dispatch!(common_dtype(&[("y", y), ("t", t)])?, backward(py, which, y, t, dout.0))
}

/// `mean(|y - t|)` over every element.
#[pyfunction]
pub fn l1_forward<'py>(py: Python<'py>, y: &Bound<'py, PyAny>, t: &Bound<'py, PyAny>) -> PyResult<f64> {
    let which = Which::new(Elementwise::Absolute, "l1_forward", "y");
    dispatch!(common_dtype(&[("y", y), ("t", t)])?, forward(py, which, y, t))
}

/// `dout * sign(y - t) / y.size`.
#[pyfunction]
#[pyo3(signature = (y, t, dout=Real(1.0)), text_signature = "(y, t, dout=1.0)")]
pub fn l1_backward<'py>(
    py: Python<'py>,
    y: &Bound<'py, PyAny>,
    t: &Bound<'py, PyAny>,
    dout: Real,
) -> PyResult<Bound<'py, PyAny>> {
    let which = Which::new(Elementwise::Absolute, "l1_backward", "y");
    dispatch!(common_dtype(&[("y", y), ("t", t)])?, backward(py, which, y, t, dout.0))
}

/// The mean Huber loss over every element (`delta` > 0).
#[pyfunction]
#[pyo3(signature = (y, t, delta=Real(1.0)), text_signature = "(y, t, delta=1.0)")]
pub fn huber_forward<'py>(py: Python<'py>, y: &Bound<'py, PyAny>, t: &Bound<'py, PyAny>, delta: Real) -> PyResult<f64> {
    let delta = positive("delta", delta)?;
    let which = Which::new(Elementwise::Huber { delta }, "huber_forward", "y");
    dispatch!(common_dtype(&[("y", y), ("t", t)])?, forward(py, which, y, t))
}

/// `dout * clip(y - t, -delta, delta) / y.size`.
#[pyfunction]
#[pyo3(signature = (y, t, delta=Real(1.0), dout=Real(1.0)), text_signature = "(y, t, delta=1.0, dout=1.0)")]
pub fn huber_backward<'py>(
    py: Python<'py>,
    y: &Bound<'py, PyAny>,
    t: &Bound<'py, PyAny>,
    delta: Real,
    dout: Real,
) -> PyResult<Bound<'py, PyAny>> {
    let delta = positive("delta", delta)?;
    let which = Which::new(Elementwise::Huber { delta }, "huber_backward", "y");
    dispatch!(common_dtype(&[("y", y), ("t", t)])?, backward(py, which, y, t, dout.0))
}

/// Mean binary cross-entropy of `sigmoid(x)` against probabilities `t`, over every element.
#[pyfunction]
pub fn sigmoid_bce_forward<'py>(py: Python<'py>, x: &Bound<'py, PyAny>, t: &Bound<'py, PyAny>) -> PyResult<f64> {
    let which = Which::new(Elementwise::SigmoidCrossEntropy, "sigmoid_bce_forward", "x");
    dispatch!(common_dtype(&[("x", x), ("t", t)])?, forward(py, which, x, t))
}

/// `dout * (sigmoid(x) - t) / x.size`.
#[pyfunction]
#[pyo3(signature = (x, t, dout=Real(1.0)), text_signature = "(x, t, dout=1.0)")]
pub fn sigmoid_bce_backward<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    t: &Bound<'py, PyAny>,
    dout: Real,
) -> PyResult<Bound<'py, PyAny>> {
    let which = Which::new(Elementwise::SigmoidCrossEntropy, "sigmoid_bce_backward", "x");
    dispatch!(common_dtype(&[("x", x), ("t", t)])?, backward(py, which, x, t, dout.0))
}
