//! Matrix products on the `gemm` crate (run-time SIMD dispatch; our threads
//! split the output; the columns of a part-filled last vector apart, in
//! [`super::matmul_edge`]).

use gemm::Parallelism;

use super::float::Float;
use super::matmul_edge;
use super::parallel;
use super::scratch::with_scratch;

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
        Some(Self {
            data,
            rows,
            cols,
            rs,
            cs,
        })
    }

    /// A C-contiguous (row-major) `rows x cols` matrix.
    pub fn row_major(data: &'a [T], rows: usize, cols: usize) -> Self {
        assert_eq!(data.len(), rows * cols, "buffer does not hold a {rows}x{cols} matrix");
        Self {
            data,
            rows,
            cols,
            rs: cols,
            cs: 1,
        }
    }

    /// The transpose, as a view (no copy).
    pub fn t(self) -> Self {
        Self {
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
            ..self
        }
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Elements from one row to the next.
    pub(crate) fn row_stride(&self) -> usize {
        self.rs
    }

    /// Elements from one column to the next.
    pub(crate) fn col_stride(&self) -> usize {
        self.cs
    }

    /// Element `(i, j)`.
    #[inline(always)]
    pub(crate) fn at(&self, i: usize, j: usize) -> T
    where
        T: Copy,
    {
        self.data[i * self.rs + j * self.cs]
    }

    /// Row `i` as a slice; the view must be row-major (`col_stride() == 1`).
    #[inline(always)]
    pub(crate) fn row(&self, i: usize) -> &'a [T] {
        assert_eq!(self.cs, 1, "rows of a row-major view");
        &self.data[i * self.rs..][..self.cols]
    }

    /// Rows `first .. first + len` of column `j` as a slice; the view must be
    /// column-major (`row_stride() == 1`).
    #[inline(always)]
    pub(crate) fn col_from(&self, j: usize, first: usize, len: usize) -> &'a [T] {
        assert_eq!(self.rs, 1, "columns of a column-major view");
        &self.data[j * self.cs + first..][..len]
    }
}

/// Products with fewer multiply-adds than this stay on one thread.
pub(crate) const PARALLEL_GRAIN_FLOPS: usize = 256 * 1024;
/// Minimum output rows (or columns) per thread when a product is split.
const MIN_SPLIT: usize = 16;
/// Multiply-adds per block beyond which a product is cut into more blocks
/// than threads (a few ms each), so a long call can stop between blocks.
const BLOCK_FLOPS: usize = 1 << 29;
/// Rows (or columns) per block at least, when blocks are cut for that reason.
const MIN_BLOCK: usize = 128;
/// Depth (inner dimension) per part at least when a product is split along it.
const MIN_DEPTH_PART: usize = 128;
/// Most output elements of a product split along its depth: every part but
/// the first is summed into a scratch copy of the output.
const MAX_DEPTH_SPLIT_OUTPUT: usize = 1 << 16;
/// Products below this many multiply-adds take about a millisecond or less:
/// on crowded CPUs they run whole on the caller (see `parallel::run_chunks`).
const SHORT_FLOPS: usize = 1 << 26;

