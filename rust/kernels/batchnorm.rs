//! Batch normalization over `x (n, c, s)`: statistics per channel `c`,
//! taken over the batch `n` and the spatial positions `s` (`s = h * w` for
//! images, `s = 1` for `(n, d)` features). Per-channel sums are
//! accumulated in `f64`, whatever the element type.

use super::float::Float;
use super::parallel::{run_chunks, threads_for, SharedMut};
use super::reduce::lane_pair_sums;

/// Elements per thread below which a call stays single-threaded.
const GRAIN: usize = 1 << 15;
/// Columns per task when `s == 1` (a multiple of the SIMD width).
const COLUMN_BLOCK: usize = 256;

/// The shape `(n, c, s)` of a batch-normalized array.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    pub n: usize,
    pub c: usize,
    pub s: usize,
}

impl Layout {
    /// Elements in all: `n * c * s`.
    pub fn len(&self) -> usize {
        self.n * self.c * self.s
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Elements per channel: `n * s`.
    pub fn count(&self) -> usize {
        self.n * self.s
    }
}

/// Running statistics, updated in place by a training step.
pub struct Running<'a, T> {
    pub mean: &'a mut [T],
    pub var: &'a mut [T],
    pub momentum: f64,
}

/// Training forward: normalize with the batch statistics.
///
/// Writes `out` (like `x`), the batch `mean (c,)` and `inv_std (c,)`
/// `= 1 / sqrt(var + eps)` with the biased variance, and moves the
/// running statistics: `running = momentum * running + (1 - momentum) * batch`.
#[allow(clippy::too_many_arguments)]
pub fn forward_train<T: Float>(
    x: &[T],
    gamma: &[T],
    beta: &[T],
    l: Layout,
    eps: f64,
    running: Running<'_, T>,
    out: &mut [T],
    mean: &mut [T],
    inv_std: &mut [T],
) {
    assert_eq!(x.len(), l.len());
    assert!(l.count() > 0, "batch statistics need at least one element per channel");
    if l.c == 0 {
        return; // no channels (however many samples): nothing to normalize
    }
    // shift each channel by its first element so the squares stay small
    let shifts: Vec<f64> = (0..l.c).map(|ch| x[ch * l.s].to_f64()).collect();
    let (sums, squares) = channel_pair_sums(x, x, &shifts, &shifts, l);
    let m = l.count() as f64;
    let Running {
        mean: run_mean,
        var: run_var,
        momentum,
    } = running;
    for ch in 0..l.c {
        let centered_mean = sums[ch] / m; // mean - shift
                                          // rounding can make the difference slightly negative; NaN (an inf or
                                          // NaN in the batch) must stay NaN, as in the NumPy reference
        let var = squares[ch] / m - centered_mean * centered_mean;
        let var = if var < 0.0 { 0.0 } else { var };
        let mu = shifts[ch] + centered_mean;
        mean[ch] = T::from_f64(mu);
        inv_std[ch] = T::from_f64(1.0 / (var + eps).sqrt());
        run_mean[ch] = T::from_f64(momentum * run_mean[ch].to_f64() + (1.0 - momentum) * mu);
        run_var[ch] = T::from_f64(momentum * run_var[ch].to_f64() + (1.0 - momentum) * var);
    }
    normalize(x, gamma, beta, l, mean, inv_std, out);
}

/// Inference forward: normalize with the running statistics; writes
/// `mean (c,)` (a copy of `running_mean`) and `inv_std (c,)`.
#[allow(clippy::too_many_arguments)]
pub fn forward_eval<T: Float>(
    x: &[T],
    gamma: &[T],
    beta: &[T],
    l: Layout,
    eps: f64,
    running_mean: &[T],
    running_var: &[T],
    out: &mut [T],
    mean: &mut [T],
    inv_std: &mut [T],
) {
    assert_eq!(x.len(), l.len());
    mean.copy_from_slice(running_mean);
    for (s, &v) in inv_std.iter_mut().zip(running_var) {
        *s = T::from_f64(1.0 / (v.to_f64() + eps).sqrt());
    }
    if !l.is_empty() {
        normalize(x, gamma, beta, l, mean, inv_std, out);
    }
}

