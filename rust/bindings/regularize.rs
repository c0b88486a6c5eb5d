//! Bindings for the weight penalties, their gradients, gradient scaling and
//! the max-norm constraint ([`crate::kernels::regularize`]).
//!
//! Every array argument is one array or a list/tuple of arrays
//! ([`super::tensors`]): one call covers every weight of a network. Arrays
//! written in place (`grad`, `x`, `param` of the `_step` functions) must be
//! C-contiguous, writeable and distinct (`ValueError`); arrays only read may
//! have any layout. All arrays share one float dtype (`TypeError`).
//! Hyper-parameters are real numbers (`TypeError`), finite (`ValueError`);
//! `max_norm` is > 0 and `axis` an int naming an axis of every `param`.

use numpy::PyUntypedArrayMethods;
use pyo3::prelude::*;

use super::array::{fmt_shape, same_shape, value_error, Elem};
use super::call::{detached, detached_in_place, dispatch};
use super::scalars::{finite, positive, Real};
use super::tensors::{dtype_of, Arg};
use super::window::Int;
use crate::kernels::error::KResult;
use crate::kernels::regularize::{self, Units};

/// `sum(x**2)` over every array of `x`, accumulated in float64.
#[pyfunction]
pub fn sum_of_squares<'py>(py: Python<'py>, x: &Bound<'py, PyAny>) -> PyResult<f64> {
    let x = Arg::read("x", x)?;
    match dtype_of(&[&x])? {
        Some(dtype) => dispatch!(dtype, total(py, &x, regularize::sum_of_squares)),
        None => Ok(0.0), // an empty sequence
    }
}

/// `sum(|x|)` over every array of `x`, accumulated in float64.
#[pyfunction]
pub fn sum_of_abs<'py>(py: Python<'py>, x: &Bound<'py, PyAny>) -> PyResult<f64> {
    let x = Arg::read("x", x)?;
    match dtype_of(&[&x])? {
        Some(dtype) => dispatch!(dtype, total(py, &x, regularize::sum_of_abs)),
        None => Ok(0.0),
    }
}

/// The sum of `kernel` over the arrays of `x`, in order.
fn total<'py, T: Elem>(py: Python<'py>, x: &Arg<'py>, kernel: fn(&[T]) -> KResult<f64>) -> PyResult<f64> {
    let inputs = x.inputs::<T>()?;
    let slices: Vec<&[T]> = inputs.iter().map(|a| a.slice()).collect();
    let sum = detached(py, || slices.iter().map(|s| kernel(s)).sum::<KResult<f64>>())??;
    Ok(sum)
}

/// `grad += lam * param` (the gradient of `0.5 * lam * sum(param**2)`), in place.
#[pyfunction]
pub fn l2_grad_step<'py>(
    py: Python<'py>,
    grad: &Bound<'py, PyAny>,
    param: &Bound<'py, PyAny>,
    lam: Real,
) -> PyResult<()> {
    let lam = finite("lam", lam)?;
    penalty_grad(py, grad, param, lam, PenaltyGrad::L2)
}

/// `grad += lam * sign(param)` (the gradient of `lam * sum(|param|)`), in place.
#[pyfunction]
pub fn l1_grad_step<'py>(
    py: Python<'py>,
    grad: &Bound<'py, PyAny>,
    param: &Bound<'py, PyAny>,
    lam: Real,
) -> PyResult<()> {
    let lam = finite("lam", lam)?;
    penalty_grad(py, grad, param, lam, PenaltyGrad::L1)
}

#[derive(Clone, Copy)]
enum PenaltyGrad {
    L2,
    L1,
}