/// `out = a @ b` (or `out += a @ b` when `accumulate`), `out` row-major `m x n`.
///
/// Threading: the output is cut into blocks of rows (or of columns, when
/// there are few rows), each computed by a single-threaded GEMM; this scales
/// better than one shared GEMM on the small and medium shapes of these
/// networks. Large products get more blocks than threads, each still large
/// ([`MIN_BLOCK`]), so that [`parallel::stop_requested`] is asked every few
/// milliseconds. A small output with a long inner dimension (an Affine
/// layer's forward, `x (100, 784) @ W (784, 100)`) is split along that
/// dimension instead ([`matmul_by_depth`]): a block of rows would pack all
/// of `b` again in each thread.
///
/// An output whose width leaves `gemm`'s last vector at most half full has
/// those last columns computed apart ([`matmul_edge`]); which columns, and
/// how, depends on the shapes and `a`'s layout only, never on the blocks.
///
/// Panics when the shapes disagree; callers (the bindings) check them first.
pub fn matmul<T: Float>(a: MatRef<'_, T>, b: MatRef<'_, T>, out: &mut [T], accumulate: bool) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert_eq!(
        b.rows, k,
        "inner dimensions differ: {}x{} @ {}x{}",
        a.rows, a.cols, b.rows, b.cols
    );
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
    let flops = m.saturating_mul(n).saturating_mul(k);
    let threads = parallel::threads_for(flops, PARALLEL_GRAIN_FLOPS);
    let wanted_blocks = (flops / BLOCK_FLOPS).max(threads);
    // decided from the whole product, so that no way of cutting it into
    // blocks changes which columns the edge kernel computes
    let edge = matmul_edge::edge_columns(a, n);
    if wanted_blocks == threads
        && splits_by_depth(m, k, n, threads)
        && matmul_by_depth(a, b, out, accumulate, threads, edge)
    {
        return;
    }
    let dst = DstPtr(out.as_mut_ptr());
    // SAFETY (both splits): `out` is m x n row-major; every block writes a
    // disjoint set of its elements.
    let split_rows = m >= threads * MIN_SPLIT && (threads > 1 || m >= 2 * MIN_BLOCK);
    let split_cols = n >= threads * MIN_SPLIT && (threads > 1 || n >= 2 * MIN_BLOCK);
    if wanted_blocks > 1 && split_rows && flops < SHORT_FLOPS && parallel::would_run_alone(threads) {
        // the CPUs are crowded, so the blocks would run one after another on
        // this thread: one GEMM instead packs `b` once (same result: each row
        // of the product is computed alike whichever block holds it)
        unsafe { gemm_raw(a, b, dst.0, n, accumulate, edge) }
    } else if wanted_blocks > 1 && split_rows {
        let rows = block_len(m, threads, wanted_blocks);
        parallel::run_chunks(m.div_ceil(rows), threads, |i| {
            let (first, count) = (i * rows, rows.min(m - i * rows));
            unsafe { gemm_raw(a.rows_from(first, count), b, dst.at(first * n), n, accumulate, edge) }
        });
    } else if wanted_blocks > 1 && split_cols {
        let cols = block_len(n, threads, wanted_blocks);
        parallel::run_chunks(n.div_ceil(cols), threads, |i| {
            let (first, count) = (i * cols, cols.min(n - i * cols));
            // the edge columns are the last block's (it holds at least MIN_SPLIT > edge columns)
            let block_edge = if first + count == n { edge } else { 0 };
            unsafe { gemm_raw(a, b.cols_from(first, count), dst.at(first), n, accumulate, block_edge) }
        });
    } else {
        unsafe { gemm_raw(a, b, dst.0, n, accumulate, edge) }
    }
}

/// Whether an `m x k @ k x n` product planned for `threads` threads is split
/// along `k`: a long inner dimension (each part at least [`MIN_DEPTH_PART`],
/// and longer than the output is wide or high) and a small output.
fn splits_by_depth(m: usize, k: usize, n: usize, threads: usize) -> bool {
    threads > 1 && k >= threads * MIN_DEPTH_PART && k >= 2 * m.max(n) && m * n <= MAX_DEPTH_SPLIT_OUTPUT
}

/// `out (+)= a @ b` as `threads` products over consecutive ranges of the
/// inner dimension, summed: part 0 into `out`, the others into scratch,
/// added to `out` in order afterwards (so the result depends on the planned
/// `threads`, never on how many threads ran the parts). False, with `out`
/// untouched, when the scratch could not be allocated.
fn matmul_by_depth<T: Float>(
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    out: &mut [T],
    accumulate: bool,
    threads: usize,
    edge: usize,
) -> bool {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    let part = k.div_ceil(threads);
    let parts = k.div_ceil(part);
    let size = m * n;
    with_scratch::<T, _>((parts - 1) * size, false, "the partial products", |partials| {
        let (dst, spare) = (DstPtr(out.as_mut_ptr()), DstPtr(partials.as_mut_ptr()));
        parallel::run_chunks(parts, threads, |i| {
            let (first, count) = (i * part, part.min(k - i * part));
            let (a_i, b_i) = (a.cols_from(first, count), b.rows_from(first, count));
            // SAFETY: part 0 writes `out`, part i > 0 its own `size` elements of `partials`.
            unsafe {
                if i == 0 {
                    gemm_raw(a_i, b_i, dst.at(0), n, accumulate, edge)
                } else {
                    gemm_raw(a_i, b_i, spare.at((i - 1) * size), n, false, edge)
                }
            }
        });
        for partial in partials.chunks_exact(size) {
            add_into(out, partial);
        }
    })
    .is_ok()
}

multiversion! {
    /// `out[i] += addend[i]`.
    fn add_into<T>(out: &mut [T], addend: &[T]) {
        for (o, &v) in out.iter_mut().zip(addend) {
            *o += v;
        }
    }
}

/// Rows (or columns) per block when `len` of them are cut into about
/// `wanted` blocks: one block per thread, or more but none below [`MIN_BLOCK`].
fn block_len(len: usize, threads: usize, wanted: usize) -> usize {
    let per_thread = len.div_ceil(threads);
    if wanted <= threads {
        return per_thread;
    }
    len.div_ceil(wanted).max(MIN_BLOCK).min(per_thread)
}

