//! The forward pass's matrix products, one per transformed position `xi`,
//! written for their shape: few rows (filters), few inner channels,
//! columns in whole [`LANES`] (one per image of a tile). The GEMM crate
//! spent more on packing, per-call set-up and allocation than on these
//! products. A block of output rows x `LANES` columns stays in registers
//! while the product runs over the channels.
//!
//! (The weight gradient's products sum over the columns instead, a shape
//! the GEMM crate handles well; see `filter_grad`.)

use super::tiles::LANES;
use crate::kernels::float::Float;
use crate::kernels::fma::{fused, mul_add};
use crate::kernels::simd::has_avx512f;

/// Output rows per register block: as many as registers hold (16 vectors of
/// `LANES` f32 with AVX-512, half that when a row takes two or more registers).
#[inline(always)]
fn wide<T>() -> bool {
    std::mem::size_of::<T>() == 4 && has_avx512f()
}

multiversion! {
    /// `y[xi] (filters, stride) = u[xi]^T @ v[xi] (channels, stride)` for
    /// every position `xi < positions`, columns `0..cols` (rounded up to
    /// whole `LANES`: rows have that many spare columns), with
    /// `u (positions, channels, filters)`.
    pub(super) fn multiply<T>(
        u: &[T],
        v: &[T],
        y: &mut [T],
        positions: usize,
        filters: usize,
        channels: usize,
        cols: usize,
        stride: usize,
    ) {
        assert!(cols.next_multiple_of(LANES) <= stride);
        let (wide, fused) = (wide::<T>(), fused());
        for xi in 0..positions {
            let u = &u[xi * channels * filters..(xi + 1) * channels * filters];
            let v = &v[xi * channels * stride..(xi + 1) * channels * stride];
            let y = &mut y[xi * filters * stride..(xi + 1) * filters * stride];
            let mut k = 0;
            while k < filters {
                let rows = if wide && filters - k >= 16 {
                    if fused {
                        rows_block::<T, 16, true>(u, v, y, k, filters, channels, cols, stride);
                    } else {
                        rows_block::<T, 16, false>(u, v, y, k, filters, channels, cols, stride);
                    }
                    16
                } else if filters - k >= 8 {
                    if fused {
                        rows_block::<T, 8, true>(u, v, y, k, filters, channels, cols, stride);
                    } else {
                        rows_block::<T, 8, false>(u, v, y, k, filters, channels, cols, stride);
                    }
                    8
                } else {
                    rows_block::<T, 1, false>(u, v, y, k, filters, channels, cols, stride);
                    1
                };
                k += rows;
            }
        }
    }
}

/// Rows `k .. k + R` of one position's product, all columns.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn rows_block<T: Float, const R: usize, const FUSED: bool>(
    u: &[T],
    v: &[T],
    y: &mut [T],
    k: usize,
    filters: usize,
    channels: usize,
    cols: usize,
    stride: usize,
) {
    for col in (0..cols).step_by(LANES) {
        let mut acc = [[T::ZERO; LANES]; R];
        for c in 0..channels {
            let vc: &[T; LANES] = v[c * stride + col..][..LANES].try_into().expect("LANES columns");
            let uc: &[T; R] = u[c * filters + k..][..R].try_into().expect("R filters");
            // lanes outside, rows inside: the compiler vectorises the lanes
            // (rows inside the lanes' loop would be unrolled and vectorised
            // across channels, with gathers)
            for l in 0..LANES {
                for r in 0..R {
                    acc[r][l] = mul_add::<T, FUSED>(uc[r], vc[l], acc[r][l]);
                }
            }
        }
        for (r, acc_r) in acc.iter().enumerate() {
            y[(k + r) * stride + col..][..LANES].copy_from_slice(acc_r);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::testing::{assert_close, Rng};

    #[test]
    fn products_match_the_definition() {
        let mut rng = Rng::new(12);
        for (positions, filters, channels, cols) in [(2, 1, 1, 1usize), (3, 17, 5, 33), (1, 16, 16, 48), (2, 9, 7, 16)]
        {
            let stride = cols.next_multiple_of(LANES) + LANES;
            let u = rng.vec(positions * channels * filters);
            let v = rng.vec(positions * channels * stride);
            let mut y = vec![f64::NAN; positions * filters * stride];
            multiply(&u, &v, &mut y, positions, filters, channels, cols, stride);
            for xi in 0..positions {
                for k in 0..filters {
                    for col in 0..cols {
                        let want: f64 = (0..channels)
                            .map(|c| u[(xi * channels + c) * filters + k] * v[(xi * channels + c) * stride + col])
                            .sum();
                        assert_close(&[y[(xi * filters + k) * stride + col]], &[want], 1e-13);
                    }
                }
            }
        }
    }
}
