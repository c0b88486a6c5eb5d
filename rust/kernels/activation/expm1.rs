//! Activations built on `e^x - 1`: tanh and ELU. Both backward passes read
//! the forward output `y`: `tanh' = (1 - y)(1 + y)`, `ELU' = y + alpha` for
//! `x <= 0`.

use crate::kernels::float::Float;

/// `tanh(|x|) = -m / (2 + m)` with `m = e^(-2|x|) - 1` in `(-1, 0]`, signed
/// like `x`: no overflow, no cancellation for small `|x|`, exactly 1 from
/// where `e^(-2|x|)` flushes to zero.
#[inline(always)]
fn tanh<T: Float>(x: T) -> T {
    let m = (T::from_f64(-2.0) * x.abs()).expm1_nonpositive();
    (-m / (T::from_f64(2.0) + m)).copysign(x)
}

/// `y = tanh(x)`.
pub fn tanh_forward<T: Float>(x: &[T], y: &mut [T]) {
    elementwise!(tanh_forward_chunk(x) -> y);
}

/// `dx = dout * (1 - y) * (1 + y)` (`y` is the forward output).
pub fn tanh_backward<T: Float>(dout: &[T], y: &[T], dx: &mut [T]) {
    elementwise!(tanh_backward_chunk(dout, y) -> dx);
}

/// `y = x` where `x > 0`, else `alpha * (e^x - 1)`.
pub fn elu_forward<T: Float>(x: &[T], alpha: T, y: &mut [T]) {
    elementwise!(elu_forward_chunk(x; alpha) -> y);
}

/// `dx = dout` where `y > 0`, else `dout * (y + alpha)` (`alpha e^x`). Reading
/// the sign of `x` from `y` needs `alpha > 0` (the bindings check it).
pub fn elu_backward<T: Float>(dout: &[T], y: &[T], alpha: T, dx: &mut [T]) {
    elementwise!(elu_backward_chunk(dout, y; alpha) -> dx);
}

multiversion! {
    fn tanh_forward_chunk<T>(x: &[T], y: &mut [T]) {
        for (y, &x) in y.iter_mut().zip(x) {
            *y = tanh(x);
        }
    }
}

multiversion! {
    fn tanh_backward_chunk<T>(dout: &[T], y: &[T], dx: &mut [T]) {
        for ((dx, &g), &y) in dx.iter_mut().zip(dout).zip(y) {
            *dx = g * (T::ONE - y) * (T::ONE + y);
        }
    }
}

multiversion! {
    fn elu_forward_chunk<T>(x: &[T], alpha: T, y: &mut [T]) {
        for (y, &x) in y.iter_mut().zip(x) {
            *y = if x > T::ZERO { x } else { alpha * x.expm1_nonpositive() };
        }
    }
}

multiversion! {
    fn elu_backward_chunk<T>(dout: &[T], y: &[T], alpha: T, dx: &mut [T]) {
        for ((dx, &g), &y) in dx.iter_mut().zip(dout).zip(y) {
            *dx = if y > T::ZERO { g } else { g * (y + alpha) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tanh_is_accurate_everywhere() {
        let tiny = (0..700).map(|i| (10f64).powf(-300.0 + i as f64 * 0.43));
        let xs: Vec<f64> = tiny
            .chain((0..=40_000).map(|i| i as f64 * 0.001))
            .flat_map(|x| [x, -x])
            .collect();
        let mut y = vec![0.0; xs.len()];
        tanh_forward(&xs, &mut y);
        let mut worst = 0.0f64;
        for (&x, &y) in xs.iter().zip(&y) {
            worst = worst.max((y - x.tanh()).abs() / x.tanh().abs().max(1e-320));
            assert_eq!(y.is_sign_negative(), x.is_sign_negative(), "tanh({x}) = {y}");
        }
        assert!(worst <= 8e-16, "f64 tanh relative error {worst}");
        let xs32: Vec<f32> = xs.iter().map(|&x| x as f32).collect();
        let mut y32 = vec![0.0f32; xs.len()];
        tanh_forward(&xs32, &mut y32);
        let worst = xs32.iter().zip(&y32).fold(0.0f64, |w, (&x, &y)| {
            let want = (x as f64).tanh();
            w.max((y as f64 - want).abs() / want.abs().max(1e-45))
        });
        assert!(worst <= 4e-7, "f32 tanh relative error {worst}");
        let mut edges = [9.0f32; 3];
        tanh_forward(&[f32::NEG_INFINITY, 1e30, f32::INFINITY], &mut edges);
        assert_eq!(edges, [-1.0, 1.0, 1.0]);
        let mut nan = [0.0f64];
        tanh_forward(&[f64::NAN], &mut nan);
        assert!(nan[0].is_nan());
    }

    #[test]
    fn tanh_gradient() {
        let (y, dout) = ([0.5f64, -0.25, 1.0], [2.0, 4.0, 3.0]);
        let mut dx = [9.0; 3];
        tanh_backward(&dout, &y, &mut dx);
        assert_eq!(dx, [1.5, 3.75, 0.0]);
    }

    #[test]
    fn elu_and_its_gradient() {
        let xs: Vec<f64> = (-3000..=3000)
            .map(|i| i as f64 * 0.01)
            .chain([-1e-300, -1e-12, -1e300])
            .collect();
        let (mut y, mut dx) = (vec![0.0; xs.len()], vec![0.0; xs.len()]);
        elu_forward(&xs, 1.5, &mut y);
        elu_backward(&vec![2.0; xs.len()], &y, 1.5, &mut dx);
        for ((&x, &y), &d) in xs.iter().zip(&y).zip(&dx) {
            let (want, dwant) = if x > 0.0 {
                (x, 2.0)
            } else {
                (1.5 * x.exp_m1(), 3.0 * x.exp())
            };
            assert!(
                (y - want).abs() <= 4e-16 * want.abs() + 1e-320,
                "elu({x}) = {y}, want {want}"
            );
            assert!((d - dwant).abs() <= 1e-15, "elu'({x}) = {d}, want {dwant}");
        }
        let mut y = [9.0f32; 2];
        elu_forward(&[f32::NEG_INFINITY, f32::NAN], 2.0, &mut y);
        assert_eq!(y[0], -2.0);
        assert!(y[1].is_nan());
    }
}
