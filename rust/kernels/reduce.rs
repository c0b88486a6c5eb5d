//! Reductions written so the compiler vectorises them: `LANES` independent
//! partial results instead of one serial chain. They are `inline(always)`
//! so they take the instruction set of the `multiversion!` kernel calling them.

use super::float::Float;

const LANES: usize = 16;

/// The maximum of `x` (NaN is skipped; -inf for an empty slice).
#[inline(always)]
pub fn lane_max<T: Float>(x: &[T]) -> T {
    let mut lanes = [T::NEG_INFINITY; LANES];
    let chunks = x.chunks_exact(LANES);
    let tail = chunks.remainder();
    for c in chunks {
        for l in 0..LANES {
            lanes[l] = if c[l] > lanes[l] { c[l] } else { lanes[l] };
        }
    }
    lanes
        .iter()
        .chain(tail)
        .fold(T::NEG_INFINITY, |m, &v| if v > m { v } else { m })
}

/// The sum of `x`.
#[inline(always)]
pub fn lane_sum<T: Float>(x: &[T]) -> T {
    let mut lanes = [T::ZERO; LANES];
    let chunks = x.chunks_exact(LANES);
    let tail = chunks.remainder();
    for c in chunks {
        for l in 0..LANES {
            lanes[l] += c[l];
        }
    }
    lanes.iter().chain(tail).fold(T::ZERO, |s, &v| s + v)
}

/// `f64` lanes of [`lane_sum_by`]: enough independent additions in flight
/// to cover the adder's latency (4 AVX-512 or 8 AVX2 registers).
const WIDE_LANES: usize = 32;

/// The sum of `f(v)` over the elements `v` of `x`, accumulated in `f64`
/// (`f` is inlined: `|v| v.to_f64().abs()` gives the sum of magnitudes).
#[inline(always)]
pub fn lane_sum_by<T: Float>(x: &[T], f: impl Fn(T) -> f64) -> f64 {
    let mut lanes = [0.0f64; WIDE_LANES];
    let chunks = x.chunks_exact(WIDE_LANES);
    let tail = chunks.remainder();
    for c in chunks {
        let c: &[T; WIDE_LANES] = c.try_into().expect("chunks_exact gives whole chunks");
        for l in 0..WIDE_LANES {
            lanes[l] += f(c[l]);
        }
    }
    lanes.iter().sum::<f64>() + tail.iter().map(|&v| f(v)).sum::<f64>()
}

/// `(sum of (a - ca), sum of (a - ca) * (b - cb))`, accumulated in `f64`.
/// With `a = b = x` and `ca = cb` near the mean these are the shifted
/// moments of `x`; with `ca = 0` and `cb = mean`, the sums a normalization's
/// gradient needs.
#[inline(always)]
pub fn lane_pair_sums<T: Float>(a: &[T], b: &[T], ca: f64, cb: f64) -> (f64, f64) {
    let (mut s, mut d) = ([0.0f64; LANES], [0.0f64; LANES]);
    let (ac, bc) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (at, bt) = (ac.remainder(), bc.remainder());
    for (ac, bc) in ac.zip(bc) {
        for l in 0..LANES {
            let av = ac[l].to_f64() - ca;
            s[l] += av;
            d[l] += av * (bc[l].to_f64() - cb);
        }
    }
    let (mut sum, mut dot) = (s.iter().sum::<f64>(), d.iter().sum::<f64>());
    for (&a, &b) in at.iter().zip(bt) {
        let av = a.to_f64() - ca;
        sum += av;
        dot += av * (b.to_f64() - cb);
    }
    (sum, dot)
}
