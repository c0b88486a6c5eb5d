//! Element-wise activations: ReLU and a sigmoid that cannot overflow.
//! Inputs are never modified; results go to separate output buffers.

use super::float::Float;
use super::parallel::{for_each_range, SharedMut};

/// Elements per thread below which a call stays single-threaded.
const GRAIN: usize = 1 << 16;

/// Apply a chunk kernel `f(inputs..., out)` over equal ranges, in parallel.
macro_rules! elementwise {
    ($f:ident, $out:expr, $($input:expr),+) => {{
        let len = $out.len();
        $( assert_eq!($input.len(), len, "length mismatch"); )+
        let out = SharedMut::new($out);
        // SAFETY: for_each_range hands out disjoint ranges.
        for_each_range(len, GRAIN, |r| $f($(&$input[r.clone()]),+, unsafe { out.range(r) }));
    }};
}

/// `y = max(x, 0)`.
pub fn relu_forward<T: Float>(x: &[T], y: &mut [T]) {
    elementwise!(relu_forward_chunk, y, x);
}

/// `dx = dout` where `y > 0`, else 0 (`y` is the forward output).
pub fn relu_backward<T: Float>(dout: &[T], y: &[T], dx: &mut [T]) {
    elementwise!(relu_backward_chunk, dx, dout, y);
}

/// `y = 1 / (1 + e^-x)`, computed from `e^-|x|` so nothing overflows.
pub fn sigmoid_forward<T: Float>(x: &[T], y: &mut [T]) {
    elementwise!(sigmoid_forward_chunk, y, x);
}

/// `dx = dout * y * (1 - y)` (`y` is the forward output).
pub fn sigmoid_backward<T: Float>(dout: &[T], y: &[T], dx: &mut [T]) {
    elementwise!(sigmoid_backward_chunk, dx, dout, y);
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
    fn sigmoid_forward_chunk<T>(x: &[T], y: &mut [T]) {
        for (y, &x) in y.iter_mut().zip(x) {
            let e = (-x.abs()).exp_nonpositive(); // in (0, 1]
            let inv = T::ONE / (T::ONE + e);
            *y = if x >= T::ZERO { inv } else if x < T::ZERO { e * inv } else { x };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relu_and_its_gradient() {
        let x = [-2.0f32, -0.0, 0.0, 3.0, f32::NAN];
        let mut y = [9.0f32; 5];
        relu_forward(&x, &mut y);
        assert_eq!(&y[..4], &[0.0, 0.0, 0.0, 3.0]);
        assert!(y[4].is_nan());
        let dout = [1.0f32, 2.0, 3.0, 4.0, 5.0];
        let mut dx = [9.0f32; 5];
        relu_backward(&dout, &y, &mut dx);
        assert_eq!(dx, [0.0, 0.0, 0.0, 4.0, 0.0]);
    }

    #[test]
    fn sigmoid_is_stable_and_accurate() {
        let xs: Vec<f64> = (-2000..=2000).map(|i| i as f64 * 0.5).collect();
        let mut y = vec![0.0; xs.len()];
        sigmoid_forward(&xs, &mut y);
        for (&x, &y) in xs.iter().zip(&y) {
            let want = if x >= 0.0 {
                1.0 / (1.0 + (-x).exp())
            } else {
                x.exp() / (1.0 + x.exp())
            };
            assert!(y.is_finite());
            assert!(
                (y - want).abs() <= 4e-15 * want.max(1e-300) + 1e-300,
                "sigmoid({x}) = {y}, want {want}"
            );
        }
        let mut y32 = [0.0f32; 2];
        sigmoid_forward(&[-1000.0f32, 1000.0], &mut y32);
        assert_eq!(y32, [0.0, 1.0]);
    }

    #[test]
    fn large_inputs_split_over_threads_give_the_same_result() {
        let n = 3 * GRAIN + 17;
        let x: Vec<f32> = (0..n).map(|i| (i as f32 * 0.001).sin() * 20.0).collect();
        let mut y = vec![0.0f32; n];
        sigmoid_forward(&x, &mut y);
        for (i, (&x, &y)) in x.iter().zip(&y).enumerate() {
            let want = 1.0 / (1.0 + (-(x as f64)).exp());
            assert!((y as f64 - want).abs() < 1e-6, "element {i}");
        }
    }
}
