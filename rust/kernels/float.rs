//! The element types the kernels are generic over: `f32` and `f64`.

use core::fmt::Debug;
use core::ops::{Add, AddAssign, Div, Mul, MulAssign, Neg, Sub, SubAssign};

/// A floating-point element type (`f32` or `f64`).
pub trait Float:
    Copy
    + Send
    + Sync
    + Default
    + Debug
    + PartialOrd
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
{
    const ZERO: Self;
    const ONE: Self;
    const NEG_INFINITY: Self;
    /// `ln 2 = LN_2_HI + LN_2_LO`, the high part short enough that
    /// `k * LN_2_HI` is exact for any exponent `k` (Cody and Waite).
    const LN_2_HI: Self;
    const LN_2_LO: Self;

    fn from_f64(v: f64) -> Self;
    fn to_f64(self) -> f64;
    fn sqrt(self) -> Self;
    fn abs(self) -> Self;
    fn ln(self) -> Self;
    fn is_nan(self) -> bool;
    /// The largest integer value not above `self` (the type's own `floor`).
    fn floor(self) -> Self;
    /// `self` truncated to an `i32`, without the saturating `as` cast's
    /// range tests (one SIMD conversion per vector).
    ///
    /// # Safety
    /// `self` is finite and its truncation fits an `i32`.
    unsafe fn to_i32_unchecked(self) -> i32;
    /// `(*p, *p.add(1))`, two neighbours read as one value where that is
    /// cheaper: a pair of `f32` is one 64-bit lane of a SIMD gather, half
    /// the elements of two 32-bit gathers.
    ///
    /// # Safety
    /// `p` and `p.add(1)` are valid for reads.
    #[inline(always)]
    unsafe fn load_pair(p: *const Self) -> (Self, Self) {
        // SAFETY: the caller's.
        unsafe { (*p, *p.add(1)) }
    }
    /// `|self|` with the sign of `sign`.
    fn copysign(self, sign: Self) -> Self;
    /// `e^x` for `x <= 0` (and NaN), in plain arithmetic that the compiler
    /// vectorises (no libm call). Accurate to about 1 ulp; results below the
    /// smallest normal number flush to zero. Positive inputs are clamped to 0.
    fn exp_nonpositive(self) -> Self;
    /// `e^x - 1` for `x <= 0` (and NaN), vectorisable like [`Float::exp_nonpositive`]
    /// and accurate to a few ulp of the result however small `|x|` is; -1 where
    /// `e^x` flushes to zero. Positive inputs are clamped to 0.
    fn expm1_nonpositive(self) -> Self;
    /// The reduction shared by [`Float::exp_nonpositive`] and
    /// [`Float::expm1_nonpositive`]: `(below, q, scale)` with
    /// `e^x = (q + 1) * scale`, `below` where `e^x` flushes to zero.
    fn exp_parts(self) -> (bool, Self, Self);
    /// `ln x` for finite `x > 0` (subnormals included; NaN gives NaN), in
    /// plain arithmetic that the compiler vectorises. The relative error stays
    /// within about 2 machine epsilons; other inputs (0, negative, infinite)
    /// give unspecified values.
    fn ln_positive(self) -> Self;

    /// `ln((2 + w) / (2 - w)) = 2 atanh(w / 2)` for `|w| <= 0.344` (the
    /// range the logarithms reduce to), by its series
    /// `w (1 + z/3 + z^2/5 + ...)`, `z = w^2 / 4`, cut where the rest falls
    /// below the type's precision. (`w` rather than `w / 2`: no halving that
    /// would round a subnormal.)
    fn ln_series(self) -> Self;

    /// `ln(1 + u)` for `0 <= u <= 1` (NaN gives NaN), within about 2
    /// machine epsilons of the result even when `u` is tiny (then it is `u`),
    /// with one division: `2 atanh(u / (2 + u))` up to `u = sqrt(2) - 1`,
    /// above it `ln 2 + 2 atanh((u - 1) / (u + 3))` (the logarithm of `(1 + u) / 2`).
    #[inline(always)]
    fn ln_1p_unit(self) -> Self {
        let halve = self > Self::from_f64(core::f64::consts::SQRT_2 - 1.0);
        let (num, den) = if halve {
            (self - Self::ONE, self + Self::from_f64(3.0))
        } else {
            (self, self + Self::from_f64(2.0))
        };
        let num = num + num; // w = 2 s
        let k = if halve { Self::ONE } else { Self::ZERO };
        k * Self::LN_2_HI + (k * Self::LN_2_LO + (num / den).ln_series())
    }
}

