//! A batched affine warp of NCHW images with bilinear sampling: data
//! augmentation's shifts, rotations, scalings, crops with padding and flips
//! (any composition of them) in one pass.
//!
//! Pixel centres sit at integer coordinates: pixel `(i, j)` (row `i`,
//! column `j`) of an `h x w` plane is the point `(x, y) = (j, i)`, so the
//! plane covers `[-0.5, w - 0.5] x [-0.5, h - 0.5]`. Image `n` has a matrix
//! `[[a, b, c], [d, e, f]]` that takes each output pixel centre to the point
//! of the input it samples (the inverse of the motion of the content), and
//! every plane of the image is sampled there:
//!
//! ```text
//! sx = a*j + (b*i + c)         sy = d*j + (e*i + f)        (in T, in this order)
//! sx = min(max(sx, -1), w)     sy = min(max(sy, -1), h)    (NaN -> -1)
//! x0 = floor(sx), fx = sx - x0 y0 = floor(sy), fy = sy - y0
//! top    = v(y0, x0)     + fx * (v(y0, x0 + 1)     - v(y0, x0))       (v(y0, x0) if fx == 0)
//! bottom = v(y0 + 1, x0) + fx * (v(y0 + 1, x0 + 1) - v(y0 + 1, x0))   (v(y0 + 1, x0) if fx == 0)
//! out    = top + fy * (bottom - top)                                  (top if fy == 0)
//! ```
//!
//! `v(r, c)` is the input pixel, or `fill` outside the plane. The clamp
//! changes no finite result (a point beyond the clamp samples only `fill`
//! either way); it keeps indices small, and sends a NaN coordinate (a huge
//! matrix overflowing) outside. A neighbour of weight 0 is never used, so
//! integer shifts and flips copy pixels exactly (NaN, infinities and -0.0
//! included). There is no fused multiply-add: the NumPy twin does the same
//! operations in the same order and gets the same bits, on every SIMD tier.
//!
//! Each plane is first copied into a scratch plane with a border of `fill`
//! (one row and column before it, two after), so every sample reads its
//! four neighbours without a bounds test, in SIMD gathers where the CPU has
//! them (for `f32`, each pair of horizontal neighbours as one 64-bit lane:
//! 15% faster than a gather per neighbour on Zen 4). Blocks of planes run on
//! separate threads.

use std::sync::Mutex;

use super::error::{checked_product, try_vec, KResult, KernelError};
use super::float::Float;
use super::images::{for_each_plane_block, Images};
use super::parallel::SharedMut;

/// Output pixels per thread below which a call stays single-threaded.
const GRAIN: usize = 1 << 14;

/// Values in one image's matrix `[a, b, c, d, e, f]` (2 x 3, row-major).
pub const MATRIX: usize = 6;

