//! A multiply-add that is one fused instruction where the kernel was
//! compiled with FMA, for kernels whose inner loop is multiply-adds.
//!
//! `a * b + c` written out compiles to a multiply and an add (Rust does not
//! contract them), and `f32::mul_add` in the baseline (SSE2) build calls the
//! C library's software `fma`. So kernels take `FUSED` as a const parameter
//! and pass `true` only from code compiled for AVX2+FMA or AVX-512 (see
//! [`fused`]): there `mul_add` is one `vfmadd` instruction.

use std::any::TypeId;

use super::float::Float;
use super::simd::has_avx2_fma;

/// Whether the running kernel variant has FMA: true in the AVX2 and AVX-512
/// variants of a `multiversion!` function, false in the baseline one.
#[inline(always)]
pub fn fused() -> bool {
    has_avx2_fma()
}

/// `a * b + c`: fused (one rounding) when `FUSED`, else a multiply and an add.
#[inline(always)]
pub fn mul_add<T: Float, const FUSED: bool>(a: T, b: T, c: T) -> T {
    if FUSED {
        if TypeId::of::<T>() == TypeId::of::<f32>() {
            // SAFETY: T is f32 (checked just above), so the copies are exact.
            unsafe {
                let (a, b, c) = (cast::<T, f32>(a), cast::<T, f32>(b), cast::<T, f32>(c));
                return cast::<f32, T>(a.mul_add(b, c));
            }
        }
        if TypeId::of::<T>() == TypeId::of::<f64>() {
            // SAFETY: T is f64 (checked just above).
            unsafe {
                let (a, b, c) = (cast::<T, f64>(a), cast::<T, f64>(b), cast::<T, f64>(c));
                return cast::<f64, T>(a.mul_add(b, c));
            }
        }
    }
    a * b + c
}

/// # Safety
/// `A` and `B` must be the same type.
#[inline(always)]
unsafe fn cast<A: Copy, B: Copy>(a: A) -> B {
    std::mem::transmute_copy(&a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fused_and_unfused_agree_up_to_rounding() {
        // (1 + 2^-12)^2 - 1 = 2^-11 + 2^-24: the product rounded alone drops the 2^-24
        let a = 1.0f32 + 2f32.powi(-12);
        assert_eq!(mul_add::<f32, false>(a, a, -1.0), 2f32.powi(-11));
        assert_eq!(mul_add::<f32, true>(a, a, -1.0), 2f32.powi(-11) + 2f32.powi(-24));
        assert_eq!(mul_add::<f64, true>(2.0, 3.0, 4.0), 10.0);
        assert_eq!(mul_add::<f64, false>(2.0, 3.0, 4.0), 10.0);
    }
}
