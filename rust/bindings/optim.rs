//! Bindings for the in-place optimizer steps.
//!
//! `param` and the state arrays are written in place (C-contiguous and
//! writeable, or `ValueError`); `grad` may be any layout (copied if needed).

use numpy::{PyReadwriteArrayDyn, PyUntypedArrayMethods};
use pyo3::prelude::*;

use super::array::{common_dtype, in_place, same_shape, value_error, Elem, Input};
use super::call::{detached_in_place, dispatch};
use crate::kernels::float::Float;
use crate::kernels::optim;

/// `param`, `grad` and the state arrays of one step, borrowed and checked.
struct StepArrays<'py, T: Elem> {
    param: PyReadwriteArrayDyn<'py, T>,
    grad: Input<'py, T>,
    states: Vec<PyReadwriteArrayDyn<'py, T>>,
}

impl<'py, T: Elem> StepArrays<'py, T> {
    fn borrow(
        param: &Bound<'py, PyAny>,
        grad: &Bound<'py, PyAny>,
        states: &[(&str, &Bound<'py, PyAny>)],
    ) -> PyResult<Self> {
        let param = in_place::<T>("param", param)?;
        let grad = Input::<T>::new("grad", grad)?;
        same_shape("param", param.shape(), "grad", grad.shape())?;
        let states = states
            .iter()
            .map(|&(name, obj)| {
                let s = in_place::<T>(name, obj)?;
                same_shape("param", param.shape(), name, s.shape())?;
                Ok(s)
            })
            .collect::<PyResult<_>>()?;
        Ok(Self { param, grad, states })
    }

    /// `(param, grad, state arrays in order)` as slices for the kernel.
    fn slices(&mut self) -> (&mut [T], &[T], Vec<&mut [T]>) {
        let states = self
            .states
            .iter_mut()
            .map(|s| s.as_slice_mut().expect("checked C-contiguous"))
            .collect();
        (
            self.param.as_slice_mut().expect("checked C-contiguous"),
            self.grad.slice(),
            states,
        )
    }
}

fn check_scalars(scalars: &[(&str, f64)]) -> PyResult<()> {
    for &(name, v) in scalars {
        if !v.is_finite() {
            return Err(value_error(format!("{name} must be finite, got {v}")));
        }
    }
    Ok(())
}

/// Define a `#[pyfunction]` step: its state arrays, its scalars, an optional
/// extra check, and the kernel it calls (generic over the element type).
macro_rules! step_binding {
    ($(#[$doc:meta])* $name:ident, [$($state:ident),*], ($($scalar:ident : $sty:ty),*), $kernel:path $(, check = $check:expr)?) => {
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
            $($check?;)?

            #[allow(clippy::too_many_arguments)]
            fn run<'py, T: Elem>(
                py: Python<'py>,
                param: &Bound<'py, PyAny>,
                grad: &Bound<'py, PyAny>,
                states: &[(&str, &Bound<'py, PyAny>)],
                $($scalar: $sty,)*
            ) -> PyResult<()> {
                let mut arrays = StepArrays::<T>::borrow(param, grad, states)?;
                let (p, g, states) = arrays.slices();
                #[allow(unused_mut, unused_variables)]
                let mut s = states.into_iter();
                $(let $state = s.next().expect("state array");)*
                detached_in_place(py, || $kernel(p, g, $($state,)* $($scalar),*));
                Ok(())
            }

            let states = [$((stringify!($state), $state)),*];
            let mut all = vec![("param", param), ("grad", grad)];
            all.extend_from_slice(&states);
            dispatch!(common_dtype(&all)?, run(py, param, grad, &states, $($scalar),*))
        }
    };
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
step_binding!(
    /// Adam at step `t >= 1`, the book's form.
    adam_step, [m, v], (lr: f64, beta1: f64, beta2: f64, t: i64), adam_at,
    check = check_step_count(t)
);

fn check_step_count(t: i64) -> PyResult<()> {
    if t < 1 {
        return Err(value_error(format!("adam step count t must be >= 1, got {t}")));
    }
    Ok(())
}

/// [`optim::adam`] with the step count as Python passes it (checked >= 1).
#[allow(clippy::too_many_arguments)]
fn adam_at<T: Float>(p: &mut [T], g: &[T], m: &mut [T], v: &mut [T], lr: f64, beta1: f64, beta2: f64, t: i64) {
    optim::adam(p, g, m, v, lr, beta1, beta2, t as u64);
}
