//! Bindings for the data-augmentation kernels (NCHW batches), with the NumPy
//! reference's checks: the batched affine warp (`kernels::warp`) and random
//! erasing's boxes (`kernels::erase`).
//!
//! * `x` float32/float64 and 4-d; `matrices` of x's dtype, shape `(N, 2, 3)`
//!   and finite; `boxes` int64 of shape `(N, 4)` -> else `TypeError` (dtype)
//!   or `ValueError` naming both shapes
//! * `fill` and `value`: real numbers (`TypeError`), finite (`ValueError`)

use pyo3::prelude::*;

use super::array::{common_dtype, exact_input, float_dtype, fmt_shape, require_ndim, value_error, Elem, Input, Output};
use super::call::{detached, dispatch};
use super::scalars::{finite, Real};
use crate::kernels::erase::{self, BOX};
use crate::kernels::images::Images;
use crate::kernels::warp::{self, MATRIX};

/// The images of the 4-d `x`.
fn images(shape: &[usize]) -> PyResult<Images> {
    require_ndim("x", shape, 4)?;
    Ok(Images::new([shape[0], shape[1], shape[2], shape[3]]))
}

/// A `ValueError` unless `shape` (of the argument `name`) is `(N, rest...)`
/// for x of shape `x`: one entry per image.
fn one_per_image(name: &str, shape: &[usize], rest: &[usize], x: &[usize]) -> PyResult<()> {
    let want: Vec<usize> = [x[0]].iter().chain(rest).copied().collect();
    if shape != want {
        return Err(value_error(format!(
            "{name} must have shape {} (one per image of x with shape {}), got shape {}",
            fmt_shape(&want),
            fmt_shape(x),
            fmt_shape(shape)
        )));
    }
    Ok(())
}

/// Warp each image of `x (N, C, H, W)` by its matrix `(N, 2, 3)` (output
/// pixel centre -> input point), bilinear sampling, `fill` outside.
#[pyfunction]
#[pyo3(signature = (x, matrices, fill = Real(0.0)), text_signature = "(x, matrices, fill=0.0)")]
pub fn affine_warp<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    matrices: &Bound<'py, PyAny>,
    fill: Real,
) -> PyResult<Bound<'py, PyAny>> {
    let dtype = common_dtype(&[("x", x), ("matrices", matrices)])?;
    let fill = finite("fill", fill)?;
    dispatch!(dtype, warp_images(py, x, matrices, fill))
}

fn warp_images<'py, T: Elem>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    matrices: &Bound<'py, PyAny>,
    fill: f64,
) -> PyResult<Bound<'py, PyAny>> {
    let x = Input::<T>::new("x", x)?;
    let img = images(x.shape())?;
    let matrices = Input::<T>::new("matrices", matrices)?;
    one_per_image("matrices", matrices.shape(), &[2, 3], x.shape())?;
    let ms = matrices.slice();
    if let Some(bad) = ms
        .chunks_exact(MATRIX)
        .position(|m| m.iter().any(|v| !v.to_f64().is_finite()))
    {
        return Err(value_error(format!(
            "matrices must be finite, got {:?} for image {bad}",
            ms[bad * MATRIX..][..MATRIX]
                .iter()
                .map(|v| v.to_f64())
                .collect::<Vec<_>>()
        )));
    }
    let mut out = Output::<T>::try_new(py, x.shape())?;
    let (xs, o) = (x.slice(), out.data());
    detached(py, || warp::affine_warp(xs, img, ms, T::from_f64(fill), o))??;
    Ok(out.into_any())
}

/// A copy of `x (N, C, H, W)` with rows `top..bottom`, columns
/// `left..right` of every plane of image n set to `value`, for
/// `boxes[n] = [top, left, bottom, right]` (int64, clipped to the image).
#[pyfunction]
#[pyo3(signature = (x, boxes, value = Real(0.0)), text_signature = "(x, boxes, value=0.0)")]
pub fn erase_boxes<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    boxes: &Bound<'py, PyAny>,
    value: Real,
) -> PyResult<Bound<'py, PyAny>> {
    let dtype = float_dtype("x", x)?;
    let boxes = exact_input::<i64>("boxes", "int64", boxes)?;
    let value = finite("value", value)?;
    dispatch!(dtype, erase_images(py, x, boxes, value))
}

fn erase_images<'py, T: Elem>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    boxes: Input<'py, i64>,
    value: f64,
) -> PyResult<Bound<'py, PyAny>> {
    let x = Input::<T>::new("x", x)?;
    let img = images(x.shape())?;
    one_per_image("boxes", boxes.shape(), &[BOX], x.shape())?;
    let mut out = Output::<T>::try_new(py, x.shape())?;
    let (xs, bs, o) = (x.slice(), boxes.slice(), out.data());
    detached(py, || erase::erase_boxes(xs, img, bs, T::from_f64(value), o))?;
    Ok(out.into_any())
}