fn penalty_grad<'py>(
    py: Python<'py>,
    grad: &Bound<'py, PyAny>,
    param: &Bound<'py, PyAny>,
    lam: f64,
    which: PenaltyGrad,
) -> PyResult<()> {
    fn run<'py, T: Elem>(
        py: Python<'py>,
        grad: &Arg<'py>,
        param: &Arg<'py>,
        lam: f64,
        which: PenaltyGrad,
    ) -> PyResult<()> {
        let mut grads = grad.written::<T>()?;
        let params = param.inputs::<T>()?;
        for ((g, p), ((gname, _), (pname, _))) in grads.iter().zip(&params).zip(grad.items.iter().zip(&param.items)) {
            same_shape(gname, g.shape(), pname, p.shape())?;
        }
        let mut work: Vec<(&mut [T], &[T])> = grads
            .iter_mut()
            .zip(&params)
            .map(|(g, p)| (g.as_slice_mut().expect("checked C-contiguous"), p.slice()))
            .collect();
        let kernel: fn(&mut [T], &[T], f64) = match which {
            PenaltyGrad::L2 => regularize::add_l2_grad,
            PenaltyGrad::L1 => regularize::add_l1_grad,
        };
        detached_in_place(py, || {
            for (g, p) in work.iter_mut() {
                kernel(g, p, lam);
            }
        });
        Ok(())
    }

    let grad = Arg::read("grad", grad)?;
    let param = Arg::read_like("param", param, &grad)?;
    match dtype_of(&[&grad, &param])? {
        Some(dtype) => dispatch!(dtype, run(py, &grad, &param, lam, which)),
        None => Ok(()),
    }
}

/// `x *= factor`, in place (gradient clipping by a global norm).
#[pyfunction]
pub fn scale_step<'py>(py: Python<'py>, x: &Bound<'py, PyAny>, factor: Real) -> PyResult<()> {
    fn run<'py, T: Elem>(py: Python<'py>, x: &Arg<'py>, factor: f64) -> PyResult<()> {
        let mut arrays = x.written::<T>()?;
        let mut work: Vec<&mut [T]> = arrays
            .iter_mut()
            .map(|a| a.as_slice_mut().expect("checked C-contiguous"))
            .collect();
        detached_in_place(py, || {
            for a in work.iter_mut() {
                regularize::scale(a, factor);
            }
        });
        Ok(())
    }

    let factor = finite("factor", factor)?;
    let x = Arg::read("x", x)?;
    match dtype_of(&[&x])? {
        Some(dtype) => dispatch!(dtype, run(py, &x, factor)),
        None => Ok(()),
    }
}

/// The max-norm constraint, in place: the weights of each unit (each index
/// along `axis`) whose Euclidean norm exceeds `max_norm` are scaled down to
/// norm `max_norm`.
#[pyfunction]
pub fn max_norm_step<'py>(py: Python<'py>, param: &Bound<'py, PyAny>, max_norm: Real, axis: Int) -> PyResult<()> {
    fn run<'py, T: Elem>(py: Python<'py>, param: &Arg<'py>, max_norm: f64, axis: i64) -> PyResult<()> {
        let mut arrays = param.written::<T>()?;
        let layouts = arrays
            .iter()
            .zip(&param.items)
            .map(|(a, (name, _))| units(name, a.shape(), axis))
            .collect::<PyResult<Vec<_>>>()?;
        let mut work: Vec<(&mut [T], Units)> = arrays
            .iter_mut()
            .zip(layouts)
            .map(|(a, l)| (a.as_slice_mut().expect("checked C-contiguous"), l))
            .collect();
        detached_in_place(py, || {
            work.iter_mut()
                .try_for_each(|(a, l)| regularize::max_norm(a, *l, max_norm))
        })?;
        Ok(())
    }

    let max_norm = positive("max_norm", max_norm)?;
    let param = Arg::read("param", param)?;
    match dtype_of(&[&param])? {
        Some(dtype) => dispatch!(dtype, run(py, &param, max_norm, axis.0)),
        None => Ok(()),
    }
}

/// The `(outer, units, inner)` layout of an array of `shape` whose units
/// lie along `axis` (negative counts from the end), or a `ValueError`.
fn units(name: &str, shape: &[usize], axis: i64) -> PyResult<Units> {
    let ndim = shape.len() as i64;
    let resolved = if axis < 0 { axis.saturating_add(ndim) } else { axis };
    if !(0..ndim).contains(&resolved) {
        return Err(value_error(format!(
            "axis {axis} is out of range for {name} with shape {}",
            fmt_shape(shape)
        )));
    }
    let a = resolved as usize;
    Ok(Units {
        outer: shape[..a].iter().product(),
        units: shape[a],
        inner: shape[a + 1..].iter().product(),
    })
}