/// The output's base pointer, shared by the threads writing disjoint blocks.
#[derive(Clone, Copy)]
struct DstPtr<T>(*mut T);
unsafe impl<T> Send for DstPtr<T> {}
unsafe impl<T> Sync for DstPtr<T> {}

impl<T> DstPtr<T> {
    fn at(self, offset: usize) -> *mut T {
        // SAFETY: callers pass offsets inside the output buffer.
        unsafe { self.0.add(offset) }
    }
}

impl<'a, T> MatRef<'a, T> {
    /// Rows `first .. first + count` of this view.
    fn rows_from(self, first: usize, count: usize) -> Self {
        assert!(first + count <= self.rows);
        if count == 0 {
            return Self {
                data: &self.data[..0],
                rows: 0,
                ..self
            };
        }
        Self {
            data: &self.data[first * self.rs..],
            rows: count,
            ..self
        }
    }

    /// Columns `first .. first + count` of this view.
    fn cols_from(self, first: usize, count: usize) -> Self {
        self.t().rows_from(first, count).t()
    }
}

/// `dst = a @ b` (or `+=`) where `dst` is row-major with row stride `dst_rs`;
/// its last `edge` columns by [`matmul_edge`] (as [`matmul_edge::edge_columns`]
/// chose for the whole product), the others by one call of the `gemm` crate.
///
/// # Safety
/// `dst` must be valid for writes of an `a.rows x b.cols` matrix with row
/// stride `dst_rs`, not aliasing `a` or `b`, and not written concurrently.
unsafe fn gemm_raw<T: Float>(
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    dst: *mut T,
    dst_rs: usize,
    accumulate: bool,
    edge: usize,
) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    if m == 0 || n == 0 || k == 0 || edge == 0 || edge >= n {
        return gemm_whole(a, b, dst, dst_rs, accumulate);
    }
    // the last `edge` columns apart (see `matmul_edge`), the rest in one GEMM
    let main = n - edge;
    let scratch = m * edge + matmul_edge::scratch_len(k, edge);
    let done = with_scratch::<T, _>(scratch, false, "the product's edge", |s| {
        let (out, spare) = s.split_at_mut(m * edge);
        matmul_edge::product(a, b.cols_from(main, edge), out, spare);
        gemm_whole(a, b.cols_from(0, main), dst, dst_rs, accumulate);
        for (i, row) in out.chunks_exact(edge).enumerate() {
            // SAFETY: row i of dst holds n >= main + edge elements (the caller's contract).
            let dst_row = std::slice::from_raw_parts_mut(dst.add(i * dst_rs + main), edge);
            if accumulate {
                add_into(dst_row, row);
            } else {
                dst_row.copy_from_slice(row);
            }
        }
    });
    if done.is_err() {
        gemm_whole(a, b, dst, dst_rs, accumulate);
    }
}

