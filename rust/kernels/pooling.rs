//! Max and average pooling of NCHW arrays, one `(n, c)` plane at a time.
//!
//! The window of output `(i, j)` covers rows `i*stride - pad .. + pool_h` and
//! columns `j*stride - pad .. + pool_w` of an `H x W` plane; positions outside
//! the plane are padding. Max pooling ignores padding (it acts as -inf);
//! average pooling counts it as zeros (it always divides by `pool_h * pool_w`).
//! Planes are independent, so blocks of them run on separate threads.
//!
//! The geometry is a [`Window`] made by [`Window::pooling`] (the `n * c`
//! planes of `h x w`, the `fh x fw` window, stride and padding), checked
//! once where it is made.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};

use super::float::Float;
use super::geometry::Window;
use super::images;
use super::parallel::SharedMut;

/// Work (elements touched) per thread below which a call stays single-threaded.
const GRAIN: usize = 1 << 15;

/// Elements a plane's pass touches, to size the threading (saturating:
/// a huge padded window over a tiny input is valid).
fn work_per_plane(g: &Window) -> usize {
    let window = g.fh.saturating_mul(g.fw);
    g.oh.saturating_mul(g.ow)
        .saturating_mul(window)
        .saturating_add(g.in_plane())
}

/// The plane's rows under output row `i` (padding clipped off).
fn rows(g: &Window, i: usize) -> Range<usize> {
    clip(i * g.stride, g.fh, g.pad, g.h)
}

/// The plane's columns under output column `j`.
fn cols(g: &Window, j: usize) -> Range<usize> {
    clip(j * g.stride, g.fw, g.pad, g.w)
}

/// The common case with its own code: 2x2 windows, stride 2, no padding.
fn is_2x2_stride_2(g: &Window) -> bool {
    g.fh == 2 && g.fw == 2 && g.stride == 2 && g.pad == 0
}

/// `start..start+len` in padded coordinates, as unpadded indices within `0..size`.
fn clip(start: usize, len: usize, pad: usize, size: usize) -> Range<usize> {
    start.saturating_sub(pad)..(start + len).saturating_sub(pad).min(size)
}

/// The `n * c` planes of `g`, asserting that `what` holds `len` elements of them.
fn planes_of(g: &Window, len: usize, what: &str) -> usize {
    let planes = g.n * g.c;
    assert_eq!(
        len,
        planes * g.in_plane(),
        "{what} does not hold {planes} planes of {}",
        g.in_plane()
    );
    planes
}

/// Max pooling of `x` (planes of `H x W`) into `out` (planes of `oh x ow`),
/// with `argmax` the flat index `h*W + w` of each window's maximum in its
/// plane. Ties go to the first element in row-major window order; a NaN wins
/// over numbers and the first NaN wins (NumPy's `argmax`).
pub fn max_pool_forward<T: Float>(x: &[T], g: &Window, out: &mut [T], argmax: &mut [i32]) {
    let planes = planes_of(g, x.len(), "x");
    if planes == 0 {
        assert!(out.is_empty() && argmax.is_empty(), "no planes but output");
        return;
    }
    let (plane, out_plane) = (g.in_plane(), g.out_plane());
    assert_eq!(out.len(), planes * out_plane, "out length");
    assert_eq!(argmax.len(), planes * out_plane, "argmax length");
    let (out, argmax) = (SharedMut::new(out), SharedMut::new(argmax));
    images::for_each_plane_block(planes, work_per_plane(g), GRAIN, |r| {
        let span = r.start * out_plane..r.end * out_plane;
        // SAFETY: blocks of planes are disjoint.
        let (out, argmax) = unsafe { (out.range(span.clone()), argmax.range(span)) };
        let planes = x[r.start * plane..r.end * plane]
            .chunks_exact(plane)
            .zip(out.chunks_exact_mut(out_plane))
            .zip(argmax.chunks_exact_mut(out_plane));
        for ((x, out), argmax) in planes {
            if is_2x2_stride_2(g) {
                max_2x2_plane(x, g.w, out, argmax);
            } else {
                max_plane(x, g, out, argmax);
            }
        }
    });
}

