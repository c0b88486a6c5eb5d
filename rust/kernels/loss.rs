//! The element-wise losses: each the mean, over every element, of a term of
//! the scores `y` and the targets `t` (one shape): squared error, absolute
//! error, Huber, and the binary cross-entropy of `sigmoid(y)` (logits)
//! against probabilities `t`.
//!
//! Forward: the terms in `T`, summed in `f64` over fixed blocks (the same
//! bits at any thread count), divided by the element count. Backward:
//! `dy = dout * d(mean)/dy`, from `y` and `t` again (no state between the
//! passes). Where the targets must be probabilities, both passes check them
//! as they read them.

use super::float::Float;
use super::parallel::SharedMut;
use super::partials::{reduce_blocks, Partial};
use super::reduce::{lane_max, lane_min, lane_sum_of};

/// Elements per partial sum (a multiple of 64, so SIMD loops stay aligned).
const BLOCK: usize = 1 << 13;
/// Elements per thread below which a call stays single-threaded.
const GRAIN: usize = 1 << 16;

/// An element-wise loss: the term of one score `y` and its target `t`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Elementwise {
    /// `(y - t)^2`.
    Squared,
    /// `|y - t|`.
    Absolute,
    /// `d^2 / 2` where `|d| <= delta`, else `delta (|d| - delta / 2)`, with
    /// `d = y - t` and `delta > 0` (checked by the caller; used in `T`).
    Huber { delta: f64 },
    /// `-t ln sigmoid(y) - (1 - t) ln(1 - sigmoid(y))` for a logit `y` and a
    /// probability `t`, computed as `max(y, 0) - y t + ln(1 + e^-|y|)`:
    /// exact and finite for any finite logit.
    SigmoidCrossEntropy,
}

impl Elementwise {
    /// Whether the targets must be probabilities (both passes check them).
    pub fn needs_probabilities(self) -> bool {
        matches!(self, Self::SigmoidCrossEntropy)
    }

    /// What a block of terms adds up to: their sum, with the range of the
    /// block's targets `t` when they must be probabilities.
    #[inline(always)]
    fn block<T: Float>(self, sum: f64, t: &[T]) -> Sums {
        if self.needs_probabilities() {
            Sums::with_range(sum, t)
        } else {
            Sums::of(sum)
        }
    }
}

/// Targets that had to be probabilities and were not: the smallest and
/// largest of them (NaN is not counted, and does not make an error).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NotProbabilities {
    pub min: f64,
    pub max: f64,
}

/// What a block contributes: the sum of its terms, and the range of its
/// targets where they are checked (else `+inf`, `-inf`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sums {
    pub sum: f64,
    pub min: f64,
    pub max: f64,
}

impl Partial for Sums {
    const EMPTY: Self = Sums {
        sum: 0.0,
        min: f64::INFINITY,
        max: f64::NEG_INFINITY,
    };

    fn merge(self, next: Self) -> Self {
        Sums {
            sum: self.sum + next.sum,
            min: if next.min < self.min { next.min } else { self.min },
            max: if next.max > self.max { next.max } else { self.max },
        }
    }
}

impl Sums {
    /// A sum of terms whose targets are not checked.
    pub fn of(sum: f64) -> Self {
        Sums { sum, ..Self::EMPTY }
    }

    /// A sum of terms, with the range of the targets `t` behind them.
    pub fn with_range<T: Float>(sum: f64, t: &[T]) -> Self {
        let (min, max) = range_of(t);
        Sums {
            sum,
            min: min.to_f64(),
            max: max.to_f64(),
        }
    }

    /// The sum, unless a checked target lies outside `[0, 1]`.
    pub fn probabilities(self) -> Result<f64, NotProbabilities> {
        if self.min < 0.0 || self.max > 1.0 {
            Err(NotProbabilities {
                min: self.min,
                max: self.max,
            })
        } else {
            Ok(self.sum)
        }
    }
}

/// The mean of `loss` over every element of `y` and `t` (same length, not
/// empty); `Err` when the loss needs probabilities and `t` holds others.
pub fn forward<T: Float>(loss: Elementwise, y: &[T], t: &[T]) -> Result<f64, NotProbabilities> {
    assert_eq!(y.len(), t.len(), "length mismatch");
    let total = reduce_blocks(y.len(), BLOCK, GRAIN, |r| {
        let (y, t) = (&y[r.clone()], &t[r]);
        let sum = match loss {
            Elementwise::Squared => squared_sum(y, t),
            Elementwise::Absolute => absolute_sum(y, t),
            Elementwise::Huber { delta } => huber_sum(y, t, T::from_f64(delta)),
            Elementwise::SigmoidCrossEntropy => sigmoid_cross_entropy_sum(y, t),
        };
        loss.block(sum, t)
    });
    total.probabilities().map(|sum| sum / y.len() as f64)
}

