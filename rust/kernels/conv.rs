//! Convolution (cross-correlation, as in the book) over NCHW batches, and
//! its gradients.
//!
//! Each image is unrolled into `cols (c*fh*fw, oh*ow)` ([`unfold_image`])
//! and multiplied by the filters `W (fn, c*fh*fw)` with the GEMM crate; the
//! product is the image's output `(fn, oh, ow)` in place, so the batch comes
//! out in NCHW with no transpose. Images are spread over the threads; each
//! block of images uses one scratch buffer, and the weight gradients of the
//! blocks are summed at the end.

use std::sync::Mutex;

use super::affine::column_sums;
use super::error::{try_vec, KResult, KernelError};
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

/// The first error a chunk of a parallel region hit (the other chunks may
/// still run; the region's result is then discarded).
#[derive(Default)]
pub(crate) struct FirstError(Mutex<Option<KernelError>>);

impl FirstError {
    /// Run `f`, keeping its error if it is the first.
    pub(crate) fn record(&self, f: impl FnOnce() -> KResult<()>) {
        if let Err(e) = f() {
            self.0.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(e);
        }
    }

    pub(crate) fn into_result(self) -> KResult<()> {
        match self.0.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// `out (n, fn, oh, ow) = conv(x (n, c, h, w), w (fn, c, fh, fw)) + b (fn,)`.
pub fn conv_forward<T: Float>(x: &[T], w: &[T], b: &[T], g: &Window, out: &mut [T]) -> KResult<()> {
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

/// Gradients of [`conv_forward`] for `dout (n, fn, oh, ow)`:
/// `dw (fn, c, fh, fw)`, `db (fn,)` and, when given, `dx (n, c, h, w)`.
#[allow(clippy::too_many_arguments)]
pub fn conv_backward<T: Float>(
    dout: &[T],
    x: &[T],
    w: &[T],
    g: &Window,
    dx: Option<&mut [T]>,
    dw: &mut [T],
    db: &mut [T],
) -> KResult<()> {
    let filters = db.len();
    let (patch, plane) = (g.patch(), g.out_plane());
    assert_eq!(x.len(), g.n * g.image());
    assert_eq!(w.len(), filters * patch);
    assert_eq!(dw.len(), filters * patch);
    assert_eq!(dout.len(), g.n * filters * plane);
    let work = flops(g, filters) * if dx.is_some() { 2 } else { 1 };
    let threads = threads_for(work, PARALLEL_GRAIN_FLOPS);
    let (per, count) = blocks(g.n, threads.min(num_threads()));
    // One weight-gradient partial per block: (count, fn * patch + fn).
    let stride = filters * patch + filters;
    let mut partials = try_vec(count * stride, T::ZERO, "the weight-gradient partials")?;
    let shared_partials = SharedMut::new(&mut partials);
    let w_t = MatRef::row_major(w, filters, patch).t(); // (patch, fn)
                                                        // The GEMM crate multiplies by a row-major (P, patch) matrix faster than
                                                        // by a transposed (patch, P) view, but building the book's layout costs
                                                        // more than unfolding once the image's matrix outgrows the caches.
    let book_layout = plane * patch * std::mem::size_of::<T>() <= BOOK_LAYOUT_MAX_BYTES;
    let transposed = if dx.is_some() {
        transposed_input_grad(w, g, filters)?
    } else {
        None
    };
    let dx = dx.map(|dx| {
        assert_eq!(dx.len(), g.n * g.image());
        SharedMut::new(dx)
    });
    let failed = FirstError::default();
    run_chunks(count, threads, |block| {
        failed.record(|| {
            // SAFETY: block `block` owns its own partial.
            let partial = unsafe { shared_partials.range(block * stride..(block + 1) * stride) };
            let (dw_part, db_part) = partial.split_at_mut(filters * patch);
            let mut rows = try_vec(plane * patch, T::ZERO, "the unrolled image")?;
            let dcols_len = match (&dx, &transposed) {
                (None, _) => 0,
                (Some(_), Some((_, g2))) => g2.patch() * g2.out_plane(),
                (Some(_), None) => patch * plane,
            };
            let mut dcols = try_vec(dcols_len, T::ZERO, "the unrolled output gradient")?;
            let mut sums = try_vec(filters, T::ZERO, "the bias-gradient sums")?;
            for n in block * per..((block + 1) * per).min(g.n) {
                let image = &x[n * g.image()..(n + 1) * g.image()];
                let g_out = &dout[n * filters * plane..(n + 1) * filters * plane]; // (fn, oh*ow)
                let g_mat = MatRef::row_major(g_out, filters, plane);
                // dw += dout_n (fn, P) @ unrolled image (P, patch)
                let unrolled = if book_layout {
                    image_im2col(image, g, &mut rows);
                    MatRef::row_major(&rows, plane, patch)
                } else {
                    unfold_image(image, g, &mut rows);
                    MatRef::row_major(&rows, patch, plane).t()
                };
                matmul(g_mat, unrolled, dw_part, true);
                row_sums(g_out, plane, &mut sums);
                for (d, &s) in db_part.iter_mut().zip(&sums) {
                    *d += s;
                }
                if let Some(dx) = &dx {
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
                        matmul(w_t, g_mat, &mut dcols, false);
                        dx_n.fill(T::ZERO);
                        fold_image(&dcols, g, dx_n);
                    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::testing::{assert_close, Rng};

    struct Case {
        g: Window,
        filters: usize,
    }

    fn cases() -> Vec<Case> {
        [
            ([2, 3, 7, 6], 4, 3, 3, 1, 1),
            ([1, 1, 8, 8], 5, 5, 5, 1, 0),
            ([3, 2, 9, 8], 3, 3, 2, 2, 1),
            ([2, 3, 6, 7], 2, 2, 3, 3, 2),
            ([5, 16, 14, 14], 16, 3, 3, 1, 1),
            ([2, 16, 28, 28], 4, 3, 3, 1, 1), // large: the transposed weight-gradient path
        ]
        .into_iter()
        .map(|(shape, filters, fh, fw, stride, pad)| Case {
            g: Window::new(shape, fh, fw, stride, pad).unwrap(),
            filters,
        })
        .collect()
    }

    /// Direct definition: out[n,f,i,j] = b[f] + sum W[f,c,ky,kx] x[n,c,i*s+ky-p,j*s+kx-p].
    fn naive_forward(x: &[f64], w: &[f64], b: &[f64], g: &Window) -> Vec<f64> {
        let filters = b.len();
        let mut out = vec![0.0; g.n * filters * g.out_plane()];
        for n in 0..g.n {
            for f in 0..filters {
                for i in 0..g.oh {
                    for j in 0..g.ow {
                        let mut acc = b[f];
                        for c in 0..g.c {
                            for ky in 0..g.fh {
                                for kx in 0..g.fw {
                                    let ih = (i * g.stride + ky) as isize - g.pad as isize;
                                    let iw = (j * g.stride + kx) as isize - g.pad as isize;
                                    if ih >= 0 && iw >= 0 && (ih as usize) < g.h && (iw as usize) < g.w {
                                        let xv = x[((n * g.c + c) * g.h + ih as usize) * g.w + iw as usize];
                                        acc += w[((f * g.c + c) * g.fh + ky) * g.fw + kx] * xv;
                                    }
                                }
                            }
                        }
                        out[((n * filters + f) * g.oh + i) * g.ow + j] = acc;
                    }
                }
            }
        }
        out
    }

    #[test]
    fn forward_matches_the_definition() {
        let mut rng = Rng::new(21);
        crate::kernels::parallel::set_num_threads(2);
        for Case { g, filters } in cases() {
            let (x, w, b) = (rng.vec(g.n * g.image()), rng.vec(filters * g.patch()), rng.vec(filters));
            let mut out = vec![f64::NAN; g.n * filters * g.out_plane()];
            conv_forward(&x, &w, &b, &g, &mut out).unwrap();
            assert_close(&out, &naive_forward(&x, &w, &b, &g), 1e-12);
        }
    }

    /// The gradients are the adjoint of the (linear in x, w, b) forward:
    /// <dout, conv(x', w', b')> for one-hot perturbations, checked via
    /// random directions: <dout, F(dx_dir)> == <grad, dir>.
    #[test]
    fn backward_is_the_adjoint_of_forward() {
        let mut rng = Rng::new(8);
        let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(a, b)| a * b).sum::<f64>();
        for Case { g, filters } in cases() {
            let (x, w) = (rng.vec(g.n * g.image()), rng.vec(filters * g.patch()));
            let dout = rng.vec(g.n * filters * g.out_plane());
            let (mut dx, mut dw, mut db) = (vec![f64::NAN; x.len()], vec![f64::NAN; w.len()], vec![0.0; filters]);
            conv_backward(&dout, &x, &w, &g, Some(&mut dx), &mut dw, &mut db).unwrap();
            let zero_b = vec![0.0; filters];
            // d/dx: forward is linear in x (with b = 0)
            let dir = rng.vec(x.len());
            assert!((dot(&dout, &naive_forward(&dir, &w, &zero_b, &g)) - dot(&dx, &dir)).abs() < 1e-9);
            // d/dw: linear in w
            let dir = rng.vec(w.len());
            assert!((dot(&dout, &naive_forward(&x, &dir, &zero_b, &g)) - dot(&dw, &dir)).abs() < 1e-9);
            // d/db: the sum of dout per filter
            for (f, &d) in db.iter().enumerate() {
                let want: f64 = (0..g.n)
                    .map(|n| {
                        dout[(n * filters + f) * g.out_plane()..][..g.out_plane()]
                            .iter()
                            .sum::<f64>()
                    })
                    .sum();
                assert!((d - want).abs() < 1e-10);
            }
            // skipping dx leaves dw and db unchanged
            let (mut dw2, mut db2) = (vec![0.0; w.len()], vec![0.0; filters]);
            conv_backward(&dout, &x, &w, &g, None, &mut dw2, &mut db2).unwrap();
            assert_close(&dw2, &dw, 1e-13);
            assert_close(&db2, &db, 1e-13);
        }
    }
}