/// `(best, at)` after offering `(v, k)` in window order: `v` replaces `best`
/// only when strictly greater, or when it is NaN and `best` is not.
#[inline(always)]
fn offer<T: Float>(best: T, at: i32, v: T, k: i32) -> (T, i32) {
    // Non-short-circuit operators keep this a pair of selects (vectorisable).
    let take = (v > best) | (v.is_nan() & !best.is_nan());
    (if take { v } else { best }, if take { k } else { at })
}

/// Run `$body` with `$start` stepping through `0..$len` in blocks of 8, then
/// 4, then 1, `$lanes` being the block size as a constant. Rows of 2x2 pooling
/// are short (12 outputs on a 24x24 plane), shorter than the vector loop the
/// compiler picks (16 lanes under AVX-512); fixed-size blocks vectorise at
/// any row length.
macro_rules! in_blocks {
    ($len:expr, |$start:ident, $lanes:ident| $body:block) => {{
        let len: usize = $len;
        let from = 0;
        let from = in_blocks!(@run len, from, 8, $start, $lanes, $body);
        let from = in_blocks!(@run len, from, 4, $start, $lanes, $body);
        in_blocks!(@run len, from, 1, $start, $lanes, $body);
    }};
    (@run $len:ident, $from:ident, $n:literal, $start:ident, $lanes:ident, $body:block) => {{
        const $lanes: usize = $n;
        let end = $from + ($len - $from) / $lanes * $lanes;
        for $start in ($from..end).step_by($lanes) $body
        end
    }};
}

multiversion! {
    /// One plane, 2x2 windows, stride 2, no padding. `offer` picks the first
    /// maximum and is associative, so each window's two pairs combine as a tree.
    fn max_2x2_plane<T>(x: &[T], w: usize, out: &mut [T], argmax: &mut [i32]) {
        let ow = w / 2;
        for (i, (out, argmax)) in out.chunks_exact_mut(ow).zip(argmax.chunks_exact_mut(ow)).enumerate() {
            let top = &x[2 * i * w..][..2 * ow];
            let bottom = &x[(2 * i + 1) * w..][..2 * ow];
            let (base, below) = ((2 * i * w) as i32, w as i32);
            in_blocks!(ow, |start, LANES| {
                let (top, bottom) = (&top[2 * start..][..2 * LANES], &bottom[2 * start..][..2 * LANES]);
                let (out, argmax) = (&mut out[start..][..LANES], &mut argmax[start..][..LANES]);
                for l in 0..LANES {
                    let left = base + 2 * (start + l) as i32;
                    let (v0, k0) = offer(top[2 * l], left, top[2 * l + 1], left + 1);
                    let down = left + below;
                    let (v1, k1) = offer(bottom[2 * l], down, bottom[2 * l + 1], down + 1);
                    (out[l], argmax[l]) = offer(v0, k0, v1, k1);
                }
            });
        }
    }
}

/// One plane, any geometry: a scan of each window's unpadded part.
fn max_plane<T: Float>(x: &[T], g: &Window, out: &mut [T], argmax: &mut [i32]) {
    let ow = g.ow;
    for (i, (out, argmax)) in out.chunks_exact_mut(ow).zip(argmax.chunks_exact_mut(ow)).enumerate() {
        let rows = rows(g, i);
        for (j, (o, a)) in out.iter_mut().zip(argmax).enumerate() {
            let cols = cols(g, j);
            let first = rows.start * g.w + cols.start;
            let (mut best, mut at) = (x[first], first as i32);
            for r in rows.clone() {
                for (c, &v) in x[r * g.w..][cols.clone()].iter().enumerate() {
                    (best, at) = offer(best, at, v, (r * g.w + cols.start + c) as i32);
                }
            }
            *o = best;
            *a = at;
        }
    }
}

