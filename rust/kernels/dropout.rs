//! Dropout with a counter-based mask.
//!
//! Element `i` (C-order flat index) of a call with `seed` is kept iff the top
//! 24 bits of `splitmix64(seed, i)` are at least `floor(ratio * 2^24)`. The
//! mask depends only on `(seed, i)`, so it is the same for any thread count
//! and matches the NumPy reference bit for bit.
//!
//! Two forms: the book's (`out = x * mask`, unscaled) and inverted dropout
//! (`out = x / (1 - ratio)` where kept, 0 elsewhere).

use super::float::Float;
use super::parallel::{for_each_range, SharedMut};

/// Elements per thread below which a call stays single-threaded.
const GRAIN: usize = 1 << 15;

const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// The SplitMix64 output for counter `i`:
/// `z = seed + (i + 1) * 0x9E3779B97F4A7C15`, then the two xor-shift-multiply
/// rounds and a final xor-shift (all mod 2^64).
#[inline(always)]
pub fn splitmix64(seed: u64, i: u64) -> u64 {
    let mut z = seed.wrapping_add(i.wrapping_add(1).wrapping_mul(GOLDEN_GAMMA));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `int(ratio * 16777216.0)`: elements whose 24-bit draw is below it are dropped.
pub fn keep_threshold(ratio: f64) -> u64 {
    assert!((0.0..1.0).contains(&ratio), "dropout ratio {ratio} outside [0, 1)");
    (ratio * 16_777_216.0) as u64 // in [0, 2^24): the cast truncates, i.e. floors
}

/// Whether element `i` survives, given [`keep_threshold`].
#[inline(always)]
pub fn kept(seed: u64, i: u64, threshold: u64) -> bool {
    splitmix64(seed, i) >> 40 >= threshold
}

/// The inverted form's scale `1 / (1 - ratio)`, computed in f64, rounded to `T`.
fn scale<T: Float>(ratio: f64) -> T {
    T::from_f64(1.0 / (1.0 - ratio))
}

/// Draw the mask for `x` and apply it: `out = x * mask` (book form; NaN and
/// infinities in dropped elements still give NaN, as in NumPy), or
/// `out = mask ? x * scale : 0` (`inverted`).
pub fn dropout_forward<T: Float>(x: &[T], ratio: f64, seed: u64, inverted: bool, out: &mut [T], mask: &mut [bool]) {
    assert_eq!(out.len(), x.len(), "out length");
    assert_eq!(mask.len(), x.len(), "mask length");
    let threshold = keep_threshold(ratio);
    let scale = scale::<T>(ratio);
    let (out, mask) = (SharedMut::new(out), SharedMut::new(mask));
    for_each_range(x.len(), GRAIN, |r| {
        // SAFETY: for_each_range hands out disjoint ranges.
        let (out, mask) = unsafe { (out.range(r.clone()), mask.range(r.clone())) };
        let first = r.start as u64;
        if inverted {
            forward_inverted(&x[r], first, seed, threshold, scale, out, mask);
        } else {
            forward_book(&x[r], first, seed, threshold, out, mask);
        }
    });
}

multiversion! {
    fn forward_book<T>(x: &[T], first: u64, seed: u64, threshold: u64, out: &mut [T], mask: &mut [bool]) {
        for (k, ((o, m), &v)) in out.iter_mut().zip(mask.iter_mut()).zip(x).enumerate() {
            let keep = kept(seed, first + k as u64, threshold);
            *m = keep;
            *o = v * if keep { T::ONE } else { T::ZERO };
        }
    }
}

multiversion! {
    fn forward_inverted<T>(
        x: &[T],
        first: u64,
        seed: u64,
        threshold: u64,
        scale: T,
        out: &mut [T],
        mask: &mut [bool],
    ) {
        for (k, ((o, m), &v)) in out.iter_mut().zip(mask.iter_mut()).zip(x).enumerate() {
            let keep = kept(seed, first + k as u64, threshold);
            *m = keep;
            *o = if keep { v * scale } else { T::ZERO };
        }
    }
}

/// `dx = dout * mask` (book form) or `mask ? dout * scale : 0` (`inverted`).
/// `mask` is read as bytes, any non-zero byte meaning kept (NumPy's reading of
/// a bool array), so a bool array with odd bytes is still safe to pass.
pub fn dropout_backward<T: Float>(dout: &[T], mask: &[u8], ratio: f64, inverted: bool, dx: &mut [T]) {
    assert_eq!(mask.len(), dout.len(), "mask length");
    assert_eq!(dx.len(), dout.len(), "dx length");
    assert!((0.0..1.0).contains(&ratio), "dropout ratio {ratio} outside [0, 1)");
    let scale = scale::<T>(ratio);
    let dx = SharedMut::new(dx);
    for_each_range(dout.len(), GRAIN, |r| {
        // SAFETY: for_each_range hands out disjoint ranges.
        let dx = unsafe { dx.range(r.clone()) };
        if inverted {
            backward_inverted(&dout[r.clone()], &mask[r], scale, dx);
        } else {
            backward_book(&dout[r.clone()], &mask[r], dx);
        }
    });
}

multiversion! {
    fn backward_book<T>(dout: &[T], mask: &[u8], dx: &mut [T]) {
        for ((d, &g), &m) in dx.iter_mut().zip(dout).zip(mask) {
            *d = g * if m != 0 { T::ONE } else { T::ZERO };
        }
    }
}

multiversion! {
    fn backward_inverted<T>(dout: &[T], mask: &[u8], scale: T, dx: &mut [T]) {
        for ((d, &g), &m) in dx.iter_mut().zip(dout).zip(mask) {
            *d = if m != 0 { g * scale } else { T::ZERO };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::parallel::set_num_threads;

    #[test]
    fn splitmix64_known_values() {
        // From a few lines of Python integer arithmetic following the spec;
        // seed 0, i 0 is also SplitMix64's well-known first output.
        assert_eq!(splitmix64(0, 0), 0xe220_a839_7b1d_cdaf);
        assert_eq!(splitmix64(0, 1), 0x6e78_9e6a_a1b9_65f4);
        assert_eq!(splitmix64(1, 0), 0x910a_2dec_8902_5cc1);
        assert_eq!(splitmix64(12345, 999), 0x9aaf_de9c_029a_030c);
        assert_eq!(splitmix64(u64::MAX, 1 << 40), 0x68c8_3d31_fa6f_683f);
        assert_eq!(splitmix64(0x0123_4567_89AB_CDEF, 7), 0x8931_545f_4f9e_a651);
        assert_eq!(splitmix64(12345, 999) >> 40, 10_137_566);
    }

    #[test]
    fn thresholds_floor_the_ratio() {
        assert_eq!(keep_threshold(0.0), 0);
        assert_eq!(keep_threshold(0.5), 8_388_608);
        assert_eq!(keep_threshold(0.3), 5_033_164);
        assert_eq!(keep_threshold(0.1), 1_677_721);
        assert_eq!(keep_threshold(0.999999), 16_777_199);
    }

    #[test]
    fn mask_matches_the_python_reference() {
        // Python: ''.join('1' if splitmix64(42, i) >> 40 >= int(0.5 * 2**24) else '0' for i in range(64))
        let want = "1000010101001110000110110011111111100010100110001100000111100110";
        let x = vec![1.0f32; 64];
        let (mut out, mut mask) = (vec![0.0f32; 64], vec![false; 64]);
        dropout_forward(&x, 0.5, 42, false, &mut out, &mut mask);
        let got: String = mask.iter().map(|&m| if m { '1' } else { '0' }).collect();
        assert_eq!(got, want);
        // Python: sum(splitmix64(42, i) >> 40 >= int(0.3 * 2**24) for i in range(1000)) == 681
        let x = vec![2.0f64; 1000];
        let (mut out, mut mask) = (vec![0.0; 1000], vec![false; 1000]);
        dropout_forward(&x, 0.3, 42, false, &mut out, &mut mask);
        assert_eq!(mask.iter().filter(|&&m| m).count(), 681);
    }

    #[test]
    fn book_and_inverted_forms() {
        let x = [1.5f64, -2.0, f64::INFINITY, f64::NAN, 4.0, -0.5, 3.0, 8.0];
        for inverted in [false, true] {
            let (mut out, mut mask) = ([0.0; 8], [false; 8]);
            dropout_forward(&x, 0.4, 7, inverted, &mut out, &mut mask);
            let scale = 1.0 / (1.0 - 0.4);
            for i in 0..8 {
                assert_eq!(mask[i], kept(7, i as u64, keep_threshold(0.4)));
                let want = match (mask[i], inverted) {
                    (true, false) => x[i],
                    (false, false) => x[i] * 0.0,
                    (true, true) => x[i] * scale,
                    (false, true) => 0.0,
                };
                assert!(
                    out[i] == want || (out[i].is_nan() && want.is_nan()),
                    "{i}: {} vs {want}",
                    out[i]
                );
            }
            let dout = [1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
            let bytes: Vec<u8> = mask.iter().map(|&m| m as u8).collect();
            let mut dx = [9.0; 8];
            dropout_backward(&dout, &bytes, 0.4, inverted, &mut dx);
            for i in 0..8 {
                let want = if !mask[i] {
                    0.0
                } else if inverted {
                    dout[i] * scale
                } else {
                    dout[i]
                };
                assert_eq!(dx[i], want);
            }
        }
        // Any non-zero byte counts as kept; f32 scale is the f64 one rounded.
        let mut dx = [0.0f32; 3];
        dropout_backward(&[1.0, 1.0, 1.0], &[0, 1, 255], 0.7, true, &mut dx);
        assert_eq!(dx, [0.0, (1.0 / (1.0 - 0.7f64)) as f32, (1.0 / 0.3f64) as f32]);
    }

    #[test]
    fn ratio_zero_keeps_everything() {
        let x: Vec<f32> = (0..1000).map(|i| i as f32).collect();
        let (mut out, mut mask) = (vec![0.0f32; 1000], vec![false; 1000]);
        dropout_forward(&x, 0.0, u64::MAX, true, &mut out, &mut mask);
        assert!(mask.iter().all(|&m| m));
        assert_eq!(out, x);
    }

    #[test]
    fn mask_does_not_depend_on_the_thread_count() {
        let n = 10 * GRAIN + 123;
        let x: Vec<f32> = (0..n).map(|i| (i % 17) as f32 - 8.0).collect();
        let mut runs = Vec::new();
        for threads in [1, 2, 3] {
            set_num_threads(threads);
            let (mut out, mut mask) = (vec![0.0f32; n], vec![false; n]);
            dropout_forward(&x, 0.25, 99, true, &mut out, &mut mask);
            let bytes: Vec<u8> = mask.iter().map(|&m| m as u8).collect();
            let mut dx = vec![0.0f32; n];
            dropout_backward(&x, &bytes, 0.25, false, &mut dx);
            runs.push((out, mask, dx));
        }
        set_num_threads(2);
        assert!(runs.windows(2).all(|r| r[0] == r[1]));
        let (_, mask, _) = &runs[0];
        assert!(mask
            .iter()
            .enumerate()
            .all(|(i, &m)| m == kept(99, i as u64, keep_threshold(0.25))));
        let share = mask.iter().filter(|&&m| m).count() as f64 / n as f64;
        assert!((share - 0.75).abs() < 0.01, "kept {share}");
    }
}
