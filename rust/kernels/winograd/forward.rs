//! The forward convolution by F(m x m, 3 x 3), block by block (see
//! [`super::tiles`] for blocks, groups and the transformed layout):
//!
//! 1. `V (a*a, c, columns)`: `B^T d B` of every input tile `d` of the block;
//! 2. `Y (a*a, fn, columns)`: one product per transformed position `xi`,
//!    `Y[xi] = U[xi]^T (fn, c) @ V[xi] (c, columns)`, with the filters
//!    transformed once per call, `U (a*a, c, fn)` = `G g G^T`;
//! 3. every output tile `A^T Y A`, plus the bias, into `out (n, fn, oh, ow)`.
//!
//! The input gradient of a stride-1 convolution is the same computation on
//! `dout` with the filters flipped and their channels swapped.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::products::multiply;
use super::tiles::{interleave_inputs, Part, TileSize, Tiling, LANES};
use super::transform::{transform_2d, Winograd, F2, F4};
use super::transpose::deinterleave;
use super::{transform_filters, BLOCK_BYTES};
use crate::kernels::error::KResult;
use crate::kernels::first_error::FirstError;
use crate::kernels::float::Float;
use crate::kernels::geometry::Window;
use crate::kernels::parallel::{run_chunks, SharedMut};
use crate::kernels::scratch::with_scratch;

/// Blocks per thread, at least (when the tiles allow): a thread that starts
/// late or is slowed takes fewer.
const BLOCKS_PER_THREAD: usize = 2;

/// `out (n, fn, oh, ow) = conv(x (n, c, h, w), w (fn, c, 3, 3)) + b (fn,)`
/// for stride 1, on `threads` threads.
pub fn forward<T: Float>(
    x: &[T],
    w: &[T],
    b: &[T],
    g: &Window,
    out: &mut [T],
    size: TileSize,
    threads: usize,
) -> KResult<()> {
    let filters = b.len();
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
    let u = transform_filters(w, g.c, filters, size)?; // (a*a, c, fn)
    let (blocks, max_cols) = (t.blocks(), t.max_columns());
    let out = SharedMut::new(out);
    let next = AtomicUsize::new(0);
    let failed = FirstError::default();
    run_chunks(threads.min(blocks), threads, |_| {
        failed.record(|| {
            // this thread's scratch: interleaved input rows, V, Y, interleaved output rows
            let lens = [
                t.input_rows_len(),
                a2 * g.c * (max_cols + LANES),
                a2 * filters * (max_cols + LANES),
                t.output_rows_len(),
            ];
            with_scratch(
                lens.iter().sum(),
                false,
                "the Winograd scratch",
                |scratch: &mut [T]| {
                    let (rows, rest) = scratch.split_at_mut(lens[0]);
                    let (v, rest) = rest.split_at_mut(lens[1]);
                    let (y, out_rows) = rest.split_at_mut(lens[2]);
                    // blocks are claimed one at a time: a late or slowed thread takes fewer
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= blocks {
                            break;
                        }
                        let block = t.block(i);
                        let cols = t.columns(&block);
                        let stride = cols + LANES; // rows of V and Y: spare columns for whole-lane writes
                        for part in t.parts(&block) {
                            transform_inputs(x, &t, &part, rows, v, stride);
                        }
                        multiply(&u, v, y, a2, filters, g.c, cols, stride);
                        for part in t.parts(&block) {
                            transform_outputs(y, b, &t, &part, stride, out_rows, &out);
                        }
                    }
                },
            )
        })
    });
    failed.into_result()
}

multiversion! {
    /// `v (a*a, c, stride)`: `B^T d B` for every input tile `d` of part
    /// `b` of the batch `x (n, c, h, w)`; `rows` is scratch.
    pub(super) fn transform_inputs<T>(x: &[T], t: &Tiling, b: &Part, rows: &mut [T], v: &mut [T], stride: usize) {
        match t.size {
            TileSize::F2 => inputs_with::<T, F2, 4, 2>(x, t, b, rows, v, stride),
            TileSize::F4 => inputs_with::<T, F4, 6, 4>(x, t, b, rows, v, stride),
        }
    }
}

