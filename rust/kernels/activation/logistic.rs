//! The logistic sigmoid and the activations built on it: softplus (whose
//! derivative it is), swish `x * sigmoid(beta * x)` and GELU in its tanh
//! form, `x * sigmoid(2u)` (since `(1 + tanh(u)) / 2 = sigmoid(2u)`). Every
//! exponential is `e^-|z|`, which cannot overflow, and `1 - sigmoid(z)` is
//! computed directly rather than by cancellation.

use crate::kernels::float::Float;

/// `sqrt(2 / pi)`, GELU's scale inside the tanh.
const GELU_SCALE: f64 = 0.797_884_560_802_865_4;
/// The cubic coefficient of GELU's tanh form.
const GELU_CUBIC: f64 = 0.044_715;
/// `|x|` beyond which GELU is exactly `x` or 0 (and its derivative 1 or 0)
/// in both float types; the polynomial is evaluated on `x` clamped to it, so
/// `x^3` never overflows.
const GELU_CLAMP: f64 = 30.0;

/// `(sigmoid(z), 1 - sigmoid(z))` from `e^-|z|`; NaN gives NaN twice.
#[inline(always)]
fn sigmoid_pair<T: Float>(z: T) -> (T, T) {
    let e = (-z.abs()).exp_nonpositive(); // in [0, 1]
    let inv = T::ONE / (T::ONE + e);
    let small = e * inv;
    if z >= T::ZERO {
        (inv, small)
    } else if z < T::ZERO {
        (small, inv)
    } else {
        (z, z)
    }
}

/// `x * s` (with `s = sigmoid(..)`), but exactly 0 where `s` is 0, so that
/// `x = -inf` gives the limit 0 rather than NaN.
#[inline(always)]
fn gated<T: Float>(x: T, s: T) -> T {
    if s == T::ZERO {
        T::ZERO
    } else {
        x * s
    }
}

/// GELU's `z = 2u = x (a + b x^2)` with `a = 2 sqrt(2/pi)`, `b = a * 0.044715`,
/// and `dz/dx = a + 3 b x^2`, for `x` already clamped to [`GELU_CLAMP`].
#[inline(always)]
fn gelu_z<T: Float>(xc: T) -> (T, T) {
    let a = T::from_f64(2.0 * GELU_SCALE);
    let b = T::from_f64(2.0 * GELU_SCALE * GELU_CUBIC);
    let x2 = xc * xc;
    (xc * (a + b * x2), a + T::from_f64(3.0) * b * x2)
}

#[inline(always)]
fn clamp<T: Float>(x: T, limit: T) -> T {
    // comparisons keep NaN as NaN
    if x > limit {
        limit
    } else if x < -limit {
        -limit
    } else {
        x
    }
}

/// `y = 1 / (1 + e^-x)`, computed from `e^-|x|` so nothing overflows.
pub fn sigmoid_forward<T: Float>(x: &[T], y: &mut [T]) {
    elementwise!(sigmoid_forward_chunk(x) -> y);
}

/// `dx = dout * y * (1 - y)` (`y` is the forward output).
pub fn sigmoid_backward<T: Float>(dout: &[T], y: &[T], dx: &mut [T]) {
    elementwise!(sigmoid_backward_chunk(dout, y) -> dx);
}

/// `y = ln(1 + e^x) = max(x, 0) + ln(1 + e^-|x|)`: no overflow, and exact
/// to a few ulp for large negative `x` too.
pub fn softplus_forward<T: Float>(x: &[T], y: &mut [T]) {
    elementwise!(softplus_forward_chunk(x) -> y);
}

/// `dx = dout * sigmoid(x)` (`x` is the forward input).
pub fn softplus_backward<T: Float>(dout: &[T], x: &[T], dx: &mut [T]) {
    elementwise!(softplus_backward_chunk(dout, x) -> dx);
}

/// `y = x * sigmoid(beta * x)` (SiLU when `beta = 1`); 0 where the sigmoid is
/// 0 (so `x = -inf` gives 0 for `beta > 0`).
pub fn swish_forward<T: Float>(x: &[T], beta: T, y: &mut [T]) {
    elementwise!(swish_forward_chunk(x; beta) -> y);
}

