//! Reading sliding-window geometry (filter or pool size, stride, padding,
//! `input_shape` tuples) from Python arguments, with `ValueError`s that
//! name the shapes.

use pyo3::prelude::*;

use super::array::{fmt_shape, require_ndim, value_error};
use crate::kernels::geometry::Window;

/// `value` as a size, or a `ValueError` when it is negative.
pub fn non_negative(name: &str, value: i64) -> PyResult<usize> {
    usize::try_from(value).map_err(|_| value_error(format!("{name} must be non-negative, got {value}")))
}

/// The checked geometry of a `fh x fw` window over the 4-d array `x_name` of `shape`.
pub fn window(x_name: &str, shape: &[usize], fh: i64, fw: i64, stride: i64, pad: i64) -> PyResult<Window> {
    require_ndim(x_name, shape, 4)?;
    let (fh, fw) = (non_negative("filter height", fh)?, non_negative("filter width", fw)?);
    let (stride, pad) = (non_negative("stride", stride)?, non_negative("pad", pad)?);
    let input = [shape[0], shape[1], shape[2], shape[3]];
    Window::new(input, fh, fw, stride, pad).map_err(|msg| value_error(msg.replace("of x", &format!("of {x_name}"))))
}

/// A Python `input_shape` of four non-negative ints.
pub fn input_shape(obj: &Bound<'_, PyAny>) -> PyResult<[usize; 4]> {
    let dims: Vec<i64> = obj
        .extract()
        .map_err(|_| value_error("input_shape must be a sequence of 4 ints (N, C, H, W)"))?;
    let dims: [i64; 4] = dims
        .try_into()
        .map_err(|d: Vec<i64>| value_error(format!("input_shape must have 4 entries (N, C, H, W), got {}", d.len())))?;
    let mut shape = [0usize; 4];
    for (s, d) in shape.iter_mut().zip(dims) {
        *s = non_negative("input_shape entries", d)?;
    }
    Ok(shape)
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