/// `(below, q, scale)` for `x <= 0` with `e^x = (q + 1) * scale`: Cody–Waite
/// reduction `x = k ln2 + r`, `|r| <= ln2 / 2`, then `q = e^r - 1` by Horner on
/// the Taylor series (coefficients 1/n!, highest first, ending `.., 0.5, 1`)
/// and `scale = 2^k`. `below`: `x` is under `$lowest`, where `e^x` flushes to
/// zero. `shift` is `1.5 * 2^mantissa_bits + bias`, so `x / ln2 + shift` holds
/// `round(x / ln2) + bias` in its low mantissa bits. NaN stays NaN in `q`.
macro_rules! exp_parts {
    ($x:expr, $t:ty, $mantissa:expr, $lowest:expr, $shift:expr, $ln2_hi:expr, $ln2_lo:expr, [$($coef:expr),+]) => {{
        let x: $t = $x;
        let below = x < $lowest;
        // Comparison-based clamp keeps NaN as NaN.
        let xc = if x > 0.0 { 0.0 } else if below { $lowest } else { x };
        let t = xc * core::f64::consts::LOG2_E as $t + $shift;
        let k = t - $shift; // round(x / ln 2)
        let r = xc - k * $ln2_hi - k * $ln2_lo;
        let mut p: $t = 0.0;
        $( p = p * r + $coef; )+
        let q = p * r; // e^r - 1
        let scale = <$t>::from_bits(t.to_bits() << $mantissa);
        (below, q, scale)
    }};
}

/// `ln x` for finite `x > 0`: `x = 2^k m` with `m` in `[sqrt(1/2), sqrt(2))`,
/// then `ln m = 2 atanh(s)` with `s = (m - 1) / (m + 1)`, `|s| <= 0.172`
/// (computed from `w = 2 s`).
/// Subnormal `x` is scaled by `2^subnormal_shift` first. The exponent is
/// read as a float by placing its bits under the mantissa of `2^mantissa`
/// (no integer-to-float conversion, which AVX2 lacks for 64-bit integers).
macro_rules! ln_positive_impl {
    ($x:expr, $t:ty, $u:ty, $mantissa:expr, $bias:expr, $subnormal_shift:expr) => {{
        let x: $t = $x;
        let power_of_two = |e: $u| <$t>::from_bits((e + $bias) << $mantissa);
        let tiny = x < <$t>::MIN_POSITIVE;
        let scaled = if tiny { x * power_of_two($subnormal_shift) } else { x };
        let bits = scaled.to_bits();
        let mantissa_mask: $u = (1 << $mantissa) - 1;
        let exponent_bits = (bits >> $mantissa) & (<$u>::MAX >> (1 + $mantissa)); // sign dropped
        // the biased exponent as a float: (2^mantissa + exponent_bits) - 2^mantissa
        let shift = power_of_two($mantissa);
        let biased = <$t>::from_bits(shift.to_bits() | exponent_bits) - shift;
        let m = <$t>::from_bits((bits & mantissa_mask) | power_of_two(0).to_bits()); // [1, 2)
        let big = m > core::f64::consts::SQRT_2 as $t;
        let m = if big { m * 0.5 } else { m };
        let k = biased - $bias as $t + if big { 1.0 } else { 0.0 } - if tiny { $subnormal_shift as $t } else { 0.0 };
        let r = k * Self::LN_2_HI + (k * Self::LN_2_LO + (2.0 * (m - 1.0) / (m + 1.0)).ln_series()); // m - 1 is exact
        if x.is_nan() { x } else { r }
    }};
}

