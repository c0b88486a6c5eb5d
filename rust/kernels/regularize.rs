//! Weight penalties, their gradients and weight constraints, one tensor
//! at a time (the bindings loop over a network's weights):
//!
//! * [`sum_of_squares`], [`sum_of_abs`]: the sums behind the L2 and L1
//!   penalties, accumulated in `f64` whatever the element type;
//! * [`add_l2_grad`], [`add_l1_grad`]: `grad += lam * w` and
//!   `grad += lam * sign(w)`, in place;
//! * [`scale`]: `x *= factor`, in place (gradient clipping);
//! * [`max_norm`]: rescale each unit's incoming weights so that their
//!   Euclidean norm is at most `c`, in place.
//!
//! Sums are taken over fixed blocks and the block sums added in order, so a
//! result does not depend on the thread count.

use super::error::{try_vec, KResult};
use super::float::Float;
use super::parallel::{for_each_range, run_chunks, threads_for, SharedMut};
use super::partials::reduce_blocks;
use super::reduce::lane_sum_by;

/// Elements per thread below which an element-wise pass stays single-threaded.
const GRAIN: usize = 1 << 15;
/// The same for a sum, which reads each element once and writes nothing:
/// waking a helper costs more than summing a network's weight (~1e5).
const SUM_GRAIN: usize = 1 << 18;
/// Elements per partial sum of a reduction (and per task of a row-wise pass).
const BLOCK: usize = 1 << 14;
/// Units per task when a unit's weights are strided (`inner == 1`).
const UNIT_BLOCK: usize = 256;

/// `sum(x**2)` in `f64`.
pub fn sum_of_squares<T: Float>(x: &[T]) -> KResult<f64> {
    blocked_sum(x, squares_chunk)
}

/// `sum(|x|)` in `f64`.
pub fn sum_of_abs<T: Float>(x: &[T]) -> KResult<f64> {
    blocked_sum(x, abs_chunk)
}

/// The sum of `block_sum` over fixed blocks of `x`, in parallel for large
/// inputs; the block sums are added in order ([`reduce_blocks`]).
fn blocked_sum<T: Float>(x: &[T], block_sum: fn(&[T]) -> f64) -> KResult<f64> {
    Ok(reduce_blocks(x.len(), BLOCK, SUM_GRAIN, |r| block_sum(&x[r])))
}

multiversion! {
    fn squares_chunk<T>(x: &[T]) -> f64 {
        lane_sum_by(x, |v| {
            let v = v.to_f64();
            v * v
        })
    }
}

multiversion! {
    fn abs_chunk<T>(x: &[T]) -> f64 {
        lane_sum_by(x, |v| v.to_f64().abs())
    }
}

/// Call `chunk(grad range, param range)` over disjoint ranges, in parallel
/// for large tensors.
fn zip_ranges<T: Float>(grad: &mut [T], param: &[T], chunk: impl Fn(&mut [T], &[T]) + Sync) {
    assert_eq!(grad.len(), param.len(), "param length differs from grad");
    let g = SharedMut::new(grad);
    // SAFETY: for_each_range hands out disjoint ranges.
    for_each_range(param.len(), GRAIN, |r| chunk(unsafe { g.range(r.clone()) }, &param[r]));
}

/// `grad += lam * w`: the gradient of `0.5 * lam * sum(w**2)`.
pub fn add_l2_grad<T: Float>(grad: &mut [T], w: &[T], lam: f64) {
    let lam = T::from_f64(lam);
    zip_ranges(grad, w, |g, w| l2_chunk(g, w, lam));
}

/// `grad += lam * sign(w)` (`sign(0) = 0`, NaN stays NaN): the gradient
/// of `lam * sum(|w|)`, taking 0 as the subgradient at 0.
pub fn add_l1_grad<T: Float>(grad: &mut [T], w: &[T], lam: f64) {
    let lam = T::from_f64(lam);
    zip_ranges(grad, w, |g, w| l1_chunk(g, w, lam));
}

/// `x *= factor`.
pub fn scale<T: Float>(x: &mut [T], factor: f64) {
    let factor = T::from_f64(factor);
    let len = x.len();
    let shared = SharedMut::new(x);
    // SAFETY: for_each_range hands out disjoint ranges.
    for_each_range(len, GRAIN, |r| scale_chunk(unsafe { shared.range(r) }, factor));
}

multiversion! {
    fn l2_chunk<T>(g: &mut [T], w: &[T], lam: T) {
        for (g, &w) in g.iter_mut().zip(w) {
            *g += lam * w;
        }
    }
}

