//! PReLU: a learned slope per channel. For `x` of layout `(n, c, s)` (`s = 1`
//! for `(n, d)` features, `h * w` for images), `y = x` where `x > 0`, else
//! `alpha[ch] * x`. The backward pass reads `x` (the slope may be negative or
//! 0, so `y` does not tell the sign) and sums the slope's gradient per
//! channel in `f64`, over tiles fixed by the shape alone: the result does not
//! depend on the thread count.

use crate::kernels::batchnorm::Layout;
use crate::kernels::error::{try_vec, KResult};
use crate::kernels::float::Float;
use crate::kernels::parallel::{run_chunks, threads_for, SharedMut};

/// Elements per tile of the backward pass (one partial sum per channel and tile).
const TILE: usize = 1 << 14;
/// Channels per tile when `s == 1` (a multiple of the SIMD width).
const COLUMNS: usize = 256;
/// Elements per thread below which the backward pass stays single-threaded.
const GRAIN: usize = 1 << 15;
/// Lanes of the `f64` partial sums (independent chains, so they vectorise).
const LANES: usize = 16;

/// The runs of flat elements `first .. first + len` that share one slope
/// (`s > 1`: `(local range, channel)` within one plane) or take consecutive
/// slopes (`s == 1`: a piece of one row, starting at channel `ch`).
fn runs(l: Layout, first: usize, len: usize) -> impl Iterator<Item = (core::ops::Range<usize>, usize)> {
    let mut at = 0;
    core::iter::from_fn(move || {
        if at >= len {
            return None;
        }
        let p = first + at;
        let (ch, room) = if l.s == 1 {
            (p % l.c, l.c - p % l.c)
        } else {
            ((p / l.s) % l.c, l.s - p % l.s)
        };
        let run = at..(at + room).min(len);
        at = run.end;
        Some((run, ch))
    })
}

/// `y = x` where `x > 0`, else `alpha[ch] * x`; `x` and `y` of layout `l`, `alpha (c,)`.
pub fn prelu_forward<T: Float>(x: &[T], alpha: &[T], l: Layout, y: &mut [T]) {
    assert_eq!(x.len(), l.len(), "x does not have the layout's length");
    assert_eq!(alpha.len(), l.c, "alpha needs one slope per channel");
    elementwise!(|r| forward_range(x; alpha, l, r.start) -> y);
}

/// [`prelu_forward`] of the elements from flat index `first` on.
fn forward_range<T: Float>(x: &[T], alpha: &[T], l: Layout, first: usize, y: &mut [T]) {
    for (run, ch) in runs(l, first, x.len()) {
        let (x, y) = (&x[run.clone()], &mut y[run.clone()]);
        if l.s == 1 {
            forward_each(x, &alpha[ch..ch + run.len()], y);
        } else {
            forward_one(x, alpha[ch], y);
        }
    }
}

