//! Stride-1 convolution computed directly, for few input channels (the
//! first layer of a network on grey images: 1 -> 16 filters of 3x3, or
//! 1 -> 30 of 5x5), where unrolling copies each input fh*fw times and
//! Winograd's transforms cost more than the few products they save.
//!
//! Each image's channels are zero-padded into planes of width
//! `pw = w + 2 pad`. Output `(i, j)` reads the padded plane at
//! `(i + ky) * pw + (j + kx)`: at position `q = i * pw + j` of a *grid* of
//! `oh` rows of `pw` (the last `pw - ow` columns of each row are not
//! outputs), every filter tap `(ky, kx)` is the same shift `ky * pw + kx`
//! of the plane. So `LANES` consecutive grid positions take one vector load
//! per tap and channel, and a block of filters accumulates in registers:
//!
//! * forward: `grid[f][q] = b[f] + sum over c, taps of W[f, c, tap] plane_c[q + shift]`,
//!   then the first `ow` columns of each grid row go to the output;
//! * weight gradient: `dW[f, c, tap] = sum over images and q of dgrid[f][q] plane_c[q + shift]`,
//!   with `dout` laid out on the grid, zero in the columns that are not outputs.

use super::error::{try_vec, KResult};
use super::first_error::FirstError;
use super::float::Float;
use super::fma::{fused, mul_add};
use super::geometry::Window;
use super::parallel::{num_threads, run_chunks, SharedMut};
use super::reduce::lane_sum;
use super::scratch::with_scratch;
use super::simd::has_avx512f;

/// Grid positions computed together (one vector of f32 with AVX-512).
const LANES: usize = 16;

/// Filters per register block of the forward: 16 vectors of `LANES` f32
/// with AVX-512, 8 otherwise (where a vector takes two or more registers).
#[inline(always)]
fn filter_block<T>() -> usize {
    if std::mem::size_of::<T>() == 4 && has_avx512f() {
        16
    } else {
        8
    }
}

/// Where an image's padded planes and grid are.
struct Grid {
    /// Padded plane width; a padded plane's length, with room for the last
    /// vector's reads past its end.
    pw: usize,
    plane: usize,
    /// Vectors of grid positions (`oh * pw` of them, rounded up).
    chunks: usize,
    /// The shift of each filter tap, `ky * pw + kx`.
    shifts: Vec<usize>,
    fh: usize,
    fw: usize,
}

impl Grid {
    fn new(g: &Window) -> KResult<Self> {
        let pw = g.w + 2 * g.pad;
        let chunks = (g.oh * pw).div_ceil(LANES);
        let mut shifts = try_vec(g.fh * g.fw, 0, "the filter taps")?;
        for ky in 0..g.fh {
            for kx in 0..g.fw {
                shifts[ky * g.fw + kx] = ky * pw + kx;
            }
        }
        let reach = chunks * LANES + (g.fh - 1) * pw + g.fw - 1;
        Ok(Self {
            pw,
            plane: reach.max((g.h + 2 * g.pad) * pw),
            chunks,
            shifts,
            fh: g.fh,
            fw: g.fw,
        })
    }

    /// Grid positions in whole vectors.
    fn len(&self) -> usize {
        self.chunks * LANES
    }
}

/// `dst.copy_from_slice(src)` for the short rows of small planes, in whole
/// vectors (the last one overlapping the one before): as a `memcpy` call
/// per row it took a third of the time.
#[inline(always)]
fn copy_row<T: Float>(dst: &mut [T], src: &[T]) {
    let n = src.len();
    if n < LANES {
        for (d, &s) in dst.iter_mut().zip(src) {
            *d = s;
        }
        return;
    }
    for start in (0..n - LANES).step_by(LANES).chain([n - LANES]) {
        let chunk: &[T; LANES] = src[start..start + LANES].try_into().expect("LANES elements");
        dst[start..start + LANES].copy_from_slice(chunk);
    }
}

multiversion! {
    /// Copy image `x (c, h, w)` into `planes (c, plane)` at `(pad, pad)`; the
    /// padding is never written, so it stays zero.
    fn place_image<T>(x: &[T], g: &Window, grid: &Grid, planes: &mut [T]) {
        for (src, dst) in x.chunks_exact(g.in_plane().max(1)).zip(planes.chunks_exact_mut(grid.plane)) {
            for (row, dst_row) in src.chunks_exact(g.w.max(1)).zip(dst[g.pad * grid.pw..].chunks_mut(grid.pw)) {
                copy_row(&mut dst_row[g.pad..g.pad + g.w], row);
            }
        }
    }
}

