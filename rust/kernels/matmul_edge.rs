//! The right edge of a product whose output is not a whole number of the
//! GEMM crate's vectors wide.
//!
//! `gemm` puts a row-major output's columns in its vector lanes (16 f32 with
//! AVX-512). An output 100 wide takes 7 vectors, the last holding 4 columns,
//! so the product costs as much as a 112-wide one: on one thread
//! `x (100, 784) @ W (784, 96)` took 151 us, `@ W (784, 100)` 181 us and
//! `@ W (784, 112)` 180 us. Here the last `width % lanes` columns (the
//! *edge*) are computed apart, with the lanes along another dimension:
//!
//! * `a` row-major (an Affine forward `x @ W`): each output is the dot
//!   product of a row of `a` and a column of `b`, in lanes along the depth;
//! * `a` column-major (a weight gradient `x.T @ dout`): lanes along the
//!   output's rows, which are `a`'s contiguous columns.
//!
//! Either way the edge's columns of `b` are first copied into scratch, and
//! the result goes to scratch `out (m, edge)`, which the caller adds or
//! copies into the output.

use super::float::Float;
use super::fma::{fused, mul_add};
use super::matmul::MatRef;
use super::simd::has_avx512f;

/// Edge columns computed together (zero columns pad the last group).
const GROUP: usize = 4;
/// Shortest depth for the dot-product orientation (its lanes run along it).
const MIN_DOT_DEPTH: usize = 64;

/// The lanes of `gemm`'s vectors of `T` on this CPU (1: no SIMD kernels).
fn gemm_lanes<T>() -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        let bytes = if std::arch::is_x86_feature_detected!("avx512f") {
            64
        } else if std::arch::is_x86_feature_detected!("fma") {
            32
        } else {
            return 1;
        };
        bytes / std::mem::size_of::<T>()
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        1
    }
}

/// How many of the last columns of `out (m, n) = a @ b` to compute here
/// rather than in `gemm` (0: none): the columns of a part-filled last vector
/// when it is at most half full and its empty lanes are at least 1/16 of
/// the work, and `a` is row-major (with a depth of at least
/// [`MIN_DOT_DEPTH`]) or column-major. Not the row count: each row's
/// outputs are computed alike however many rows a call gets, so the
/// result does not depend on how a product is cut into blocks of rows.
pub(crate) fn edge_columns<T: Float>(a: MatRef<'_, T>, n: usize) -> usize {
    let lanes = gemm_lanes::<T>();
    if lanes < 2 || n < lanes {
        return 0;
    }
    let edge = n % lanes;
    let oriented = (a.col_stride() == 1 && a.cols() >= MIN_DOT_DEPTH) || a.row_stride() == 1;
    if edge == 0 || 2 * edge > lanes || (lanes - edge) * 16 < n || !oriented {
        return 0;
    }
    edge
}

/// Scratch elements [`product`] needs for `b (k, edge)` besides `out`.
pub(crate) fn scratch_len(k: usize, edge: usize) -> usize {
    k * edge.next_multiple_of(GROUP)
}

/// `out (m, edge) = a (m, k) @ b (k, edge)`, row-major, for an `a` that
/// [`edge_columns`] accepted; `scratch` holds [`scratch_len`] elements.
pub(crate) fn product<T: Float>(a: MatRef<'_, T>, b: MatRef<'_, T>, out: &mut [T], scratch: &mut [T]) {
    assert_eq!(out.len(), a.rows() * b.cols());
    assert_eq!(scratch.len(), scratch_len(a.cols(), b.cols()));
    if a.col_stride() == 1 && a.cols() >= MIN_DOT_DEPTH {
        product_by_dot(a, b, out, scratch);
    } else {
        assert_eq!(a.row_stride(), 1, "an edge product needs a row- or column-major a");
        product_by_rows(a, b, out, scratch);
    }
}

/// Lanes of one vector of `T` and rows per block for the running tier:
/// blocks of 4 x [`GROUP`] accumulators fill 16 AVX-512 registers, 2 x 4 half of AVX2's.
#[inline(always)]
fn shape<T>() -> (usize, usize, bool) {
    let wide = has_avx512f();
    let bytes = if wide { 64 } else { 32 };
    (bytes / std::mem::size_of::<T>(), if wide { 4 } else { 2 }, fused())
}

