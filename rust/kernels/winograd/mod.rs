//! 3x3, stride-1 convolutions by Winograd's minimal filtering, F(2x2, 3x3)
//! or F(4x4, 3x3): the forward pass, its input gradient (the forward of
//! `dout` with flipped filters) and its weight gradient, each as
//! tile transforms around one matrix product per transformed position.
//!
//! These trade multiplications for additions (F(4x4, 3x3): 36 products per
//! 16 outputs instead of 144) and, for F(4x4, 3x3), some precision: its
//! transforms mix a tile's 6x6 inputs with coefficients up to 8, and in f32
//! its error reaches about 1e-5 of the sum of |products| behind an output
//! (the direct sum: about 3e-7; F(2x2, 3x3): the same). The tests hold it
//! to 1e-4. Non-finite inputs spread further than in the direct sum: an
//! infinity or NaN reaches every output of the tiles whose windows hold it
//! (as NaN, since the transforms subtract), not only its 3x3 neighbours.
//!
//! Files: `transform` (the algorithms), `tiles` (tiles, blocks and the
//! lane-interleaved layout), `transpose` (into and out of that layout),
//! `products` (the forward's matrix products), `forward` and `filter_grad`
//! (the passes).

mod filter_grad;
mod forward;
mod products;
mod tiles;
mod transform;
mod transpose;

pub use filter_grad::filter_grad;
pub use forward::forward;
pub use tiles::TileSize;

use self::tiles::LANES;
use self::transform::{transform_2d, Winograd, F2, F4};
use super::error::{try_vec, KResult};
use super::float::Float;
use super::geometry::Window;

/// Bytes of transformed tiles (inputs and outputs) one block aims at, so a
/// block's operands stay in a core's L2 cache.
const BLOCK_BYTES: usize = 512 * 1024;

/// `U (a*a, c, fn) = G g G^T` for every filter `g` of `w (fn, c, 3, 3)`.
fn transform_filters<T: Float>(w: &[T], channels: usize, filters: usize, size: TileSize) -> KResult<Vec<T>> {
    let a = size.a();
    let mut u = try_vec(a * a * filters * channels, T::ZERO, "the transformed filters")?;
    transform_filters_into(w, channels, filters, size, &mut u);
    Ok(u)
}

multiversion! {
    /// [`transform_filters`] into `u`.
    fn transform_filters_into<T>(w: &[T], channels: usize, filters: usize, size: TileSize, u: &mut [T]) {
        match size {
            TileSize::F2 => filters_with::<T, F2, 4, 2>(w, channels, filters, u),
            TileSize::F4 => filters_with::<T, F4, 6, 4>(w, channels, filters, u),
        }
    }
}

/// [`transform_filters`] for [`LANES`] filters `f` of one channel at a time
/// (consecutive in `U`).
#[inline(always)]
fn filters_with<T: Float, W: Winograd<A, M>, const A: usize, const M: usize>(
    w: &[T],
    channels: usize,
    filters: usize,
    u: &mut [T],
) {
    let mut mid = [[[T::ZERO; LANES]; 3]; A];
    for c in 0..channels {
        for first in (0..filters).step_by(LANES) {
            let count = LANES.min(filters - first);
            let mut g = [[[T::ZERO; LANES]; 3]; 3]; // g[i][j][l]: tap (i, j) of filter first + l
            for l in 0..count {
                let taps = &w[((first + l) * channels + c) * 9..][..9];
                for (i, row) in g.iter_mut().enumerate() {
                    for (j, lanes) in row.iter_mut().enumerate() {
                        lanes[l] = taps[i * 3 + j];
                    }
                }
            }
            transform_2d!(
                T,
                |i: usize, j: usize| &g[i][j],
                W::filter,
                3,
                A,
                |p: usize, q: usize, lanes: &[T; LANES]| {
                    let dst = &mut u[((p * A + q) * channels + c) * filters + first..][..count];
                    for (d, &v) in dst.iter_mut().zip(lanes) {
                        *d = v;
                    }
                },
                &mut mid
            );
        }
    }
}

/// `dx (n, c, h, w)` of a stride-1 convolution with `w (fn, c, 3, 3)` and
/// `pad <= 2`: the convolution of `dout (n, fn, oh, ow)` padded by
/// `2 - pad` with the filters flipped in space and their channels swapped.
pub fn input_grad<T: Float>(
    dout: &[T],
    w: &[T],
    g: &Window,
    filters: usize,
    dx: &mut [T],
    size: TileSize,
    threads: usize,
) -> KResult<()> {
    assert!(g.pad <= 2, "the input gradient as a convolution needs pad <= 2");
    let g2 = Window::new([g.n, filters, g.oh, g.ow], 3, 3, 1, 2 - g.pad)?;
    debug_assert_eq!((g2.oh, g2.ow), (g.h, g.w));
    let mut flipped = try_vec(g.c * filters * 9, T::ZERO, "the flipped filters")?; // (c, fn, 3, 3)
    for f in 0..filters {
        for c in 0..g.c {
            let src = &w[(f * g.c + c) * 9..][..9];
            for (d, &v) in flipped[(c * filters + f) * 9..][..9].iter_mut().zip(src.iter().rev()) {
                *d = v; // reversing the flattened 3x3 window flips both axes
            }
        }
    }
    let zeros = try_vec(g.c, T::ZERO, "the zero bias")?;
    forward(dout, &flipped, &zeros, &g2, dx, size, threads)
}

#[cfg(test)]
mod tests;
