//! Convolution by unrolling: each image becomes `cols (c*fh*fw, oh*ow)`
//! ([`unfold_image`]) and is multiplied by the filters `W (fn, c*fh*fw)`
//! with the GEMM crate; the product is the image's output `(fn, oh, ow)` in
//! place, so the batch comes out in NCHW with no transpose. Images are
//! spread over the threads; each block of images uses one scratch buffer,
//! and the weight gradients of the blocks are summed at the end.
//!
//! Any window, stride and pad; see [`super::conv`] for when it is used.

use super::affine::column_sums;
use super::error::{try_vec, KResult};
use super::first_error::FirstError;
use super::float::Float;
use super::geometry::Window;
use super::im2col::{fold_image, image_im2col, unfold_image};
use super::matmul::{matmul, MatRef, PARALLEL_GRAIN_FLOPS};
use super::parallel::{num_threads, run_chunks, threads_for, SharedMut};
use super::reduce::lane_sum;

/// Blocks of images per thread (more blocks balance load, fewer save
/// weight-gradient reductions).
const BLOCKS_PER_THREAD: usize = 2;

/// Largest unrolled image (bytes) for which the weight gradient uses the
/// book's im2col layout (measured on the networks' shapes; see conv_backward).
const BOOK_LAYOUT_MAX_BYTES: usize = 384 * 1024;

/// Split `n` images into blocks for `threads` threads: `(block size, blocks)`.
fn blocks(n: usize, threads: usize) -> (usize, usize) {
    let per = n.div_ceil((threads * BLOCKS_PER_THREAD).max(1)).max(1);
    (per, n.div_ceil(per))
}

/// Multiply-adds of one pass over the batch.
fn flops(g: &Window, filters: usize) -> usize {
    g.n * g.out_plane() * g.patch() * filters
}

/// `out (n, fn, oh, ow) = conv(x (n, c, h, w), w (fn, c, fh, fw)) + b (fn,)`.
pub fn forward<T: Float>(x: &[T], w: &[T], b: &[T], g: &Window, out: &mut [T]) -> KResult<()> {
    let filters = b.len();
    let (patch, plane) = (g.patch(), g.out_plane());
    assert_eq!(x.len(), g.n * g.image());
    assert_eq!(w.len(), filters * patch);
    assert_eq!(out.len(), g.n * filters * plane);
    let threads = threads_for(flops(g, filters), PARALLEL_GRAIN_FLOPS);
    let (per, count) = blocks(g.n, threads);
    let w = MatRef::row_major(w, filters, patch);
    let out = SharedMut::new(out);
    let failed = FirstError::default();
    run_chunks(count, threads, |block| {
        failed.record(|| {
            let mut cols = try_vec(patch * plane, T::ZERO, "the unrolled image")?;
            for n in block * per..((block + 1) * per).min(g.n) {
                unfold_image(&x[n * g.image()..(n + 1) * g.image()], g, &mut cols);
                // SAFETY: image n writes only its own output block.
                let y = unsafe { out.range(n * filters * plane..(n + 1) * filters * plane) };
                for (row, &bias) in y.chunks_exact_mut(plane.max(1)).zip(b) {
                    row.fill(bias);
                }
                matmul(w, MatRef::row_major(&cols, patch, plane), y, true);
            }
            Ok(())
        })
    });
    failed.into_result()
}

/// `dw (fn, c, fh, fw)` and `db (fn,)`, the weight gradients of [`forward`]
/// for `dout (n, fn, oh, ow)`.
pub fn filter_grad<T: Float>(dout: &[T], x: &[T], g: &Window, dw: &mut [T], db: &mut [T]) -> KResult<()> {
    let filters = db.len();
    let (patch, plane) = (g.patch(), g.out_plane());
    assert_eq!(x.len(), g.n * g.image());
    assert_eq!(dw.len(), filters * patch);
    assert_eq!(dout.len(), g.n * filters * plane);
    let threads = threads_for(flops(g, filters), PARALLEL_GRAIN_FLOPS);
    let (per, count) = blocks(g.n, threads.min(num_threads()));
    // One weight-gradient partial per block: (count, fn * patch + fn).
    let stride = filters * patch + filters;
    let mut partials = try_vec(count * stride, T::ZERO, "the weight-gradient partials")?;
    let shared_partials = SharedMut::new(&mut partials);
    // The GEMM crate multiplies by a row-major (P, patch) matrix faster than
    // by a transposed (patch, P) view, but building the book's layout costs
    // more than unfolding once the image's matrix outgrows the caches.
    let book_layout = plane * patch * std::mem::size_of::<T>() <= BOOK_LAYOUT_MAX_BYTES;
    let failed = FirstError::default();
    run_chunks(count, threads, |block| {
        failed.record(|| {
            // SAFETY: block `block` owns its own partial.
            let partial = unsafe { shared_partials.range(block * stride..(block + 1) * stride) };
            let (dw_part, db_part) = partial.split_at_mut(filters * patch);
            let mut rows = try_vec(plane * patch, T::ZERO, "the unrolled image")?;
            let mut sums = try_vec(filters, T::ZERO, "the bias-gradient sums")?;
            for n in block * per..((block + 1) * per).min(g.n) {
                let image = &x[n * g.image()..(n + 1) * g.image()];
                let g_out = &dout[n * filters * plane..(n + 1) * filters * plane]; // (fn, oh*ow)
                                                                                   // dw += dout_n (fn, P) @ unrolled image (P, patch)
                let unrolled = if book_layout {
                    image_im2col(image, g, &mut rows);
                    MatRef::row_major(&rows, plane, patch)
                } else {
                    unfold_image(image, g, &mut rows);
                    MatRef::row_major(&rows, patch, plane).t()
                };
                matmul(MatRef::row_major(g_out, filters, plane), unrolled, dw_part, true);
                row_sums(g_out, plane, &mut sums);
                for (d, &s) in db_part.iter_mut().zip(&sums) {
                    *d += s;
                }
            }
            Ok(())
        })
    });
    failed.into_result()?;
    // dw, db = the sums of the block partials
    let mut total = try_vec(stride, T::ZERO, "the weight gradient")?;
    column_sums(&partials, stride, &mut total);
    dw.copy_from_slice(&total[..filters * patch]);
    db.copy_from_slice(&total[filters * patch..]);
    Ok(())
}

