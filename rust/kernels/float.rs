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

    fn from_f64(v: f64) -> Self;
    fn to_f64(self) -> f64;
    fn sqrt(self) -> Self;
    fn abs(self) -> Self;
    fn ln(self) -> Self;
    fn is_nan(self) -> bool;
    /// `e^x` for `x <= 0` (and NaN), in plain arithmetic that the compiler
    /// vectorises (no libm call). Accurate to about 1 ulp; results below the
    /// smallest normal number flush to zero. Positive inputs are clamped to 0.
    fn exp_nonpositive(self) -> Self;
}

/// `(k, r)` with `x = k ln2 + r`, `|r| <= ln2 / 2`: Cody–Waite reduction.
/// `shift` is `1.5 * 2^mantissa_bits + bias`, so `x / ln2 + shift` holds
/// `round(x / ln2) + bias` in its low mantissa bits.
macro_rules! exp_nonpositive_impl {
    ($x:expr, $t:ty, $mantissa:expr, $lowest:expr, $shift:expr, $ln2_hi:expr, $ln2_lo:expr, [$($coef:expr),+]) => {{
        let x: $t = $x;
        let below = x < $lowest;
        // Comparison-based clamp keeps NaN as NaN.
        let xc = if x > 0.0 { 0.0 } else if below { $lowest } else { x };
        let t = xc * core::f64::consts::LOG2_E as $t + $shift;
        let k = t - $shift; // round(x / ln 2)
        let r = xc - k * $ln2_hi - k * $ln2_lo;
        // e^r by Horner on the Taylor series (coefficients 1/n!, highest first).
        let mut p: $t = 0.0;
        $( p = p * r + $coef; )+
        let scale = <$t>::from_bits(t.to_bits() << $mantissa);
        if below { 0.0 } else { p * scale }
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
    };
}

impl Float for f32 {
    float_basics!(f32);

    #[inline(always)]
    #[allow(clippy::excessive_precision)] // the published Cody-Waite constants
    fn exp_nonpositive(self) -> Self {
        exp_nonpositive_impl!(
            self,
            f32,
            23,
            -87.33_f32,
            12_583_039.0_f32, // 1.5 * 2^23 + 127
            0.693_359_375_f32,
            -2.121_944_4e-4_f32,
            [
                1.0 / 5040.0,
                1.0 / 720.0,
                1.0 / 120.0,
                1.0 / 24.0,
                1.0 / 6.0,
                0.5,
                1.0,
                1.0
            ]
        )
    }
}

impl Float for f64 {
    float_basics!(f64);

    #[inline(always)]
    #[allow(clippy::excessive_precision)] // the published Cody-Waite constants
    fn exp_nonpositive(self) -> Self {
        exp_nonpositive_impl!(
            self,
            f64,
            52,
            -708.39_f64,
            6_755_399_441_056_767.0_f64, // 1.5 * 2^52 + 1023
            6.931_471_803_691_238_2e-1_f64,
            1.908_214_929_270_587_7e-10_f64,
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
                1.0,
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

    #[test]
    fn exp_edges() {
        assert_eq!(0.0f32.exp_nonpositive(), 1.0);
        assert_eq!((-1000.0f32).exp_nonpositive(), 0.0);
        assert_eq!((-1e300f64).exp_nonpositive(), 0.0);
        assert_eq!(f32::NEG_INFINITY.exp_nonpositive(), 0.0);
        assert!(f32::NAN.exp_nonpositive().is_nan());
        assert!(f64::NAN.exp_nonpositive().is_nan());
    }
}