/// `dy = dout * d(mean of loss)/dy` for `y`, `t`, `dy` of one length; `Err`
/// (with `dy` partly written) when the loss needs probabilities and `t` holds others.
pub fn backward<T: Float>(
    loss: Elementwise,
    y: &[T],
    t: &[T],
    dout: f64,
    dy: &mut [T],
) -> Result<(), NotProbabilities> {
    assert_eq!(y.len(), t.len(), "length mismatch");
    assert_eq!(y.len(), dy.len(), "length mismatch");
    let n = y.len() as f64;
    let scale = T::from_f64(dout / n);
    let out = SharedMut::new(dy);
    let total = reduce_blocks(y.len(), BLOCK, GRAIN, |r| {
        // SAFETY: blocks are disjoint.
        let dy = unsafe { out.range(r.clone()) };
        let (y, t) = (&y[r.clone()], &t[r]);
        match loss {
            Elementwise::Squared => squared_grad(y, t, T::from_f64(2.0 * dout / n), dy),
            Elementwise::Absolute => absolute_grad(y, t, scale, dy),
            Elementwise::Huber { delta } => huber_grad(y, t, T::from_f64(delta), scale, dy),
            Elementwise::SigmoidCrossEntropy => sigmoid_cross_entropy_grad(y, t, scale, dy),
        }
        loss.block(0.0, t)
    });
    total.probabilities().map(|_| ())
}

multiversion! {
    /// `(min, max)` of `t`, NaN skipped (`(+inf, -inf)` when empty).
    fn range_of<T>(t: &[T]) -> (T, T) {
        (lane_min(t), lane_max(t))
    }
}

multiversion! {
    fn squared_sum<T>(y: &[T], t: &[T]) -> f64 {
        lane_sum_of(y, t, |y, t| {
            let d = y - t;
            d * d
        })
    }
}

multiversion! {
    fn absolute_sum<T>(y: &[T], t: &[T]) -> f64 {
        lane_sum_of(y, t, |y, t| (y - t).abs())
    }
}

multiversion! {
    fn huber_sum<T>(y: &[T], t: &[T], delta: T) -> f64 {
        let half = T::from_f64(0.5);
        let half_delta = half * delta;
        lane_sum_of(y, t, |y, t| {
            let d = y - t;
            let a = d.abs();
            if a <= delta { half * d * d } else { delta * (a - half_delta) }
        })
    }
}

multiversion! {
    fn sigmoid_cross_entropy_sum<T>(x: &[T], t: &[T]) -> f64 {
        lane_sum_of(x, t, |x, t| {
            // max(x, 0) - x t, exactly 0 for t = 1 (x >= 0) or t = 0 (x < 0)
            let linear = if x >= T::ZERO { x * (T::ONE - t) } else { -x * t };
            linear + (-x.abs()).exp_nonpositive().ln_1p_unit()
        })
    }
}

multiversion! {
    fn squared_grad<T>(y: &[T], t: &[T], scale: T, dy: &mut [T]) {
        for ((dy, &y), &t) in dy.iter_mut().zip(y).zip(t) {
            *dy = (y - t) * scale;
        }
    }
}

multiversion! {
    /// `sign(y - t) * scale`; 0 where `y == t` (NaN stays NaN).
    fn absolute_grad<T>(y: &[T], t: &[T], scale: T, dy: &mut [T]) {
        for ((dy, &y), &t) in dy.iter_mut().zip(y).zip(t) {
            let d = y - t;
            *dy = if d > T::ZERO { scale } else if d < T::ZERO { -scale } else { d * scale };
        }
    }
}

multiversion! {
    /// `clip(y - t, -delta, delta) * scale` (NaN stays NaN).
    fn huber_grad<T>(y: &[T], t: &[T], delta: T, scale: T, dy: &mut [T]) {
        for ((dy, &y), &t) in dy.iter_mut().zip(y).zip(t) {
            let d = y - t;
            let clipped = if d > delta { delta } else if d < -delta { -delta } else { d };
            *dy = clipped * scale;
        }
    }
}