/// The gradient of max pooling for `planes` planes: `dx = 0`, then
/// `dx[p].flat[argmax[p, k]] += dout[p, k]` (windows that overlap add up).
/// `dx` holds `planes` planes of `H*W`. Returns `false` when some `argmax`
/// lies outside `0..H*W`; those entries are skipped.
pub fn max_pool_backward<T: Float>(dout: &[T], argmax: &[i32], planes: usize, dx: &mut [T]) -> bool {
    assert_eq!(dout.len(), argmax.len(), "dout and argmax lengths");
    if planes == 0 {
        assert!(dout.is_empty() && dx.is_empty(), "no planes but data");
        return true;
    }
    let plane = dx.len() / planes;
    let out_plane = dout.len() / planes;
    assert_eq!(plane * planes, dx.len(), "dx length");
    assert_eq!(out_plane * planes, dout.len(), "dout length");
    if plane == 0 || out_plane == 0 {
        dx.fill(T::ZERO);
        return dout.is_empty(); // an empty plane has no valid index
    }
    let valid = AtomicBool::new(true);
    let dx = SharedMut::new(dx);
    images::for_each_plane_block(planes, plane + out_plane, GRAIN, |r| {
        // SAFETY: blocks of planes are disjoint.
        let dx = unsafe { dx.range(r.start * plane..r.end * plane) };
        let span = r.start * out_plane..r.end * out_plane;
        let planes = dout[span.clone()]
            .chunks_exact(out_plane)
            .zip(argmax[span].chunks_exact(out_plane))
            .zip(dx.chunks_exact_mut(plane));
        for ((dout, argmax), dx) in planes {
            if !scatter_plane(dout, argmax, dx) {
                valid.store(false, Ordering::Relaxed);
            }
        }
    });
    valid.into_inner()
}

multiversion! {
    /// `dx = 0; dx[argmax[k]] += dout[k]`; false if an index is out of range.
    fn scatter_plane<T>(dout: &[T], argmax: &[i32], dx: &mut [T]) -> bool {
        dx.fill(T::ZERO);
        let mut valid = true;
        for (&g, &k) in dout.iter().zip(argmax) {
            // A negative index becomes huge and misses too.
            match dx.get_mut(k as usize) {
                Some(d) => *d += g,
                None => valid = false,
            }
        }
        valid
    }
}

/// Average pooling: `out = (sum of the window's unpadded elements) / (pool_h * pool_w)`.
pub fn avg_pool_forward<T: Float>(x: &[T], g: &Window, out: &mut [T]) {
    let planes = planes_of(g, x.len(), "x");
    if planes == 0 {
        assert!(out.is_empty(), "no planes but output");
        return;
    }
    let (plane, out_plane) = (g.in_plane(), g.out_plane());
    assert_eq!(out.len(), planes * out_plane, "out length");
    let out = SharedMut::new(out);
    images::for_each_plane_block(planes, work_per_plane(g), GRAIN, |r| {
        // SAFETY: blocks of planes are disjoint.
        let out = unsafe { out.range(r.start * out_plane..r.end * out_plane) };
        let planes = x[r.start * plane..r.end * plane]
            .chunks_exact(plane)
            .zip(out.chunks_exact_mut(out_plane));
        for (x, out) in planes {
            if is_2x2_stride_2(g) {
                avg_2x2_plane(x, g.w, out);
            } else {
                avg_plane(x, g, out);
            }
        }
    });
}

