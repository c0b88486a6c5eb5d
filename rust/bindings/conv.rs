//! Bindings for im2col/col2im and the Convolution layer's kernels (NCHW).

use pyo3::prelude::*;

use super::array::{common_dtype, float_dtype, fmt_shape, require_ndim, value_error, Elem, Input, Output};
use super::call::{detached, dispatch};
use super::scalars::Flag;
use super::window::{expect_output, input_shape, window, Int};
use crate::kernels::geometry::Window;
use crate::kernels::{conv, im2col as unroll};

/// The book's im2col: x (N, C, H, W) -> col (N*oh*ow, C*fh*fw), same dtype.
#[pyfunction]
#[pyo3(signature = (x, filter_h, filter_w, stride=Int(1), pad=Int(0)), text_signature = "(x, filter_h, filter_w, stride=1, pad=0)")]
pub fn im2col<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    filter_h: Int,
    filter_w: Int,
    stride: Int,
    pad: Int,
) -> PyResult<Bound<'py, PyAny>> {
    dispatch!(
        float_dtype("x", x)?,
        im2col_typed(py, x, [filter_h, filter_w, stride, pad])
    )
}

fn im2col_typed<'py, T: Elem>(py: Python<'py>, x: &Bound<'py, PyAny>, geo: [Int; 4]) -> PyResult<Bound<'py, PyAny>> {
    let x = Input::<T>::new("x", x)?;
    let g = window("x", x.shape(), geo)?;
    let mut result = Output::<T>::try_new(py, &[g.n * g.out_plane(), g.patch()])?;
    let (col, xs) = (result.data(), x.slice());
    detached(py, || unroll::im2col(xs, &g, col))?;
    Ok(result.into_any())
}

/// The book's col2im: col (N*oh*ow, C*fh*fw) -> (N, C, H, W), overlaps summed.
#[pyfunction]
#[pyo3(signature = (col, input_shape, filter_h, filter_w, stride=Int(1), pad=Int(0)), text_signature = "(col, input_shape, filter_h, filter_w, stride=1, pad=0)")]
pub fn col2im<'py>(
    py: Python<'py>,
    col: &Bound<'py, PyAny>,
    input_shape: &Bound<'py, PyAny>,
    filter_h: Int,
    filter_w: Int,
    stride: Int,
    pad: Int,
) -> PyResult<Bound<'py, PyAny>> {
    dispatch!(
        float_dtype("col", col)?,
        col2im_typed(py, col, input_shape, [filter_h, filter_w, stride, pad])
    )
}

fn col2im_typed<'py, T: Elem>(
    py: Python<'py>,
    col: &Bound<'py, PyAny>,
    shape: &Bound<'py, PyAny>,
    geo: [Int; 4],
) -> PyResult<Bound<'py, PyAny>> {
    let col = Input::<T>::new("col", col)?;
    let shape = input_shape(shape)?;
    let g = window("input_shape", &shape, geo)?;
    let want = [g.n * g.out_plane(), g.patch()];
    if col.shape() != want {
        return Err(value_error(format!(
            "col must have shape {} for input_shape {} and a ({}, {}) filter, got {}",
            fmt_shape(&want),
            fmt_shape(&shape),
            g.fh,
            g.fw,
            fmt_shape(col.shape())
        )));
    }
    let mut result = Output::<T>::try_new(py, &shape)?;
    let (x, cs) = (result.data(), col.slice());
    detached(py, || unroll::col2im(cs, &g, x))?;
    Ok(result.into_any())
}

/// The geometry of `x` convolved with `w` (FN, C, FH, FW), channels checked.
fn conv_window(x: &[usize], w: &[usize], stride: Int, pad: Int) -> PyResult<Window> {
    require_ndim("x", x, 4)?;
    require_ndim("W", w, 4)?;
    if x[1] != w[1] {
        return Err(value_error(format!(
            "channel mismatch: x has shape {} ({} channels) but W has shape {} ({} channels)",
            fmt_shape(x),
            x[1],
            fmt_shape(w),
            w[1]
        )));
    }
    let filter = |size: usize| Int(size as i64);
    window("x", x, [filter(w[2]), filter(w[3]), stride, pad])
}