/// Gradients of the training forward for `dout` (like `x`): `dx`,
/// `dgamma (c,)`, `dbeta (c,)`, with `xhat = (x - mean) * inv_std`:
/// `dbeta = sum dout`, `dgamma = sum dout * xhat`,
/// `dx = gamma * inv_std * (dout - dbeta / m - xhat * dgamma / m)`.
#[allow(clippy::too_many_arguments)]
pub fn backward<T: Float>(
    dout: &[T],
    x: &[T],
    gamma: &[T],
    mean: &[T],
    inv_std: &[T],
    l: Layout,
    dx: &mut [T],
    dgamma: &mut [T],
    dbeta: &mut [T],
) {
    assert_eq!(dout.len(), l.len());
    assert_eq!(x.len(), l.len());
    if l.is_empty() {
        // no channels, or no samples (a count of 0 is refused by the bindings)
        dgamma.fill(T::ZERO);
        dbeta.fill(T::ZERO);
        return;
    }
    let means: Vec<f64> = mean.iter().map(|v| v.to_f64()).collect();
    let zeros = vec![0.0; l.c];
    let (sums, dots) = channel_pair_sums(dout, x, &zeros, &means, l);
    let m = l.count().max(1) as f64;
    // dx = a * (dout - dbeta / m) + b * (x - mean) per channel: centred
    // terms, so nothing large cancels (with n = 1 both are exactly 0)
    let (mut a, mut b, mut dout_mean) = (vec![T::ZERO; l.c], vec![T::ZERO; l.c], vec![T::ZERO; l.c]);
    for ch in 0..l.c {
        let s = inv_std[ch].to_f64();
        let (db, dg) = (sums[ch], dots[ch] * s);
        dbeta[ch] = T::from_f64(db);
        dgamma[ch] = T::from_f64(dg);
        let ach = gamma[ch].to_f64() * s;
        a[ch] = T::from_f64(ach);
        b[ch] = T::from_f64(-ach * s * dg / m);
        dout_mean[ch] = T::from_f64(db / m);
    }
    let zeros = vec![T::ZERO; l.c];
    combine(dout, &dout_mean, x, mean, l, &a, &b, &zeros, dx);
}

/// Per channel, `(sum of (a - ca), sum of (a - ca) * (b - cb))` over the
/// channel's `n * s` elements ([`lane_pair_sums`]).
fn channel_pair_sums<T: Float>(a: &[T], b: &[T], ca: &[f64], cb: &[f64], l: Layout) -> (Vec<f64>, Vec<f64>) {
    let (mut first, mut second) = (vec![0.0; l.c], vec![0.0; l.c]);
    let (f, s) = (SharedMut::new(&mut first), SharedMut::new(&mut second));
    let threads = threads_for(l.len(), GRAIN);
    if l.s == 1 {
        // (n, c): rows of features; each task sums a block of columns.
        run_chunks(l.c.div_ceil(COLUMN_BLOCK), threads, |block| {
            let cols = block * COLUMN_BLOCK..((block + 1) * COLUMN_BLOCK).min(l.c);
            // SAFETY: the column blocks are disjoint.
            let (f, s) = unsafe { (f.range(cols.clone()), s.range(cols.clone())) };
            column_pair_sums(a, b, &ca[cols.clone()], &cb[cols.clone()], l.c, cols.start, f, s);
        });
    } else {
        run_chunks(l.c, threads, |ch| {
            let (mut sum, mut dot) = (0.0, 0.0);
            for n in 0..l.n {
                let run = (n * l.c + ch) * l.s..(n * l.c + ch + 1) * l.s;
                let (ds, dd) = run_pair_sums(&a[run.clone()], &b[run], ca[ch], cb[ch]);
                sum += ds;
                dot += dd;
            }
            // SAFETY: each channel writes only its own entries.
            unsafe {
                f.range(ch..ch + 1)[0] = sum;
                s.range(ch..ch + 1)[0] = dot;
            }
        });
    }
    (first, second)
}

multiversion! {
    fn run_pair_sums<T>(a: &[T], b: &[T], ca: f64, cb: f64) -> (f64, f64) {
        lane_pair_sums(a, b, ca, cb)
    }
}