multiversion! {
    /// `(sigmoid(x) - t) * scale`, with `sigmoid(x) - t` formed so that it
    /// does not cancel when `sigmoid(x)` rounds to 1.
    fn sigmoid_cross_entropy_grad<T>(x: &[T], t: &[T], scale: T, dy: &mut [T]) {
        for ((dy, &x), &t) in dy.iter_mut().zip(x).zip(t) {
            let e = (-x.abs()).exp_nonpositive();
            let p = e / (T::ONE + e); // sigmoid(-|x|)
            // sigmoid(x) = 1 - p for x >= 0, p for x < 0
            let g = if x >= T::ZERO { (T::ONE - t) - p } else { p - t };
            *dy = g * scale;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Elementwise; 4] = [
        Elementwise::Squared,
        Elementwise::Absolute,
        Elementwise::Huber { delta: 0.7 },
        Elementwise::SigmoidCrossEntropy,
    ];

    /// The term of `loss` at (y, t), in plain f64.
    fn term(loss: Elementwise, y: f64, t: f64) -> f64 {
        let d = y - t;
        match loss {
            Elementwise::Squared => d * d,
            Elementwise::Absolute => d.abs(),
            Elementwise::Huber { delta } if d.abs() <= delta => 0.5 * d * d,
            Elementwise::Huber { delta } => delta * (d.abs() - 0.5 * delta),
            Elementwise::SigmoidCrossEntropy => y.max(0.0) - y * t + (-y.abs()).exp().ln_1p(),
        }
    }

    fn data(n: usize) -> (Vec<f64>, Vec<f64>) {
        let mut rng = crate::kernels::testing::Rng::new(7);
        let y: Vec<f64> = rng.vec(n).iter().map(|v| v * 4.0).collect();
        let t: Vec<f64> = rng.vec(n).iter().map(|v| (v + 1.0) / 2.0).collect(); // in [0, 1]
        (y, t)
    }

    #[test]
    fn means_match_the_definitions_at_any_size() {
        for n in [1usize, 17, 3 * GRAIN + 5] {
            let (y, t) = data(n);
            for loss in ALL {
                let want = y.iter().zip(&t).map(|(&y, &t)| term(loss, y, t)).sum::<f64>() / n as f64;
                let got = forward(loss, &y, &t).unwrap();
                assert!(
                    (got - want).abs() <= 1e-12 * want.abs(),
                    "{loss:?} n={n}: {got} vs {want}"
                );
                let (y32, t32): (Vec<f32>, Vec<f32>) = (
                    y.iter().map(|&v| v as f32).collect(),
                    t.iter().map(|&v| v as f32).collect(),
                );
                let got32 = forward(loss, &y32, &t32).unwrap();
                assert!(
                    (got32 - want).abs() <= 1e-5 * want.abs(),
                    "{loss:?} f32 n={n}: {got32} vs {want}"
                );
            }
        }
    }

    #[test]
    fn gradients_match_central_differences() {
        let n = 40;
        let (y, t) = data(n);
        for loss in ALL {
            let mut dy = vec![0.0; n];
            backward(loss, &y, &t, 1.5, &mut dy).unwrap();
            for i in 0..n {
                let h = 1e-6;
                let (mut up, mut down) = (y.clone(), y.clone());
                up[i] += h;
                down[i] -= h;
                let numeric = 1.5 * (forward(loss, &up, &t).unwrap() - forward(loss, &down, &t).unwrap()) / (2.0 * h);
                assert!(
                    (dy[i] - numeric).abs() < 1e-7,
                    "{loss:?} element {i}: {} vs {numeric}",
                    dy[i]
                );
            }
        }
    }

    #[test]
    fn sigmoid_cross_entropy_is_exact_for_huge_logits() {
        let x = [1000.0f32, 1000.0, -1000.0, -1000.0, 40.0];
        let t = [1.0f32, 0.0, 1.0, 0.0, 1.0];
        let each: Vec<f64> = (0..5)
            .map(|i| forward(Elementwise::SigmoidCrossEntropy, &x[i..=i], &t[i..=i]).unwrap())
            .collect();
        assert_eq!(&each[..4], &[0.0, 1000.0, 1000.0, 0.0]);
        let want = (-40.0f64).exp(); // ln(1 + e^-40), far below f32's epsilon
        assert!((each[4] - want).abs() < 1e-6 * want, "{} vs {want}", each[4]);
        let mut dx = [0.0f32; 5];
        backward(Elementwise::SigmoidCrossEntropy, &x, &t, 5.0, &mut dx).unwrap();
        assert_eq!(&dx[..4], &[0.0, 1.0, -1.0, 0.0]);
        assert!(
            dx[4] < 0.0 && (dx[4] as f64 + want).abs() < 1e-6 * want,
            "no cancellation: {}",
            dx[4]
        );
    }

    #[test]
    fn targets_outside_zero_one_are_refused_where_probabilities_are_needed() {
        let y = [0.5f64, 1.0, -2.0];
        let t = [0.0, 1.5, -0.25];
        let err = NotProbabilities { min: -0.25, max: 1.5 };
        assert_eq!(forward(Elementwise::SigmoidCrossEntropy, &y, &t), Err(err));
        assert_eq!(
            backward(Elementwise::SigmoidCrossEntropy, &y, &t, 1.0, &mut [0.0; 3]),
            Err(err)
        );
        assert!(forward(Elementwise::Squared, &y, &t).is_ok());
        // NaN targets are not out of range: they make the loss NaN
        let loss = forward(Elementwise::SigmoidCrossEntropy, &y, &[0.0, f64::NAN, 1.0]).unwrap();
        assert!(loss.is_nan());
    }

    #[test]
    fn subgradients_at_the_kinks() {
        let y = [1.0f64, 2.0, 3.0, f64::NAN];
        let t = [1.0, 0.0, 4.0, 0.0];
        let mut dy = [9.0; 4];
        backward(Elementwise::Absolute, &y, &t, 4.0, &mut dy).unwrap();
        assert_eq!(&dy[..3], &[0.0, 1.0, -1.0]);
        assert!(dy[3].is_nan());
        backward(Elementwise::Huber { delta: 1.5 }, &y, &t, 4.0, &mut dy).unwrap();
        assert_eq!(&dy[..3], &[0.0, 1.5, -1.0]);
        assert!(dy[3].is_nan());
    }
}