/// `2 atanh(w / 2) = w (1 + z/3 + z^2/5 + ...)`, `z = (w / 2)^2`, by
/// Horner (coefficients `1/(2i+1)`, highest first).
macro_rules! ln_series_impl {
    ($w:expr, $t:ty, [$($coef:expr),+]) => {{
        let w: $t = $w;
        let z = 0.25 * (w * w);
        let mut p: $t = 0.0;
        $( p = p * z + $coef; )+
        w * p
    }};
}

/// The methods that only forward to the type's own inherent functions.
macro_rules! float_basics {
    ($t:ty) => {
        const ZERO: Self = 0.0;
        const ONE: Self = 1.0;
        const NEG_INFINITY: Self = <$t>::NEG_INFINITY;

        #[inline(always)]
        fn from_f64(v: f64) -> Self {
            v as $t
        }
        #[inline(always)]
        fn to_f64(self) -> f64 {
            self as f64
        }
        #[inline(always)]
        fn sqrt(self) -> Self {
            <$t>::sqrt(self)
        }
        #[inline(always)]
        fn abs(self) -> Self {
            <$t>::abs(self)
        }
        #[inline(always)]
        fn ln(self) -> Self {
            <$t>::ln(self)
        }
        #[inline(always)]
        fn is_nan(self) -> bool {
            <$t>::is_nan(self)
        }
        #[inline(always)]
        fn floor(self) -> Self {
            <$t>::floor(self)
        }
        #[inline(always)]
        unsafe fn to_i32_unchecked(self) -> i32 {
            // SAFETY: the caller's (see the trait).
            unsafe { self.to_int_unchecked::<i32>() }
        }
        #[inline(always)]
        fn copysign(self, sign: Self) -> Self {
            <$t>::copysign(self, sign)
        }
        #[inline(always)]
        fn exp_nonpositive(self) -> Self {
            let (below, q, scale) = self.exp_parts();
            if below {
                0.0
            } else {
                (q + 1.0) * scale
            }
        }
        #[inline(always)]
        fn expm1_nonpositive(self) -> Self {
            let (below, q, scale) = self.exp_parts();
            if below {
                -1.0
            } else {
                q * scale + (scale - 1.0)
            }
        }
    };
}

impl Float for f32 {
    float_basics!(f32);

    #[inline(always)]
    unsafe fn load_pair(p: *const Self) -> (Self, Self) {
        // SAFETY: the caller's: both elements, so all 8 bytes, are readable.
        let bits = unsafe { std::ptr::read_unaligned(p as *const u64) };
        let (low, high) = (f32::from_bits(bits as u32), f32::from_bits((bits >> 32) as u32));
        if cfg!(target_endian = "little") {
            (low, high)
        } else {
            (high, low)
        }
    }

    #[allow(clippy::excessive_precision)] // the published Cody-Waite constants
    const LN_2_HI: f32 = 0.693_359_375;
    #[allow(clippy::excessive_precision)]
    const LN_2_LO: f32 = -2.121_944_4e-4;

    #[inline(always)]
    #[allow(clippy::excessive_precision)] // the published Cody-Waite constants
    fn exp_parts(self) -> (bool, Self, Self) {
        exp_parts!(
            self,
            f32,
            23,
            -87.33_f32,
            12_583_039.0_f32, // 1.5 * 2^23 + 127
            Self::LN_2_HI,
            Self::LN_2_LO,
            [1.0 / 5040.0, 1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0]
        )
    }

    #[inline(always)]
    fn ln_positive(self) -> Self {
        ln_positive_impl!(self, f32, u32, 23, 127, 24)
    }

    /// Five terms: the next is below `0.172^10 / 11 < 2e-9`.
    #[inline(always)]
    fn ln_series(self) -> Self {
        ln_series_impl!(self, f32, [1.0 / 9.0, 1.0 / 7.0, 1.0 / 5.0, 1.0 / 3.0, 1.0])
    }
}

