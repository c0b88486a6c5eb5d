//! Bindings for the in-place optimizer steps.
//!
//! `param` and the state arrays are written in place (C-contiguous and
//! writeable, or `ValueError`); `grad` may be any layout (copied if needed).

use numpy::{PyReadwriteArrayDyn, PyUntypedArrayMethods};
use pyo3::prelude::*;

use super::array::{common_dtype, in_place, same_shape, value_error, Dtype, Elem, Input};
use crate::kernels::optim;

/// Borrow `param`, `grad` and the named state arrays, checking dtypes and
/// shapes; then run `body(py, param, grad, states)`.
fn with_step_arrays<'py>(
    py: Python<'py>,
    param: &Bound<'py, PyAny>,
    grad: &Bound<'py, PyAny>,
    states: &[(&str, &Bound<'py, PyAny>)],
    f32_body: impl FnOnce(Python<'py>, &mut [f32], &[f32], Vec<&mut [f32]>),
    f64_body: impl FnOnce(Python<'py>, &mut [f64], &[f64], Vec<&mut [f64]>),
) -> PyResult<()> {
    let mut all = vec![("param", param), ("grad", grad)];
    all.extend_from_slice(states);
    match common_dtype(&all)? {
        Dtype::F32 => borrow_and_run::<f32>(py, param, grad, states, f32_body),
        Dtype::F64 => borrow_and_run::<f64>(py, param, grad, states, f64_body),
    }
}

fn borrow_and_run<'py, T: Elem>(
    py: Python<'py>,
    param: &Bound<'py, PyAny>,
    grad: &Bound<'py, PyAny>,
    states: &[(&str, &Bound<'py, PyAny>)],
    body: impl FnOnce(Python<'py>, &mut [T], &[T], Vec<&mut [T]>),
) -> PyResult<()> {
    let mut p = in_place::<T>("param", param)?;
    let g = Input::<T>::new("grad", grad)?;
    same_shape("param", p.shape(), "grad", g.shape())?;
    let mut borrowed: Vec<PyReadwriteArrayDyn<'py, T>> = Vec::with_capacity(states.len());
    for &(name, obj) in states {
        let s = in_place::<T>(name, obj)?;
        same_shape("param", p.shape(), name, s.shape())?;
        borrowed.push(s);
    }
    let slices = borrowed
        .iter_mut()
        .map(|s| s.as_slice_mut().expect("checked C-contiguous"))
        .collect();
    body(py, p.as_slice_mut().expect("checked C-contiguous"), g.slice(), slices);
    Ok(())
}

/// Define a `#[pyfunction]` step: its state arrays, scalars and kernel call.
macro_rules! step_binding {
    ($(#[$doc:meta])* $name:ident, [$($state:ident),*], ($($scalar:ident : $sty:ty),*), $kernel:path) => {
        $(#[$doc])*
        #[pyfunction]
        #[allow(clippy::too_many_arguments)]
        pub fn $name<'py>(
            py: Python<'py>,
            param: &Bound<'py, PyAny>,
            grad: &Bound<'py, PyAny>,
            $($state: &Bound<'py, PyAny>,)*
            $($scalar: $sty,)*
        ) -> PyResult<()> {
            check_scalars(&[$((stringify!($scalar), $scalar as f64)),*])?;
            with_step_arrays(
                py, param, grad, &[$((stringify!($state), $state)),*],
                |py, p, g, s| {
                    #[allow(unused_mut, unused_variables)]
                    let mut s = s.into_iter();
                    $(let $state = s.next().expect("state array");)*
                    py.detach(|| $kernel(p, g, $($state,)* $($scalar),*));
                },
                |py, p, g, s| {
                    #[allow(unused_mut, unused_variables)]
                    let mut s = s.into_iter();
                    $(let $state = s.next().expect("state array");)*
                    py.detach(|| $kernel(p, g, $($state,)* $($scalar),*));
                },
            )
        }
    };
}

fn check_scalars(scalars: &[(&str, f64)]) -> PyResult<()> {
    for &(name, v) in scalars {
        if !v.is_finite() {
            return Err(value_error(format!("{name} must be finite, got {v}")));
        }
    }
    Ok(())
}

step_binding!(
    /// `param -= lr * grad`.
    sgd_step, [], (lr: f64), optim::sgd
);
step_binding!(
    /// `v = momentum*v - lr*grad; param += v`.
    momentum_step, [v], (lr: f64, momentum: f64), optim::momentum
);
step_binding!(
    /// Nesterov (Bengio et al. 2012): `param += mu*mu*v - (1+mu)*lr*grad; v = mu*v - lr*grad`.
    nesterov_step, [v], (lr: f64, momentum: f64), optim::nesterov
);
step_binding!(
    /// `h += grad**2; param -= lr*grad/(sqrt(h)+1e-7)`.
    adagrad_step, [h], (lr: f64), optim::adagrad
);
step_binding!(
    /// `h = decay*h + (1-decay)*grad**2; param -= lr*grad/(sqrt(h)+1e-7)`.
    rmsprop_step, [h], (lr: f64, decay_rate: f64), optim::rmsprop
);
step_binding!(
    /// AdaDelta with a learning-rate multiplier.
    adadelta_step, [h, d], (lr: f64, rho: f64, eps: f64), optim::adadelta
);

/// Adam at step `t >= 1`, the book's form.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub fn adam_step<'py>(
    py: Python<'py>,
    param: &Bound<'py, PyAny>,
    grad: &Bound<'py, PyAny>,
    m: &Bound<'py, PyAny>,
    v: &Bound<'py, PyAny>,
    lr: f64,
    beta1: f64,
    beta2: f64,
    t: i64,
) -> PyResult<()> {
    if t < 1 {
        return Err(value_error(format!("adam step count t must be >= 1, got {t}")));
    }
    check_scalars(&[("lr", lr), ("beta1", beta1), ("beta2", beta2)])?;
    let t = t as u64;
    with_step_arrays(
        py,
        param,
        grad,
        &[("m", m), ("v", v)],
        |py, p, g, s| {
            #[allow(unused_mut, unused_variables)]
            let mut s = s.into_iter();
            let (m, v) = (s.next().expect("m"), s.next().expect("v"));
            py.detach(|| optim::adam(p, g, m, v, lr, beta1, beta2, t));
        },
        |py, p, g, s| {
            #[allow(unused_mut, unused_variables)]
            let mut s = s.into_iter();
            let (m, v) = (s.next().expect("m"), s.next().expect("v"));
            py.detach(|| optim::adam(p, g, m, v, lr, beta1, beta2, t));
        },
    )
}