/// `dx = dout` where `x > 0`, else `alpha[ch] * dout`, and
/// `dalpha[ch] = sum of dout * x where x <= 0` (over samples and positions,
/// products and sums in `f64`). An error only when the `(tiles, c)` partial
/// sums cannot be allocated.
pub fn prelu_backward<T: Float>(
    dout: &[T],
    x: &[T],
    alpha: &[T],
    l: Layout,
    dx: &mut [T],
    dalpha: &mut [T],
) -> KResult<()> {
    assert_eq!(x.len(), l.len(), "x does not have the layout's length");
    assert_eq!(dout.len(), l.len(), "dout does not have the layout's length");
    assert_eq!(alpha.len(), l.c, "alpha needs one slope per channel");
    assert_eq!(dalpha.len(), l.c, "dalpha needs one entry per channel");
    if l.is_empty() {
        dalpha.fill(T::ZERO);
        return Ok(());
    }
    // A tile is `rows` samples of one channel (s > 1) or of up to COLUMNS channels (s == 1).
    let width = if l.s == 1 { l.c.min(COLUMNS) } else { l.s };
    let rows = (TILE / width).max(1);
    let row_blocks = l.n.div_ceil(rows);
    let column_blocks = if l.s == 1 { l.c.div_ceil(COLUMNS) } else { l.c };
    let mut partial = try_vec(row_blocks * l.c, 0.0f64, "PReLU's partial sums")?; // (row_blocks, c)
    let (out, sums) = (SharedMut::new(dx), SharedMut::new(&mut partial));
    // Consecutive tiles (which two threads tend to run at the same time)
    // are one column's consecutive blocks of samples: far apart in memory.
    // Ordered by column within a block instead, two threads wrote the two
    // sides of the cache lines between neighbouring channels' planes at once.
    run_chunks(row_blocks * column_blocks, threads_for(l.len(), GRAIN), |tile| {
        let (block, column) = (tile % row_blocks, tile / row_blocks);
        let samples = block * rows..((block + 1) * rows).min(l.n);
        if l.s == 1 {
            let cols = column * COLUMNS..((column + 1) * COLUMNS).min(l.c);
            // SAFETY: each tile owns its (block, columns) partial sums.
            let sums = unsafe { sums.range(block * l.c + cols.start..block * l.c + cols.end) };
            for n in samples {
                let span = n * l.c + cols.start..n * l.c + cols.end;
                // SAFETY: tiles own disjoint (sample, column) spans.
                let dx = unsafe { out.range(span.clone()) };
                backward_each(&dout[span.clone()], &x[span], &alpha[cols.clone()], dx, sums);
            }
        } else {
            let ch = column;
            let mut sum = 0.0;
            for n in samples {
                let plane = (n * l.c + ch) * l.s..(n * l.c + ch + 1) * l.s;
                // SAFETY: tiles own disjoint planes.
                let dx = unsafe { out.range(plane.clone()) };
                sum += backward_one(&dout[plane.clone()], &x[plane], alpha[ch], dx);
            }
            // SAFETY: each tile owns its (block, channel) partial sum.
            unsafe { sums.range(block * l.c + ch..block * l.c + ch + 1)[0] = sum };
        }
    });
    for (ch, d) in dalpha.iter_mut().enumerate() {
        *d = T::from_f64((0..row_blocks).map(|b| partial[b * l.c + ch]).sum());
    }
    Ok(())
}

multiversion! {
    /// A run of one channel: slope `alpha`.
    fn forward_one<T>(x: &[T], alpha: T, y: &mut [T]) {
        for (y, &x) in y.iter_mut().zip(x) {
            *y = if x > T::ZERO { x } else { alpha * x };
        }
    }
}

multiversion! {
    /// A run of consecutive channels: slope `alpha[j]` for element `j`.
    fn forward_each<T>(x: &[T], alpha: &[T], y: &mut [T]) {
        for ((y, &x), &a) in y.iter_mut().zip(x).zip(alpha) {
            *y = if x > T::ZERO { x } else { a * x };
        }
    }
}

multiversion! {
    /// `dx` of one channel's run, and that run's sum of `dout * x` where `x <= 0`.
    fn backward_one<T>(dout: &[T], x: &[T], alpha: T, dx: &mut [T]) -> f64 {
        let mut lanes = [0.0f64; LANES];
        let (gs, xs) = (dout.chunks_exact(LANES), x.chunks_exact(LANES));
        let (gt, xt) = (gs.remainder(), xs.remainder());
        let mut ds = dx.chunks_exact_mut(LANES);
        for ((g, x), d) in gs.zip(xs).zip(&mut ds) {
            for l in 0..LANES {
                let positive = x[l] > T::ZERO;
                d[l] = if positive { g[l] } else { alpha * g[l] };
                lanes[l] += if positive { 0.0 } else { g[l].to_f64() * x[l].to_f64() };
            }
        }
        let mut sum: f64 = lanes.iter().sum();
        for ((d, &g), &x) in ds.into_remainder().iter_mut().zip(gt).zip(xt) {
            let positive = x > T::ZERO;
            *d = if positive { g } else { alpha * g };
            sum += if positive { 0.0 } else { g.to_f64() * x.to_f64() };
        }
        sum
    }
}