/// Split `n` images into `(per block, blocks)` for `threads` threads.
fn blocks(n: usize, threads: usize) -> (usize, usize) {
    let per = n.div_ceil((threads * 2).max(1)).max(1);
    (per, n.div_ceil(per))
}

/// `out (n, fn, oh, ow) = conv(x (n, c, h, w), w (fn, c, fh, fw)) + b (fn,)`
/// for stride 1, on `threads` threads.
pub fn forward<T: Float>(x: &[T], w: &[T], b: &[T], g: &Window, out: &mut [T], threads: usize) -> KResult<()> {
    let filters = b.len();
    assert!(
        g.stride == 1 && g.n * g.c * filters > 0,
        "direct convolution: stride 1, no empty dimension"
    );
    let grid = Grid::new(g)?;
    let taps = g.fh * g.fw;
    // filters padded to whole register blocks, with zero weights and bias
    let block = filter_block::<T>();
    let padded = filters.next_multiple_of(block);
    // wt (c, tap, padded filters): one block's weights for a tap are consecutive
    let mut wt = try_vec(g.c * taps * padded, T::ZERO, "the transposed filters")?;
    for f in 0..filters {
        for c in 0..g.c {
            for t in 0..taps {
                wt[(c * taps + t) * padded + f] = w[(f * g.c + c) * taps + t];
            }
        }
    }
    let (per, count) = blocks(g.n, threads.min(num_threads()));
    let plane = g.out_plane();
    let out = SharedMut::new(out);
    let failed = FirstError::default();
    run_chunks(count, threads, |chunk| {
        failed.record(|| {
            // zeroed: the planes' padding is never written
            let (planes_len, sums_len) = (g.c * grid.plane, padded * grid.len());
            with_scratch(
                planes_len + sums_len,
                true,
                "the padded planes",
                |scratch: &mut [T]| {
                    let (planes, sums) = scratch.split_at_mut(planes_len);
                    for n in chunk * per..((chunk + 1) * per).min(g.n) {
                        place_image(&x[n * g.image()..(n + 1) * g.image()], g, &grid, planes);
                        grid_forward(planes, &wt, &grid, g.c, sums);
                        // SAFETY: image n writes only its own outputs.
                        let y = unsafe { out.range(n * filters * plane..(n + 1) * filters * plane) };
                        grid_to_output(sums, &grid, g, b, y);
                    }
                },
            )
        })
    });
    failed.into_result()
}

multiversion! {
    /// The first `ow` columns of each grid row plus the bias: `out (fn, oh, ow)`
    /// of one image from its `sums (padded filters, grid)`.
    fn grid_to_output<T>(sums: &[T], grid: &Grid, g: &Window, bias: &[T], out: &mut [T]) {
        for ((out_f, grid_f), &b) in out.chunks_exact_mut(g.out_plane().max(1)).zip(sums.chunks_exact(grid.len())).zip(bias) {
            for (row, grid_row) in out_f.chunks_exact_mut(g.ow.max(1)).zip(grid_f.chunks(grid.pw)) {
                for (o, &s) in row.iter_mut().zip(grid_row) {
                    *o = s + b;
                }
            }
        }
    }
}

multiversion! {
    /// `sums (padded filters, grid)` of one image from its `planes`, without the bias.
    fn grid_forward<T>(planes: &[T], wt: &[T], grid: &Grid, channels: usize, sums: &mut [T]) {
        let (wide, fused) = (filter_block::<T>() == 16, fused());
        match (wide, fused) {
            (true, true) => forward_blocks::<T, 16, true>(planes, wt, grid, channels, sums),
            (true, false) => forward_blocks::<T, 16, false>(planes, wt, grid, channels, sums),
            (false, true) => forward_blocks::<T, 8, true>(planes, wt, grid, channels, sums),
            (false, false) => forward_blocks::<T, 8, false>(planes, wt, grid, channels, sums),
        }
    }
}

