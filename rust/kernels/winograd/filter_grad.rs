//! The weight gradient of a 3x3, stride-1 convolution by F(m x m, 3 x 3).
//!
//! Per output tile, the forward pass is bilinear in the filter `g` and the
//! input tile `d`; its adjoint in `g` gives the tile's share of the weight
//! gradient, `G^T [(A dY A^T) * (B^T d B)] G`. The sum over all tiles and
//! images stays in the transformed domain until the end:
//!
//! 1. `V (a*a, c, columns)`: `B^T d B` of every input tile (as the forward);
//! 2. `D (a*a, fn, columns)`: `A dY A^T` of every `m x m` tile of `dout`;
//! 3. `S[xi] (fn, c) += D[xi] (fn, columns) @ V[xi]^T (columns, c)`: one
//!    product per transformed position, summing over the tiles;
//! 4. once, `dW[f, c] = G^T S[., f, c] G`.

use super::forward::transform_inputs;
use super::tiles::{interleave_output_grads, Part, TileSize, Tiling, LANES};
use super::transform::{transform_2d, Winograd, F2, F4};
use crate::kernels::affine::column_sums;
use crate::kernels::error::{try_vec, KResult};
use crate::kernels::first_error::FirstError;
use crate::kernels::float::Float;
use crate::kernels::geometry::Window;
use crate::kernels::matmul::{matmul, MatRef};
use crate::kernels::parallel::{run_chunks, SharedMut};
use crate::kernels::scratch::with_scratch;

/// Bytes of transformed tiles a block aims at: more than the forward's
/// (L3 rather than L2), since the GEMM crate sums over a block's columns
/// faster the more there are (16 -> 16 channels at 14x14, one thread:
/// 1.6 ms with 512 KiB blocks, 1.1 ms with 4 MiB; no change with 64).
const BLOCK_BYTES: usize = 4 << 20;

/// Blocks per thread, at least (when the tiles allow): more than the
/// forward's, since these blocks are larger (2 threads, 32 -> 32 at 14x14:
/// 2.05 ms with 2 per thread, 1.87 with 4).
const BLOCKS_PER_THREAD: usize = 4;

/// `dw (fn, c, 3, 3)` and `db (fn,)` of a stride-1 convolution of
/// `x (n, c, h, w)` whose output gradient is `dout (n, fn, oh, ow)`, on
/// `threads` threads.
pub fn filter_grad<T: Float>(
    dout: &[T],
    x: &[T],
    g: &Window,
    dw: &mut [T],
    db: &mut [T],
    size: TileSize,
    threads: usize,
) -> KResult<()> {
    let filters = db.len();
    assert!(g.n * g.c * filters > 0, "Winograd convolution: no empty dimension");
    let t = Tiling::new(
        g,
        size,
        g.c + filters,
        std::mem::size_of::<T>(),
        BLOCK_BYTES,
        threads,
        BLOCKS_PER_THREAD,
    );
    let a2 = size.a() * size.a();
    let (blocks, max_cols) = (t.blocks(), t.max_columns());
    // One partial sum per group of blocks, S (a*a, fn, c) then db (fn,): the
    // groups are fixed by the sizes alone, so the sums (and the gradient)
    // are the same every call, whichever thread takes which group, and a
    // late helper still finds groups to take.
    let threads = threads.min(blocks).max(1);
    let groups = blocks.min(threads * BLOCKS_PER_THREAD).max(1);
    let stride = a2 * filters * g.c + filters;
    let mut partials = try_vec(groups * stride, T::ZERO, "the weight-gradient partials")?;
    let shared = SharedMut::new(&mut partials);
    let failed = FirstError::default();
    run_chunks(groups, threads, |part| {
        failed.record(|| {
            // SAFETY: chunk `part` runs once and owns partial `part`.
            let partial = unsafe { shared.range(part * stride..(part + 1) * stride) };
            let (s, db_part) = partial.split_at_mut(a2 * filters * g.c);
            // this thread's scratch: interleaved input and output-gradient rows, V, D
            let lens = [
                t.input_rows_len(),
                t.output_rows_len(),
                a2 * g.c * (max_cols + LANES),
                a2 * filters * (max_cols + LANES),
            ];
            with_scratch(
                lens.iter().sum(),
                false,
                "the Winograd scratch",
                |scratch: &mut [T]| {
                    let (in_rows, rest) = scratch.split_at_mut(lens[0]);
                    let (out_rows, rest) = rest.split_at_mut(lens[1]);
                    let (v, d) = rest.split_at_mut(lens[2]);
                    for i in (part * blocks / groups)..((part + 1) * blocks / groups) {
                        let block = t.block(i);
                        let cols = t.columns(&block);
                        let stride = cols + LANES; // rows of V and D: spare columns for whole-lane writes
                        for part in t.parts(&block) {
                            transform_inputs(x, &t, &part, in_rows, v, stride);
                            transform_output_grads(dout, filters, &t, &part, out_rows, d, stride, db_part);
                        }
                        for xi in 0..a2 {
                            let d_xi = &d[xi * filters * stride..(xi + 1) * filters * stride];
                            let v_xi = &v[xi * g.c * stride..(xi + 1) * g.c * stride];
                            matmul(
                                MatRef::new(d_xi, filters, cols, stride, 1).expect("D's block fits"),
                                MatRef::new(v_xi, g.c, cols, stride, 1).expect("V's block fits").t(),
                                &mut s[xi * filters * g.c..(xi + 1) * filters * g.c],
                                true,
                            );
                        }
                    }
                },
            )
        })
    });
    failed.into_result()?;
    let mut total = try_vec(stride, T::ZERO, "the weight gradient")?;
    column_sums(&partials, stride, &mut total);
    let (s, sums) = total.split_at(a2 * filters * g.c);
    db.copy_from_slice(sums);
    match size {
        TileSize::F2 => to_filters::<T, F2, 4, 2>(s, dw),
        TileSize::F4 => to_filters::<T, F4, 6, 4>(s, dw),
    }
    Ok(())
}