multiversion! {
    fn l1_chunk<T>(g: &mut [T], w: &[T], lam: T) {
        for (g, &w) in g.iter_mut().zip(w) {
            let sign = if w > T::ZERO { T::ONE } else if w < T::ZERO { -T::ONE } else if w.is_nan() { w } else { T::ZERO };
            *g += lam * sign;
        }
    }
}

multiversion! {
    fn scale_chunk<T>(x: &mut [T], factor: T) {
        for v in x.iter_mut() {
            *v *= factor;
        }
    }
}

/// A tensor seen as `(outer, units, inner)`: unit `u` owns the runs
/// `[(o * units + u) * inner ..][..inner]` for every `o`. A dense weight
/// `(D, M)` has `M` units (its columns: outer `D`, inner 1); a filter bank
/// `(FN, C, FH, FW)` has `FN` (outer 1, inner `C*FH*FW`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Units {
    pub outer: usize,
    pub units: usize,
    pub inner: usize,
}

impl Units {
    fn len(&self) -> usize {
        self.outer * self.units * self.inner
    }
}

/// The max-norm constraint: every unit whose weights have a Euclidean norm
/// above `c` is scaled by `c / norm` (computed in `f64`), so its norm
/// becomes `c`; the others are left alone (a NaN norm counts as within).
pub fn max_norm<T: Float>(w: &mut [T], l: Units, c: f64) -> KResult<()> {
    assert_eq!(w.len(), l.len(), "length differs from the layout");
    if w.is_empty() {
        return Ok(());
    }
    let mut sums = try_vec(l.units, 0.0f64, "unit norms")?;
    unit_sums_of_squares(w, l, &mut sums);
    let mut factors = try_vec(l.units, T::ONE, "unit scale factors")?;
    for (f, &s) in factors.iter_mut().zip(&sums) {
        let norm = s.sqrt();
        if norm > c {
            *f = T::from_f64(c / norm);
        }
    }
    scale_units(w, l, &factors);
    Ok(())
}

/// `sums[u] = sum of w**2 over unit u`, in `f64`.
fn unit_sums_of_squares<T: Float>(w: &[T], l: Units, sums: &mut [f64]) {
    let shared = SharedMut::new(sums);
    let threads = threads_for(l.len(), SUM_GRAIN);
    if l.inner == 1 {
        // rows of units: each task adds up a block of columns over every row
        run_chunks(l.units.div_ceil(UNIT_BLOCK), threads, |block| {
            let cols = block * UNIT_BLOCK..((block + 1) * UNIT_BLOCK).min(l.units);
            // SAFETY: the column blocks are disjoint.
            column_squares(w, l.units, cols.start, unsafe { shared.range(cols) });
        });
    } else {
        run_chunks(l.units, threads, |u| {
            let total = (0..l.outer)
                .map(|o| squares_chunk(&w[(o * l.units + u) * l.inner..][..l.inner]))
                .sum();
            // SAFETY: each unit writes only its own sum.
            unsafe { shared.range(u..u + 1)[0] = total };
        });
    }
}

multiversion! {
    /// `sums[j] += w[row, first + j]**2` over every row of the `(rows, units)` array `w`.
    fn column_squares<T>(w: &[T], units: usize, first: usize, sums: &mut [f64]) {
        let width = sums.len();
        for row in w.chunks_exact(units) {
            for (s, &v) in sums.iter_mut().zip(&row[first..first + width]) {
                let v = v.to_f64();
                *s += v * v;
            }
        }
    }
}

/// Multiply unit `u`'s weights by `factors[u]`.
fn scale_units<T: Float>(w: &mut [T], l: Units, factors: &[T]) {
    let threads = threads_for(l.len(), GRAIN);
    let row = l.units * l.inner;
    let shared = SharedMut::new(w);
    if l.inner == 1 {
        let rows_per_task = (BLOCK / row).max(1);
        run_chunks(l.outer.div_ceil(rows_per_task), threads, |task| {
            let rows = task * rows_per_task..((task + 1) * rows_per_task).min(l.outer);
            // SAFETY: the row blocks are disjoint.
            let block = unsafe { shared.range(rows.start * row..rows.end * row) };
            scale_columns(block, factors);
        });
    } else {
        run_chunks(l.units, threads, |u| {
            for o in 0..l.outer {
                let start = (o * l.units + u) * l.inner;
                // SAFETY: unit u's runs belong to it alone.
                scale_chunk(unsafe { shared.range(start..start + l.inner) }, factors[u]);
            }
        });
    }
}

