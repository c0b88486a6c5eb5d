//! Moving rows of up to 16 images into the lane-interleaved layout and back:
//! `dst[x * LANES + l] = rows[l][x]` and its inverse, both 16 x 16
//! transposes.
//!
//! The compiler turns these strided copies into scatters and gathers, which
//! cost several times the transform they feed, so f32 with AVX-512 (the
//! networks' case) has an explicit in-register 16 x 16 transpose; every
//! other element type and instruction set takes the plain loop.

use std::any::TypeId;

use super::tiles::LANES;
use crate::kernels::float::Float;
use crate::kernels::simd::has_avx512f;

/// `dst[x * LANES + l] = rows[l][x]` for `x < w` and every lane (pass some
/// row again for lanes that are not needed).
#[inline(always)]
pub(super) fn interleave<T: Float>(rows: &[&[T]; LANES], w: usize, dst: &mut [T]) {
    assert!(rows.iter().all(|r| r.len() >= w) && dst.len() >= w * LANES);
    #[cfg(target_arch = "x86_64")]
    if TypeId::of::<T>() == TypeId::of::<f32>() && has_avx512f() {
        // SAFETY: T is f32 (same layout); the CPU has AVX-512F; lengths checked above.
        unsafe {
            let rows: &[&[f32]; LANES] = &*(rows as *const [&[T]; LANES] as *const [&[f32]; LANES]);
            let dst = &mut *(dst as *mut [T] as *mut [f32]);
            avx512::interleave(rows, w, dst);
        }
        return;
    }
    for (x, lanes) in dst.chunks_exact_mut(LANES).take(w).enumerate() {
        for (lane, row) in lanes.iter_mut().zip(rows) {
            *lane = row[x];
        }
    }
}