/// `dw[f, c] = G^T s[., f, c] G` for the transformed sums `s (a*a, fn, c)`,
/// `LANES` filters `(f, c)` at a time.
fn to_filters<T: Float, W: Winograd<A, M>, const A: usize, const M: usize>(s: &[T], dw: &mut [T]) {
    let pairs = dw.len() / 9;
    for first in (0..pairs).step_by(LANES) {
        let count = LANES.min(pairs - first);
        let mut sums = [[[T::ZERO; LANES]; A]; A]; // lanes past `count` stay zero
        for (p, row) in sums.iter_mut().enumerate() {
            for (q, lanes) in row.iter_mut().enumerate() {
                lanes[..count].copy_from_slice(&s[(p * A + q) * pairs + first..][..count]);
            }
        }
        transform_2d!(
            T,
            |p: usize, q: usize| &sums[p][q],
            W::filter_grad,
            A,
            3,
            |ky: usize, kx: usize, lanes: &[T; LANES]| {
                for (l, &tap) in lanes[..count].iter().enumerate() {
                    dw[(first + l) * 9 + ky * 3 + kx] = tap;
                }
            },
            &mut [[[T::ZERO; LANES]; A]; 3]
        );
    }
}

multiversion! {
    /// `d (a*a, fn, stride) = A dY A^T` for every `m x m` tile `dY` of part
    /// `b` of `dout (n, fn, oh, ow)`, and `db[f] +=` the part's `dout` sums;
    /// `rows` is scratch.
    fn transform_output_grads<T>(
        dout: &[T],
        filters: usize,
        t: &Tiling,
        b: &Part,
        rows: &mut [T],
        d: &mut [T],
        stride: usize,
        db: &mut [T],
    ) {
        match t.size {
            TileSize::F2 => output_grads_with::<T, F2, 4, 2>(dout, filters, t, b, rows, d, stride, db),
            TileSize::F4 => output_grads_with::<T, F4, 6, 4>(dout, filters, t, b, rows, d, stride, db),
        }
    }
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn output_grads_with<T: Float, W: Winograd<A, M>, const A: usize, const M: usize>(
    dout: &[T],
    filters: usize,
    t: &Tiling,
    b: &Part,
    rows: &mut [T],
    d: &mut [T],
    stride: usize,
    db: &mut [T],
) {
    let width = t.tiles_x * M * LANES;
    let mut mid = [[[T::ZERO; LANES]; M]; A];
    for k in 0..filters {
        let sums = interleave_output_grads(dout, filters, t, b, k, rows);
        db[k] += sums[..b.count].iter().fold(T::ZERO, |a, &s| a + s);
        for tile in 0..b.tiles(t) {
            let (ty, tx) = (tile / t.tiles_x, tile % t.tiles_x); // ty from the block's first row
            let corner = ty * M * width + tx * M * LANES;
            let col = b.col0 + tile * b.count;
            transform_2d!(
                T,
                |i: usize, j: usize| &rows[corner + i * width + j * LANES..],
                W::output_grad,
                M,
                A,
                |p: usize, q: usize, lanes: &[T; LANES]| d[((p * A + q) * filters + k) * stride + col..][..LANES]
                    .copy_from_slice(lanes),
                &mut mid
            );
        }
    }
}