multiversion! {
    /// [`product`] for row-major `a`: dot products along the depth.
    fn product_by_dot<T>(a: MatRef<'_, T>, b: MatRef<'_, T>, out: &mut [T], bt: &mut [T]) {
        // bt (groups * GROUP, k): the edge's columns of b as rows, zero rows after the last
        let (k, edge) = (b.rows(), b.cols());
        for (c, row) in bt.chunks_exact_mut(k).enumerate() {
            for (p, v) in row.iter_mut().enumerate() {
                *v = if c < edge { b.at(p, c) } else { T::ZERO };
            }
        }
        match shape::<T>() {
            (16, 4, true) => dot_rows::<T, 16, 4, true>(a, bt, edge, out),
            (8, 4, true) => dot_rows::<T, 8, 4, true>(a, bt, edge, out),
            (8, 2, true) => dot_rows::<T, 8, 2, true>(a, bt, edge, out),
            (_, _, true) => dot_rows::<T, 4, 2, true>(a, bt, edge, out),
            _ => dot_rows::<T, 4, 2, false>(a, bt, edge, out),
        }
    }
}

/// Every row of `out (m, edge)`: blocks of `R` rows, then single rows.
#[inline(always)]
fn dot_rows<T: Float, const L: usize, const R: usize, const FUSED: bool>(
    a: MatRef<'_, T>,
    bt: &[T],
    edge: usize,
    out: &mut [T],
) {
    let (m, k) = (a.rows(), a.cols());
    let whole = m - m % R;
    for i in (0..whole).step_by(R) {
        let mut rows: [&[T]; R] = [&[]; R];
        for (r, row) in rows.iter_mut().enumerate() {
            *row = a.row(i + r);
        }
        store_dot_block::<T, L, R, FUSED>(rows, bt, k, edge, &mut out[i * edge..]);
    }
    for i in whole..m {
        store_dot_block::<T, L, 1, FUSED>([a.row(i)], bt, k, edge, &mut out[i * edge..]);
    }
}

/// `out[r * edge + c] = rows[r] . bt[c]` for the `R` rows and every edge column.
#[inline(always)]
fn store_dot_block<T: Float, const L: usize, const R: usize, const FUSED: bool>(
    rows: [&[T]; R],
    bt: &[T],
    k: usize,
    edge: usize,
    out: &mut [T],
) {
    for (g, cols) in bt.chunks_exact(GROUP * k).enumerate() {
        let cols = [0, 1, 2, 3].map(|c| &cols[c * k..][..k]);
        let sums = dot_block::<T, L, R, FUSED>(rows, cols, k);
        for (r, sums_r) in sums.iter().enumerate() {
            for (c, &s) in sums_r.iter().enumerate().take(edge - g * GROUP) {
                out[r * edge + g * GROUP + c] = s;
            }
        }
    }
}