multiversion! {
    /// [`channel_pair_sums`] for columns `first .. first + f.len()` of row-major `(n, c)` arrays.
    fn column_pair_sums<T>(a: &[T], b: &[T], ca: &[f64], cb: &[f64], c: usize, first: usize,
                           f: &mut [f64], s: &mut [f64]) {
        let width = f.len();
        for (ra, rb) in a.chunks_exact(c).zip(b.chunks_exact(c)) {
            let (ra, rb) = (&ra[first..first + width], &rb[first..first + width]);
            for j in 0..width {
                let av = ra[j].to_f64() - ca[j];
                f[j] += av;
                s[j] += av * (rb[j].to_f64() - cb[j]);
            }
        }
    }
}

/// `out = gamma * (x - mean) * inv_std + beta`, per channel.
fn normalize<T: Float>(x: &[T], gamma: &[T], beta: &[T], l: Layout, mean: &[T], inv_std: &[T], out: &mut [T]) {
    let scale: Vec<T> = gamma.iter().zip(inv_std).map(|(&g, &s)| g * s).collect();
    combine(x, mean, &[], &[], l, &scale, &[], beta, out);
}

/// `out = a * (p - pc) + b * (q - qc) + k` with per-channel `pc`, `a`, `qc`,
/// `b`, `k` (`q` empty: no `b` term), in parallel over images.
#[allow(clippy::too_many_arguments)]
fn combine<T: Float>(p: &[T], pc: &[T], q: &[T], qc: &[T], l: Layout, a: &[T], b: &[T], k: &[T], out: &mut [T]) {
    assert_eq!(out.len(), l.len());
    let image = l.c * l.s;
    let shared = SharedMut::new(out);
    let threads = threads_for(l.len(), GRAIN);
    run_chunks(l.n, threads, |n| {
        let span = n * image..(n + 1) * image;
        // SAFETY: each image writes only its own span.
        let out = unsafe { shared.range(span.clone()) };
        let q = if q.is_empty() { q } else { &q[span.clone()] };
        combine_image(&p[span], pc, q, qc, l.s, a, b, k, out);
    });
}