multiversion! {
    /// One plane, 2x2 windows, stride 2, no padding; summed in window order.
    fn avg_2x2_plane<T>(x: &[T], w: usize, out: &mut [T]) {
        let ow = w / 2;
        let four = T::from_f64(4.0);
        for (i, out) in out.chunks_exact_mut(ow).enumerate() {
            let top = &x[2 * i * w..][..2 * ow];
            let bottom = &x[(2 * i + 1) * w..][..2 * ow];
            in_blocks!(ow, |start, LANES| {
                let (top, bottom) = (&top[2 * start..][..2 * LANES], &bottom[2 * start..][..2 * LANES]);
                let out = &mut out[start..][..LANES];
                for l in 0..LANES {
                    // From +0 like the reference's running sum (so -0 inputs give +0).
                    let sum = T::ZERO + top[2 * l] + top[2 * l + 1] + bottom[2 * l] + bottom[2 * l + 1];
                    out[l] = sum / four;
                }
            });
        }
    }
}

/// One plane, any geometry.
fn avg_plane<T: Float>(x: &[T], g: &Window, out: &mut [T]) {
    let ow = g.ow;
    let area = T::from_f64((g.fh * g.fw) as f64);
    for (i, out) in out.chunks_exact_mut(ow).enumerate() {
        let rows = rows(g, i);
        for (j, o) in out.iter_mut().enumerate() {
            let cols = cols(g, j);
            let mut sum = T::ZERO;
            for r in rows.clone() {
                for &v in &x[r * g.w..][cols.clone()] {
                    sum += v;
                }
            }
            *o = sum / area;
        }
    }
}

/// The gradient of average pooling: `dx[h, w]` is the sum of
/// `dout / (pool_h * pool_w)` over the windows holding `(h, w)`.
/// `dout` holds planes of `oh x ow`, `dx` the same number of `H x W`.
pub fn avg_pool_backward<T: Float>(dout: &[T], g: &Window, dx: &mut [T]) {
    let planes = planes_of(g, dx.len(), "dx");
    if planes == 0 {
        assert!(dout.is_empty(), "no planes but dout");
        return;
    }
    let (plane, out_plane) = (g.in_plane(), g.out_plane());
    assert_eq!(dout.len(), planes * out_plane, "dout length");
    let dx = SharedMut::new(dx);
    images::for_each_plane_block(planes, work_per_plane(g), GRAIN, |r| {
        // SAFETY: blocks of planes are disjoint.
        let dx = unsafe { dx.range(r.start * plane..r.end * plane) };
        let planes = dout[r.start * out_plane..r.end * out_plane]
            .chunks_exact(out_plane)
            .zip(dx.chunks_exact_mut(plane));
        for (dout, dx) in planes {
            if is_2x2_stride_2(g) {
                avg_backward_2x2_plane(dout, g.w, dx);
            } else {
                avg_backward_plane(dout, g, dx);
            }
        }
    });
}

multiversion! {
    /// One plane, 2x2 windows, stride 2, no padding: each window's four cells
    /// get a quarter of its gradient (a last odd row or column gets nothing).
    fn avg_backward_2x2_plane<T>(dout: &[T], w: usize, dx: &mut [T]) {
        let ow = w / 2;
        let four = T::from_f64(4.0);
        dx.fill(T::ZERO);
        for (i, dout) in dout.chunks_exact(ow).enumerate() {
            let (top, bottom) = dx[2 * i * w..].split_at_mut(w);
            let (top, bottom) = (&mut top[..2 * ow], &mut bottom[..2 * ow]);
            in_blocks!(ow, |start, LANES| {
                let (top, bottom) = (&mut top[2 * start..][..2 * LANES], &mut bottom[2 * start..][..2 * LANES]);
                let dout = &dout[start..][..LANES];
                for l in 0..LANES {
                    let share = dout[l] / four;
                    top[2 * l] += share;
                    top[2 * l + 1] += share;
                    bottom[2 * l] += share;
                    bottom[2 * l + 1] += share;
                }
            });
        }
    }
}