multiversion! {
    /// `w[row, j] *= factors[j]` for every row of the `(rows, factors.len())` array `w`.
    fn scale_columns<T>(w: &mut [T], factors: &[T]) {
        for row in w.chunks_exact_mut(factors.len()) {
            for (v, &f) in row.iter_mut().zip(factors) {
                *v *= f;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::testing::{assert_close, Rng};

    #[test]
    fn sums_match_a_plain_loop_and_ignore_the_thread_count() {
        let x: Vec<f64> = Rng::new(1).vec(2 * SUM_GRAIN + 5 * BLOCK + 17);
        let squares: f64 = x.iter().map(|v| v * v).sum();
        let abs: f64 = x.iter().map(|v| v.abs()).sum();
        assert!((sum_of_squares(&x).unwrap() - squares).abs() < 1e-9 * squares);
        assert!((sum_of_abs(&x).unwrap() - abs).abs() < 1e-9 * abs);
        crate::kernels::parallel::set_num_threads(1);
        let one = sum_of_squares(&x).unwrap();
        crate::kernels::parallel::set_num_threads(2);
        assert_eq!(one.to_bits(), sum_of_squares(&x).unwrap().to_bits());
        assert_eq!(sum_of_squares::<f32>(&[]).unwrap(), 0.0);
    }

    #[test]
    fn float32_sums_accumulate_in_f64() {
        // 2^24 + 1 ones: an f32 accumulator would stop at 2^24
        let n = (1usize << 24) + 1;
        let x = vec![1.0f32; n];
        assert_eq!(sum_of_abs(&x).unwrap(), n as f64);
        assert_eq!(sum_of_squares(&x).unwrap(), n as f64);
    }

    #[test]
    fn penalty_gradients() {
        let w = [2.0f64, -0.5, 0.0, f64::NAN];
        let mut g = [1.0f64; 4];
        add_l2_grad(&mut g, &w, 0.1);
        assert_close(&g[..3], &[1.2, 0.95, 1.0], 1e-15);
        assert!(g[3].is_nan());
        let mut g = [1.0f64; 4];
        add_l1_grad(&mut g, &w, 0.1);
        assert_close(&g[..3], &[1.1, 0.9, 1.0], 1e-15);
        assert!(g[3].is_nan());
        let mut x = [1.0f32, -2.0];
        scale(&mut x, 0.5);
        assert_eq!(x, [0.5, -1.0]);
    }

    #[test]
    fn max_norm_on_columns_and_on_filters() {
        // (2, 3) dense weight: columns are the units
        let mut w = vec![3.0f64, 0.1, 0.0, 4.0, 0.1, 0.0];
        max_norm(
            &mut w,
            Units {
                outer: 2,
                units: 3,
                inner: 1,
            },
            1.0,
        )
        .unwrap();
        assert_close(&w, &[0.6, 0.1, 0.0, 0.8, 0.1, 0.0], 1e-15);
        // two filters of 2 weights each: (2, 2) with outer 1
        let mut f = vec![3.0f32, 4.0, 0.3, 0.4];
        max_norm(
            &mut f,
            Units {
                outer: 1,
                units: 2,
                inner: 2,
            },
            2.0,
        )
        .unwrap();
        assert_eq!(f, [1.2, 1.6, 0.3, 0.4]);
    }

    #[test]
    fn large_max_norm_splits_and_matches_the_definition() {
        let mut rng = Rng::new(7);
        for l in [
            Units {
                outer: 600,
                units: 900,
                inner: 1,
            },
            Units {
                outer: 3,
                units: 70,
                inner: 2600,
            },
        ] {
            let w0 = rng.vec(l.len());
            let mut w = w0.clone();
            max_norm(&mut w, l, 5.0).unwrap();
            for u in 0..l.units {
                let idx: Vec<usize> = (0..l.outer)
                    .flat_map(|o| (0..l.inner).map(move |i| (o * l.units + u) * l.inner + i))
                    .collect();
                let norm = idx.iter().map(|&i| w0[i] * w0[i]).sum::<f64>().sqrt();
                let f = if norm > 5.0 { 5.0 / norm } else { 1.0 };
                let want: Vec<f64> = idx.iter().map(|&i| w0[i] * f).collect();
                let got: Vec<f64> = idx.iter().map(|&i| w[i]).collect();
                assert_close(&got, &want, 1e-14);
            }
        }
    }
}
