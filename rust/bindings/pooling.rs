//! Bindings for max and average pooling (NCHW), with the NumPy reference's
//! argument checks: sizes, strides and pads are ints (`TypeError` for floats
//! and bools); geometry that does not fit is a `ValueError` naming the shape.

use pyo3::prelude::*;

use super::array::{exact_input, float_dtype, fmt_shape, require_ndim, same_shape, value_error, Elem, Input, Output};
use super::call::{detached, dispatch};
use super::errors::geometry_error;
use super::window::{input_shape, Int};
use crate::kernels::geometry::Window;
use crate::kernels::pooling as kernel;

/// The checked geometry of a `pool_h x pool_w` window over the NCHW `shape`
/// (`what` names the array or tuple it came from), with the NumPy
/// reference's checks and messages.
fn geometry(what: &str, shape: &[usize], pool_h: Int, pool_w: Int, stride: Int, pad: Int) -> PyResult<Window> {
    require_ndim(what, shape, 4)?;
    let (ph, pw, stride, pad) = (pool_h.0, pool_w.0, stride.0, pad.0);
    if stride < 1 {
        return Err(value_error(format!("stride must be >= 1, got {stride}")));
    }
    if pad < 0 {
        return Err(value_error(format!("pad must be >= 0, got {pad}")));
    }
    if ph < 1 || pw < 1 {
        return Err(value_error(format!(
            "pool size must be at least (1, 1), got ({ph}, {pw})"
        )));
    }
    let input = [shape[0], shape[1], shape[2], shape[3]];
    Window::pooling(input, ph as usize, pw as usize, stride as usize, pad as usize)
        .map_err(|e| geometry_error(e, what, shape))
}

/// `(N, C, oh, ow)`.
fn out_shape(g: &Window) -> [usize; 4] {
    [g.n, g.c, g.oh, g.ow]
}

/// Max pooling: `(out, argmax)`, argmax an int32 flat index into each H*W plane.
#[pyfunction]
#[pyo3(
    signature = (x, pool_h, pool_w, stride = Int(2), pad = Int(0)),
    text_signature = "(x, pool_h, pool_w, stride=2, pad=0)"
)]
pub fn max_pool_forward<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    pool_h: Int,
    pool_w: Int,
    stride: Int,
    pad: Int,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    let window = [pool_h, pool_w, stride, pad];
    dispatch!(float_dtype("x", x)?, max_forward(py, x, window))
}

fn max_forward<'py, T: Elem>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    [pool_h, pool_w, stride, pad]: [Int; 4],
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    let x = Input::<T>::new("x", x)?;
    let g = geometry("x", x.shape(), pool_h, pool_w, stride, pad)?;
    let shape = out_shape(&g);
    let mut out = Output::<T>::try_new(py, &shape)?;
    let mut argmax = Output::<i32>::try_new(py, &shape)?;
    let (xs, o, a) = (x.slice(), out.data(), argmax.data());
    detached(py, || kernel::max_pool_forward(xs, &g, o, a))?;
    Ok((out.into_any(), argmax.into_any()))
}

/// `dx = 0; dx[n, c].flat[argmax] += dout` (overlapping windows add up).
#[pyfunction]
pub fn max_pool_backward<'py>(
    py: Python<'py>,
    dout: &Bound<'py, PyAny>,
    argmax: &Bound<'py, PyAny>,
    input_shape: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    dispatch!(float_dtype("dout", dout)?, max_backward(py, dout, argmax, input_shape))
}