/// Warp every plane of `x` (`img`) by its image's matrix into `out`.
///
/// `matrices` holds `img.n` matrices of [`MATRIX`] values; `fill` is the
/// value outside the input. Errors only when scratch memory is not there.
pub fn affine_warp<T: Float>(x: &[T], img: Images, matrices: &[T], fill: T, out: &mut [T]) -> KResult<()> {
    assert_eq!(x.len(), img.len(), "x length");
    assert_eq!(out.len(), x.len(), "out length");
    assert_eq!(matrices.len(), img.n * MATRIX, "one matrix per image");
    if x.is_empty() {
        return Ok(());
    }
    let border = Border::new(img.h, img.w)?;
    let (xs, ys) = pixel_centres::<T>(img.h, img.w)?;
    let failed = Mutex::new(None);
    let out = SharedMut::new(out);
    for_each_plane_block(img.planes(), img.plane(), GRAIN, |planes| {
        let mut scratch = match try_vec(border.len, fill, "the bordered plane") {
            Ok(v) => v,
            Err(e) => {
                *failed.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
                return;
            }
        };
        for p in planes {
            border.copy_in(&x[img.plane_range(p)], &mut scratch);
            let m = &matrices[(p / img.c) * MATRIX..][..MATRIX];
            let m = [m[0], m[1], m[2], m[3], m[4], m[5]];
            let limits = [T::from_f64(img.w as f64), T::from_f64(img.h as f64)];
            // SAFETY: each plane is written by one block only.
            let o = unsafe { out.range(img.plane_range(p)) };
            if border.narrow {
                warp_plane_narrow(&scratch, border.stride, &xs, &ys, m, limits, o);
            } else {
                warp_plane_wide(&scratch, border.stride, &xs, &ys, m, limits, o);
            }
        }
    });
    match failed.into_inner().unwrap_or_else(|e| e.into_inner()) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// The scratch plane: the input plane with a border of `fill`, one row and
/// column before it and two after (`(h + 3) x (w + 3)`).
struct Border {
    w: usize,
    /// Elements per bordered row (`w + 3`).
    stride: usize,
    len: usize,
    /// Whether 32-bit indices reach every element and the pixel
    /// coordinates are exact in `f32` (`h` and `w` below 2^24): then the
    /// sampling loop may use [`Narrow`] indices.
    narrow: bool,
}

impl Border {
    fn new(h: usize, w: usize) -> KResult<Self> {
        let too_large = KernelError::TooLarge {
            what: "the bordered plane",
        };
        let (rows, stride) = (
            h.checked_add(3).ok_or(too_large.clone())?,
            w.checked_add(3).ok_or(too_large)?,
        );
        let len = checked_product(&[rows, stride], "the bordered plane")?;
        let exact = 1 << 24;
        let narrow = len <= i32::MAX as usize && h < exact && w < exact;
        Ok(Self { w, stride, len, narrow })
    }

    /// Copy `plane` into the interior of `scratch`, whose border already holds `fill`.
    fn copy_in<T: Float>(&self, plane: &[T], scratch: &mut [T]) {
        for (r, row) in plane.chunks_exact(self.w).enumerate() {
            let at = (r + 1) * self.stride + 1;
            scratch[at..at + self.w].copy_from_slice(row);
        }
    }
}

/// `(xs, ys)`: the coordinates `(j, i)` of every pixel of an `h x w` plane, in C order.
fn pixel_centres<T: Float>(h: usize, w: usize) -> KResult<(Vec<T>, Vec<T>)> {
    let (mut xs, mut ys) = (
        try_vec(h * w, T::ZERO, "pixel coordinates")?,
        try_vec(h * w, T::ZERO, "pixel coordinates")?,
    );
    for (i, (xr, yr)) in xs.chunks_exact_mut(w).zip(ys.chunks_exact_mut(w)).enumerate() {
        for (j, (x, y)) in xr.iter_mut().zip(yr).enumerate() {
            (*x, *y) = (T::from_f64(j as f64), T::from_f64(i as f64));
        }
    }
    Ok((xs, ys))
}

/// `v` within `[-1, hi]`; NaN gives -1 (NumPy's `fmin(fmax(v, -1), hi)`).
#[inline(always)]
fn clamp<T: Float>(v: T, hi: T) -> T {
    let v = if v > -T::ONE { v } else { -T::ONE };
    if v < hi {
        v
    } else {
        hi
    }
}

/// `a + t * (b - a)`, or `a` itself when `t == 0` (then `b` is not used).
#[inline(always)]
fn lerp<T: Float>(a: T, b: T, t: T) -> T {
    if t == T::ZERO {
        a
    } else {
        a + t * (b - a)
    }
}

/// Index arithmetic of the sampling loop: 32-bit where it reaches (SIMD
/// gathers take 32-bit indices), else the full width.
trait PixelIndex {
    /// The flat index `row * stride + col` of a top-left neighbour in the
    /// bordered plane, at most `last`.
    ///
    /// # Safety
    /// `row` and `col` are whole numbers within `0..=h + 1` and `0..=w + 1`
    /// (`stride = w + 3`, `last = (h + 1) * stride + w + 1`), of a plane
    /// this index type reaches (see [`Border::narrow`]).
    unsafe fn top_left<T: Float>(row: T, col: T, stride: usize, last: usize) -> usize;
}

/// 32-bit indices, for narrow planes.
struct Narrow;

impl PixelIndex for Narrow {
    #[inline(always)]
    unsafe fn top_left<T: Float>(row: T, col: T, stride: usize, last: usize) -> usize {
        // SAFETY: whole numbers below 2^24 + 2 (the caller's), exact in T.
        let (row, col) = unsafe { (row.to_i32_unchecked(), col.to_i32_unchecked()) };
        // No overflow: the index is at most `last`, below the plane's length <= i32::MAX.
        let k = row * stride as i32 + col;
        debug_assert!((0..=last as i64).contains(&(k as i64)));
        k as usize
    }
}

/// Full-width indices, for any plane.
struct Wide;

impl PixelIndex for Wide {
    #[inline(always)]
    unsafe fn top_left<T: Float>(row: T, col: T, stride: usize, last: usize) -> usize {
        // saturating casts and arithmetic, then the bound: in range whatever the values
        let (row, col) = (row.to_f64() as usize, col.to_f64() as usize);
        row.saturating_mul(stride).saturating_add(col).min(last)
    }
}

/// The sampling loop over one plane (see the module's formulas); `src` is
/// the bordered plane with rows of `stride` elements.
#[inline(always)]
fn warp_plane<T: Float, I: PixelIndex>(
    src: &[T],
    stride: usize,
    xs: &[T],
    ys: &[T],
    m: [T; 6],
    limits: [T; 2],
    out: &mut [T],
) {
    let [a, b, c, d, e, f] = m;
    let [hi_x, hi_y] = limits;
    // The largest index of a top-left neighbour: its three others follow it.
    let last = src.len() - stride - 2;
    // The rows below the top-left neighbours: one index reads all four (in
    // gathers with one index vector, from four base addresses).
    let below = &src[stride..];
    for ((o, &x), &y) in out.iter_mut().zip(xs).zip(ys) {
        let sx = clamp(a * x + (b * y + c), hi_x);
        let sy = clamp(d * x + (e * y + f), hi_y);
        let (x0, y0) = (sx.floor(), sy.floor());
        let (fx, fy) = (sx - x0, sy - y0);
        // SAFETY: x0 and y0 are whole numbers within -1..=w and -1..=h (the
        // clamp), and the caller picked I for this plane.
        let k = unsafe { I::top_left(y0 + T::ONE, x0 + T::ONE, stride, last) };
        // SAFETY: k <= last, so k + 1 < below.len() = src.len() - stride.
        let ((v00, v01), (v10, v11)) =
            unsafe { (T::load_pair(src.as_ptr().add(k)), T::load_pair(below.as_ptr().add(k))) };
        *o = lerp(lerp(v00, v01, fx), lerp(v10, v11, fx), fy);
    }
}

multiversion! {
    /// [`warp_plane`] with 32-bit indices.
    fn warp_plane_narrow<T>(src: &[T], stride: usize, xs: &[T], ys: &[T], m: [T; 6], limits: [T; 2], out: &mut [T]) {
        warp_plane::<T, Narrow>(src, stride, xs, ys, m, limits, out)
    }
}

multiversion! {
    /// [`warp_plane`] with full-width indices (planes beyond 2^31 elements or 2^24 rows or columns).
    fn warp_plane_wide<T>(src: &[T], stride: usize, xs: &[T], ys: &[T], m: [T; 6], limits: [T; 2], out: &mut [T]) {
        warp_plane::<T, Wide>(src, stride, xs, ys, m, limits, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::parallel::set_num_threads;
    use crate::kernels::testing::Rng;

    const IDENTITY: [f64; 6] = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0];

    fn warp<T: Float>(x: &[T], img: Images, matrices: &[f64], fill: f64) -> Vec<T> {
        let m: Vec<T> = matrices.iter().map(|&v| T::from_f64(v)).collect();
        let mut out = vec![T::from_f64(-7.0); x.len()];
        affine_warp(x, img, &m, T::from_f64(fill), &mut out).expect("scratch fits");
        out
    }

    /// The module's formulas, written as plainly as possible (f64, bounds tests, no border).
    fn naive(x: &[f64], img: Images, matrices: &[f64], fill: f64) -> Vec<f64> {
        let mut out = Vec::new();
        for p in 0..img.planes() {
            let plane = &x[img.plane_range(p)];
            let m = &matrices[(p / img.c) * 6..][..6];
            let v = |r: f64, c: f64| {
                let inside = r >= 0.0 && c >= 0.0 && r < img.h as f64 && c < img.w as f64;
                if inside {
                    plane[r as usize * img.w + c as usize]
                } else {
                    fill
                }
            };
            for i in 0..img.h {
                for j in 0..img.w {
                    let (j, i) = (j as f64, i as f64);
                    let sx = (m[0] * j + (m[1] * i + m[2])).max(-1.0).min(img.w as f64);
                    let sy = (m[3] * j + (m[4] * i + m[5])).max(-1.0).min(img.h as f64);
                    let (x0, y0) = (sx.floor(), sy.floor());
                    let (fx, fy) = (sx - x0, sy - y0);
                    let top = lerp(v(y0, x0), v(y0, x0 + 1.0), fx);
                    let bottom = lerp(v(y0 + 1.0, x0), v(y0 + 1.0, x0 + 1.0), fx);
                    out.push(lerp(top, bottom, fy));
                }
            }
        }
        out
    }

    fn random_matrices(rng: &mut Rng, n: usize, h: usize, w: usize) -> Vec<f64> {
        let mut m = Vec::new();
        for _ in 0..n {
            let (angle, scale) = (rng.next_f64() * 3.2, 1.0 + 0.4 * rng.next_f64());
            let (cos, sin) = (angle.cos() / scale, angle.sin() / scale);
            let (cx, cy) = ((w as f64 - 1.0) / 2.0, (h as f64 - 1.0) / 2.0);
            let (tx, ty) = (3.0 * rng.next_f64(), 3.0 * rng.next_f64());
            m.extend([
                cos,
                -sin,
                cx - cos * cx + sin * cy + tx,
                sin,
                cos,
                cy - sin * cx - cos * cy + ty,
            ]);
        }
        m
    }

    #[test]
    fn matches_the_plain_formulas() {
        let mut rng = Rng::new(1);
        for shape in [
            [1, 1, 1, 1],
            [2, 3, 5, 7],
            [3, 1, 28, 28],
            [1, 2, 1, 9],
            [4, 1, 6, 1],
            [2, 2, 33, 17],
        ] {
            let img = Images::new(shape);
            let x = rng.vec(img.len());
            let m = random_matrices(&mut rng, img.n, img.h, img.w);
            for fill in [0.0, -0.5] {
                let want = naive(&x, img, &m, fill);
                assert_eq!(warp(&x, img, &m, fill), want, "{shape:?}");
                let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
                let got: Vec<f64> = warp(&x32, img, &m, fill).into_iter().map(f64::from).collect();
                crate::kernels::testing::assert_close(&got, &want, 1e-5);
            }
        }
    }

    #[test]
    fn identity_and_integer_shifts_copy_pixels_exactly() {
        let img = Images::new([2, 2, 4, 5]);
        let mut x: Vec<f32> = (0..img.len()).map(|v| v as f32 - 7.5).collect();
        (x[3], x[4], x[5], x[6]) = (f32::NAN, f32::INFINITY, -0.0, f32::NEG_INFINITY);
        let same = warp(&x, img, &[IDENTITY, IDENTITY].concat(), 9.0);
        assert!(same.iter().zip(&x).all(|(a, b)| a.to_bits() == b.to_bits()));
        // image 0 moves one column right (samples x - 1), image 1 two rows up (samples y + 2)
        let shifted = warp(
            &x,
            img,
            &[1.0, 0.0, -1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 2.0],
            9.0,
        );
        for p in 0..img.planes() {
            for i in 0..4 {
                for j in 0..5 {
                    let got = shifted[p * 20 + i * 5 + j];
                    let want = if p < 2 {
                        if j >= 1 {
                            x[p * 20 + i * 5 + j - 1]
                        } else {
                            9.0
                        }
                    } else if i + 2 < 4 {
                        x[p * 20 + (i + 2) * 5 + j]
                    } else {
                        9.0
                    };
                    assert!(got.to_bits() == want.to_bits(), "plane {p} ({i}, {j}): {got} vs {want}");
                }
            }
        }
    }

    #[test]
    fn flips_and_quarter_turns_permute_pixels() {
        let (h, w) = (3, 4);
        let img = Images::new([1, 1, h, w]);
        let x: Vec<f64> = (0..12).map(f64::from).collect();
        let flipped = warp(&x, img, &[-1.0, 0.0, (w - 1) as f64, 0.0, 1.0, 0.0], 0.0);
        assert_eq!(flipped, [3.0, 2.0, 1.0, 0.0, 7.0, 6.0, 5.0, 4.0, 11.0, 10.0, 9.0, 8.0]);
        // a square image turned a quarter counter-clockwise (np.rot90): out[i, j] = x[j, n-1-i]
        let img = Images::new([1, 1, 3, 3]);
        let x: Vec<f64> = (0..9).map(f64::from).collect();
        let turned = warp(&x, img, &[0.0, -1.0, 2.0, 1.0, 0.0, 0.0], 0.0);
        assert_eq!(turned, [2.0, 5.0, 8.0, 1.0, 4.0, 7.0, 0.0, 3.0, 6.0]);
    }

    #[test]
    fn points_outside_sample_the_fill_and_halfway_points_average() {
        let img = Images::new([1, 1, 2, 2]);
        let x = [1.0f64, 2.0, 3.0, 4.0];
        // everything far away: fill
        for m in [
            [1.0, 0.0, 1e300, 0.0, 1.0, 0.0],
            [1e308, 1e308, 1e308, -1e308, -1e308, -1e308],
        ] {
            assert_eq!(warp(&x, img, &m, 5.0), [5.0; 4]);
        }
        // a coordinate that overflows to inf - inf = NaN samples outside too
        let big = Images::new([1, 1, 3, 3]);
        let nan_corner = warp(&[1.0f64; 9], big, &[1e308, -1e308, 0.0, 1e308, -1e308, 0.0], 5.0);
        assert_eq!((nan_corner[0], nan_corner[8]), (1.0, 5.0));
        // half a pixel left: the first column is half fill
        assert_eq!(
            warp(&x, img, &[1.0, 0.0, -0.5, 0.0, 1.0, 0.0], 0.0),
            [0.5, 1.5, 1.5, 3.5]
        );
        // the centre of the four pixels
        assert_eq!(warp(&x, img, &[0.0, 0.0, 0.5, 0.0, 0.0, 0.5], 0.0), [2.5; 4]);
    }

    #[test]
    fn results_do_not_depend_on_threads_or_the_index_width() {
        let mut rng = Rng::new(4);
        let img = Images::new([64, 3, 28, 28]);
        let x: Vec<f32> = rng.vec(img.len()).into_iter().map(|v| v as f32).collect();
        let m: Vec<f32> = random_matrices(&mut rng, img.n, img.h, img.w)
            .into_iter()
            .map(|v| v as f32)
            .collect();
        let mut runs = Vec::new();
        for threads in [1, 2, 3] {
            set_num_threads(threads);
            let mut out = vec![0.0f32; x.len()];
            affine_warp(&x, img, &m, 0.25, &mut out).unwrap();
            runs.push(out);
        }
        set_num_threads(2);
        assert!(runs.windows(2).all(|r| r[0] == r[1]));
        // the full-width loop on the same plane gives the same bits
        let border = Border::new(img.h, img.w).unwrap();
        let mut scratch = vec![0.25f32; border.len];
        border.copy_in(&x[..img.plane()], &mut scratch);
        let (xs, ys) = pixel_centres::<f32>(img.h, img.w).unwrap();
        let mut wide = vec![0.0f32; img.plane()];
        let m0 = [m[0], m[1], m[2], m[3], m[4], m[5]];
        warp_plane_wide(&scratch, border.stride, &xs, &ys, m0, [28.0, 28.0], &mut wide);
        assert_eq!(wide, runs[0][..img.plane()]);
    }

    #[test]
    fn empty_batches_and_planes() {
        for shape in [[0, 3, 4, 4], [2, 0, 4, 4], [2, 3, 0, 4], [2, 3, 4, 0]] {
            let img = Images::new(shape);
            let m = vec![0.0f64; img.n * 6];
            affine_warp::<f64>(&[], img, &m, 0.0, &mut []).unwrap();
        }
        // a huge but empty plane: no scratch is needed
        let img = Images::new([1, 1, 0, usize::MAX / 2]);
        affine_warp::<f32>(&[], img, &IDENTITY.map(|v| v as f32), 0.0, &mut []).unwrap();
        assert!(Border::new(usize::MAX - 1, 1).is_err());
    }
}
