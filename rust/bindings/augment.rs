//! Bindings for the data-augmentation kernels (NCHW batches), with the NumPy
//! reference's checks: the batched affine warp (`kernels::warp`) and random
//! erasing's boxes (`kernels::erase`).
//!
//! * `x` float32/float64 and 4-d; `matrices` of x's dtype, shape `(N, 2, 3)`
//!   and finite; `boxes` int64 of shape `(N, 4)` -> else `TypeError` (dtype)
//!   or `ValueError` naming both shapes
//! * `fill` and `value`: real numbers (`TypeError`), finite (`ValueError`)
//! * erasing's `out`: x's dtype (`TypeError`), shape, C-contiguous and
//!   writeable, and `x` itself or not overlapping it (`ValueError`)

use numpy::PyUntypedArrayMethods;
use pyo3::prelude::*;

use super::array::{
    common_dtype, exact_input, fmt_shape, in_place, require_ndim, same_shape, value_error, Elem, Input, Output,
};
use super::call::{detached, detached_in_place, dispatch};
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

/// `x (N, C, H, W)` with rows `top..bottom`, columns `left..right` of every
/// plane of image n set to `value`, for `boxes[n] = [top, left, bottom, right]`
/// (int64, clipped to the image): in a new array, or written into `out`
/// (`out=x`: in place).
#[pyfunction]
#[pyo3(signature = (x, boxes, value = Real(0.0), out = None), text_signature = "(x, boxes, value=0.0, out=None)")]
pub fn erase_boxes<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    boxes: &Bound<'py, PyAny>,
    value: Real,
    out: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let mut arrays = vec![("x", x)];
    arrays.extend(out.map(|o| ("out", o)));
    let dtype = common_dtype(&arrays)?;
    let boxes = exact_input::<i64>("boxes", "int64", boxes)?;
    let value = finite("value", value)?;
    dispatch!(dtype, erase_images(py, x, boxes, value, out))
}

fn erase_images<'py, T: Elem>(
    py: Python<'py>,
    x_obj: &Bound<'py, PyAny>,
    boxes: Input<'py, i64>,
    value: f64,
    out: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let value = T::from_f64(value);
    let bs = boxes.slice();
    let Some(out_obj) = out else {
        let x = Input::<T>::new("x", x_obj)?;
        let img = images(x.shape())?;
        one_per_image("boxes", boxes.shape(), &[BOX], x.shape())?;
        let mut result = Output::<T>::try_new(py, x.shape())?;
        let (xs, o) = (x.slice(), result.data());
        detached(py, || erase::erase_boxes(xs, img, bs, value, o))?;
        return Ok(result.into_any());
    };
    if out_obj.is(x_obj) {
        let mut target = in_place::<T>("out", out_obj)?;
        let img = images(target.shape())?;
        one_per_image("boxes", boxes.shape(), &[BOX], target.shape())?;
        let data = target.as_slice_mut().expect("in_place arrays are C-contiguous");
        detached_in_place(py, || erase::erase_boxes_in_place(data, img, bs, value));
        return Ok(out_obj.clone());
    }
    let numpy = py.import("numpy")?;
    if numpy.call_method1("may_share_memory", (x_obj, out_obj))?.is_truthy()? {
        return Err(value_error("out overlaps x: pass out=x itself to erase in place"));
    }
    let x = Input::<T>::new("x", x_obj)?;
    let img = images(x.shape())?;
    one_per_image("boxes", boxes.shape(), &[BOX], x.shape())?;
    let mut target = in_place::<T>("out", out_obj)?;
    same_shape("out", target.shape(), "x", x.shape())?;
    let (xs, o) = (
        x.slice(),
        target.as_slice_mut().expect("in_place arrays are C-contiguous"),
    );
    detached_in_place(py, || erase::erase_boxes(xs, img, bs, value, o));
    Ok(out_obj.clone())
}