fn check_bias(b: &[usize], w: &[usize]) -> PyResult<()> {
    if b != [w[0]] {
        return Err(value_error(format!(
            "bias b must have shape ({},) to match W {}, got {}",
            w[0],
            fmt_shape(w),
            fmt_shape(b)
        )));
    }
    Ok(())
}

/// Convolution: x (N, C, H, W), W (FN, C, FH, FW), b (FN,) -> (N, FN, oh, ow).
#[pyfunction]
#[pyo3(signature = (x, W, b, stride=Int(1), pad=Int(0)), text_signature = "(x, W, b, stride=1, pad=0)")]
#[allow(non_snake_case)]
pub fn conv_forward<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    W: &Bound<'py, PyAny>,
    b: &Bound<'py, PyAny>,
    stride: Int,
    pad: Int,
) -> PyResult<Bound<'py, PyAny>> {
    dispatch!(
        common_dtype(&[("x", x), ("W", W), ("b", b)])?,
        conv_forward_typed(py, x, W, b, stride, pad)
    )
}

fn conv_forward_typed<'py, T: Elem>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    w: &Bound<'py, PyAny>,
    b: &Bound<'py, PyAny>,
    stride: Int,
    pad: Int,
) -> PyResult<Bound<'py, PyAny>> {
    let (x, w, b) = (
        Input::<T>::new("x", x)?,
        Input::<T>::new("W", w)?,
        Input::<T>::new("b", b)?,
    );
    let g = conv_window(x.shape(), w.shape(), stride, pad)?;
    check_bias(b.shape(), w.shape())?;
    let mut result = Output::<T>::try_new(py, &[g.n, w.shape()[0], g.oh, g.ow])?;
    let out = result.data();
    let (xs, ws, bs) = (x.slice(), w.slice(), b.slice());
    detached(py, || conv::conv_forward(xs, ws, bs, &g, out))??;
    Ok(result.into_any())
}

type Grads<'py> = (Option<Bound<'py, PyAny>>, Bound<'py, PyAny>, Bound<'py, PyAny>);

/// Gradients of the convolution: `(dx, dW, db)`, `dx` None unless `need_dx`.
#[pyfunction]
#[pyo3(signature = (dout, x, W, stride=Int(1), pad=Int(0), need_dx=Flag(true)), text_signature = "(dout, x, W, stride=1, pad=0, need_dx=True)")]
#[allow(non_snake_case)]
pub fn conv_backward<'py>(
    py: Python<'py>,
    dout: &Bound<'py, PyAny>,
    x: &Bound<'py, PyAny>,
    W: &Bound<'py, PyAny>,
    stride: Int,
    pad: Int,
    need_dx: Flag,
) -> PyResult<Grads<'py>> {
    let dtype = common_dtype(&[("dout", dout), ("x", x), ("W", W)])?;
    dispatch!(dtype, conv_backward_typed(py, dout, x, W, stride, pad, need_dx.0))
}

fn conv_backward_typed<'py, T: Elem>(
    py: Python<'py>,
    dout: &Bound<'py, PyAny>,
    x: &Bound<'py, PyAny>,
    w: &Bound<'py, PyAny>,
    stride: Int,
    pad: Int,
    need_dx: bool,
) -> PyResult<Grads<'py>> {
    let (dout, x, w) = (
        Input::<T>::new("dout", dout)?,
        Input::<T>::new("x", x)?,
        Input::<T>::new("W", w)?,
    );
    let g = conv_window(x.shape(), w.shape(), stride, pad)?;
    let filters = w.shape()[0];
    expect_output("dout", dout.shape(), &g, filters, "this convolution's output")?;
    let mut dx = need_dx.then(|| Output::<T>::try_new(py, x.shape())).transpose()?;
    let (mut dw, mut db) = (
        Output::<T>::try_new(py, w.shape())?,
        Output::<T>::try_new(py, &[filters])?,
    );
    let (dxs, dws, dbs) = (dx.as_mut().map(Output::data), dw.data(), db.data());
    let (gs, xs, ws) = (dout.slice(), x.slice(), w.slice());
    detached(py, || conv::conv_backward(gs, xs, ws, &g, dxs, dws, dbs))??;
    Ok((dx.map(Output::into_any), dw.into_any(), db.into_any()))
}