/// One plane: spread each `dout / area` over its window's unpadded part.
/// Windows go last to first, so each cell adds its shares in the order the
/// NumPy reference does (the same sums, bit for bit).
fn avg_backward_plane<T: Float>(dout: &[T], g: &Window, dx: &mut [T]) {
    let ow = g.ow;
    let area = T::from_f64((g.fh * g.fw) as f64);
    dx.fill(T::ZERO);
    for (i, dout) in dout.chunks_exact(ow).enumerate().rev() {
        let rows = rows(g, i);
        for (j, &d) in dout.iter().enumerate().rev() {
            let cols = cols(g, j);
            let share = d / area;
            for r in rows.clone() {
                for v in &mut dx[r * g.w..][cols.clone()] {
                    *v += share;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::parallel::set_num_threads;
    use crate::kernels::testing::Rng;

    /// One plane of `h x w` (see [`planes`] for more).
    fn geom(h: usize, w: usize, pool_h: usize, pool_w: usize, stride: usize, pad: usize) -> Window {
        Window::pooling([1, 1, h, w], pool_h, pool_w, stride, pad).expect("a valid test geometry")
    }

    /// `g` over `count` planes.
    fn planes(g: &Window, count: usize) -> Window {
        Window { c: count, ..*g }
    }

    /// The window of output `(i, j)` in padded coordinates, row-major, with
    /// padding positions as `None`.
    fn window(g: &Window, i: usize, j: usize) -> Vec<Option<usize>> {
        let mut cells = Vec::new();
        for ky in 0..g.fh {
            for kx in 0..g.fw {
                let (r, c) = (
                    (i * g.stride + ky) as isize - g.pad as isize,
                    (j * g.stride + kx) as isize - g.pad as isize,
                );
                let inside = r >= 0 && c >= 0 && (r as usize) < g.h && (c as usize) < g.w;
                cells.push(inside.then(|| r as usize * g.w + c as usize));
            }
        }
        cells
    }

    /// The spec written as plainly as possible: np.argmax over the window's real elements.
    fn naive_max<T: Float>(x: &[T], g: &Window) -> (Vec<T>, Vec<i32>) {
        let (mut out, mut arg) = (Vec::new(), Vec::new());
        for p in x.chunks(g.h * g.w) {
            for i in 0..g.oh {
                for j in 0..g.ow {
                    let mut best: Option<usize> = None;
                    for k in window(g, i, j).into_iter().flatten() {
                        best = match best {
                            None => Some(k),
                            Some(b) if p[b].is_nan() => Some(b),
                            Some(_) if p[k].is_nan() => Some(k),
                            Some(b) => Some(if p[k] > p[b] { k } else { b }),
                        };
                    }
                    let b = best.unwrap();
                    out.push(p[b]);
                    arg.push(b as i32);
                }
            }
        }
        (out, arg)
    }

    fn naive_avg(x: &[f64], g: &Window) -> Vec<f64> {
        let mut out = Vec::new();
        for p in x.chunks(g.h * g.w) {
            for i in 0..g.oh {
                for j in 0..g.ow {
                    let cells = window(g, i, j);
                    let sum: f64 = cells.iter().map(|c| c.map_or(0.0, |k| p[k])).sum();
                    out.push(sum / cells.len() as f64);
                }
            }
        }
        out
    }

    fn naive_avg_backward(dout: &[f64], g: &Window) -> Vec<f64> {
        let mut dx = Vec::new();
        for d in dout.chunks(g.oh * g.ow) {
            let mut plane = vec![0.0; g.h * g.w];
            for i in 0..g.oh {
                for j in 0..g.ow {
                    let cells = window(g, i, j);
                    for k in cells.iter().flatten() {
                        plane[*k] += d[i * g.ow + j] / cells.len() as f64;
                    }
                }
            }
            dx.extend(plane);
        }
        dx
    }

    /// Values on a coarse grid, so windows often hold ties.
    fn data(rng: &mut Rng, n: usize) -> Vec<f64> {
        rng.vec(n).iter().map(|v| (v * 4.0).round()).collect()
    }

    const GEOMETRIES: [(usize, usize, usize, usize, usize, usize); 13] = [
        (4, 6, 2, 2, 2, 0), // the fast path
        (5, 7, 2, 2, 2, 0), // odd sizes: the last row and column are in no window
        (5, 7, 2, 2, 2, 1), // padding
        (6, 6, 3, 3, 2, 1), // overlapping windows with padding
        (5, 5, 3, 3, 1, 0), // stride 1
        (4, 5, 2, 3, 1, 1), // rectangular window
        (3, 3, 1, 1, 1, 0), // 1x1
        (7, 4, 4, 2, 3, 1), // stride larger than the window's width
        (2, 2, 3, 3, 5, 1), // one window, bigger than the plane
        (1, 9, 1, 3, 2, 0), // a single row
        (24, 24, 2, 2, 2, 0),
        (4, 30, 2, 2, 2, 0), // 15 outputs a row: the fast path's blocks of 8, 4 and 1
        (3, 27, 2, 2, 2, 0), // 13 outputs a row, odd width and height
    ];

    fn check_max<T: Float>(g: &Window, count: usize, seed: u64) {
        let (g, planes) = (&self::planes(g, count), count);
        let mut rng = Rng::new(seed);
        let x: Vec<T> = data(&mut rng, planes * g.h * g.w)
            .into_iter()
            .map(T::from_f64)
            .collect();
        let out_len = planes * g.oh * g.ow;
        let (mut out, mut arg) = (vec![T::ZERO; out_len], vec![-1i32; out_len]);
        max_pool_forward(&x, g, &mut out, &mut arg);
        let (want_out, want_arg) = naive_max(&x, g);
        assert_eq!(arg, want_arg, "argmax for {g:?}");
        assert_eq!(out, want_out, "out for {g:?}");

        let dout: Vec<T> = rng.vec(out_len).into_iter().map(T::from_f64).collect();
        let mut dx = vec![T::from_f64(7.0); planes * g.h * g.w];
        assert!(max_pool_backward(&dout, &arg, planes, &mut dx));
        let mut want = vec![0.0f64; dx.len()];
        for (k, (&d, &a)) in dout.iter().zip(&arg).enumerate() {
            let p = k / (g.oh * g.ow);
            want[p * g.h * g.w + a as usize] += d.to_f64();
        }
        let got: Vec<f64> = dx.iter().map(|v| v.to_f64()).collect();
        crate::kernels::testing::assert_close(&got, &want, 1e-6);
    }

    #[test]
    fn max_pool_matches_naive_loops() {
        for (s, &(h, w, ph, pw, stride, pad)) in GEOMETRIES.iter().enumerate() {
            let g = geom(h, w, ph, pw, stride, pad);
            for planes in [1, 3, 6] {
                check_max::<f32>(&g, planes, s as u64);
                check_max::<f64>(&g, planes, s as u64 + 100);
            }
        }
    }

    #[test]
    fn avg_pool_matches_naive_loops() {
        for (s, &(h, w, ph, pw, stride, pad)) in GEOMETRIES.iter().enumerate() {
            let g = geom(h, w, ph, pw, stride, pad);
            let mut rng = Rng::new(s as u64);
            for planes in [1, 3] {
                let g = &self::planes(&g, planes);
                let x = rng.vec(planes * h * w);
                let out_len = planes * g.oh * g.ow;
                let mut out = vec![0.0; out_len];
                avg_pool_forward(&x, &g, &mut out);
                crate::kernels::testing::assert_close(&out, &naive_avg(&x, &g), 1e-14);
                let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
                let mut out32 = vec![0.0f32; out_len];
                avg_pool_forward(&x32, &g, &mut out32);
                let got: Vec<f64> = out32.iter().map(|&v| v as f64).collect();
                crate::kernels::testing::assert_close(&got, &out, 1e-6);

                let dout = rng.vec(out_len);
                let mut dx = vec![9.0; planes * h * w];
                avg_pool_backward(&dout, &g, &mut dx);
                crate::kernels::testing::assert_close(&dx, &naive_avg_backward(&dout, &g), 1e-14);
                let dout32: Vec<f32> = dout.iter().map(|&v| v as f32).collect();
                let mut dx32 = vec![9.0f32; planes * h * w];
                avg_pool_backward(&dout32, &g, &mut dx32);
                let got: Vec<f64> = dx32.iter().map(|&v| v as f64).collect();
                crate::kernels::testing::assert_close(&got, &dx, 1e-6);
            }
        }
    }

    #[test]
    fn ties_nan_and_infinities_follow_numpy_argmax() {
        let nan = f64::NAN;
        let inf = f64::INFINITY;
        // One 2x2 window per case, in row-major order (a, b / c, d).
        let cases: [([f64; 4], i32); 8] = [
            ([1.0, 1.0, 1.0, 1.0], 0),
            ([0.0, 2.0, 2.0, 2.0], 1),
            ([0.0, 1.0, 2.0, 2.0], 2),
            ([nan, 5.0, nan, 9.0], 0),
            ([1.0, 5.0, nan, nan], 2),
            ([1.0, inf, 3.0, nan], 3),
            ([-inf, -inf, -inf, -inf], 0),
            ([-0.0, 0.0, 0.0, 0.0], 0),
        ];
        for (window, want) in cases {
            for g in [geom(2, 2, 2, 2, 2, 0), geom(2, 2, 2, 2, 1, 0)] {
                // Both the fast path and the general one (stride 1 gives one window too).
                let (mut out, mut arg) = ([0.0], [0]);
                max_pool_forward(&window, &g, &mut out, &mut arg);
                assert_eq!(arg[0], want, "{window:?} with {g:?}");
                let picked = window[want as usize];
                assert!(out[0] == picked || (out[0].is_nan() && picked.is_nan()));
            }
        }
        // Padding never wins, even over -inf.
        let x = [f32::NEG_INFINITY; 4];
        let g = geom(2, 2, 2, 2, 1, 1);
        let (mut out, mut arg) = ([0.0f32; 9], [0i32; 9]);
        max_pool_forward(&x, &g, &mut out, &mut arg);
        assert_eq!(arg, [0, 0, 1, 0, 0, 1, 2, 2, 3]);
        assert!(out.iter().all(|&v| v == f32::NEG_INFINITY));
    }

    #[test]
    fn overlapping_windows_sum_their_gradients() {
        // 3x3 windows, stride 1 over a 4x4 plane whose maximum is in the middle of all four windows.
        let mut x = [0.0f64; 16];
        x[5] = 10.0;
        let g = geom(4, 4, 3, 3, 1, 0);
        let (mut out, mut arg) = ([0.0; 4], [0; 4]);
        max_pool_forward(&x, &g, &mut out, &mut arg);
        assert_eq!(arg, [5, 5, 5, 5]);
        let mut dx = [0.0; 16];
        assert!(max_pool_backward(&[1.0, 2.0, 3.0, 4.0], &arg, 1, &mut dx));
        assert_eq!(dx[5], 10.0);
        assert_eq!(dx.iter().sum::<f64>(), 10.0);
        // Average pooling: the centre four cells are in all four windows.
        let mut dx = [0.0; 16];
        avg_pool_backward(&[9.0, 9.0, 9.0, 9.0], &g, &mut dx);
        assert_eq!(dx[5], 4.0);
        assert_eq!(dx[0], 1.0);
        assert_eq!(dx[1], 2.0);
    }

    #[test]
    fn out_of_range_argmax_is_reported_not_followed() {
        let dout = [1.0f32, 2.0, 3.0, 4.0];
        for bad in [-1, 16, i32::MAX, i32::MIN] {
            let mut dx = [0.0f32; 16];
            assert!(!max_pool_backward(&dout, &[0, 1, bad, 15], 1, &mut dx));
            assert_eq!(dx[15], 4.0);
        }
        let mut dx = [0.0f32; 32];
        assert!(max_pool_backward(&dout, &[0, 15, 0, 15], 2, &mut dx));
        assert_eq!((dx[0], dx[15], dx[16], dx[31]), (1.0, 2.0, 3.0, 4.0));
        // Degenerate shapes: no planes, or planes without elements.
        assert!(max_pool_backward::<f32>(&[], &[], 0, &mut []));
        assert!(max_pool_backward::<f32>(&[], &[], 3, &mut []));
        assert!(!max_pool_backward::<f32>(&[1.0], &[0], 1, &mut []));
    }

    #[test]
    fn results_do_not_depend_on_the_thread_count() {
        // (100, 30, 24, 24) is the benchmark case; 2x2 stride 2 and 3x3 stride 2 pad 1.
        let mut rng = Rng::new(5);
        let x: Vec<f32> = data(&mut rng, 3000 * 24 * 24).into_iter().map(|v| v as f32).collect();
        for g in [geom(24, 24, 2, 2, 2, 0), geom(24, 24, 3, 3, 2, 1)] {
            let g = planes(&g, 3000);
            let out_len = 3000 * g.oh * g.ow;
            let dout: Vec<f32> = rng.vec(out_len).into_iter().map(|v| v as f32).collect();
            let mut runs = Vec::new();
            for threads in [1, 2, 3] {
                set_num_threads(threads);
                let (mut out, mut arg) = (vec![0.0f32; out_len], vec![0i32; out_len]);
                max_pool_forward(&x, &g, &mut out, &mut arg);
                let mut dx = vec![0.0f32; x.len()];
                assert!(max_pool_backward(&dout, &arg, 3000, &mut dx));
                let mut avg = vec![0.0f32; out_len];
                avg_pool_forward(&x, &g, &mut avg);
                let mut adx = vec![0.0f32; x.len()];
                avg_pool_backward(&dout, &g, &mut adx);
                runs.push((out, arg, dx, avg, adx));
            }
            set_num_threads(2);
            assert!(runs.windows(2).all(|r| r[0] == r[1]), "{g:?}");
            let (want_out, want_arg) = naive_max(&x, &g);
            assert_eq!(runs[0].0, want_out);
            assert_eq!(runs[0].1, want_arg);
        }
    }

    #[test]
    fn huge_padded_windows_over_no_planes() {
        // Valid geometry whose output plane would not fit in memory: fine with N*C = 0.
        // (an output plane of 2^20 x 2^20 positions: it fits an int64, not memory)
        let g = Window::pooling([1, 0, 1, 1], 1 << 20, 1 << 20, 1, (1 << 20) - 1).unwrap();
        assert_eq!(work_per_plane(&g), usize::MAX);
        max_pool_forward::<f32>(&[], &g, &mut [], &mut []);
        avg_pool_forward::<f32>(&[], &g, &mut []);
        avg_pool_backward::<f32>(&[], &g, &mut []);
    }

    #[test]
    fn geometry_checks() {
        assert_eq!((geom(5, 5, 2, 2, 2, 1).oh, geom(5, 7, 3, 2, 2, 1).ow), (3, 4));
        for (h, w, ph, pw, stride, pad) in [
            (4, 4, 2, 2, 0, 0), // stride 0
            (4, 4, 0, 2, 1, 0), // empty window
            (4, 4, 2, 2, 1, 2), // pad == window
            (4, 4, 3, 2, 1, 2), // pad >= pool_w
            (0, 4, 2, 2, 1, 1), // empty plane
            (3, 3, 6, 2, 1, 1), // window taller than the padded input
            (2, 2, usize::MAX, usize::MAX, 1, usize::MAX - 1),
        ] {
            assert!(
                Window::pooling([1, 1, h, w], ph, pw, stride, pad).is_err(),
                "{h} {w} {ph} {pw} {stride} {pad}"
            );
        }
    }
}