multiversion! {
    /// `dx` of a row piece of consecutive channels, each channel's `dout * x`
    /// (where `x <= 0`) added to `sums[j]`.
    fn backward_each<T>(dout: &[T], x: &[T], alpha: &[T], dx: &mut [T], sums: &mut [f64]) {
        for ((((d, &g), &x), &a), s) in dx.iter_mut().zip(dout).zip(x).zip(alpha).zip(sums.iter_mut()) {
            let positive = x > T::ZERO;
            *d = if positive { g } else { a * g };
            *s += if positive { 0.0 } else { g.to_f64() * x.to_f64() };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::parallel::set_num_threads;
    use crate::kernels::testing::{assert_close, Rng};

    /// The definitions, element by element, with `dalpha` summed in order.
    fn naive(dout: &[f64], x: &[f64], alpha: &[f64], l: Layout) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let (mut y, mut dx, mut da) = (vec![0.0; x.len()], vec![0.0; x.len()], vec![0.0; l.c]);
        for i in 0..x.len() {
            let ch = (i / l.s) % l.c;
            let (a, v, g) = (alpha[ch], x[i], dout[i]);
            y[i] = if v > 0.0 { v } else { a * v };
            dx[i] = if v > 0.0 { g } else { a * g };
            da[ch] += if v > 0.0 { 0.0 } else { g * v };
        }
        (y, dx, da)
    }

    #[test]
    fn features_and_images_match_the_definition() {
        let mut rng = Rng::new(3);
        for (n, c, s) in [
            (7, 5, 1),
            (3, 300, 1),
            (40, 700, 1),
            (2, 3, 9),
            (5, 4, 5000),
            (1, 1, 1),
            (30, 2, 3),
        ] {
            let l = Layout { n, c, s };
            let (x, dout, alpha) = (rng.vec(l.len()), rng.vec(l.len()), rng.vec(c));
            let (y_want, dx_want, da_want) = naive(&dout, &x, &alpha, l);
            let mut y = vec![9.0; l.len()];
            prelu_forward(&x, &alpha, l, &mut y);
            assert_eq!(y, y_want, "{n} {c} {s}");
            let (mut dx, mut da) = (vec![9.0; l.len()], vec![9.0; c]);
            prelu_backward(&dout, &x, &alpha, l, &mut dx, &mut da).unwrap();
            assert_eq!(dx, dx_want, "{n} {c} {s}");
            assert_close(&da, &da_want, 1e-12);
        }
    }

    #[test]
    fn empty_inputs_give_zero_slope_gradients() {
        let l = Layout { n: 0, c: 3, s: 4 };
        let mut da = [9.0f32; 3];
        prelu_backward(&[], &[], &[1.0; 3], l, &mut [], &mut da).unwrap();
        assert_eq!(da, [0.0; 3]);
    }

    #[test]
    fn slope_gradients_do_not_depend_on_the_thread_count() {
        let mut rng = Rng::new(5);
        for l in [Layout { n: 300, c: 600, s: 1 }, Layout { n: 64, c: 3, s: 1000 }] {
            let x: Vec<f32> = rng.vec(l.len()).iter().map(|&v| v as f32).collect();
            let dout: Vec<f32> = rng.vec(l.len()).iter().map(|&v| v as f32).collect();
            let alpha = vec![0.25f32; l.c];
            let mut runs = Vec::new();
            for threads in [1, 2, 3] {
                set_num_threads(threads);
                let (mut dx, mut da) = (vec![0.0f32; l.len()], vec![0.0f32; l.c]);
                prelu_backward(&dout, &x, &alpha, l, &mut dx, &mut da).unwrap();
                runs.push((dx, da));
            }
            set_num_threads(2);
            assert!(runs.windows(2).all(|r| r[0] == r[1]));
        }
    }
}
