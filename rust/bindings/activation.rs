//! Bindings for the activations: element-wise ones on arrays of any shape,
//! PReLU on `(N, C, ...)` with one slope per channel. Hyper-parameters are
//! checked as the NumPy reference checks them: real numbers (`TypeError`),
//! then finite and in range (`ValueError`) after the arrays' dtypes.

use pyo3::prelude::*;

use super::array::{common_dtype, float_dtype, fmt_shape, per_channel, same_shape, value_error, Elem, Input, Output};
use super::call::{detached, dispatch};
use super::scalars::{finite, seed64, Real};
use crate::kernels::activation;
use crate::kernels::batchnorm::Layout;

/// `kernel(x, out)` into a new array like `x`.
fn unary<'py, T: Elem>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    kernel: impl FnOnce(&[T], &mut [T]) + Send,
) -> PyResult<Bound<'py, PyAny>> {
    let x = Input::<T>::new("x", x)?;
    let mut result = Output::<T>::try_new(py, x.shape())?;
    let out = result.data();
    let xs = x.slice();
    detached(py, || kernel(xs, out))?;
    Ok(result.into_any())
}

/// `kernel(dout, saved, dx)` into a new array like `dout`; `saved` (the
/// forward output `y` or input `x`, named `saved_name`) has dout's shape.
fn backward<'py, T: Elem>(
    py: Python<'py>,
    dout: &Bound<'py, PyAny>,
    (saved_name, saved): (&str, &Bound<'py, PyAny>),
    kernel: impl FnOnce(&[T], &[T], &mut [T]) + Send,
) -> PyResult<Bound<'py, PyAny>> {
    let (dout, saved) = (Input::<T>::new("dout", dout)?, Input::<T>::new(saved_name, saved)?);
    same_shape("dout", dout.shape(), saved_name, saved.shape())?;
    let mut result = Output::<T>::try_new(py, dout.shape())?;
    let out = result.data();
    let (gs, ss) = (dout.slice(), saved.slice());
    detached(py, || kernel(gs, ss, out))?;
    Ok(result.into_any())
}

/// A slope that must not be negative (the backward pass reads the sign of `x` from `y`).
fn nonnegative(name: &str, value: Real) -> PyResult<f64> {
    let v = finite(name, value)?;
    if v < 0.0 {
        return Err(value_error(format!(
            "{name} must be >= 0 (the gradient reads the sign of x from y), got {v}"
        )));
    }
    Ok(v)
}

/// ELU's `alpha`: finite and positive.
fn positive(name: &str, value: Real) -> PyResult<f64> {
    let v = finite(name, value)?;
    if v <= 0.0 {
        return Err(value_error(format!("{name} must be > 0, got {v}")));
    }
    Ok(v)
}

/// RReLU's slope range: finite, `0 <= lower <= upper`.
fn slope_range(lower: Real, upper: Real) -> PyResult<(f64, f64)> {
    let (lo, hi) = (nonnegative("lower", lower)?, finite("upper", upper)?);
    if lo > hi {
        return Err(value_error(format!(
            "lower must be <= upper, got lower {lo} and upper {hi}"
        )));
    }
    Ok((lo, hi))
}

/// The dtype shared by `dout` and `saved`.
fn pair_dtype(dout: &Bound<'_, PyAny>, saved: (&str, &Bound<'_, PyAny>)) -> PyResult<super::array::Dtype> {
    common_dtype(&[("dout", dout), saved])
}

/// Forward and backward bindings of an element-wise activation without hyper-parameters.
macro_rules! plain_activation {
    ($forward:ident, $backward:ident, $saved:ident, $fdoc:literal, $bdoc:literal) => {
        #[doc = $fdoc]
        #[pyfunction]
        pub fn $forward<'py>(py: Python<'py>, x: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
            dispatch!(float_dtype("x", x)?, unary(py, x, activation::$forward))
        }

        #[doc = $bdoc]
        #[pyfunction]
        pub fn $backward<'py>(
            py: Python<'py>,
            dout: &Bound<'py, PyAny>,
            $saved: &Bound<'py, PyAny>,
        ) -> PyResult<Bound<'py, PyAny>> {
            let saved = (stringify!($saved), $saved);
            dispatch!(
                pair_dtype(dout, saved)?,
                backward(py, dout, saved, activation::$backward)
            )
        }
    };
}