/// `rows[l][at + x] = src[x * LANES + l] + bias` for `x < w` and `l < rows.len()`.
#[inline(always)]
pub(super) fn deinterleave<T: Float>(src: &[T], w: usize, bias: T, rows: &mut [&mut [T]], at: usize) {
    assert!(rows.len() <= LANES && rows.iter().all(|r| r.len() >= at + w) && src.len() >= w * LANES);
    #[cfg(target_arch = "x86_64")]
    if TypeId::of::<T>() == TypeId::of::<f32>() && has_avx512f() {
        // SAFETY: T is f32 (same layout); the CPU has AVX-512F; lengths checked above.
        unsafe {
            let src = &*(src as *const [T] as *const [f32]);
            let rows = &mut *(rows as *mut [&mut [T]] as *mut [&mut [f32]]);
            let bias = *(&bias as *const T as *const f32);
            avx512::deinterleave(src, w, bias, rows, at);
        }
        return;
    }
    for (l, row) in rows.iter_mut().enumerate() {
        for (x, d) in row[at..at + w].iter_mut().enumerate() {
            *d = src[x * LANES + l] + bias;
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    use super::LANES;

    /// Transpose the 16 x 16 block `r` (row `i` = `r[i]`) in registers.
    #[target_feature(enable = "avx512f")]
    unsafe fn transpose(r: [__m512; 16]) -> [__m512; 16] {
        // 1: within 128-bit lanes, pairs of rows interleaved element by element
        let mut t = [_mm512_setzero_ps(); 16];
        for i in 0..8 {
            t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
            t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
        }
        // 2: u[4g + k], 128-bit lane L = column 4L + k of rows 4g .. 4g + 3
        let mut u = [_mm512_setzero_ps(); 16];
        for g in 0..4 {
            let (lo01, hi01, lo23, hi23) = (
                _mm512_castps_pd(t[4 * g]),
                _mm512_castps_pd(t[4 * g + 1]),
                _mm512_castps_pd(t[4 * g + 2]),
                _mm512_castps_pd(t[4 * g + 3]),
            );
            u[4 * g] = _mm512_castpd_ps(_mm512_unpacklo_pd(lo01, lo23));
            u[4 * g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(lo01, lo23));
            u[4 * g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(hi01, hi23));
            u[4 * g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(hi01, hi23));
        }
        // 3, 4: column 4L + k = lane L of u[k], u[4 + k], u[8 + k], u[12 + k]
        let mut out = [_mm512_setzero_ps(); 16];
        for k in 0..4 {
            let even_a = _mm512_shuffle_f32x4::<0x88>(u[k], u[4 + k]); // lanes 0, 2 of each
            let odd_a = _mm512_shuffle_f32x4::<0xDD>(u[k], u[4 + k]); // lanes 1, 3
            let even_b = _mm512_shuffle_f32x4::<0x88>(u[8 + k], u[12 + k]);
            let odd_b = _mm512_shuffle_f32x4::<0xDD>(u[8 + k], u[12 + k]);
            out[k] = _mm512_shuffle_f32x4::<0x88>(even_a, even_b);
            out[8 + k] = _mm512_shuffle_f32x4::<0xDD>(even_a, even_b);
            out[4 + k] = _mm512_shuffle_f32x4::<0x88>(odd_a, odd_b);
            out[12 + k] = _mm512_shuffle_f32x4::<0xDD>(odd_a, odd_b);
        }
        out
    }

    /// Every element if `cond`, else none.
    #[inline(always)]
    fn all_if(cond: bool) -> __mmask16 {
        if cond {
            0xFFFF
        } else {
            0
        }
    }

    /// Mask of the first `n` (at most 16) elements.
    #[inline(always)]
    fn first(n: usize) -> __mmask16 {
        ((1u32 << n.min(16)) - 1) as __mmask16
    }

    /// [`super::interleave`] for f32.
    ///
    /// # Safety
    /// AVX-512F; every row holds `w` elements, `dst` `w * LANES`.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn interleave(rows: &[&[f32]; LANES], w: usize, dst: &mut [f32]) {
        let mut x0 = 0;
        while x0 < w {
            let n = (w - x0).min(16);
            let mut r = [_mm512_setzero_ps(); 16];
            for (v, row) in r.iter_mut().zip(rows) {
                *v = _mm512_maskz_loadu_ps(first(n), row.as_ptr().add(x0));
            }
            let cols = transpose(r);
            // masked whole-vector stores: a loop of `n` stores of consecutive
            // vectors would be turned into a call to memcpy
            for (i, col) in cols.iter().enumerate() {
                _mm512_mask_storeu_ps(dst.as_mut_ptr().add((x0 + i) * LANES), all_if(i < n), *col);
            }
            x0 += 16;
        }
    }

    /// [`super::deinterleave`] for f32.
    ///
    /// # Safety
    /// AVX-512F; at most 16 rows of `at + w` elements each, `src` holds `w * LANES`.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn deinterleave(src: &[f32], w: usize, bias: f32, rows: &mut [&mut [f32]], at: usize) {
        let bias = _mm512_set1_ps(bias);
        let mut x0 = 0;
        while x0 < w {
            let n = (w - x0).min(16);
            let mut r = [_mm512_setzero_ps(); 16];
            for (i, v) in r.iter_mut().enumerate() {
                *v = _mm512_maskz_loadu_ps(all_if(i < n), src.as_ptr().add((x0 + i) * LANES));
            }
            let lanes = transpose(r);
            for (row, lane) in rows.iter_mut().zip(lanes) {
                _mm512_mask_storeu_ps(row.as_mut_ptr().add(at + x0), first(n), _mm512_add_ps(lane, bias));
            }
            x0 += 16;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check<T: Float>() {
        for w in [1, 5, 16, 17, 28, 33] {
            let data: Vec<Vec<T>> = (0..LANES)
                .map(|l| (0..w).map(|x| T::from_f64((l * 100 + x) as f64)).collect())
                .collect();
            let rows: [&[T]; LANES] = std::array::from_fn(|l| &data[l][..]);
            let mut inter = vec![T::ZERO; w * LANES];
            interleave(&rows, w, &mut inter);
            for x in 0..w {
                for l in 0..LANES {
                    assert_eq!(inter[x * LANES + l], data[l][x], "w {w} x {x} l {l}");
                }
            }
            for count in [1, 7, LANES] {
                let mut back: Vec<Vec<T>> = vec![vec![T::ZERO; w + 3]; count];
                let mut refs: Vec<&mut [T]> = back.iter_mut().map(|r| &mut r[..w + 2]).collect();
                deinterleave(&inter, w, T::ONE, &mut refs, 2);
                for (l, row) in back.iter().enumerate() {
                    for x in 0..w {
                        assert_eq!(row[2 + x], data[l][x] + T::ONE);
                    }
                    assert!(
                        row[..2].iter().chain(&row[w + 2..]).all(|&v| v == T::ZERO),
                        "wrote outside"
                    );
                }
            }
        }
    }

    #[test]
    fn interleave_and_deinterleave_are_transposes() {
        check::<f32>();
        check::<f64>();
    }
}
