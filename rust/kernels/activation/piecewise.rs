//! Piecewise-linear activations: ReLU, leaky ReLU and ReLU6. Each backward
//! reads the forward output `y`, whose sign (and, for ReLU6, whose value
//! below 6) tells which piece `x` was on. NaN inputs stay NaN.

use crate::kernels::float::Float;

/// `y = max(x, 0)`.
pub fn relu_forward<T: Float>(x: &[T], y: &mut [T]) {
    elementwise!(relu_forward_chunk(x) -> y);
}

/// `dx = dout` where `y > 0`, else 0 (`y` is the forward output).
pub fn relu_backward<T: Float>(dout: &[T], y: &[T], dx: &mut [T]) {
    elementwise!(relu_backward_chunk(dout, y) -> dx);
}

/// `y = x` where `x > 0`, else `alpha * x`.
pub fn leaky_relu_forward<T: Float>(x: &[T], alpha: T, y: &mut [T]) {
    elementwise!(leaky_relu_forward_chunk(x; alpha) -> y);
}

/// `dx = dout` where `y > 0`, else `alpha * dout`. Reading the sign of `x`
/// from `y` needs `alpha >= 0` (the bindings check it).
pub fn leaky_relu_backward<T: Float>(dout: &[T], y: &[T], alpha: T, dx: &mut [T]) {
    elementwise!(leaky_relu_backward_chunk(dout, y; alpha) -> dx);
}

/// `y = min(max(x, 0), 6)`.
pub fn relu6_forward<T: Float>(x: &[T], y: &mut [T]) {
    elementwise!(relu6_forward_chunk(x) -> y);
}

/// `dx = dout` where `0 < y < 6`, else 0 (so 0 at both kinks, as ReLU's at 0).
pub fn relu6_backward<T: Float>(dout: &[T], y: &[T], dx: &mut [T]) {
    elementwise!(relu6_backward_chunk(dout, y) -> dx);
}

multiversion! {
    fn relu_forward_chunk<T>(x: &[T], y: &mut [T]) {
        for (y, &x) in y.iter_mut().zip(x) {
            // NaN > 0 is false, but keep NaN visible rather than zeroing it.
            *y = if x > T::ZERO || x.is_nan() { x } else { T::ZERO };
        }
    }
}

multiversion! {
    fn relu_backward_chunk<T>(dout: &[T], y: &[T], dx: &mut [T]) {
        for ((dx, &g), &y) in dx.iter_mut().zip(dout).zip(y) {
            *dx = if y > T::ZERO { g } else { T::ZERO };
        }
    }
}

multiversion! {
    fn leaky_relu_forward_chunk<T>(x: &[T], alpha: T, y: &mut [T]) {
        for (y, &x) in y.iter_mut().zip(x) {
            *y = if x > T::ZERO { x } else { alpha * x };
        }
    }
}

multiversion! {
    fn leaky_relu_backward_chunk<T>(dout: &[T], y: &[T], alpha: T, dx: &mut [T]) {
        for ((dx, &g), &y) in dx.iter_mut().zip(dout).zip(y) {
            *dx = if y > T::ZERO { g } else { alpha * g };
        }
    }
}

multiversion! {
    fn relu6_forward_chunk<T>(x: &[T], y: &mut [T]) {
        let six = T::from_f64(6.0);
        for (y, &x) in y.iter_mut().zip(x) {
            *y = if x > six { six } else if x > T::ZERO || x.is_nan() { x } else { T::ZERO };
        }
    }
}

multiversion! {
    fn relu6_backward_chunk<T>(dout: &[T], y: &[T], dx: &mut [T]) {
        let six = T::from_f64(6.0);
        for ((dx, &g), &y) in dx.iter_mut().zip(dout).zip(y) {
            *dx = if y > T::ZERO && y < six { g } else { T::ZERO };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const X: [f32; 7] = [-2.0, -0.0, 0.0, 3.0, 6.0, 7.5, f32::NAN];
    const DOUT: [f32; 7] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0];

    fn same(got: &[f32], want: &[f32]) {
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert!(g == w || (g.is_nan() && w.is_nan()), "{got:?} vs {want:?}");
        }
    }

    #[test]
    fn relu_and_its_gradient() {
        let mut y = [9.0f32; 7];
        relu_forward(&X, &mut y);
        same(&y, &[0.0, 0.0, 0.0, 3.0, 6.0, 7.5, f32::NAN]);
        let mut dx = [9.0f32; 7];
        relu_backward(&DOUT, &y, &mut dx);
        same(&dx, &[0.0, 0.0, 0.0, 4.0, 5.0, 6.0, 0.0]);
    }

    #[test]
    fn leaky_relu_and_its_gradient() {
        let mut y = [9.0f32; 7];
        leaky_relu_forward(&X, 0.25, &mut y);
        same(&y, &[-0.5, 0.0, 0.0, 3.0, 6.0, 7.5, f32::NAN]);
        let mut dx = [9.0f32; 7];
        leaky_relu_backward(&DOUT, &y, 0.25, &mut dx);
        same(&dx, &[0.25, 0.5, 0.75, 4.0, 5.0, 6.0, 1.75]);
    }

    #[test]
    fn relu6_and_its_gradient() {
        let mut y = [9.0f32; 7];
        relu6_forward(&X, &mut y);
        same(&y, &[0.0, 0.0, 0.0, 3.0, 6.0, 6.0, f32::NAN]);
        let mut dx = [9.0f32; 7];
        relu6_backward(&DOUT, &y, &mut dx);
        same(&dx, &[0.0, 0.0, 0.0, 4.0, 0.0, 0.0, 0.0]);
    }
}
