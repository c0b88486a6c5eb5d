//! Reductions written so the compiler vectorises them: `LANES` independent
//! partial results instead of one serial chain. They are `inline(always)`
//! so they take the instruction set of the `multiversion!` kernel calling them.

use super::float::Float;

const LANES: usize = 16;

/// The maximum of `x` (NaN is skipped; -inf for an empty slice).
#[inline(always)]
pub fn lane_max<T: Float>(x: &[T]) -> T {
    lane_max_by(x, |v| v)
}

/// The minimum of `x` (NaN is skipped; +inf for an empty slice).
#[inline(always)]
pub fn lane_min<T: Float>(x: &[T]) -> T {
    -lane_max_by(x, |v| -v)
}

/// The maximum of `key(v)` over `x` (NaN is skipped; -inf for an empty slice).
#[inline(always)]
fn lane_max_by<T: Float>(x: &[T], key: impl Fn(T) -> T) -> T {
    let mut lanes = [T::NEG_INFINITY; LANES];
    let chunks = x.chunks_exact(LANES);
    let tail = chunks.remainder();
    for c in chunks {
        for l in 0..LANES {
            let v = key(c[l]);
            lanes[l] = if v > lanes[l] { v } else { lanes[l] };
        }
    }
    lanes
        .iter()
        .copied()
        .chain(tail.iter().map(|&v| key(v)))
        .fold(T::NEG_INFINITY, |m, v| if v > m { v } else { m })
}

/// `sum_i term(a_i, b_i)`: each term computed in `T`, the sum accumulated in `f64`.
///
/// The terms of a piece go to a small buffer first, in a plain loop the
/// compiler vectorises however long `term` is; then the buffer is summed
/// in `LANES` f64 partial sums.
#[inline(always)]
pub fn lane_sum_of<T: Float>(a: &[T], b: &[T], term: impl Fn(T, T) -> T) -> f64 {
    const PIECE: usize = 16 * LANES;
    assert_eq!(a.len(), b.len());
    let mut lanes = [0.0f64; LANES];
    let mut terms = [T::ZERO; PIECE];
    let mut tail = 0.0f64;
    for (a, b) in a.chunks(PIECE).zip(b.chunks(PIECE)) {
        let terms = &mut terms[..a.len()];
        for ((o, &a), &b) in terms.iter_mut().zip(a).zip(b) {
            *o = term(a, b);
        }
        let chunks = terms.chunks_exact(LANES);
        tail += chunks.remainder().iter().map(|v| v.to_f64()).sum::<f64>();
        for c in chunks {
            for l in 0..LANES {
                lanes[l] += c[l].to_f64();
            }
        }
    }
    lanes.iter().sum::<f64>() + tail
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