/// The `R x GROUP` dot products of `rows` and `cols` (each `k` long):
/// `L` partial sums each, added at the end.
#[inline(always)]
fn dot_block<T: Float, const L: usize, const R: usize, const FUSED: bool>(
    rows: [&[T]; R],
    cols: [&[T]; GROUP],
    k: usize,
) -> [[T; GROUP]; R] {
    let mut acc = [[[T::ZERO; L]; GROUP]; R];
    let whole = k - k % L;
    assert!(
        rows.iter().chain(&cols).all(|v| v.len() >= k),
        "rows and columns of depth k"
    );
    for p in (0..whole).step_by(L) {
        // unchecked loads: with arrays of checked references the
        // compiler kept the accumulators in memory
        let mut av = [[T::ZERO; L]; R];
        for (v, row) in av.iter_mut().zip(&rows) {
            // SAFETY: p + L <= whole <= k <= row.len() (asserted above)
            *v = unsafe { row.as_ptr().add(p).cast::<[T; L]>().read_unaligned() };
        }
        let mut bv = [[T::ZERO; L]; GROUP];
        for (v, col) in bv.iter_mut().zip(&cols) {
            // SAFETY: as above
            *v = unsafe { col.as_ptr().add(p).cast::<[T; L]>().read_unaligned() };
        }
        // lanes outside: the compiler vectorises them (inside, it did not)
        for l in 0..L {
            for r in 0..R {
                for c in 0..GROUP {
                    acc[r][c][l] = mul_add::<T, FUSED>(av[r][l], bv[c][l], acc[r][c][l]);
                }
            }
        }
    }
    let mut sums = [[T::ZERO; GROUP]; R];
    for r in 0..R {
        for c in 0..GROUP {
            // halve the lanes until one is left, on a copy (read in place,
            // the accumulators went through memory at every step)
            let mut lanes: [T; L] = acc[r][c];
            let mut width = L / 2;
            while width > 0 {
                for l in 0..width {
                    lanes[l] += lanes[l + width];
                }
                width /= 2;
            }
            let mut sum = lanes[0];
            for p in whole..k {
                sum = mul_add::<T, FUSED>(rows[r][p], cols[c][p], sum);
            }
            sums[r][c] = sum;
        }
    }
    sums
}

multiversion! {
    /// [`product`] for column-major `a`: lanes along the output's rows.
    fn product_by_rows<T>(a: MatRef<'_, T>, b: MatRef<'_, T>, out: &mut [T], bs: &mut [T]) {
        // bs (k, groups * GROUP): the edge of b, zero columns after the last
        let (k, edge) = (b.rows(), b.cols());
        let width = bs.len() / k.max(1);
        for (p, row) in bs.chunks_exact_mut(width).enumerate() {
            for (c, v) in row.iter_mut().enumerate() {
                *v = if c < edge { b.at(p, c) } else { T::ZERO };
            }
        }
        match shape::<T>() {
            (16, _, true) => row_blocks::<T, 16, true>(a, bs, edge, out),
            (8, _, true) => row_blocks::<T, 8, true>(a, bs, edge, out),
            (_, _, true) => row_blocks::<T, 4, true>(a, bs, edge, out),
            _ => row_blocks::<T, 4, false>(a, bs, edge, out),
        }
    }
}

/// Vectors of rows per block in [`row_blocks`].
const ROW_VECTORS: usize = 2;

/// Every row of `out (m, edge)` in blocks of `ROW_VECTORS * L` rows, then
/// of `L`; the last block ends at row `m`, overlapping the one before
/// (it computes the same values again). Fewer than `L` rows one at a
/// time, with the same operations as a lane: a multiply-add per depth step.
#[inline(always)]
fn row_blocks<T: Float, const L: usize, const FUSED: bool>(a: MatRef<'_, T>, bs: &[T], edge: usize, out: &mut [T]) {
    let (m, k) = (a.rows(), a.cols());
    if m < L {
        let width = bs.len() / k.max(1);
        for i in 0..m {
            for c in 0..edge {
                let mut sum = T::ZERO;
                for p in 0..k {
                    sum = mul_add::<T, FUSED>(a.at(i, p), bs[p * width + c], sum);
                }
                out[i * edge + c] = sum;
            }
        }
        return;
    }
    let wide = ROW_VECTORS * L;
    let mut i = 0;
    while i + wide <= m {
        row_block::<T, L, ROW_VECTORS, FUSED>(a, i, bs, edge, out);
        i += wide;
    }
    while i < m {
        let first = i.min(m - L);
        row_block::<T, L, 1, FUSED>(a, first, bs, edge, out);
        i = first + L;
    }
}

