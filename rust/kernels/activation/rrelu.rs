//! Randomized leaky ReLU while training: element `i` (C-order flat index) of
//! a call with `seed` has the slope `lower + (upper - lower) * u_i`, with
//! `u_i = (splitmix64(seed, i) >> 40) / 2^24` in `[0, 1)` (dropout's
//! counter-based hash), all in the element type. The slopes depend only on
//! `(seed, i)`: the same for any thread count and, bit for bit, in the NumPy
//! reference. The backward pass draws them again instead of storing them.

use crate::kernels::dropout::splitmix64;
use crate::kernels::float::Float;

/// The slope of element `i`: `lower + width * u_i` (`width = upper - lower`).
#[inline(always)]
fn slope<T: Float>(seed: u64, i: u64, lower: T, width: T) -> T {
    let draw = (splitmix64(seed, i) >> 40) as i32; // 24 bits: exact in f32 and f64
    lower + width * T::from_f64(draw as f64 * (1.0 / 16_777_216.0))
}

/// `y = x` where `x > 0`, else `slope_i * x`. `0 <= lower <= upper` (the
/// bindings check it), in the element type.
pub fn rrelu_forward<T: Float>(x: &[T], lower: T, upper: T, seed: u64, y: &mut [T]) {
    let width = upper - lower;
    elementwise!(|r| forward_chunk(x; seed, r.start as u64, lower, width) -> y);
}

/// `dx = dout` where `y > 0`, else `slope_i * dout`, with the slopes of the
/// forward call with the same `seed`, `lower` and `upper` (`y` is its output;
/// its sign is `x`'s since the slopes are not negative).
pub fn rrelu_backward<T: Float>(dout: &[T], y: &[T], lower: T, upper: T, seed: u64, dx: &mut [T]) {
    let width = upper - lower;
    elementwise!(|r| backward_chunk(dout, y; seed, r.start as u64, lower, width) -> dx);
}

multiversion! {
    fn forward_chunk<T>(x: &[T], seed: u64, first: u64, lower: T, width: T, y: &mut [T]) {
        for (k, (y, &x)) in y.iter_mut().zip(x).enumerate() {
            let a = slope(seed, first + k as u64, lower, width);
            *y = if x > T::ZERO { x } else { x * a };
        }
    }
}

multiversion! {
    fn backward_chunk<T>(dout: &[T], y: &[T], seed: u64, first: u64, lower: T, width: T, dx: &mut [T]) {
        for (k, ((dx, &g), &y)) in dx.iter_mut().zip(dout).zip(y).enumerate() {
            let a = slope(seed, first + k as u64, lower, width);
            *dx = if y > T::ZERO { g } else { g * a };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::parallel::set_num_threads;

    #[test]
    fn slopes_follow_the_hash() {
        // Python: [int(splitmix64(42, i) >> 40) for i in range(3)] with the dropout tests' splitmix64
        let x = [-1.0f64; 3];
        let mut y = [0.0; 3];
        rrelu_forward(&x, 0.125, 0.375, 42, &mut y);
        for (i, &y) in y.iter().enumerate() {
            let u = (splitmix64(42, i as u64) >> 40) as f64 / 16_777_216.0;
            assert_eq!(y, -(0.125 + 0.25 * u));
            assert!((-0.375..=-0.125).contains(&y));
        }
    }

    #[test]
    fn forward_and_backward_agree_and_ignore_the_thread_count() {
        let n = 5 * (1 << 16) + 77;
        let x: Vec<f32> = (0..n).map(|i| ((i % 13) as f32 - 6.0) * 0.5).collect();
        let dout: Vec<f32> = (0..n).map(|i| (i % 7) as f32 + 1.0).collect();
        let mut runs = Vec::new();
        for threads in [1, 2, 3] {
            set_num_threads(threads);
            let (mut y, mut dx) = (vec![0.0f32; n], vec![0.0f32; n]);
            rrelu_forward(&x, 0.125, 1.0 / 3.0, 7, &mut y);
            rrelu_backward(&dout, &y, 0.125, 1.0 / 3.0, 7, &mut dx);
            runs.push((y, dx));
        }
        set_num_threads(2);
        assert!(runs.windows(2).all(|r| r[0] == r[1]));
        let (y, dx) = &runs[0];
        for i in 0..n {
            if x[i] > 0.0 {
                assert_eq!((y[i], dx[i]), (x[i], dout[i]));
            } else if x[i] < 0.0 {
                let a = y[i] / x[i]; // the slope (x is exact in f32)
                assert!((0.125..=1.0 / 3.0).contains(&a), "{i}: slope {a}");
                assert!((dx[i] - dout[i] * a).abs() <= 1e-6 * dout[i], "{i}");
            }
        }
    }
}