#[inline(always)]
fn forward_blocks<T: Float, const R: usize, const FUSED: bool>(
    planes: &[T],
    wt: &[T],
    grid: &Grid,
    channels: usize,
    sums: &mut [T],
) {
    let len = grid.len();
    let padded = sums.len() / len.max(1);
    for k in (0..padded).step_by(R) {
        for chunk in 0..grid.chunks {
            let q = chunk * LANES;
            let mut acc = [[T::ZERO; LANES]; R];
            // one loop over every (channel, ky, kx), its input shift kept up
            // to date step by step: nested loops left the accumulators in
            // memory, and shifts read from a table were vectorised as gathers
            let (mut at, mut kx, mut ky) = (q, 0, 0);
            for t in 0..channels * grid.fh * grid.fw {
                let v: &[T; LANES] = planes[at..][..LANES].try_into().expect("LANES positions");
                let wr: &[T; R] = wt[t * padded + k..][..R].try_into().expect("R filters");
                // lanes outside, filters inside: the compiler vectorises the lanes
                for l in 0..LANES {
                    for r in 0..R {
                        acc[r][l] = mul_add::<T, FUSED>(wr[r], v[l], acc[r][l]);
                    }
                }
                at += 1;
                kx += 1;
                if kx == grid.fw {
                    (kx, ky) = (0, ky + 1);
                    at += grid.pw - grid.fw; // the next row of the window
                    if ky == grid.fh {
                        ky = 0;
                        at += grid.plane - grid.fh * grid.pw; // the next channel's plane
                    }
                }
            }
            for (r, acc_r) in acc.iter().enumerate() {
                sums[(k + r) * len + q..][..LANES].copy_from_slice(acc_r);
            }
        }
    }
}

/// `dw (fn, c, fh, fw)` and `db (fn,)` of a stride-1 convolution of
/// `x (n, c, h, w)` whose output gradient is `dout (n, fn, oh, ow)`, on
/// `threads` threads.
pub fn filter_grad<T: Float>(
    dout: &[T],
    x: &[T],
    g: &Window,
    dw: &mut [T],
    db: &mut [T],
    threads: usize,
) -> KResult<()> {
    let filters = db.len();
    assert!(
        g.stride == 1 && g.n * g.c * filters > 0,
        "direct convolution: stride 1, no empty dimension"
    );
    let grid = Grid::new(g)?;
    let taps = g.fh * g.fw;
    let padded = filters.next_multiple_of(2); // filters go in pairs
    let (per, count) = blocks(g.n, threads.min(num_threads()));
    // per block: per-lane sums (padded filters, c, taps, LANES), then db (filters,)
    let sums_len = padded * g.c * taps * LANES;
    let stride = sums_len + filters;
    let mut partials = try_vec(count * stride, T::ZERO, "the weight-gradient partials")?;
    let shared = SharedMut::new(&mut partials);
    let plane = g.out_plane();
    let failed = FirstError::default();
    run_chunks(count, threads, |chunk| {
        failed.record(|| {
            // SAFETY: chunk `chunk` runs once and owns partial `chunk`.
            let partial = unsafe { shared.range(chunk * stride..(chunk + 1) * stride) };
            let (lane_sums, db_part) = partial.split_at_mut(sums_len);
            // zeroed: the planes' padding and dout's grid past ow are never written
            let (planes_len, dgrid_len) = (g.c * grid.plane, padded * grid.len());
            with_scratch(
                planes_len + dgrid_len,
                true,
                "the padded planes",
                |scratch: &mut [T]| {
                    let (planes, dgrid) = scratch.split_at_mut(planes_len);
                    for n in chunk * per..((chunk + 1) * per).min(g.n) {
                        place_image(&x[n * g.image()..(n + 1) * g.image()], g, &grid, planes);
                        let d = &dout[n * filters * plane..(n + 1) * filters * plane];
                        output_to_grid(d, &grid, g, dgrid, db_part);
                        grid_filter_grad(planes, dgrid, &grid, g.c, lane_sums);
                    }
                },
            )
        })
    });
    failed.into_result()?;
    // the lanes and blocks summed
    let mut total = try_vec(stride, T::ZERO, "the weight gradient")?;
    for partial in partials.chunks_exact(stride) {
        for (t, &p) in total.iter_mut().zip(partial) {
            *t += p;
        }
    }
    for f in 0..filters {
        for c in 0..g.c {
            for t in 0..taps {
                let lanes = &total[((f * g.c + c) * taps + t) * LANES..][..LANES];
                dw[(f * g.c + c) * taps + t] = lanes.iter().fold(T::ZERO, |s, &v| s + v);
            }
        }
    }
    db.copy_from_slice(&total[sums_len..]);
    Ok(())
}