impl Float for f64 {
    float_basics!(f64);
    #[allow(clippy::excessive_precision)] // the published Cody-Waite constants
    const LN_2_HI: f64 = 6.931_471_803_691_238_2e-1;
    #[allow(clippy::excessive_precision)]
    const LN_2_LO: f64 = 1.908_214_929_270_587_7e-10;

    #[inline(always)]
    #[allow(clippy::excessive_precision)] // the published Cody-Waite constants
    fn exp_parts(self) -> (bool, Self, Self) {
        exp_parts!(
            self,
            f64,
            52,
            -708.39_f64,
            6_755_399_441_056_767.0_f64, // 1.5 * 2^52 + 1023
            Self::LN_2_HI,
            Self::LN_2_LO,
            [
                1.0 / 6_227_020_800.0,
                1.0 / 479_001_600.0,
                1.0 / 39_916_800.0,
                1.0 / 3_628_800.0,
                1.0 / 362_880.0,
                1.0 / 40_320.0,
                1.0 / 5040.0,
                1.0 / 720.0,
                1.0 / 120.0,
                1.0 / 24.0,
                1.0 / 6.0,
                0.5,
                1.0
            ]
        )
    }

    #[inline(always)]
    fn ln_positive(self) -> Self {
        ln_positive_impl!(self, f64, u64, 52, 1023, 54)
    }

    /// Ten terms: the next is below `0.172^20 / 21 < 3e-17`.
    #[inline(always)]
    fn ln_series(self) -> Self {
        ln_series_impl!(
            self,
            f64,
            [
                1.0 / 19.0,
                1.0 / 17.0,
                1.0 / 15.0,
                1.0 / 13.0,
                1.0 / 11.0,
                1.0 / 9.0,
                1.0 / 7.0,
                1.0 / 5.0,
                1.0 / 3.0,
                1.0
            ]
        )
    }
}

#[cfg(test)]
mod tests {
    use super::Float;

    fn max_rel_err<T: Float>(xs: impl Iterator<Item = f64>) -> f64 {
        let mut worst = 0.0f64;
        for x in xs {
            let got = T::from_f64(x).exp_nonpositive().to_f64();
            let want = T::from_f64(T::from_f64(x).to_f64().exp()).to_f64();
            if want == 0.0 {
                assert!(got.abs() < 1e-300, "exp({x}) = {got}, want 0");
                continue;
            }
            worst = worst.max(((got - want) / want).abs());
        }
        worst
    }

    #[test]
    fn exp_f32_is_within_two_ulp() {
        let xs = (0..200_000).map(|i| -(i as f64) * 87.0 / 200_000.0);
        assert!(max_rel_err::<f32>(xs) < 2.5e-7);
    }

    #[test]
    fn exp_f64_is_within_a_few_ulp() {
        let xs = (0..200_000).map(|i| -(i as f64) * 708.0 / 200_000.0);
        assert!(max_rel_err::<f64>(xs) < 1e-15);
    }

    /// The largest error of `f` against `want`, relative to the result, in units of `T::EPSILON`.
    fn max_ulp_err<T: Float>(xs: impl Iterator<Item = f64>, f: impl Fn(T) -> T, want: impl Fn(f64) -> f64) -> f64 {
        let eps = if std::mem::size_of::<T>() == 4 {
            f32::EPSILON as f64
        } else {
            f64::EPSILON
        };
        let mut worst = 0.0f64;
        for x in xs {
            let x = T::from_f64(x).to_f64(); // the input as T holds it
            let (got, want) = (f(T::from_f64(x)).to_f64(), want(x));
            let err = (got - want).abs() / (want.abs() * eps).max(f64::MIN_POSITIVE);
            assert!(err.is_finite(), "f({x}) = {got}, want {want}");
            worst = worst.max(err);
        }
        worst
    }

