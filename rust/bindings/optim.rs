//! Bindings for the in-place optimizer steps: one call updates every
//! parameter of a step (a multi-tensor step, like PyTorch's foreach
//! optimizers), so a small network's update costs one crossing into Rust.
//!
//! `param` is one array or a list/tuple of arrays; `grad` and every state
//! argument are alike (one array, or a sequence of the same length; see
//! [`super::tensors`]). Params
//! and states are written in place (C-contiguous, writeable, distinct, or
//! `ValueError`); grads may have any layout (copied if needed). All arrays
//! share one float dtype. Hyper-parameters are real numbers (`TypeError`
//! otherwise), finite (`ValueError`); Adam's betas lie in [0, 1), AdamW's
//! weight decay is >= 0, and their step count `t` is an int >= 1.

use numpy::{PyReadwriteArrayDyn, PyUntypedArrayMethods};
use pyo3::prelude::*;

use super::array::{in_place, same_shape, value_error, Dtype, Elem, Input};
use super::call::{detached_in_place, dispatch};
use super::scalars::{finite, Real};
use super::tensors::{dtype_of, Arg};
use super::window::Int;
use crate::kernels::float::Float;
use crate::kernels::optim;

/// One tensor's `(param, grad, state arrays)` as the kernels take them.
type TensorSlices<'a, T> = (&'a mut [T], &'a [T], Vec<&'a mut [T]>);

/// One step's arrays, borrowed and checked: per tensor a param, its grad
/// and its state arrays (one per state argument).
struct Tensors<'py, T: Elem> {
    params: Vec<PyReadwriteArrayDyn<'py, T>>,
    grads: Vec<Input<'py, T>>,
    states: Vec<Vec<PyReadwriteArrayDyn<'py, T>>>,
}

impl<'py, T: Elem> Tensors<'py, T> {
    fn borrow(param: &Arg<'py>, grad: &Arg<'py>, states: &[Arg<'py>]) -> PyResult<Self> {
        let mut params = Vec::with_capacity(param.items.len());
        let mut grads = Vec::with_capacity(param.items.len());
        for ((pname, p), (gname, g)) in param.items.iter().zip(&grad.items) {
            let p = in_place::<T>(pname, p)?;
            let g = Input::<T>::new(gname, g)?;
            same_shape(pname, p.shape(), gname, g.shape())?;
            params.push(p);
            grads.push(g);
        }
        let states = states
            .iter()
            .map(|state| {
                state
                    .items
                    .iter()
                    .zip(&param.items)
                    .zip(&params)
                    .map(|(((sname, s), (pname, _)), p)| {
                        let s = in_place::<T>(sname, s)?;
                        same_shape(pname, p.shape(), sname, s.shape())?;
                        Ok(s)
                    })
                    .collect::<PyResult<Vec<_>>>()
            })
            .collect::<PyResult<_>>()?;
        Ok(Self { params, grads, states })
    }

    /// Per tensor: `(param, grad, its state arrays in argument order)`.
    fn slices(&mut self) -> Vec<TensorSlices<'_, T>> {
        let mut states: Vec<std::slice::IterMut<'_, PyReadwriteArrayDyn<'py, T>>> =
            self.states.iter_mut().map(|s| s.iter_mut()).collect();
        self.params
            .iter_mut()
            .zip(&self.grads)
            .map(|(p, g)| {
                let s = states
                    .iter_mut()
                    .map(|it| {
                        it.next()
                            .expect("one state per tensor")
                            .as_slice_mut()
                            .expect("checked C-contiguous")
                    })
                    .collect();
                (p.as_slice_mut().expect("checked C-contiguous"), g.slice(), s)
            })
            .collect()
    }
}

/// The arguments of one step, read and checked against each other.
struct StepArgs<'py> {
    param: Arg<'py>,
    grad: Arg<'py>,
    states: Vec<Arg<'py>>,
}

