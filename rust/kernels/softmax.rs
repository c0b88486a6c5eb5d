//! Row-wise softmax, the fused softmax-cross-entropy loss, and the fused
//! Kullback-Leibler divergence of softmax from target distributions.

use super::float::Float;
use super::loss::{NotProbabilities, Sums};
use super::parallel::{for_each_range, SharedMut};
use super::partials::{reduce_blocks, Partial};
use super::reduce::{lane_max, lane_sum, lane_sum_of};

/// Elements per thread below which a call stays single-threaded.
const GRAIN: usize = 1 << 15;
/// Elements per partial sum of a reduction over rows (at least one row).
const BLOCK: usize = 1 << 13;

/// Targets of the cross-entropy: one class index per row, or one-hot rows.
#[derive(Clone, Copy, Debug)]
pub enum Targets<'a, T> {
    /// `labels[i]` in `0..cols` (checked by the caller).
    Labels(&'a [i64]),
    /// Row-major `rows x cols` target distributions.
    OneHot(&'a [T]),
}

/// Call `f(row_index_range)` over row blocks of a `rows x cols` matrix.
fn for_each_row_block(rows: usize, cols: usize, f: impl Fn(std::ops::Range<usize>) + Sync) {
    let rows_per_grain = (GRAIN / cols.max(1)).max(1);
    for_each_range(rows, rows_per_grain, f);
}

/// `y[i] = softmax(x[i])` for each row of the row-major `rows x cols` x.
pub fn softmax<T: Float>(x: &[T], y: &mut [T], cols: usize) {
    assert_eq!(x.len(), y.len());
    if cols == 0 {
        return;
    }
    let rows = x.len() / cols;
    let out = SharedMut::new(y);
    for_each_row_block(rows, cols, |r| {
        let y = unsafe { out.range(r.start * cols..r.end * cols) };
        for (xr, yr) in x[r.start * cols..r.end * cols]
            .chunks_exact(cols)
            .zip(y.chunks_exact_mut(cols))
        {
            softmax_row(xr, yr);
        }
    });
}

/// Softmax of `x` (N, C) into `y` and the mean cross-entropy against `t`:
/// `loss = mean_i (logsumexp(x_i) - sum_j t_ij x_ij)`, exact (no clipping).
/// Per-row losses are summed in f64.
pub fn softmax_cross_entropy_forward<T: Float>(x: &[T], t: Targets<'_, T>, y: &mut [T], cols: usize) -> f64 {
    assert_eq!(x.len(), y.len());
    assert!(cols > 0);
    let rows = x.len() / cols;
    let out = SharedMut::new(y);
    let total = std::sync::Mutex::new(0.0f64);
    for_each_row_block(rows, cols, |r| {
        let y = unsafe { out.range(r.start * cols..r.end * cols) };
        let mut sum = 0.0f64;
        for (i, (xr, yr)) in x[r.start * cols..r.end * cols]
            .chunks_exact(cols)
            .zip(y.chunks_exact_mut(cols))
            .enumerate()
        {
            let row = r.start + i;
            let (max, log_sum) = softmax_row(xr, yr);
            // log softmax_j = x_j - max - log_sum
            sum += match t {
                Targets::Labels(labels) => (log_sum - (xr[labels[row] as usize] - max)).to_f64(),
                Targets::OneHot(onehot) => {
                    cross_entropy_row(&onehot[row * cols..(row + 1) * cols], xr, max, log_sum).to_f64()
                }
            };
        }
        *total.lock().unwrap_or_else(|e| e.into_inner()) += sum;
    });
    let total = total.into_inner().unwrap_or_else(|e| e.into_inner());
    total / rows as f64
}

/// `dx = dout * (y - t) / N` for probabilities `y` (N, C).
pub fn softmax_cross_entropy_backward<T: Float>(y: &[T], t: Targets<'_, T>, dout: f64, dx: &mut [T], cols: usize) {
    assert_eq!(y.len(), dx.len());
    if cols == 0 || y.is_empty() {
        return;
    }
    let rows = y.len() / cols;
    let scale = T::from_f64(dout / rows as f64);
    let out = SharedMut::new(dx);
    for_each_row_block(rows, cols, |r| {
        let span = r.start * cols..r.end * cols;
        let dx = unsafe { out.range(span.clone()) };
        match t {
            Targets::Labels(labels) => {
                let y = &y[span];
                scale_into(y, scale, dx);
                for (i, row) in r.clone().enumerate() {
                    let at = i * cols + labels[row] as usize;
                    dx[at] = (y[at] - T::ONE) * scale; // not y*s - s: that cancels when y ~ 1
                }
            }
            Targets::OneHot(onehot) => diff_scale_into(&y[span.clone()], &onehot[span], scale, dx),
        }
    });
}

/// Softmax of `x` (N, C) into `y` and the mean over rows of the divergence
/// `KL(t_i || softmax(x_i)) = sum_j t_ij (ln t_ij - ln softmax(x_i)_j)`,
/// exact (log-sum-exp); a zero target contributes 0. Each row's terms are
/// summed in f64, over fixed blocks of rows (the same bits at any thread
/// count). `Err` (with `y` partly written) when a target lies outside `[0, 1]`.
pub fn kl_div_forward<T: Float>(x: &[T], t: &[T], y: &mut [T], cols: usize) -> Result<f64, NotProbabilities> {
    assert_eq!(x.len(), y.len());
    assert_eq!(x.len(), t.len());
    assert!(cols > 0);
    let rows = x.len() / cols;
    let out = SharedMut::new(y);
    let total = reduce_blocks(rows, BLOCK / cols, GRAIN / cols, |r| {
        let span = r.start * cols..r.end * cols;
        // SAFETY: blocks of rows are disjoint.
        let y = unsafe { out.range(span.clone()) };
        let mut sums = Sums::EMPTY;
        for ((xr, tr), yr) in x[span.clone()]
            .chunks_exact(cols)
            .zip(t[span].chunks_exact(cols))
            .zip(y.chunks_exact_mut(cols))
        {
            let (max, log_sum) = softmax_row(xr, yr);
            sums = sums.merge(Sums::with_range(kl_row(tr, xr, max, log_sum), tr));
        }
        sums
    });
    total.probabilities().map(|sum| sum / rows as f64)
}

/// `dx = dout * (y * sum_j t_j - t) / N` for probabilities `y` (N, C): the
/// gradient of [`kl_div_forward`]'s mean with respect to the logits (`y - t`
/// scaled when each row of `t` sums to 1). `Err` when a target lies outside `[0, 1]`.
pub fn kl_div_backward<T: Float>(
    y: &[T],
    t: &[T],
    dout: f64,
    dx: &mut [T],
    cols: usize,
) -> Result<(), NotProbabilities> {
    assert_eq!(y.len(), dx.len());
    assert_eq!(y.len(), t.len());
    assert!(cols > 0);
    let rows = y.len() / cols;
    let scale = T::from_f64(dout / rows as f64);
    let out = SharedMut::new(dx);
    let total = reduce_blocks(rows, BLOCK / cols, GRAIN / cols, |r| {
        let span = r.start * cols..r.end * cols;
        // SAFETY: blocks of rows are disjoint.
        let dx = unsafe { out.range(span.clone()) };
        let mut sums = Sums::EMPTY;
        for ((yr, tr), dxr) in y[span.clone()]
            .chunks_exact(cols)
            .zip(t[span].chunks_exact(cols))
            .zip(dx.chunks_exact_mut(cols))
        {
            kl_grad_row(yr, tr, scale, dxr);
            sums = sums.merge(Sums::with_range(0.0, tr));
        }
        sums
    });
    total.probabilities().map(|_| ())
}

multiversion! {
    /// Softmax of one row; returns `(max, ln(sum_j e^(x_j - max)))`.
    fn softmax_row<T>(x: &[T], y: &mut [T]) -> (T, T) {
        let mut max = lane_max(x);
        if max == T::NEG_INFINITY {
            max = T::ZERO; // an all -inf row: every exp is 0 and the sum shows it
        }
        for (y, &x) in y.iter_mut().zip(x) {
            *y = (x - max).exp_nonpositive();
        }
        let sum = lane_sum(y);
        let inv = T::ONE / sum;
        for v in y.iter_mut() {
            *v *= inv;
        }
        (max, sum.ln())
    }
}

multiversion! {
    /// `-sum_j t_j log softmax(x)_j = sum_j t_j (log_sum - (x_j - max))`.
    fn cross_entropy_row<T>(t: &[T], x: &[T], max: T, log_sum: T) -> T {
        let mut total = T::ZERO;
        for (&t, &x) in t.iter().zip(x) {
            // 0 * inf would be NaN: a zero target contributes nothing.
            total += if t == T::ZERO { T::ZERO } else { t * (log_sum - (x - max)) };
        }
        total
    }
}

multiversion! {
    /// `sum_j t_j (ln t_j - (x_j - max - log_sum))` in f64: `t_j` against
    /// `log softmax_j = x_j - max - log_sum`; a zero target contributes 0.
    fn kl_row<T>(t: &[T], x: &[T], max: T, log_sum: T) -> f64 {
        lane_sum_of(t, x, |t, x| {
            // 0 * ln 0 (and 0 * inf) would be NaN: a zero target contributes nothing.
            if t == T::ZERO { T::ZERO } else { t * (t.ln_positive() - (x - max) + log_sum) }
        })
    }
}

multiversion! {
    /// `dx_j = (y_j * sum_k t_k - t_j) * scale`.
    fn kl_grad_row<T>(y: &[T], t: &[T], scale: T, dx: &mut [T]) {
        let mass = lane_sum(t);
        for ((dx, &y), &t) in dx.iter_mut().zip(y).zip(t) {
            *dx = (y * mass - t) * scale;
        }
    }
}

multiversion! {
    fn scale_into<T>(y: &[T], scale: T, out: &mut [T]) {
        for (o, &v) in out.iter_mut().zip(y) {
            *o = v * scale;
        }
    }
}

multiversion! {
    fn diff_scale_into<T>(y: &[T], t: &[T], scale: T, out: &mut [T]) {
        for ((o, &v), &t) in out.iter_mut().zip(y).zip(t) {
            *o = (v - t) * scale;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference_loss(x: &[f64], labels: &[i64], cols: usize) -> f64 {
        let rows = labels.len();
        let mut total = 0.0;
        for i in 0..rows {
            let row = &x[i * cols..(i + 1) * cols];
            let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let lse = m + row.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
            total += lse - row[labels[i] as usize];
        }
        total / rows as f64
    }

    #[test]
    fn loss_is_exact_for_huge_logits() {
        // One row: logits (1000, 0); label 1 -> loss = 1000 + ln(1 + e^-1000) = 1000.
        let x = [1000.0f64, 0.0];
        let mut y = [0.0; 2];
        let loss = softmax_cross_entropy_forward(&x, Targets::Labels(&[1]), &mut y, 2);
        assert!((loss - 1000.0).abs() < 1e-9, "loss {loss}");
        assert_eq!(y, [1.0, 0.0]);
        let x32 = [-1000.0f32, 1000.0, 3.0];
        let mut y32 = [0.0f32; 3];
        let loss = softmax_cross_entropy_forward(&x32, Targets::Labels(&[0]), &mut y32, 3);
        assert!((loss - 2000.0).abs() < 1e-3);
    }

    #[test]
    fn labels_and_one_hot_agree_and_match_reference() {
        let (rows, cols) = (37, 13);
        let mut rng = crate::kernels::testing::Rng::new(11);
        let x: Vec<f64> = rng.vec(rows * cols).iter().map(|v| v * 30.0).collect();
        let labels: Vec<i64> = (0..rows as i64).map(|i| (i * 7) % cols as i64).collect();
        let mut onehot = vec![0.0; rows * cols];
        for (i, &l) in labels.iter().enumerate() {
            onehot[i * cols + l as usize] = 1.0;
        }
        let mut y1 = vec![0.0; rows * cols];
        let mut y2 = vec![0.0; rows * cols];
        let l1 = softmax_cross_entropy_forward(&x, Targets::Labels(&labels), &mut y1, cols);
        let l2 = softmax_cross_entropy_forward(&x, Targets::OneHot(&onehot), &mut y2, cols);
        let want = reference_loss(&x, &labels, cols);
        assert!((l1 - want).abs() < 1e-12 && (l2 - want).abs() < 1e-12);
        assert_eq!(y1, y2);
        for row in y1.chunks(cols) {
            assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        }
        let mut d1 = vec![0.0; rows * cols];
        let mut d2 = vec![0.0; rows * cols];
        softmax_cross_entropy_backward(&y1, Targets::Labels(&labels), 2.0, &mut d1, cols);
        softmax_cross_entropy_backward(&y1, Targets::OneHot(&onehot), 2.0, &mut d2, cols);
        for i in 0..rows * cols {
            let want = 2.0 * (y1[i] - onehot[i]) / rows as f64;
            assert!((d1[i] - want).abs() < 1e-15 && (d2[i] - want).abs() < 1e-15);
        }
    }

    #[test]
    fn kl_divergence_matches_its_definition_and_gradient() {
        let (rows, cols) = (23, 9);
        let mut rng = crate::kernels::testing::Rng::new(5);
        let x: Vec<f64> = rng.vec(rows * cols).iter().map(|v| v * 5.0).collect();
        // target distributions, one row with zeros in it
        let mut t: Vec<f64> = rng.vec(rows * cols).iter().map(|v| v + 1.0).collect();
        t[2] = 0.0;
        t[5] = 0.0;
        for row in t.chunks_mut(cols) {
            let s: f64 = row.iter().sum();
            row.iter_mut().for_each(|v| *v /= s);
        }
        let mut want = 0.0;
        for (xr, tr) in x.chunks(cols).zip(t.chunks(cols)) {
            let m = xr.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let lse = m + xr.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
            want += xr
                .iter()
                .zip(tr)
                .filter(|(_, &t)| t > 0.0)
                .map(|(&x, &t)| t * (t.ln() - (x - lse)))
                .sum::<f64>();
        }
        want /= rows as f64;
        let mut y = vec![0.0; rows * cols];
        let got = kl_div_forward(&x, &t, &mut y, cols).unwrap();
        assert!((got - want).abs() < 1e-13, "{got} vs {want}");
        let mut dx = vec![0.0; rows * cols];
        kl_div_backward(&y, &t, 2.0, &mut dx, cols).unwrap();
        let mut scratch = vec![0.0; rows * cols];
        for i in [0usize, 2, 40, rows * cols - 1] {
            let h = 1e-6;
            let (mut up, mut down) = (x.clone(), x.clone());
            up[i] += h;
            down[i] -= h;
            let numeric = 2.0
                * (kl_div_forward(&up, &t, &mut scratch, cols).unwrap()
                    - kl_div_forward(&down, &t, &mut scratch, cols).unwrap())
                / (2.0 * h);
            assert!((dx[i] - numeric).abs() < 1e-8, "element {i}: {} vs {numeric}", dx[i]);
        }
        // the divergence from itself is 0, and targets outside [0, 1] are refused
        let mut p = vec![0.0; rows * cols];
        softmax(&x, &mut p, cols);
        assert!(kl_div_forward(&x, &p, &mut y, cols).unwrap().abs() < 1e-15);
        t[7] = -0.5;
        t[8] = 1.5;
        let err = Err(NotProbabilities { min: -0.5, max: 1.5 });
        assert_eq!(kl_div_forward(&x, &t, &mut y, cols), err);
        assert_eq!(kl_div_backward(&y, &t, 1.0, &mut dx, cols), err.map(|_: f64| ()));
    }

    #[test]
    fn softmax_rows_sum_to_one() {
        let x: Vec<f32> = (0..3000).map(|i| ((i * 37) % 101) as f32 - 50.0).collect();
        let mut y = vec![0.0f32; 3000];
        softmax(&x, &mut y, 1000);
        for row in y.chunks(1000) {
            assert!((row.iter().map(|&v| v as f64).sum::<f64>() - 1.0).abs() < 1e-5);
        }
    }
}