/// [`gemm_raw`] as one call of the `gemm` crate.
///
/// # Safety
/// As for [`gemm_raw`].
unsafe fn gemm_whole<T: Float>(a: MatRef<'_, T>, b: MatRef<'_, T>, dst: *mut T, dst_rs: usize, accumulate: bool) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    if m == 0 || n == 0 {
        return;
    }
    gemm::gemm(
        m,
        n,
        k,
        dst,
        1,
        dst_rs as isize,
        accumulate,
        a.data.as_ptr(),
        a.cs as isize,
        a.rs as isize,
        b.data.as_ptr(),
        b.cs as isize,
        b.rs as isize,
        T::ONE,
        T::ONE,
        false,
        false,
        false,
        Parallelism::None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::testing::{assert_close, naive_matmul, Rng};

    /// The product by the definition, `a` (or its transpose) `m x k`, `b` (or its transpose) `k x n`.
    fn naive(a: &[f64], b: &[f64], m: usize, k: usize, n: usize, ta: bool, tb: bool) -> Vec<f64> {
        let view = |data, rows, cols, t: bool| {
            if t {
                MatRef::row_major(data, cols, rows).t()
            } else {
                MatRef::row_major(data, rows, cols)
            }
        };
        naive_matmul(view(a, m, k, ta), view(b, k, n, tb))
    }

    #[test]
    fn results_do_not_depend_on_the_thread_count() {
        // products whose last columns go to matmul_edge, cut into blocks of
        // rows (300 rows) or of columns (20 rows, too shallow for the depth
        // split, which depends on the thread count by design), a row- or
        // column-major
        let mut rng = Rng::new(21);
        for &(m, k, n, ta) in &[
            (300, 64, 100, false),
            (300, 64, 100, true),
            (20, 150, 100, false),
            (20, 150, 100, true),
        ] {
            let (a, b) = (rng.vec(m * k), rng.vec(k * n));
            let a_m = if ta {
                MatRef::row_major(&a, k, m).t()
            } else {
                MatRef::row_major(&a, m, k)
            };
            let b_m = MatRef::row_major(&b, k, n);
            let mut results = Vec::new();
            for threads in [1, 2, 3] {
                parallel::set_num_threads(threads);
                let mut c = vec![f64::NAN; m * n];
                matmul(a_m, b_m, &mut c, false);
                results.push(c);
            }
            assert_close(&results[0], &naive(&a, &b, m, k, n, ta, false), 1e-12);
            assert!(results.iter().all(|c| c == &results[0]), "{m}x{k}x{n} ta={ta}");
        }
    }

    #[test]
    fn matches_naive_with_transposes() {
        let mut rng = Rng::new(7);
        crate::kernels::parallel::set_num_threads(2);
        for &(m, k, n) in &[
            (1, 1, 1),
            (3, 5, 7),
            (33, 17, 65),
            (128, 70, 9),
            (200, 300, 150),
            (8, 900, 300),
        ] {
            for ta in [false, true] {
                for tb in [false, true] {
                    let a = rng.vec(m * k);
                    let b = rng.vec(k * n);
                    let av = if ta {
                        MatRef::row_major(&a, k, m).t()
                    } else {
                        MatRef::row_major(&a, m, k)
                    };
                    let bv = if tb {
                        MatRef::row_major(&b, n, k).t()
                    } else {
                        MatRef::row_major(&b, k, n)
                    };
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
        matmul(
            MatRef::row_major(&[], 2, 0),
            MatRef::row_major(&[], 0, 2),
            &mut d,
            false,
        );
        assert_eq!(d, [0.0; 4]);
    }

    #[test]
    fn products_with_a_long_inner_dimension_are_split_along_it() {
        assert!(splits_by_depth(100, 784, 100, 2)); // an Affine layer's forward
        assert!(!splits_by_depth(100, 784, 100, 1));
        assert!(!splits_by_depth(100, 100, 784, 2)); // its input gradient: split the output
        assert!(!splits_by_depth(100, 200, 100, 2)); // not longer than the output is wide
        assert!(!splits_by_depth(1000, 4000, 1000, 2)); // output too large for the scratch copies
        assert!(!splits_by_depth(10, 200, 10, 2)); // parts shorter than MIN_DEPTH_PART
        let mut rng = Rng::new(11);
        for &(m, k, n, accumulate) in &[(100, 784, 100, true), (20, 1001, 33, false), (64, 1500, 3, true)] {
            let (a, b, start) = (rng.vec(m * k), rng.vec(k * n), rng.vec(m * n));
            let (a_m, b_m) = (MatRef::row_major(&a, m, k), MatRef::row_major(&b, k, n));
            let mut c = start.clone();
            assert!(matmul_by_depth(
                a_m,
                b_m,
                &mut c,
                accumulate,
                2,
                matmul_edge::edge_columns(a_m, n)
            ));
            let mut want = naive(&a, &b, m, k, n, false, false);
            if accumulate {
                want.iter_mut().zip(&start).for_each(|(w, s)| *w += s);
            }
            assert_close(&c, &want, 1e-12);
            // exactly the two halves' products, the second added last, whichever threads ran them
            let half = k.div_ceil(2);
            let (mut first, mut second) = (start.clone(), vec![0.0; m * n]);
            unsafe {
                gemm_raw(
                    a_m.cols_from(0, half),
                    b_m.rows_from(0, half),
                    first.as_mut_ptr(),
                    n,
                    accumulate,
                    matmul_edge::edge_columns(a_m, n),
                );
                gemm_raw(
                    a_m.cols_from(half, k - half),
                    b_m.rows_from(half, k - half),
                    second.as_mut_ptr(),
                    n,
                    false,
                    matmul_edge::edge_columns(a_m, n),
                );
            }
            first.iter_mut().zip(&second).for_each(|(f, s)| *f += s);
            assert_eq!(c, first);
        }
    }

    #[test]
    fn large_products_are_cut_into_blocks_of_useful_size() {
        assert_eq!(block_len(1000, 2, 2), 500); // one block per thread
        assert_eq!(block_len(4096, 2, 64), 128); // more blocks, never below MIN_BLOCK
        assert_eq!(block_len(4096, 1, 8), 512);
        assert_eq!(block_len(300, 2, 64), 128);
        assert_eq!(block_len(200, 2, 64), 100); // never more than a thread's share
    }

    #[test]
    fn view_bounds_are_checked() {
        let data = [0.0f64; 6];
        assert!(MatRef::new(&data, 2, 3, 3, 1).is_some());
        assert!(MatRef::new(&data, 3, 3, 3, 1).is_none());
    }
}