multiversion! {
    /// One image's `dout (fn, oh, ow)` into the first `ow` columns of each
    /// row of `dgrid (padded filters, grid)`, and `db[f] +=` its plane sums.
    fn output_to_grid<T>(dout: &[T], grid: &Grid, g: &Window, dgrid: &mut [T], db: &mut [T]) {
        for ((d_f, grid_f), db_f) in dout.chunks_exact(g.out_plane().max(1)).zip(dgrid.chunks_exact_mut(grid.len())).zip(db) {
            for (row, grid_row) in d_f.chunks_exact(g.ow.max(1)).zip(grid_f.chunks_mut(grid.pw)) {
                copy_row(&mut grid_row[..g.ow], row);
            }
            *db_f += lane_sum(d_f);
        }
    }
}

multiversion! {
    /// `lane_sums (padded filters, c, taps, LANES) +=` one image's products
    /// of `dgrid (padded filters, grid)` and its `planes`, per lane.
    fn grid_filter_grad<T>(planes: &[T], dgrid: &[T], grid: &Grid, channels: usize, lane_sums: &mut [T]) {
        if fused() {
            filter_grad_blocks::<T, true>(planes, dgrid, grid, channels, lane_sums);
        } else {
            filter_grad_blocks::<T, false>(planes, dgrid, grid, channels, lane_sums);
        }
    }
}

#[inline(always)]
fn filter_grad_blocks<T: Float, const FUSED: bool>(
    planes: &[T],
    dgrid: &[T],
    grid: &Grid,
    channels: usize,
    lane_sums: &mut [T],
) {
    let (taps, len) = (grid.shifts.len(), grid.len());
    let padded = dgrid.len() / len.max(1);
    for k in (0..padded).step_by(2) {
        for c in 0..channels {
            let plane = &planes[c * grid.plane..(c + 1) * grid.plane];
            // blocks of 2 filters x up to 9 taps: 18 vectors of sums in
            // registers. The taps are split evenly (25 = 9 + 8 + 8): each
            // block streams the grid once, and a block of few taps loads
            // nearly as much per multiply-add as it computes
            let mut t = 0;
            while t < taps {
                let left = taps - t;
                let wanted = left.div_ceil(left.div_ceil(9));
                t += match wanted {
                    9.. => taps_block::<T, 9, FUSED>(plane, dgrid, grid, k, c, t, channels, lane_sums),
                    8 => taps_block::<T, 8, FUSED>(plane, dgrid, grid, k, c, t, channels, lane_sums),
                    7 => taps_block::<T, 7, FUSED>(plane, dgrid, grid, k, c, t, channels, lane_sums),
                    6 => taps_block::<T, 6, FUSED>(plane, dgrid, grid, k, c, t, channels, lane_sums),
                    5 => taps_block::<T, 5, FUSED>(plane, dgrid, grid, k, c, t, channels, lane_sums),
                    4 => taps_block::<T, 4, FUSED>(plane, dgrid, grid, k, c, t, channels, lane_sums),
                    2 | 3 => taps_block::<T, 2, FUSED>(plane, dgrid, grid, k, c, t, channels, lane_sums),
                    _ => taps_block::<T, 1, FUSED>(plane, dgrid, grid, k, c, t, channels, lane_sums),
                };
            }
        }
    }
}