multiversion! {
    /// One image `(c, s)` of [`combine`].
    fn combine_image<T>(p: &[T], pc: &[T], q: &[T], qc: &[T], s: usize, a: &[T], b: &[T], k: &[T],
                        out: &mut [T]) {
        if s == 1 {
            // (n, c) features: vectorise across the channels
            let pk = p.iter().zip(pc).zip(a).zip(k);
            if q.is_empty() {
                for (o, (((&p, &pc), &a), &k)) in out.iter_mut().zip(pk) {
                    *o = a * (p - pc) + k;
                }
            } else {
                for ((o, (((&p, &pc), &a), &k)), ((&q, &qc), &b)) in out.iter_mut().zip(pk).zip(q.iter().zip(qc).zip(b)) {
                    *o = a * (p - pc) + b * (q - qc) + k;
                }
            }
        } else {
            for ch in 0..a.len() {
            let span = ch * s..(ch + 1) * s;
            let (o, p) = (&mut out[span.clone()], &p[span.clone()]);
            let (a, pc, k) = (a[ch], pc[ch], k[ch]);
            if q.is_empty() {
                for (o, &p) in o.iter_mut().zip(p) {
                    *o = a * (p - pc) + k;
                }
            } else {
                let (b, qc) = (b[ch], qc[ch]);
                for ((o, &p), &q) in o.iter_mut().zip(p).zip(&q[span.clone()]) {
                    *o = a * (p - pc) + b * (q - qc) + k;
                }
            }
        }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::testing::{assert_close, Rng};

    const LAYOUTS: [Layout; 4] = [
        Layout { n: 7, c: 3, s: 5 },
        Layout { n: 4, c: 300, s: 1 },
        Layout { n: 1, c: 2, s: 9 },
        Layout { n: 16, c: 16, s: 196 },
    ];

    fn at(l: Layout, n: usize, ch: usize, s: usize) -> usize {
        (n * l.c + ch) * l.s + s
    }

    /// Per-channel mean and biased variance by the definition.
    fn stats(x: &[f64], l: Layout) -> (Vec<f64>, Vec<f64>) {
        let m = l.count() as f64;
        let mut mean = vec![0.0; l.c];
        let mut var = vec![0.0; l.c];
        for ch in 0..l.c {
            let vals: Vec<f64> = (0..l.n)
                .flat_map(|n| (0..l.s).map(move |s| (n, s)))
                .map(|(n, s)| x[at(l, n, ch, s)])
                .collect();
            mean[ch] = vals.iter().sum::<f64>() / m;
            var[ch] = vals.iter().map(|v| (v - mean[ch]).powi(2)).sum::<f64>() / m;
        }
        (mean, var)
    }

    #[test]
    fn training_forward_and_backward_match_the_definition() {
        let mut rng = Rng::new(4);
        crate::kernels::parallel::set_num_threads(2);
        for l in LAYOUTS {
            let x: Vec<f64> = rng.vec(l.len()).iter().map(|v| 3.0 + 2.0 * v).collect();
            let (gamma, beta, dout) = (rng.vec(l.c), rng.vec(l.c), rng.vec(l.len()));
            let (mut rm, mut rv) = (rng.vec(l.c), rng.vec(l.c).iter().map(|v| v.abs()).collect::<Vec<_>>());
            let (rm0, rv0) = (rm.clone(), rv.clone());
            let (mut out, mut mean, mut inv_std) = (vec![0.0; l.len()], vec![0.0; l.c], vec![0.0; l.c]);
            let running = Running {
                mean: &mut rm,
                var: &mut rv,
                momentum: 0.9,
            };
            forward_train(&x, &gamma, &beta, l, 1e-6, running, &mut out, &mut mean, &mut inv_std);
            let (want_mean, want_var) = stats(&x, l);
            assert_close(&mean, &want_mean, 1e-12);
            for ch in 0..l.c {
                assert!((inv_std[ch] - 1.0 / (want_var[ch] + 1e-6).sqrt()).abs() < 1e-9 * inv_std[ch]);
                assert!((rm[ch] - (0.9 * rm0[ch] + 0.1 * want_mean[ch])).abs() < 1e-12);
                assert!((rv[ch] - (0.9 * rv0[ch] + 0.1 * want_var[ch])).abs() < 1e-12);
            }
            let xhat = |i: usize, ch: usize| (x[i] - want_mean[ch]) * inv_std[ch];
            for n in 0..l.n {
                for ch in 0..l.c {
                    for s in 0..l.s {
                        let i = at(l, n, ch, s);
                        assert!((out[i] - (gamma[ch] * xhat(i, ch) + beta[ch])).abs() < 1e-10);
                    }
                }
            }
            let (mut dx, mut dgamma, mut dbeta) = (vec![0.0; l.len()], vec![0.0; l.c], vec![0.0; l.c]);
            backward(&dout, &x, &gamma, &mean, &inv_std, l, &mut dx, &mut dgamma, &mut dbeta);
            let m = l.count() as f64;
            for ch in 0..l.c {
                let idx: Vec<usize> = (0..l.n).flat_map(|n| (0..l.s).map(move |s| at(l, n, ch, s))).collect();
                let db: f64 = idx.iter().map(|&i| dout[i]).sum();
                let dg: f64 = idx.iter().map(|&i| dout[i] * xhat(i, ch)).sum();
                assert!((dbeta[ch] - db).abs() < 1e-10 && (dgamma[ch] - dg).abs() < 1e-10);
                for &i in &idx {
                    let want = gamma[ch] * inv_std[ch] / m * (m * dout[i] - db - xhat(i, ch) * dg);
                    assert!((dx[i] - want).abs() < 1e-9, "dx[{i}] = {}, want {want}", dx[i]);
                }
            }
        }
    }

    #[test]
    fn eval_uses_the_running_statistics() {
        let l = Layout { n: 2, c: 2, s: 3 };
        let x: Vec<f32> = (0..12).map(|i| i as f32).collect();
        let (gamma, beta, rm, rv) = ([2.0f32, 1.0], [0.5f32, 0.0], [1.0f32, 2.0], [4.0f32, 1.0]);
        let (mut out, mut mean, mut inv_std) = (vec![0.0f32; 12], [0.0f32; 2], [0.0f32; 2]);
        forward_eval(&x, &gamma, &beta, l, 0.0, &rm, &rv, &mut out, &mut mean, &mut inv_std);
        assert_eq!((mean, inv_std), (rm, [0.5, 1.0]));
        assert_eq!(
            &out[..3],
            &[2.0 * (0.0 - 1.0) * 0.5 + 0.5, 2.0 * (1.0 - 1.0) * 0.5 + 0.5, 1.5]
        );
        assert_eq!(&out[3..6], &[1.0, 2.0, 3.0]);
    }
}