    /// Logarithmically spaced points over `[lo, hi]`, and a fine linear grid around 1.
    fn ln_points(lo: f64, hi: f64) -> impl Iterator<Item = f64> {
        let (a, b) = (lo.ln(), hi.ln());
        let spread = (0..=100_000).map(move |i| (a + (b - a) * i as f64 / 100_000.0).exp());
        spread.chain((1..=20_000).map(|i| 0.5 + i as f64 * 1.5 / 20_000.0))
    }

    #[test]
    fn ln_positive_is_within_a_few_epsilons() {
        // f32 results are compared with the f64 logarithm of the same input
        let e32 = max_ulp_err::<f32>(ln_points(1e-45, 3e38), Float::ln_positive, f64::ln);
        assert!(e32 < 2.5, "f32: {e32} eps");
        // f64 against the library logarithm (itself within 1 ulp)
        let e64 = max_ulp_err::<f64>(ln_points(5e-324, 1e308), Float::ln_positive, f64::ln);
        assert!(e64 < 2.5, "f64: {e64} eps");
        assert!(f32::NAN.ln_positive().is_nan() && f64::NAN.ln_positive().is_nan());
        assert_eq!(1.0f32.ln_positive(), 0.0);
        assert_eq!(1.0f64.ln_positive(), 0.0);
    }

    #[test]
    fn ln_1p_unit_is_relatively_accurate_even_for_tiny_inputs() {
        let points = || {
            (0..=50_000)
                .map(|i| (-700.0 + 700.0 * i as f64 / 50_000.0).exp())
                .chain((0..=20_000).map(|i| i as f64 / 20_000.0))
                .filter(|&u| u > 0.0)
        };
        let e32 = max_ulp_err::<f32>(points().filter(|&u| u > 1e-44), Float::ln_1p_unit, f64::ln_1p);
        assert!(e32 < 2.5, "f32: {e32} eps");
        let e64 = max_ulp_err::<f64>(points(), Float::ln_1p_unit, f64::ln_1p);
        assert!(e64 < 2.5, "f64: {e64} eps");
        assert_eq!(0.0f32.ln_1p_unit(), 0.0);
        assert_eq!(1e-30f64.ln_1p_unit(), 1e-30);
        assert!(f32::NAN.ln_1p_unit().is_nan());
    }

    #[test]
    fn exp_edges() {
        assert_eq!(0.0f32.exp_nonpositive(), 1.0);
        assert_eq!((-1000.0f32).exp_nonpositive(), 0.0);
        assert_eq!((-1e300f64).exp_nonpositive(), 0.0);
        assert_eq!(f32::NEG_INFINITY.exp_nonpositive(), 0.0);
        assert!(f32::NAN.exp_nonpositive().is_nan());
        assert!(f64::NAN.exp_nonpositive().is_nan());
    }

    /// Arguments from -limit to 0: every magnitude down to 1e-30, and a dense grid.
    fn nonpositive(limit: f64) -> impl Iterator<Item = f64> {
        let tiny = (0..600).map(|i| -(10f64).powf(-30.0 + i as f64 * 0.05));
        let grid = (1..200_000).map(move |i| -(i as f64) * limit / 200_000.0);
        tiny.chain(grid)
    }

    #[test]
    fn expm1_is_accurate_down_to_tiny_arguments() {
        let e32 = max_ulp_err::<f32>(nonpositive(87.0), Float::expm1_nonpositive, f64::exp_m1);
        assert!(e32 < 3.5, "f32 expm1: {e32} eps");
        let e64 = max_ulp_err::<f64>(nonpositive(708.0), Float::expm1_nonpositive, f64::exp_m1);
        assert!(e64 < 4.6, "f64 expm1: {e64} eps");
    }

    #[test]
    fn expm1_edges() {
        assert_eq!(0.0f32.expm1_nonpositive(), 0.0);
        assert_eq!((-1000.0f32).expm1_nonpositive(), -1.0);
        assert_eq!(f64::NEG_INFINITY.expm1_nonpositive(), -1.0);
        assert!(f32::NAN.expm1_nonpositive().is_nan());
        assert_eq!(2.0f64.copysign(-0.0), -2.0);
    }
}