fn max_backward<'py, T: Elem>(
    py: Python<'py>,
    dout: &Bound<'py, PyAny>,
    argmax_obj: &Bound<'py, PyAny>,
    input_shape_obj: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let shape = input_shape(input_shape_obj)?;
    let dout = Input::<T>::new("dout", dout)?;
    require_ndim("dout", dout.shape(), 4)?;
    if dout.shape()[..2] != shape[..2] {
        return Err(value_error(format!(
            "dout has shape {} but input_shape {} has a different (N, C)",
            fmt_shape(dout.shape()),
            fmt_shape(&shape)
        )));
    }
    let argmax = exact_input::<i32>("argmax", "int32", argmax_obj)?;
    same_shape("argmax", argmax.shape(), "dout", dout.shape())?;
    let mut dx = Output::<T>::try_new(py, &shape)?;
    let (gs, ks, d) = (dout.slice(), argmax.slice(), dx.data());
    let planes = shape[0]
        .checked_mul(shape[1])
        .ok_or_else(|| value_error(format!("input_shape {} is too large", fmt_shape(&shape))))?;
    if !detached(py, || kernel::max_pool_backward(gs, ks, planes, d))? {
        let (lo, hi) = (ks.iter().min().copied(), ks.iter().max().copied());
        return Err(value_error(format!(
            "argmax values out of range: expected [0, {}), got min {} max {}",
            shape[2] as u128 * shape[3] as u128,
            lo.unwrap_or(0),
            hi.unwrap_or(0)
        )));
    }
    Ok(dx.into_any())
}

/// Average pooling with zero padding counted (divides by `pool_h * pool_w`).
#[pyfunction]
#[pyo3(
    signature = (x, pool_h, pool_w, stride = Int(2), pad = Int(0)),
    text_signature = "(x, pool_h, pool_w, stride=2, pad=0)"
)]
pub fn avg_pool_forward<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    pool_h: Int,
    pool_w: Int,
    stride: Int,
    pad: Int,
) -> PyResult<Bound<'py, PyAny>> {
    let window = [pool_h, pool_w, stride, pad];
    dispatch!(float_dtype("x", x)?, avg_forward(py, x, window))
}

fn avg_forward<'py, T: Elem>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    [pool_h, pool_w, stride, pad]: [Int; 4],
) -> PyResult<Bound<'py, PyAny>> {
    let x = Input::<T>::new("x", x)?;
    let g = geometry("x", x.shape(), pool_h, pool_w, stride, pad)?;
    let mut out = Output::<T>::try_new(py, &out_shape(&g))?;
    let (xs, o) = (x.slice(), out.data());
    detached(py, || kernel::avg_pool_forward(xs, &g, o))?;
    Ok(out.into_any())
}

/// The gradient of average pooling: each window spreads `dout / (pool_h*pool_w)`.
#[pyfunction]
#[pyo3(
    signature = (dout, input_shape, pool_h, pool_w, stride = Int(2), pad = Int(0)),
    text_signature = "(dout, input_shape, pool_h, pool_w, stride=2, pad=0)"
)]
pub fn avg_pool_backward<'py>(
    py: Python<'py>,
    dout: &Bound<'py, PyAny>,
    input_shape: &Bound<'py, PyAny>,
    pool_h: Int,
    pool_w: Int,
    stride: Int,
    pad: Int,
) -> PyResult<Bound<'py, PyAny>> {
    let window = [pool_h, pool_w, stride, pad];
    dispatch!(float_dtype("dout", dout)?, avg_backward(py, dout, input_shape, window))
}

fn avg_backward<'py, T: Elem>(
    py: Python<'py>,
    dout: &Bound<'py, PyAny>,
    input_shape_obj: &Bound<'py, PyAny>,
    [pool_h, pool_w, stride, pad]: [Int; 4],
) -> PyResult<Bound<'py, PyAny>> {
    let shape = input_shape(input_shape_obj)?;
    let g = geometry("input_shape", &shape, pool_h, pool_w, stride, pad)?;
    let dout = Input::<T>::new("dout", dout)?;
    let want = out_shape(&g);
    if dout.shape() != want {
        return Err(value_error(format!(
            "dout must have shape {} (pooling output of input_shape {}), got shape {}",
            fmt_shape(&want),
            fmt_shape(&shape),
            fmt_shape(dout.shape())
        )));
    }
    let mut dx = Output::<T>::try_new(py, &shape)?;
    let (gs, d) = (dout.slice(), dx.data());
    detached(py, || kernel::avg_pool_backward(gs, &g, d))?;
    Ok(dx.into_any())
}