#[inline(always)]
fn inputs_with<T: Float, W: Winograd<A, M>, const A: usize, const M: usize>(
    x: &[T],
    t: &Tiling,
    b: &Part,
    rows: &mut [T],
    v: &mut [T],
    stride: usize,
) {
    let channels = t.g.c;
    let width = t.pw * LANES;
    let mut mid = [[[T::ZERO; LANES]; A]; A];
    for c in 0..channels {
        interleave_inputs(x, t, b, c, rows);
        for tile in 0..b.tiles(t) {
            let (ty, tx) = (tile / t.tiles_x, tile % t.tiles_x); // ty from the block's first row
            let corner = ty * M * width + tx * M * LANES;
            let col = b.col0 + tile * b.count;
            transform_2d!(
                T,
                |i: usize, j: usize| &rows[corner + i * width + j * LANES..],
                W::input,
                A,
                A,
                |p: usize, q: usize, lanes: &[T; LANES]| v[((p * A + q) * channels + c) * stride + col..][..LANES]
                    .copy_from_slice(lanes),
                &mut mid
            );
        }
    }
}

multiversion! {
    /// The outputs of part `b`: `A^T Y A + bias` for every tile, from the
    /// transformed products `y (a*a, fn, stride)`, into `out (n, fn, oh, ow)`;
    /// `rows` is scratch. Each part goes through here once per `out`.
    fn transform_outputs<T>(
        y: &[T],
        bias: &[T],
        t: &Tiling,
        b: &Part,
        stride: usize,
        rows: &mut [T],
        out: &SharedMut<T>,
    ) {
        match t.size {
            TileSize::F2 => outputs_with::<T, F2, 4, 2>(y, bias, t, b, stride, rows, out),
            TileSize::F4 => outputs_with::<T, F4, 6, 4>(y, bias, t, b, stride, rows, out),
        }
    }
}

#[inline(always)]
fn outputs_with<T: Float, W: Winograd<A, M>, const A: usize, const M: usize>(
    y: &[T],
    bias: &[T],
    t: &Tiling,
    b: &Part,
    stride: usize,
    rows: &mut [T],
    out: &SharedMut<T>,
) {
    let filters = bias.len();
    let (ow, plane) = (t.g.ow, t.g.out_plane());
    let width = t.tiles_x * M * LANES; // rows (yy, xx, LANES): the part's outputs, one image per lane
    let first_row = b.ty0 * M;
    let valid_rows = (b.ty1 * M).min(t.g.oh) - first_row;
    let mut mid = [[[T::ZERO; LANES]; A]; M];
    for (k, &bias) in bias.iter().enumerate() {
        for tile in 0..b.tiles(t) {
            let (ty, tx) = (tile / t.tiles_x, tile % t.tiles_x); // ty from the block's first row
            let (col, corner) = (b.col0 + tile * b.count, ty * M * width + tx * M * LANES);
            transform_2d!(
                T,
                |p: usize, q: usize| &y[((p * A + q) * filters + k) * stride + col..],
                W::output,
                A,
                M,
                |i: usize, j: usize, lanes: &[T; LANES]| rows[corner + i * width + j * LANES..][..LANES]
                    .copy_from_slice(lanes),
                &mut mid
            );
        }
        // the part's rows of output plane k of each image
        let mut planes: [&mut [T]; LANES] = Default::default();
        for (l, plane_l) in planes.iter_mut().enumerate().take(b.count) {
            let start = ((b.first + l) * filters + k) * plane + first_row * ow;
            // SAFETY: blocks cover disjoint (image, tile row) sets and each is
            // transformed once, so these output rows are this call's alone.
            *plane_l = unsafe { out.range(start..start + valid_rows * ow) };
        }
        for yy in 0..valid_rows {
            deinterleave(&rows[yy * width..], ow, bias, &mut planes[..b.count], yy * ow);
        }
    }
}