/// Filters `k, k + 1` x taps `t .. t + Q` of one channel; returns `Q`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn taps_block<T: Float, const Q: usize, const FUSED: bool>(
    plane: &[T],
    dgrid: &[T],
    grid: &Grid,
    k: usize,
    c: usize,
    t: usize,
    channels: usize,
    lane_sums: &mut [T],
) -> usize {
    let (taps, len) = (grid.shifts.len(), grid.len());
    let shifts: [usize; Q] = grid.shifts[t..t + Q].try_into().expect("Q taps");
    // every load below in bounds, checked once: the loop then has no panic
    // branch (with them, and with references to the loaded vectors, the
    // compiler kept reloading the shifts and checking each load)
    let reach = grid.chunks * LANES;
    assert!(dgrid.len() >= (k + 1) * len + reach && len >= reach);
    assert!(shifts.iter().all(|&s| s + reach <= plane.len()));
    let (d0s, d1s, ps) = (
        dgrid[k * len..].as_ptr(),
        dgrid[(k + 1) * len..].as_ptr(),
        plane.as_ptr(),
    );
    let mut acc = [[[T::ZERO; LANES]; Q]; 2];
    for chunk in 0..grid.chunks {
        let q = chunk * LANES;
        // SAFETY: q + LANES <= reach, within both dgrid rows and (plus any shift) the plane (asserted)
        let (d0, d1) = unsafe {
            (
                d0s.add(q).cast::<[T; LANES]>().read_unaligned(),
                d1s.add(q).cast::<[T; LANES]>().read_unaligned(),
            )
        };
        let mut v = [[T::ZERO; LANES]; Q];
        for (vj, &shift) in v.iter_mut().zip(&shifts) {
            // SAFETY: as above
            *vj = unsafe { ps.add(q + shift).cast::<[T; LANES]>().read_unaligned() };
        }
        for l in 0..LANES {
            for j in 0..Q {
                acc[0][j][l] = mul_add::<T, FUSED>(d0[l], v[j][l], acc[0][j][l]);
                acc[1][j][l] = mul_add::<T, FUSED>(d1[l], v[j][l], acc[1][j][l]);
            }
        }
    }
    for r in 0..2 {
        for j in 0..Q {
            // a copy: read in place, the accumulators went through memory at every step
            let lanes: [T; LANES] = acc[r][j];
            let sums = &mut lane_sums[(((k + r) * channels + c) * taps + t + j) * LANES..][..LANES];
            for (s, a) in sums.iter_mut().zip(lanes) {
                *s += a;
            }
        }
    }
    Q
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::parallel::set_num_threads;
    use crate::kernels::testing::{assert_close, naive_conv_forward, Rng};

    #[test]
    fn forward_and_weight_gradient_match_the_definition() {
        let mut rng = Rng::new(31);
        let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(a, b)| a * b).sum::<f64>();
        for threads in [1, 2] {
            set_num_threads(threads);
            for (shape, filters, fh, fw, pad) in [
                ([3, 1, 28, 28], 16, 3, 3, 1),
                ([2, 1, 28, 28], 30, 5, 5, 0),
                ([5, 2, 7, 5], 3, 3, 2, 2),
                ([1, 1, 1, 1], 1, 1, 1, 0),
                ([4, 3, 6, 9], 17, 4, 3, 1),
                // taps split into blocks of 7; 5; 2 + 1
                ([2, 2, 6, 9], 3, 1, 7, 1),
                ([2, 1, 5, 5], 2, 1, 5, 0),
                ([3, 1, 4, 4], 2, 1, 3, 0),
            ] {
                let g = Window::new(shape, fh, fw, 1, pad).unwrap();
                let (x, w, b) = (rng.vec(g.n * g.image()), rng.vec(filters * g.patch()), rng.vec(filters));
                let mut out = vec![f64::NAN; g.n * filters * g.out_plane()];
                forward(&x, &w, &b, &g, &mut out, threads).unwrap();
                assert_close(&out, &naive_conv_forward(&x, &w, &b, &g), 1e-12);
                // dw: the adjoint of the forward in w; db: the sums of dout
                let dout = rng.vec(out.len());
                let (mut dw, mut db) = (vec![f64::NAN; w.len()], vec![f64::NAN; filters]);
                filter_grad(&dout, &x, &g, &mut dw, &mut db, threads).unwrap();
                let dir = rng.vec(w.len());
                let want = dot(&dout, &naive_conv_forward(&x, &dir, &vec![0.0; filters], &g));
                assert!((dot(&dw, &dir) - want).abs() < 1e-10 * (1.0 + want.abs()), "{shape:?}");
                for (f, &d) in db.iter().enumerate() {
                    let sum: f64 = (0..g.n)
                        .map(|n| {
                            dout[(n * filters + f) * g.out_plane()..][..g.out_plane()]
                                .iter()
                                .sum::<f64>()
                        })
                        .sum();
                    assert!((d - sum).abs() < 1e-11 * (1.0 + sum.abs()));
                }
            }
        }
    }
}