plain_activation!(
    relu_forward,
    relu_backward,
    y,
    "`max(x, 0)`.",
    "`dout * (y > 0)`; `dout` is not modified."
);
plain_activation!(
    sigmoid_forward,
    sigmoid_backward,
    y,
    "`1 / (1 + exp(-x))`, overflow-free.",
    "`dout * y * (1 - y)`."
);
plain_activation!(
    tanh_forward,
    tanh_backward,
    y,
    "`tanh(x)`.",
    "`dout * (1 - y) * (1 + y)`."
);
plain_activation!(
    relu6_forward,
    relu6_backward,
    y,
    "`min(max(x, 0), 6)`.",
    "`dout` where `0 < y < 6`, else 0."
);
plain_activation!(
    softplus_forward,
    softplus_backward,
    x,
    "`log(1 + exp(x))`, overflow-free.",
    "`dout * sigmoid(x)`."
);
plain_activation!(
    gelu_forward,
    gelu_backward,
    x,
    "GELU, tanh form: `x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`.",
    "The derivative of the tanh-form GELU at `x`, times `dout`."
);

/// Forward and backward bindings of an element-wise activation with one
/// real hyper-parameter, checked by `$check` (after the arrays' dtypes).
macro_rules! one_parameter_activation {
    ($forward:ident, $backward:ident, $saved:ident, $param:ident: $check:ident, $fdoc:literal, $bdoc:literal) => {
        #[doc = $fdoc]
        #[pyfunction]
        pub fn $forward<'py>(py: Python<'py>, x: &Bound<'py, PyAny>, $param: Real) -> PyResult<Bound<'py, PyAny>> {
            fn typed<'py, T: Elem>(py: Python<'py>, x: &Bound<'py, PyAny>, p: f64) -> PyResult<Bound<'py, PyAny>> {
                unary(py, x, |x, y| activation::$forward(x, T::from_f64(p), y))
            }
            let dtype = float_dtype("x", x)?;
            let p = $check(stringify!($param), $param)?;
            dispatch!(dtype, typed(py, x, p))
        }

        #[doc = $bdoc]
        #[pyfunction]
        pub fn $backward<'py>(
            py: Python<'py>,
            dout: &Bound<'py, PyAny>,
            $saved: &Bound<'py, PyAny>,
            $param: Real,
        ) -> PyResult<Bound<'py, PyAny>> {
            fn typed<'py, T: Elem>(
                py: Python<'py>,
                dout: &Bound<'py, PyAny>,
                saved: (&str, &Bound<'py, PyAny>),
                p: f64,
            ) -> PyResult<Bound<'py, PyAny>> {
                backward(py, dout, saved, |g, s, dx| {
                    activation::$backward(g, s, T::from_f64(p), dx)
                })
            }
            let saved = (stringify!($saved), $saved);
            let dtype = pair_dtype(dout, saved)?;
            let p = $check(stringify!($param), $param)?;
            dispatch!(dtype, typed(py, dout, saved, p))
        }
    };
}

one_parameter_activation!(
    leaky_relu_forward,
    leaky_relu_backward,
    y,
    alpha: nonnegative,
    "`x` where `x > 0`, else `alpha * x`; `alpha >= 0`.",
    "`dout` where `y > 0`, else `alpha * dout`."
);
one_parameter_activation!(
    swish_forward,
    swish_backward,
    x,
    beta: finite,
    "`x * sigmoid(beta * x)` (SiLU for `beta = 1`).",
    "The derivative of swish at `x`, times `dout`."
);
one_parameter_activation!(
    elu_forward,
    elu_backward,
    y,
    alpha: positive,
    "`x` where `x > 0`, else `alpha * (exp(x) - 1)`; `alpha > 0`.",
    "`dout` where `y > 0`, else `dout * (y + alpha)`."
);

/// Randomized leaky ReLU (training): slopes drawn from `(seed, flat index)` in `[lower, upper)`.
#[pyfunction]
pub fn rrelu_forward<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    lower: Real,
    upper: Real,
    seed: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let dtype = float_dtype("x", x)?;
    let ((lo, hi), seed) = (slope_range(lower, upper)?, seed64(seed)?);
    dispatch!(dtype, rrelu_fwd(py, x, lo, hi, seed))
}

fn rrelu_fwd<'py, T: Elem>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    lo: f64,
    hi: f64,
    seed: u64,
) -> PyResult<Bound<'py, PyAny>> {
    unary(py, x, |x, y| {
        activation::rrelu_forward(x, T::from_f64(lo), T::from_f64(hi), seed, y)
    })
}

