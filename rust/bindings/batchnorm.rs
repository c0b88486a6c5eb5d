//! Bindings for batch normalization over (N, C) or (N, C, H, W) arrays,
//! statistics per channel C.

use numpy::PyUntypedArrayMethods;
use pyo3::prelude::*;

use super::array::{common_dtype, fmt_shape, in_place, per_channel, same_shape, value_error, Elem, Input, Output};
use super::call::{detached, detached_in_place, dispatch};
use super::scalars::{finite, Flag, Real};
use crate::kernels::batchnorm::{self as kernel, Layout, Running};

/// The `(n, c, s)` layout of a 2-d or 4-d `x`.
fn layout(shape: &[usize]) -> PyResult<Layout> {
    match *shape {
        [n, c] => Ok(Layout { n, c, s: 1 }),
        [n, c, h, w] => Ok(Layout { n, c, s: h * w }),
        _ => Err(value_error(format!(
            "batch normalization expects x of shape (N, C) or (N, C, H, W), got {}",
            fmt_shape(shape)
        ))),
    }
}

/// Batch statistics need at least one value per channel.
fn needs_samples(l: Layout, shape: &[usize]) -> PyResult<()> {
    if l.count() == 0 {
        return Err(value_error(format!(
            "batch statistics need at least one value per channel; x has shape {}",
            fmt_shape(shape)
        )));
    }
    Ok(())
}

type Forward<'py> = (Bound<'py, PyAny>, Bound<'py, PyAny>, Bound<'py, PyAny>);

/// Batch normalization forward: `(out, mean, inv_std)`; in training the
/// running statistics are updated in place.
#[pyfunction]
#[pyo3(
    signature = (x, gamma, beta, running_mean, running_var, train=Flag(true), momentum=Real(0.9), eps=Real(1e-6)),
    text_signature = "(x, gamma, beta, running_mean, running_var, train=True, momentum=0.9, eps=1e-6)"
)]
#[allow(clippy::too_many_arguments)]
pub fn batchnorm_forward<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    gamma: &Bound<'py, PyAny>,
    beta: &Bound<'py, PyAny>,
    running_mean: &Bound<'py, PyAny>,
    running_var: &Bound<'py, PyAny>,
    train: Flag,
    momentum: Real,
    eps: Real,
) -> PyResult<Forward<'py>> {
    let (train, momentum, eps) = (train.0, finite("momentum", momentum)?, finite("eps", eps)?);
    let arrays = [
        ("x", x),
        ("gamma", gamma),
        ("beta", beta),
        ("running_mean", running_mean),
        ("running_var", running_var),
    ];
    let args = (x, gamma, beta, running_mean, running_var);
    dispatch!(common_dtype(&arrays)?, forward_typed(py, args, train, momentum, eps))
}

type Args<'a, 'py> = (
    &'a Bound<'py, PyAny>,
    &'a Bound<'py, PyAny>,
    &'a Bound<'py, PyAny>,
    &'a Bound<'py, PyAny>,
    &'a Bound<'py, PyAny>,
);

fn forward_typed<'py, T: Elem>(
    py: Python<'py>,
    (x, gamma, beta, running_mean, running_var): Args<'_, 'py>,
    train: bool,
    momentum: f64,
    eps: f64,
) -> PyResult<Forward<'py>> {
    let (x, gamma, beta) = (
        Input::<T>::new("x", x)?,
        Input::<T>::new("gamma", gamma)?,
        Input::<T>::new("beta", beta)?,
    );
    let l = layout(x.shape())?;
    per_channel("gamma", gamma.shape(), l.c, x.shape())?;
    per_channel("beta", beta.shape(), l.c, x.shape())?;
    let mut out = Output::<T>::try_new(py, x.shape())?;
    let (mut mean, mut inv_std) = (Output::<T>::try_new(py, &[l.c])?, Output::<T>::try_new(py, &[l.c])?);
    let (xs, gs, bs) = (x.slice(), gamma.slice(), beta.slice());
    let (os, ms, ss) = (out.data(), mean.data(), inv_std.data());
    if train {
        needs_samples(l, x.shape())?;
        let mut rm = in_place::<T>("running_mean", running_mean)?;
        let mut rv = in_place::<T>("running_var", running_var)?;
        per_channel("running_mean", rm.shape(), l.c, x.shape())?;
        per_channel("running_var", rv.shape(), l.c, x.shape())?;
        let running = Running {
            mean: rm.as_slice_mut().expect("checked C-contiguous"),
            var: rv.as_slice_mut().expect("checked C-contiguous"),
            momentum,
        };
        detached_in_place(py, || kernel::forward_train(xs, gs, bs, l, eps, running, os, ms, ss));
    } else {
        let rm = Input::<T>::new("running_mean", running_mean)?;
        let rv = Input::<T>::new("running_var", running_var)?;
        per_channel("running_mean", rm.shape(), l.c, x.shape())?;
        per_channel("running_var", rv.shape(), l.c, x.shape())?;
        let (rms, rvs) = (rm.slice(), rv.slice());
        detached(py, || kernel::forward_eval(xs, gs, bs, l, eps, rms, rvs, os, ms, ss))?;
    }
    Ok((out.into_any(), mean.into_any(), inv_std.into_any()))
}

/// Batch normalization backward (training mode): `(dx, dgamma, dbeta)`.
#[pyfunction]
pub fn batchnorm_backward<'py>(
    py: Python<'py>,
    dout: &Bound<'py, PyAny>,
    x: &Bound<'py, PyAny>,
    gamma: &Bound<'py, PyAny>,
    mean: &Bound<'py, PyAny>,
    inv_std: &Bound<'py, PyAny>,
) -> PyResult<Forward<'py>> {
    let arrays = [
        ("dout", dout),
        ("x", x),
        ("gamma", gamma),
        ("mean", mean),
        ("inv_std", inv_std),
    ];
    dispatch!(
        common_dtype(&arrays)?,
        backward_typed(py, (dout, x, gamma, mean, inv_std))
    )
}

fn backward_typed<'py, T: Elem>(
    py: Python<'py>,
    (dout, x, gamma, mean, inv_std): Args<'_, 'py>,
) -> PyResult<Forward<'py>> {
    let (dout, x) = (Input::<T>::new("dout", dout)?, Input::<T>::new("x", x)?);
    let (gamma, mean, inv_std) = (
        Input::<T>::new("gamma", gamma)?,
        Input::<T>::new("mean", mean)?,
        Input::<T>::new("inv_std", inv_std)?,
    );
    let l = layout(x.shape())?;
    needs_samples(l, x.shape())?;
    same_shape("dout", dout.shape(), "x", x.shape())?;
    per_channel("gamma", gamma.shape(), l.c, x.shape())?;
    per_channel("mean", mean.shape(), l.c, x.shape())?;
    per_channel("inv_std", inv_std.shape(), l.c, x.shape())?;
    let mut dx = Output::<T>::try_new(py, x.shape())?;
    let (mut dgamma, mut dbeta) = (Output::<T>::try_new(py, &[l.c])?, Output::<T>::try_new(py, &[l.c])?);
    let (gs, xs, gms, ms, ss) = (dout.slice(), x.slice(), gamma.slice(), mean.slice(), inv_std.slice());
    let (dxs, dgs, dbs) = (dx.data(), dgamma.data(), dbeta.data());
    detached(py, || kernel::backward(gs, xs, gms, ms, ss, l, dxs, dgs, dbs))?;
    Ok((dx.into_any(), dgamma.into_any(), dbeta.into_any()))
}
