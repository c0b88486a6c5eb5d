//! Bindings for the element-wise activations (any shape).

use pyo3::prelude::*;

use super::array::{common_dtype, float_dtype, same_shape, Elem, Input, Output};
use super::call::{detached, dispatch};
use crate::kernels::activation;

type Unary<T> = fn(&[T], &mut [T]);
type Binary<T> = fn(&[T], &[T], &mut [T]);

fn unary<'py, T: Elem>(py: Python<'py>, x: &Bound<'py, PyAny>, kernel: Unary<T>) -> PyResult<Bound<'py, PyAny>> {
    let x = Input::<T>::new("x", x)?;
    let mut result = Output::<T>::try_new(py, x.shape())?;
    let out = result.data();
    let xs = x.slice();
    detached(py, || kernel(xs, out))?;
    Ok(result.into_any())
}

fn backward<'py, T: Elem>(
    py: Python<'py>,
    dout: &Bound<'py, PyAny>,
    y: &Bound<'py, PyAny>,
    kernel: Binary<T>,
) -> PyResult<Bound<'py, PyAny>> {
    let (dout, y) = (Input::<T>::new("dout", dout)?, Input::<T>::new("y", y)?);
    same_shape("dout", dout.shape(), "y", y.shape())?;
    let mut result = Output::<T>::try_new(py, dout.shape())?;
    let out = result.data();
    let (gs, ys) = (dout.slice(), y.slice());
    detached(py, || kernel(gs, ys, out))?;
    Ok(result.into_any())
}

/// `max(x, 0)`.
#[pyfunction]
pub fn relu_forward<'py>(py: Python<'py>, x: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    dispatch!(float_dtype("x", x)?, unary(py, x, activation::relu_forward))
}

/// `dout * (y > 0)`; `dout` is not modified.
#[pyfunction]
pub fn relu_backward<'py>(
    py: Python<'py>,
    dout: &Bound<'py, PyAny>,
    y: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    dispatch!(
        common_dtype(&[("dout", dout), ("y", y)])?,
        backward(py, dout, y, activation::relu_backward)
    )
}

/// `1 / (1 + exp(-x))`, overflow-free.
#[pyfunction]
pub fn sigmoid_forward<'py>(py: Python<'py>, x: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    dispatch!(float_dtype("x", x)?, unary(py, x, activation::sigmoid_forward))
}

/// `dout * y * (1 - y)`.
#[pyfunction]
pub fn sigmoid_backward<'py>(
    py: Python<'py>,
    dout: &Bound<'py, PyAny>,
    y: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    dispatch!(
        common_dtype(&[("dout", dout), ("y", y)])?,
        backward(py, dout, y, activation::sigmoid_backward)
    )
}
