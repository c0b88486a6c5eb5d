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
    /// `ln(1 + x)` for `x` in `[0, 1]` (and NaN), vectorisable, accurate to a
    /// few ulp of the result however small `x` is (what `softplus` needs:
    /// `ln(1 + e^-|x|)`). Other inputs give meaningless finite values.
    fn ln_1p_unit(self) -> Self;
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

/// `ln(1 + x)` for `x` in `[0, 1]`: `1 + x = 2^k (1 + f)` with `k` in {0, 1}
/// and `1 + f` in `[sqrt(1/2), sqrt(2))`, then `ln(1 + f) = 2 atanh(s)`,
/// `s = f / (2 + f)`, `|s| <= 0.1716`, by its odd series
/// `2s + s z (2/3 + 2z/5 + ...)` with `z = s^2` (coefficients lowest first).
/// `f` is `x` itself when `k = 0`, so tiny `x` keep their precision.
macro_rules! ln_1p_unit_impl {
    ($x:expr, $t:ty, [$($coef:expr),+]) => {{
        let x: $t = $x;
        let halve = x > core::f64::consts::SQRT_2 as $t - 1.0;
        let f = if halve { (x - 1.0) * 0.5 } else { x };
        let s = f / (2.0 + f);
        let z = s * s;
        let coefs: &[$t] = &[$($coef),+];
        let mut p: $t = 0.0;
        for &c in coefs.iter().rev() {
            p = p * z + c;
        }
        let ln = 2.0 * s + s * z * p;
        if halve { ln + core::f64::consts::LN_2 as $t } else { ln }
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
    #[allow(clippy::excessive_precision)] // the published Cody-Waite constants
    fn exp_parts(self) -> (bool, Self, Self) {
        exp_parts!(
            self,
            f32,
            23,
            -87.33_f32,
            12_583_039.0_f32, // 1.5 * 2^23 + 127
            0.693_359_375_f32,
            -2.121_944_4e-4_f32,
            [1.0 / 5040.0, 1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0]
        )
    }

    #[inline(always)]
    fn ln_1p_unit(self) -> Self {
        ln_1p_unit_impl!(self, f32, [2.0 / 3.0, 2.0 / 5.0, 2.0 / 7.0, 2.0 / 9.0, 2.0 / 11.0])
    }
}

impl Float for f64 {
    float_basics!(f64);

    #[inline(always)]
    #[allow(clippy::excessive_precision)] // the published Cody-Waite constants
    fn exp_parts(self) -> (bool, Self, Self) {
        exp_parts!(
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
                1.0
            ]
        )
    }

    #[inline(always)]
    fn ln_1p_unit(self) -> Self {
        ln_1p_unit_impl!(
            self,
            f64,
            [
                2.0 / 3.0,
                2.0 / 5.0,
                2.0 / 7.0,
                2.0 / 9.0,
                2.0 / 11.0,
                2.0 / 13.0,
                2.0 / 15.0,
                2.0 / 17.0,
                2.0 / 19.0,
                2.0 / 21.0
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

    fn max_rel_err_vs<T: Float>(xs: impl Iterator<Item = f64>, ours: fn(T) -> T, exact: fn(f64) -> f64) -> f64 {
        let mut worst = 0.0f64;
        for x in xs {
            let x = T::from_f64(x);
            let (got, want) = (ours(x).to_f64(), exact(x.to_f64()));
            let err = if want == 0.0 {
                got.abs()
            } else {
                ((got - want) / want).abs()
            };
            worst = worst.max(err);
        }
        worst
    }

    /// Arguments from -limit to 0: every magnitude down to 1e-30, and a dense grid.
    fn nonpositive(limit: f64) -> impl Iterator<Item = f64> {
        let tiny = (0..600).map(|i| -(10f64).powf(-30.0 + i as f64 * 0.05));
        let grid = (0..200_000).map(move |i| -(i as f64) * limit / 200_000.0);
        tiny.chain(grid)
    }

    #[test]
    fn expm1_is_accurate_down_to_tiny_arguments() {
        let f32_err = max_rel_err_vs::<f32>(nonpositive(87.0), |x| x.expm1_nonpositive(), f64::exp_m1);
        assert!(f32_err < 4e-7, "f32 expm1 relative error {f32_err}");
        let f64_err = max_rel_err_vs::<f64>(nonpositive(708.0), |x| x.expm1_nonpositive(), f64::exp_m1);
        assert!(f64_err < 1e-15, "f64 expm1 relative error {f64_err}");
    }

    #[test]
    fn ln_1p_unit_is_accurate_on_zero_to_one() {
        let xs = || {
            let tiny = (0..600).map(|i| (10f64).powf(-30.0 + i as f64 * 0.05));
            tiny.chain((0..=200_000).map(|i| i as f64 / 200_000.0))
        };
        let f32_err = max_rel_err_vs::<f32>(xs(), |x| x.ln_1p_unit(), f64::ln_1p);
        assert!(f32_err < 3e-7, "f32 ln_1p relative error {f32_err}");
        let f64_err = max_rel_err_vs::<f64>(xs(), |x| x.ln_1p_unit(), f64::ln_1p);
        assert!(f64_err < 6e-16, "f64 ln_1p relative error {f64_err}");
    }

    #[test]
    fn expm1_and_ln_1p_edges() {
        assert_eq!(0.0f32.expm1_nonpositive(), 0.0);
        assert_eq!((-1000.0f32).expm1_nonpositive(), -1.0);
        assert_eq!(f64::NEG_INFINITY.expm1_nonpositive(), -1.0);
        assert!(f32::NAN.expm1_nonpositive().is_nan());
        assert_eq!(0.0f64.ln_1p_unit(), 0.0);
        assert_eq!(1.0f32.ln_1p_unit(), core::f32::consts::LN_2);
        assert!(f64::NAN.ln_1p_unit().is_nan());
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