impl<'py> StepArgs<'py> {
    /// Read `param`, `grad` and the state arguments; also returns their one
    /// dtype (None when `param` is an empty sequence: nothing to update).
    fn read(
        param: &Bound<'py, PyAny>,
        grad: &Bound<'py, PyAny>,
        states: &[(&str, &Bound<'py, PyAny>)],
    ) -> PyResult<(Self, Option<Dtype>)> {
        let param = Arg::read("param", param)?;
        let grad = Arg::read_like("grad", grad, &param)?;
        let states = states
            .iter()
            .map(|&(name, obj)| Arg::read_like(name, obj, &param))
            .collect::<PyResult<Vec<_>>>()?;
        let every: Vec<&Arg<'py>> = [&param, &grad].into_iter().chain(&states).collect();
        let dtype = dtype_of(&every)?;
        Ok((Self { param, grad, states }, dtype))
    }
}

/// Define a `#[pyfunction]` step: its state arrays, its hyper-parameters,
/// and the kernel it calls for each tensor (generic over the element type).
macro_rules! step_binding {
    ($(#[$doc:meta])* $name:ident, [$($state:ident),*], ($($scalar:ident),* $(; step $t:ident)?), $kernel:path) => {
        $(#[$doc])*
        #[pyfunction]
        #[allow(clippy::too_many_arguments)]
        pub fn $name<'py>(
            py: Python<'py>,
            param: &Bound<'py, PyAny>,
            grad: &Bound<'py, PyAny>,
            $($state: &Bound<'py, PyAny>,)*
            $($scalar: Real,)*
            $($t: Int,)?
        ) -> PyResult<()> {
            $(let $scalar = finite(stringify!($scalar), $scalar)?;)*
            check_hyper(&[$((stringify!($scalar), $scalar)),*])?;
            $(let $t = step_count($t)?;)?

            #[allow(clippy::too_many_arguments)]
            fn run<'py, T: Elem>(
                py: Python<'py>,
                args: &StepArgs<'py>,
                $($scalar: f64,)*
                $($t: u64,)?
            ) -> PyResult<()> {
                let mut tensors = Tensors::<T>::borrow(&args.param, &args.grad, &args.states)?;
                let mut work = tensors.slices();
                detached_in_place(py, || {
                    for (p, g, s) in work.iter_mut() {
                        #[allow(unused_mut, unused_variables)]
                        let mut s = s.iter_mut();
                        $(let $state = s.next().expect("state array");)*
                        $kernel(p, g, $($state,)* $($scalar,)* $($t)?);
                    }
                });
                Ok(())
            }

            let (args, dtype) = StepArgs::read(param, grad, &[$((stringify!($state), $state)),*])?;
            match dtype {
                Some(dtype) => dispatch!(dtype, run(py, &args, $($scalar,)* $($t)?)),
                None => Ok(()), // an empty sequence: nothing to update
            }
        }
    };
}

/// Range checks of the hyper-parameters that have one (Adam's betas,
/// AdamW's weight decay).
fn check_hyper(scalars: &[(&str, f64)]) -> PyResult<()> {
    for &(name, v) in scalars {
        if name.starts_with("beta") && !(0.0..1.0).contains(&v) {
            return Err(value_error(format!("{name} must lie in [0, 1), got {v}")));
        }
        if name == "weight_decay" && v < 0.0 {
            return Err(value_error(format!("weight_decay must be >= 0, got {v}")));
        }
    }
    Ok(())
}

/// Adam's step count: an int >= 1 (a huge one acts like a very late step).
fn step_count(t: Int) -> PyResult<u64> {
    u64::try_from(t.0)
        .ok()
        .filter(|&t| t >= 1)
        .ok_or_else(|| value_error(format!("adam step count t must be >= 1, got {}", t.0)))
}

step_binding!(
    /// `param -= lr * grad`.
    sgd_step, [], (lr), optim::sgd
);
step_binding!(
    /// `v = momentum*v - lr*grad; param += v`.
    momentum_step, [v], (lr, momentum), optim::momentum
);
step_binding!(
    /// Nesterov (Bengio et al. 2012): `param += mu*mu*v - (1+mu)*lr*grad; v = mu*v - lr*grad`.
    nesterov_step, [v], (lr, momentum), optim::nesterov
);
step_binding!(
    /// `h += grad**2; param -= lr*grad/(sqrt(h)+1e-7)`.
    adagrad_step, [h], (lr), optim::adagrad
);
step_binding!(
    /// `h = decay*h + (1-decay)*grad**2; param -= lr*grad/(sqrt(h)+1e-7)`.
    rmsprop_step, [h], (lr, decay_rate), optim::rmsprop
);
step_binding!(
    /// AdaDelta with a learning-rate multiplier.
    adadelta_step, [h, d], (lr, rho, eps), optim::adadelta
);
step_binding!(
    /// Adam at step `t >= 1`, the book's form.
    adam_step, [m, v], (lr, beta1, beta2; step t), adam_at
);

step_binding!(
    /// AdamW at step `t >= 1`: Adam with decoupled weight decay.
    adamw_step, [m, v], (lr, beta1, beta2, weight_decay; step t), optim::adamw
);

/// [`optim::adam`] with the step count as Python passes it (checked >= 1).
#[allow(clippy::too_many_arguments)]
fn adam_at<T: Float>(p: &mut [T], g: &[T], m: &mut [T], v: &mut [T], lr: f64, beta1: f64, beta2: f64, t: u64) {
    optim::adam(p, g, m, v, lr, beta1, beta2, t);
}