/// `dout` where `y > 0`, else `dout` times the slopes of the forward call with this seed.
#[pyfunction]
pub fn rrelu_backward<'py>(
    py: Python<'py>,
    dout: &Bound<'py, PyAny>,
    y: &Bound<'py, PyAny>,
    lower: Real,
    upper: Real,
    seed: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let dtype = pair_dtype(dout, ("y", y))?;
    let ((lo, hi), seed) = (slope_range(lower, upper)?, seed64(seed)?);
    dispatch!(dtype, rrelu_bwd(py, dout, y, lo, hi, seed))
}

fn rrelu_bwd<'py, T: Elem>(
    py: Python<'py>,
    dout: &Bound<'py, PyAny>,
    y: &Bound<'py, PyAny>,
    lo: f64,
    hi: f64,
    seed: u64,
) -> PyResult<Bound<'py, PyAny>> {
    let (lo, hi) = (T::from_f64(lo), T::from_f64(hi));
    backward(py, dout, ("y", y), |g, y, dx| {
        activation::rrelu_backward(g, y, lo, hi, seed, dx)
    })
}

/// The `(n, c, s)` layout of `x (N, C, ...)`: `s` is the product of the
/// trailing dimensions (1 for `(N, C)`).
fn channel_layout(shape: &[usize]) -> PyResult<Layout> {
    match *shape {
        [n, c, ref rest @ ..] => {
            let s = if rest.contains(&0) { 0 } else { rest.iter().product() };
            Ok(Layout { n, c, s })
        }
        _ => Err(value_error(format!(
            "PReLU expects x of shape (N, C, ...) with one slope per channel C, got shape {}",
            fmt_shape(shape)
        ))),
    }
}

/// `x` where `x > 0`, else `alpha[c] * x`: `x (N, C, ...)`, `alpha (C,)`.
#[pyfunction]
pub fn prelu_forward<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    alpha: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    dispatch!(common_dtype(&[("x", x), ("alpha", alpha)])?, prelu_fwd(py, x, alpha))
}

fn prelu_fwd<'py, T: Elem>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    alpha: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let (x, alpha) = (Input::<T>::new("x", x)?, Input::<T>::new("alpha", alpha)?);
    let l = channel_layout(x.shape())?;
    per_channel("alpha", alpha.shape(), l.c, x.shape())?;
    let mut y = Output::<T>::try_new(py, x.shape())?;
    let (xs, alphas, ys) = (x.slice(), alpha.slice(), y.data());
    detached(py, || activation::prelu_forward(xs, alphas, l, ys))?;
    Ok(y.into_any())
}

/// `(dx, dalpha)`: `dout` where `x > 0`, else `alpha[c] * dout`; `dalpha[c]`
/// sums `dout * x` over the elements of channel `c` where `x <= 0`.
#[pyfunction]
pub fn prelu_backward<'py>(
    py: Python<'py>,
    dout: &Bound<'py, PyAny>,
    x: &Bound<'py, PyAny>,
    alpha: &Bound<'py, PyAny>,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    let dtype = common_dtype(&[("dout", dout), ("x", x), ("alpha", alpha)])?;
    dispatch!(dtype, prelu_bwd(py, dout, x, alpha))
}

fn prelu_bwd<'py, T: Elem>(
    py: Python<'py>,
    dout: &Bound<'py, PyAny>,
    x: &Bound<'py, PyAny>,
    alpha: &Bound<'py, PyAny>,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    let (dout, x) = (Input::<T>::new("dout", dout)?, Input::<T>::new("x", x)?);
    let alpha = Input::<T>::new("alpha", alpha)?;
    let l = channel_layout(x.shape())?;
    per_channel("alpha", alpha.shape(), l.c, x.shape())?;
    same_shape("dout", dout.shape(), "x", x.shape())?;
    let (mut dx, mut dalpha) = (
        Output::<T>::try_new(py, x.shape())?,
        Output::<T>::try_new(py, alpha.shape())?,
    );
    let (gs, xs, alphas) = (dout.slice(), x.slice(), alpha.slice());
    let (dxs, das) = (dx.data(), dalpha.data());
    detached(py, || activation::prelu_backward(gs, xs, alphas, l, dxs, das))??;
    Ok((dx.into_any(), dalpha.into_any()))
}