/// `dx = dout * s * (1 + z * (1 - s))` with `z = beta * x`, `s = sigmoid(z)`
/// (`x` is the forward input); the product `z * (1 - s)` is 0 where `1 - s`
/// is, and the whole derivative 0 where `s` is, so infinite `z` give the
/// limits 1 and 0.
pub fn swish_backward<T: Float>(dout: &[T], x: &[T], beta: T, dx: &mut [T]) {
    elementwise!(swish_backward_chunk(dout, x; beta) -> dx);
}

/// GELU, tanh form: `y = x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))`,
/// evaluated as `x * sigmoid(z)`, `z = 2 sqrt(2/pi) (x + 0.044715 x^3)`.
pub fn gelu_forward<T: Float>(x: &[T], y: &mut [T]) {
    elementwise!(gelu_forward_chunk(x) -> y);
}

/// `dx = dout * (s + x s (1 - s) dz/dx)`, `s = sigmoid(z)` (`x` is the forward input).
pub fn gelu_backward<T: Float>(dout: &[T], x: &[T], dx: &mut [T]) {
    elementwise!(gelu_backward_chunk(dout, x) -> dx);
}

multiversion! {
    fn sigmoid_forward_chunk<T>(x: &[T], y: &mut [T]) {
        for (y, &x) in y.iter_mut().zip(x) {
            *y = sigmoid_pair(x).0;
        }
    }
}

multiversion! {
    fn sigmoid_backward_chunk<T>(dout: &[T], y: &[T], dx: &mut [T]) {
        for ((dx, &g), &y) in dx.iter_mut().zip(dout).zip(y) {
            *dx = g * y * (T::ONE - y);
        }
    }
}

multiversion! {
    fn softplus_forward_chunk<T>(x: &[T], y: &mut [T]) {
        for (y, &x) in y.iter_mut().zip(x) {
            let e = (-x.abs()).exp_nonpositive(); // in [0, 1]
            let positive = if x > T::ZERO { x } else { T::ZERO };
            *y = positive + e.ln_1p_unit();
        }
    }
}

multiversion! {
    fn softplus_backward_chunk<T>(dout: &[T], x: &[T], dx: &mut [T]) {
        for ((dx, &g), &x) in dx.iter_mut().zip(dout).zip(x) {
            *dx = g * sigmoid_pair(x).0;
        }
    }
}

multiversion! {
    fn swish_forward_chunk<T>(x: &[T], beta: T, y: &mut [T]) {
        for (y, &x) in y.iter_mut().zip(x) {
            *y = gated(x, sigmoid_pair(beta * x).0);
        }
    }
}

multiversion! {
    fn swish_backward_chunk<T>(dout: &[T], x: &[T], beta: T, dx: &mut [T]) {
        for ((dx, &g), &x) in dx.iter_mut().zip(dout).zip(x) {
            let z = beta * x;
            let (s, rest) = sigmoid_pair(z);
            let zr = if rest == T::ZERO { T::ZERO } else { z * rest };
            *dx = g * gated(T::ONE + zr, s);
        }
    }
}

multiversion! {
    fn gelu_forward_chunk<T>(x: &[T], y: &mut [T]) {
        let limit = T::from_f64(GELU_CLAMP);
        for (y, &x) in y.iter_mut().zip(x) {
            let (z, _) = gelu_z(clamp(x, limit));
            *y = gated(x, sigmoid_pair(z).0);
        }
    }
}