/// Rows `first .. first + V * L` of `out (m, edge)`.
#[inline(always)]
fn row_block<T: Float, const L: usize, const V: usize, const FUSED: bool>(
    a: MatRef<'_, T>,
    first: usize,
    bs: &[T],
    edge: usize,
    out: &mut [T],
) {
    let k = a.cols();
    let width = bs.len() / k.max(1);
    for g in 0..width / GROUP {
        let mut acc = [[[T::ZERO; L]; V]; GROUP];
        for p in 0..k {
            // rows first.. of column p of a, contiguous since a is column-major
            let col = a.col_from(p, first, V * L);
            let bv: &[T; GROUP] = bs[p * width + g * GROUP..][..GROUP].try_into().expect("a group");
            for l in 0..L {
                for v in 0..V {
                    for c in 0..GROUP {
                        acc[c][v][l] = mul_add::<T, FUSED>(col[v * L + l], bv[c], acc[c][v][l]);
                    }
                }
            }
        }
        for c in 0..GROUP.min(edge - g * GROUP) {
            for v in 0..V {
                // a copy: read in place, the accumulators went through memory at every step
                let sums: [T; L] = acc[c][v];
                for (l, s) in sums.into_iter().enumerate() {
                    out[(first + v * L + l) * edge + g * GROUP + c] = s;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::testing::{naive_matmul, Rng};

    #[test]
    fn both_orientations_match_the_definition() {
        let mut rng = Rng::new(11);
        for &(m, k, edge) in &[
            (100, 784, 4),
            (17, 65, 3),
            (33, 100, 8),
            (16, 64, 1),
            (41, 130, 5),
            (3, 70, 2),
        ] {
            let (x, w) = (rng.vec(m * k), rng.vec(k * (edge + 3)));
            // b: the last `edge` columns of a wider row-major matrix
            let b = MatRef::new(&w[3..], k, edge, edge + 3, 1).unwrap();
            let xt: Vec<f64> = (0..k * m).map(|q| x[(q % m) * k + q / m]).collect();
            for a in [MatRef::row_major(&x, m, k), MatRef::row_major(&xt, k, m).t()] {
                let mut out = vec![f64::NAN; m * edge];
                let mut scratch = vec![f64::NAN; scratch_len(k, edge)];
                product(a, b, &mut out, &mut scratch);
                let want = naive_matmul(a, b);
                for (o, w) in out.iter().zip(&want) {
                    assert!((o - w).abs() < 1e-12 * k as f64, "{m}x{k} edge {edge}: {o} vs {w}");
                }
            }
        }
    }

    #[test]
    fn rows_come_out_alike_in_any_block_of_rows() {
        let mut rng = Rng::new(12);
        let (m, k, edge) = (41, 30, 4);
        let (data, w) = (rng.vec(k * m), rng.vec(k * edge));
        let b = MatRef::row_major(&w, k, edge);
        // a (m, k) column-major: element (i, p) at p * m + i
        let rows = |first: usize, count: usize| {
            let a = MatRef::new(&data[first..], count, k, 1, m).unwrap();
            let mut out = vec![0.0; count * edge];
            product(a, b, &mut out, &mut vec![0.0; scratch_len(k, edge)]);
            out
        };
        let whole = rows(0, m);
        for cut in [1, 5, 20, 37] {
            let mut parts = rows(0, cut);
            parts.extend(rows(cut, m - cut));
            assert_eq!(parts, whole, "cut at row {cut}");
        }
    }

    #[test]
    fn only_part_filled_vectors_are_taken_apart() {
        let lanes = gemm_lanes::<f32>();
        if lanes < 16 {
            return; // the choices below are for AVX-512
        }
        let x = vec![0f32; 100 * 784];
        let a = MatRef::row_major(&x, 100, 784);
        assert_eq!(edge_columns(a, 100), 4); // 96 + 4
        assert_eq!(edge_columns(a, 96), 0); // whole vectors
        assert_eq!(edge_columns(a, 110), 0); // a last vector 14/16 full
        assert_eq!(edge_columns(a, 8), 0); // narrower than one vector
        assert_eq!(edge_columns(a, 392), 0); // 8 empty lanes of 400: 2%
        let shallow = MatRef::row_major(&x[..100 * 10], 100, 10);
        assert_eq!(edge_columns(shallow, 100), 0); // too shallow for dot products
        let column_major = MatRef::row_major(&x[..100 * 10], 10, 100).t();
        assert_eq!(edge_columns(column_major, 100), 4); // rows in lanes instead
        let few_rows = MatRef::row_major(&x[..3 * 10], 10, 3).t();
        assert_eq!(edge_columns(few_rows, 100), 4); // however few
    }
}
