//! Matrix products on the `gemm` crate (run-time SIMD dispatch, rayon).

use gemm::Parallelism;

use super::float::Float;
use super::parallel;

/// A read-only strided matrix view: element `(i, j)` is `data[i*rs + j*cs]`.
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a, T> {
    data: &'a [T],
    rows: usize,
    cols: usize,
    rs: usize,
    cs: usize,
}

impl<'a, T> MatRef<'a, T> {
    /// A view with explicit strides (in elements); `None` when an element
    /// would fall outside `data`.
    pub fn new(data: &'a [T], rows: usize, cols: usize, rs: usize, cs: usize) -> Option<Self> {
        if rows > 0 && cols > 0 {
            let last = (rows - 1).checked_mul(rs)?.checked_add((cols - 1).checked_mul(cs)?)?;
            if last >= data.len() {
                return None;
            }
        }
        Some(Self { data, rows, cols, rs, cs })
    }

    /// A C-contiguous (row-major) `rows x cols` matrix.
    pub fn row_major(data: &'a [T], rows: usize, cols: usize) -> Self {
        assert_eq!(data.len(), rows * cols, "buffer does not hold a {rows}x{cols} matrix");
        Self { data, rows, cols, rs: cols, cs: 1 }
    }

    /// The transpose, as a view (no copy).
    pub fn t(self) -> Self {
        Self { rows: self.cols, cols: self.rows, rs: self.cs, cs: self.rs, ..self }
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }
}

/// Products with fewer multiply-adds than this stay on one thread.
pub(crate) const PARALLEL_GRAIN_FLOPS: usize = 512 * 1024;
/// Minimum output rows per thread when a product is split by rows.
const MIN_ROWS_PER_THREAD: usize = 16;

/// `out = a @ b` (or `out += a @ b` when `accumulate`), `out` row-major `m x n`.
///
/// Threading: the output rows are split into one block per thread, each a
/// single-threaded GEMM (this scales better than one shared GEMM on the
/// small and medium shapes of these networks); products with too few rows
/// use the GEMM crate's own rayon parallelism.
///
/// Panics when the shapes disagree; callers (the bindings) check them first.
pub fn matmul<T: Float>(a: MatRef<'_, T>, b: MatRef<'_, T>, out: &mut [T], accumulate: bool) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert_eq!(b.rows, k, "inner dimensions differ: {}x{} @ {}x{}", a.rows, a.cols, b.rows, b.cols);
    assert_eq!(out.len(), m * n, "output holds {} elements, need {m}x{n}", out.len());
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            out.fill(T::ZERO);
        }
        return;
    }
    let threads = parallel::threads_for(m * n * k, PARALLEL_GRAIN_FLOPS);
    if threads == 1 {
        gemm_into(a, b, out, accumulate, Parallelism::None);
    } else if m >= threads * MIN_ROWS_PER_THREAD {
        let rows_per_block = m.div_ceil(threads);
        parallel::install(|| {
            use rayon::prelude::*;
            out.par_chunks_mut(rows_per_block * n).enumerate().for_each(|(i, block)| {
                let first = i * rows_per_block;
                gemm_into(a.rows_from(first, block.len() / n), b, block, accumulate, Parallelism::None);
            });
        });
    } else {
        parallel::install(|| gemm_into(a, b, out, accumulate, Parallelism::Rayon(threads)));
    }
}

impl<'a, T> MatRef<'a, T> {
    /// Rows `first .. first + count` of this view.
    fn rows_from(self, first: usize, count: usize) -> Self {
        assert!(first + count <= self.rows);
        if count == 0 {
            return Self { data: &self.data[..0], rows: 0, ..self };
        }
        Self { data: &self.data[first * self.rs..], rows: count, ..self }
    }
}

fn gemm_into<T: Float>(a: MatRef<'_, T>, b: MatRef<'_, T>, out: &mut [T], accumulate: bool, parallelism: Parallelism) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    if m == 0 {
        return;
    }
    // SAFETY: both views were bounds-checked on construction, `out` is exactly
    // m x n row-major, and it cannot alias the inputs (it is borrowed mutably).
    unsafe {
        gemm::gemm(
            m, n, k,
            out.as_mut_ptr(), 1, n as isize, accumulate,
            a.data.as_ptr(), a.cs as isize, a.rs as isize,
            b.data.as_ptr(), b.cs as isize, b.rs as isize,
            T::ONE, T::ONE,
            false, false, false,
            parallelism,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::testing::{assert_close, Rng};

    fn naive(a: &[f64], b: &[f64], m: usize, k: usize, n: usize, ta: bool, tb: bool) -> Vec<f64> {
        let at = |i: usize, p: usize| if ta { a[p * m + i] } else { a[i * k + p] };
        let bt = |p: usize, j: usize| if tb { b[j * k + p] } else { b[p * n + j] };
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|p| at(i, p) * bt(p, j)).sum();
            }
        }
        c
    }

    #[test]
    fn matches_naive_with_transposes() {
        let mut rng = Rng::new(7);
        for &(m, k, n) in &[(1, 1, 1), (3, 5, 7), (33, 17, 65), (128, 70, 9), (200, 300, 150)] {
            for ta in [false, true] {
                for tb in [false, true] {
                    let a = rng.vec(m * k);
                    let b = rng.vec(k * n);
                    let av = if ta { MatRef::row_major(&a, k, m).t() } else { MatRef::row_major(&a, m, k) };
                    let bv = if tb { MatRef::row_major(&b, n, k).t() } else { MatRef::row_major(&b, k, n) };
                    let mut c = vec![0.0; m * n];
                    matmul(av, bv, &mut c, false);
                    assert_close(&c, &naive(&a, &b, m, k, n, ta, tb), 1e-12);
                }
            }
        }
    }

    #[test]
    fn accumulates_and_handles_empty_inner_dimension() {
        let a = [1.0f32, 2.0];
        let b = [3.0f32, 4.0];
        let mut c = [10.0f32];
        matmul(MatRef::row_major(&a, 1, 2), MatRef::row_major(&b, 2, 1), &mut c, true);
        assert_eq!(c, [21.0]);
        let mut d = [5.0f32; 4];
        matmul(MatRef::row_major(&[], 2, 0), MatRef::row_major(&[], 0, 2), &mut d, false);
        assert_eq!(d, [0.0; 4]);
    }

    #[test]
    fn view_bounds_are_checked() {
        let data = [0.0f64; 6];
        assert!(MatRef::new(&data, 2, 3, 3, 1).is_some());
        assert!(MatRef::new(&data, 3, 3, 3, 1).is_none());
    }
}