multiversion! {
    fn gelu_backward_chunk<T>(dout: &[T], x: &[T], dx: &mut [T]) {
        let limit = T::from_f64(GELU_CLAMP);
        for ((dx, &g), &x) in dx.iter_mut().zip(dout).zip(x) {
            let xc = clamp(x, limit);
            let (z, dz) = gelu_z(xc);
            let (s, rest) = sigmoid_pair(z);
            *dx = g * (s + xc * s * rest * dz);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sigmoid64(x: f64) -> f64 {
        if x >= 0.0 {
            1.0 / (1.0 + (-x).exp())
        } else {
            x.exp() / (1.0 + x.exp())
        }
    }

    fn grid() -> Vec<f64> {
        (-4000..=4000).map(|i| i as f64 * 0.01).collect()
    }

    fn check<T: Float>(xs: &[f64], got: &[T], want: impl Fn(f64) -> f64, rtol: f64, what: &str) {
        for (&x, &g) in xs.iter().zip(got) {
            let (g, w) = (g.to_f64(), want(T::from_f64(x).to_f64()));
            assert!((g - w).abs() <= rtol * w.abs() + 1e-300, "{what}({x}) = {g}, want {w}");
        }
    }

    #[test]
    fn sigmoid_is_stable_and_accurate() {
        let xs: Vec<f64> = (-2000..=2000).map(|i| i as f64 * 0.5).collect();
        let mut y = vec![0.0; xs.len()];
        sigmoid_forward(&xs, &mut y);
        assert!(y.iter().all(|v| v.is_finite()));
        check(&xs, &y, sigmoid64, 4e-15, "sigmoid");
        let mut y32 = [0.0f32; 2];
        sigmoid_forward(&[-1000.0f32, 1000.0], &mut y32);
        assert_eq!(y32, [0.0, 1.0]);
    }

    #[test]
    fn softplus_and_its_gradient() {
        let xs = grid();
        let mut y = vec![0.0; xs.len()];
        softplus_forward(&xs, &mut y);
        check(&xs, &y, |x| x.max(0.0) + (-x.abs()).exp().ln_1p(), 2e-15, "softplus");
        let mut dx = vec![0.0; xs.len()];
        softplus_backward(&vec![1.0; xs.len()], &xs, &mut dx);
        check(&xs, &dx, sigmoid64, 4e-15, "softplus'");
        let mut y32 = [0.0f32; 4];
        softplus_forward(&[-1000.0f32, 1000.0, f32::INFINITY, f32::NEG_INFINITY], &mut y32);
        assert_eq!(y32, [0.0, 1000.0, f32::INFINITY, 0.0]);
    }

    #[test]
    fn swish_and_its_gradient() {
        let xs = grid();
        for beta in [1.0, 0.5, -2.0] {
            let (mut y, mut dx) = (vec![0.0; xs.len()], vec![0.0; xs.len()]);
            swish_forward(&xs, beta, &mut y);
            check(&xs, &y, |x| x * sigmoid64(beta * x), 4e-15, "swish");
            swish_backward(&vec![1.0; xs.len()], &xs, beta, &mut dx);
            let want = |x: f64| {
                let s = sigmoid64(beta * x);
                s + beta * x * s * sigmoid64(-beta * x)
            };
            for (&x, &d) in xs.iter().zip(&dx) {
                assert!((d - want(x)).abs() <= 1e-14, "swish'({x}) = {d}, want {}", want(x));
            }
        }
        let inf = [f64::NEG_INFINITY, f64::INFINITY];
        let (mut y, mut dx) = ([9.0; 2], [9.0; 2]);
        swish_forward(&inf, 1.0, &mut y);
        swish_backward(&[1.0, 1.0], &inf, 1.0, &mut dx);
        assert_eq!((y, dx), ([0.0, f64::INFINITY], [0.0, 1.0]));
    }

    #[test]
    fn gelu_is_the_tanh_form_and_its_gradient() {
        let xs = grid();
        let tanh_form = |x: f64| 0.5 * x * (1.0 + (GELU_SCALE * (x + GELU_CUBIC * x * x * x)).tanh());
        let (mut y, mut dx) = (vec![0.0; xs.len()], vec![0.0; xs.len()]);
        gelu_forward(&xs, &mut y);
        for (&x, &y) in xs.iter().zip(&y) {
            assert!((y - tanh_form(x)).abs() <= 1e-15 * (1.0 + x.abs()), "gelu({x}) = {y}");
        }
        gelu_backward(&vec![1.0; xs.len()], &xs, &mut dx);
        for (&x, &d) in xs.iter().zip(&dx) {
            let h = 1e-6;
            let numeric = (tanh_form(x + h) - tanh_form(x - h)) / (2.0 * h);
            assert!((d - numeric).abs() <= 1e-8, "gelu'({x}) = {d}, numeric {numeric}");
        }
        let edges = [f32::NEG_INFINITY, -1e30, 1e30, f32::INFINITY];
        let (mut y, mut dx) = ([9.0f32; 4], [9.0f32; 4]);
        gelu_forward(&edges, &mut y);
        gelu_backward(&[1.0; 4], &edges, &mut dx);
        assert_eq!((y, dx), ([0.0, 0.0, 1e30, f32::INFINITY], [0.0, 0.0, 1.0, 1.0]));
        let (mut y, mut dx) = ([0.0f32], [0.0f32]);
        gelu_forward(&[f32::NAN], &mut y);
        gelu_backward(&[1.0], &[f32::NAN], &mut dx);
        assert!(y[0].is_nan() && dx[0].is_nan());
    }
}
