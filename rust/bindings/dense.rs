//! Bindings for matrix products and the Affine layer.

use numpy::PyUntypedArrayMethods;
use pyo3::prelude::*;

use super::array::{common_dtype, fmt_shape, in_place, require_ndim, value_error, Elem, Input, Output};
use super::call::{detached, dispatch};
use super::scalars::Flag;
use crate::kernels::{affine, matmul as mm};

/// op(a) @ op(b), op transposing when asked; into `out` when given.
#[pyfunction]
#[pyo3(signature = (a, b, trans_a=Flag(false), trans_b=Flag(false), out=None), text_signature = "(a, b, trans_a=False, trans_b=False, out=None)")]
pub fn matmul<'py>(
    py: Python<'py>,
    a: &Bound<'py, PyAny>,
    b: &Bound<'py, PyAny>,
    trans_a: Flag,
    trans_b: Flag,
    out: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (trans_a, trans_b) = (trans_a.0, trans_b.0);
    let mut arrays = vec![("a", a), ("b", b)];
    if let Some(out) = out {
        arrays.push(("out", out));
    }
    dispatch!(common_dtype(&arrays)?, matmul_typed(py, a, b, trans_a, trans_b, out))
}

fn matmul_typed<'py, T: Elem>(
    py: Python<'py>,
    a: &Bound<'py, PyAny>,
    b: &Bound<'py, PyAny>,
    trans_a: bool,
    trans_b: bool,
    out: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let a = Input::<T>::strided("a", a)?;
    let b = Input::<T>::strided("b", b)?;
    require_ndim("a", a.shape(), 2)?;
    require_ndim("b", b.shape(), 2)?;
    let lhs = if trans_a { a.matrix().t() } else { a.matrix() };
    let rhs = if trans_b { b.matrix().t() } else { b.matrix() };
    if lhs.cols() != rhs.rows() {
        return Err(value_error(format!(
            "matmul shape mismatch: op(a) has shape {} and op(b) has shape {}",
            fmt_shape(&[lhs.rows(), lhs.cols()]),
            fmt_shape(&[rhs.rows(), rhs.cols()])
        )));
    }
    let shape = [lhs.rows(), rhs.cols()];
    match out {
        Some(out_obj) => {
            let mut out = in_place::<T>("out", out_obj)?;
            if out.shape() != shape {
                return Err(value_error(format!(
                    "out must have shape {}, got {}",
                    fmt_shape(&shape),
                    fmt_shape(out.shape())
                )));
            }
            let dst = out.as_slice_mut().expect("checked C-contiguous");
            detached(py, || mm::matmul(lhs, rhs, dst, false))?;
            Ok(out_obj.clone())
        }
        None => {
            let mut result = Output::<T>::try_new(py, &shape)?;
            let dst = result.data();
            detached(py, || mm::matmul(lhs, rhs, dst, false))?;
            Ok(result.into_any())
        }
    }
}

/// `x @ W + b` with the bias as the GEMM's starting accumulator.
#[pyfunction]
#[pyo3(name = "affine_forward", signature = (x, W, b))]
#[allow(non_snake_case)]
pub fn affine_forward_py<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    W: &Bound<'py, PyAny>,
    b: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    dispatch!(
        common_dtype(&[("x", x), ("W", W), ("b", b)])?,
        affine_forward_typed(py, x, W, b)
    )
}

fn check_affine(x: &[usize], w: &[usize]) -> PyResult<()> {
    require_ndim("x", x, 2)?;
    require_ndim("W", w, 2)?;
    if x[1] != w[0] {
        return Err(value_error(format!(
            "affine shape mismatch: x has shape {} but W has shape {}",
            fmt_shape(x),
            fmt_shape(w)
        )));
    }
    Ok(())
}

fn affine_forward_typed<'py, T: Elem>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    w: &Bound<'py, PyAny>,
    b: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let (x, w, b) = (
        Input::<T>::new("x", x)?,
        Input::<T>::new("W", w)?,
        Input::<T>::new("b", b)?,
    );
    check_affine(x.shape(), w.shape())?;
    let (n, d, m) = (x.shape()[0], x.shape()[1], w.shape()[1]);
    if b.shape() != [m] {
        return Err(value_error(format!(
            "bias b must have shape ({m},) to match W {}, got {}",
            fmt_shape(w.shape()),
            fmt_shape(b.shape())
        )));
    }
    let mut result = Output::<T>::try_new(py, &[n, m])?;
    let out = result.data();
    let (xs, ws, bs) = (x.slice(), w.slice(), b.slice());
    detached(py, || affine::affine_forward(xs, ws, bs, out, n, d, m))?;
    Ok(result.into_any())
}

/// Gradients of the Affine layer: `(dx, dW, db)`, `dx` None unless `need_dx`.
#[pyfunction]
#[pyo3(name = "affine_backward", signature = (dout, x, W, need_dx=Flag(true)), text_signature = "(dout, x, W, need_dx=True)")]
#[allow(non_snake_case)]
pub fn affine_backward_py<'py>(
    py: Python<'py>,
    dout: &Bound<'py, PyAny>,
    x: &Bound<'py, PyAny>,
    W: &Bound<'py, PyAny>,
    need_dx: Flag,
) -> PyResult<Grads<'py>> {
    let need_dx = need_dx.0;
    dispatch!(
        common_dtype(&[("dout", dout), ("x", x), ("W", W)])?,
        affine_backward_typed(py, dout, x, W, need_dx)
    )
}

type Grads<'py> = (Option<Bound<'py, PyAny>>, Bound<'py, PyAny>, Bound<'py, PyAny>);

fn affine_backward_typed<'py, T: Elem>(
    py: Python<'py>,
    dout: &Bound<'py, PyAny>,
    x: &Bound<'py, PyAny>,
    w: &Bound<'py, PyAny>,
    need_dx: bool,
) -> PyResult<Grads<'py>> {
    let (dout, x, w) = (
        Input::<T>::new("dout", dout)?,
        Input::<T>::new("x", x)?,
        Input::<T>::new("W", w)?,
    );
    check_affine(x.shape(), w.shape())?;
    require_ndim("dout", dout.shape(), 2)?;
    let (n, d, m) = (x.shape()[0], x.shape()[1], w.shape()[1]);
    if dout.shape() != [n, m] {
        return Err(value_error(format!(
            "dout must have shape {} (x {} @ W {}), got {}",
            fmt_shape(&[n, m]),
            fmt_shape(x.shape()),
            fmt_shape(w.shape()),
            fmt_shape(dout.shape())
        )));
    }
    let mut dx = if need_dx {
        Some(Output::<T>::try_new(py, &[n, d])?)
    } else {
        None
    };
    let (mut dw, mut db) = (Output::<T>::try_new(py, &[d, m])?, Output::<T>::try_new(py, &[m])?);
    let (dxs, dws, dbs) = (dx.as_mut().map(Output::data), dw.data(), db.data());
    let (gs, xs, ws) = (dout.slice(), x.slice(), w.slice());
    detached(py, || affine::affine_backward(gs, xs, ws, dxs, dws, dbs, n, d, m))?;
    Ok((dx.map(Output::into_any), dw.into_any(), db.into_any()))
}