/// `dx (n, c, h, w)`, the input gradient of [`forward`] with filters
/// `w (fn, c, fh, fw)` for `dout (n, fn, oh, ow)`.
pub fn input_grad<T: Float>(dout: &[T], w: &[T], g: &Window, filters: usize, dx: &mut [T]) -> KResult<()> {
    let (patch, plane) = (g.patch(), g.out_plane());
    assert_eq!(w.len(), filters * patch);
    assert_eq!(dout.len(), g.n * filters * plane);
    assert_eq!(dx.len(), g.n * g.image());
    let threads = threads_for(flops(g, filters), PARALLEL_GRAIN_FLOPS);
    let (per, count) = blocks(g.n, threads.min(num_threads()));
    let w_t = MatRef::row_major(w, filters, patch).t(); // (patch, fn)
    let transposed = transposed_input_grad(w, g, filters)?;
    let dx = SharedMut::new(dx);
    let failed = FirstError::default();
    run_chunks(count, threads, |block| {
        failed.record(|| {
            let dcols_len = match &transposed {
                Some((_, g2)) => g2.patch() * g2.out_plane(),
                None => patch * plane,
            };
            let mut dcols = try_vec(dcols_len, T::ZERO, "the unrolled output gradient")?;
            for n in block * per..((block + 1) * per).min(g.n) {
                let g_out = &dout[n * filters * plane..(n + 1) * filters * plane]; // (fn, oh*ow)
                                                                                   // SAFETY: image n writes only its own block of dx.
                let dx_n = unsafe { dx.range(n * g.image()..(n + 1) * g.image()) };
                if let Some((w_flip, g2)) = &transposed {
                    // dx_n (c, h*w) = flipped W (c, fn*fh*fw) @ unfolded dout_n (fn*fh*fw, h*w)
                    unfold_image(g_out, g2, &mut dcols);
                    let w_flip = MatRef::row_major(w_flip, g.c, g2.patch());
                    matmul(
                        w_flip,
                        MatRef::row_major(&dcols, g2.patch(), g2.out_plane()),
                        dx_n,
                        false,
                    );
                } else {
                    // dcols (patch, P) = W^T (patch, fn) @ dout_n (fn, P), folded into dx_n
                    matmul(w_t, MatRef::row_major(g_out, filters, plane), &mut dcols, false);
                    dx_n.fill(T::ZERO);
                    fold_image(&dcols, g, dx_n);
                }
            }
            Ok(())
        })
    });
    failed.into_result()
}

/// For stride 1, a square filter and `pad < filter`, the input gradient is
/// itself a convolution: of `dout` padded by `filter - 1 - pad` with the
/// filters flipped in space and with in/out channels swapped. Returns that
/// flipped weight matrix `(c, fn*fh*fw)` and the geometry over one image of
/// `dout`, whose output is exactly `(h, w)`; None when it does not apply or
/// would move more data than the general path.
///
/// One GEMM with inner dimension `fn*fh*fw` then gives `dx` directly, where
/// the general path multiplies with inner dimension `fn` and scatters back.
fn transposed_input_grad<T: Float>(w: &[T], g: &Window, filters: usize) -> KResult<Option<(Vec<T>, Window)>> {
    // It unfolds `dout` (fn*fh*fw, h*w) where the general path builds
    // (c*fh*fw, oh*ow): take it only when that is no more data (with few
    // input channels, e.g. a first layer, it would be far more).
    if g.stride != 1 || g.fh != g.fw || g.pad >= g.fh || filters * g.in_plane() > g.c * g.out_plane() {
        return Ok(None);
    }
    let Ok(g2) = Window::new([1, filters, g.oh, g.ow], g.fh, g.fw, 1, g.fh - 1 - g.pad) else {
        return Ok(None);
    };
    if (g2.oh, g2.ow) != (g.h, g.w) {
        return Ok(None);
    }
    let taps = g.fh * g.fw;
    let mut w_flip = try_vec(g.c * filters * taps, T::ZERO, "the flipped filters")?;
    for f in 0..filters {
        for c in 0..g.c {
            let src = &w[(f * g.c + c) * taps..][..taps]; // W[f, c] (fh, fw)
            let dst = &mut w_flip[(c * filters + f) * taps..][..taps];
            for (d, &v) in dst.iter_mut().zip(src.iter().rev()) {
                *d = v; // reversing the flattened (fh, fw) window flips both axes
            }
        }
    }
    Ok(Some((w_flip, g2)))
}

multiversion! {
    /// `sums[r] = sum of row r` of row-major `a` with `cols` columns.
    fn row_sums<T>(a: &[T], cols: usize, sums: &mut [T]) {
        for (s, row) in sums.iter_mut().zip(a.chunks_exact(cols.max(1))) {
            *s = lane_sum(row);
        }
    }
}
