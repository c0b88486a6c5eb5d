//! Run-time choice of SIMD instruction sets.
//!
//! The wheel is built for baseline x86-64 (SSE2). [`multiversion!`] compiles a
//! kernel body three times: baseline, AVX2+FMA and AVX-512F, and picks the
//! best the CPU has at run time. (The GEMM crate does its own run-time
//! dispatch, with AVX-512 kernels from its `x86-v4` feature.)

use std::sync::OnceLock;

/// The highest tier `FERRONET_MAX_SIMD` allows (`sse2`, `avx2` or
/// `avx512`; unset: no cap). Tests use it to run every variant on one CPU.
/// It caps ferronet's own kernels, not the GEMM crate's.
fn allowed(tier: &str) -> bool {
    static CAP: OnceLock<usize> = OnceLock::new();
    const TIERS: [&str; 3] = ["sse2", "avx2", "avx512"];
    let cap = *CAP.get_or_init(|| {
        let wanted = std::env::var("FERRONET_MAX_SIMD")
            .unwrap_or_default()
            .to_ascii_lowercase();
        TIERS.iter().position(|t| *t == wanted).unwrap_or(TIERS.len() - 1)
    });
    TIERS.iter().position(|t| *t == tier).is_some_and(|i| i <= cap)
}

/// True when the CPU supports AVX-512F (checked once).
#[inline]
pub fn has_avx512f() -> bool {
    static HAS: OnceLock<bool> = OnceLock::new();
    *HAS.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            allowed("avx512") && is_x86_feature_detected!("avx512f") && has_avx2_fma()
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    })
}

/// True when the CPU supports AVX2 and FMA (checked once).
#[inline]
pub fn has_avx2_fma() -> bool {
    static HAS: OnceLock<bool> = OnceLock::new();
    *HAS.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            allowed("avx2") && is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    })
}

/// The instruction set ferronet's own kernels use: `avx512f`, `avx2` or `sse2`.
pub fn active_tier() -> &'static str {
    if has_avx512f() {
        "avx512f"
    } else if has_avx2_fma() {
        "avx2"
    } else {
        "sse2"
    }
}

/// Names of the SIMD extensions this CPU offers, as far as they matter here.
pub fn detected_features() -> Vec<&'static str> {
    #[allow(unused_mut)]
    let mut found = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        macro_rules! probe {
            ($($name:tt),*) => { $( if is_x86_feature_detected!($name) { found.push($name); } )* };
        }
        probe!("sse2", "sse4.1", "avx", "avx2", "fma", "avx512f");
    }
    #[cfg(target_arch = "aarch64")]
    found.push("neon");
    found
}

/// Define `fn NAME<T: Float>(args) -> ret { body }` compiled for baseline,
/// AVX2+FMA and AVX-512F, dispatching at run time. Keep bodies free of `return`.
macro_rules! multiversion {
    ($(#[$meta:meta])* $vis:vis fn $name:ident<$T:ident>($($arg:ident : $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$meta])*
        #[allow(clippy::too_many_arguments)]
        $vis fn $name<$T: $crate::kernels::float::Float>($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            #[allow(unused_mut, clippy::too_many_arguments)]
            fn body<$T: $crate::kernels::float::Float>($($arg: $ty),*) $(-> $ret)? $body

            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                unsafe fn avx512<$T: $crate::kernels::float::Float>($($arg: $ty),*) $(-> $ret)? {
                    body::<$T>($($arg),*)
                }
                if $crate::kernels::simd::has_avx512f() {
                    // SAFETY: the CPU supports the enabled features (checked above).
                    return unsafe { avx512::<$T>($($arg),*) };
                }
                #[target_feature(enable = "avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                unsafe fn avx2<$T: $crate::kernels::float::Float>($($arg: $ty),*) $(-> $ret)? {
                    body::<$T>($($arg),*)
                }
                if $crate::kernels::simd::has_avx2_fma() {
                    // SAFETY: the CPU supports the enabled features (checked above).
                    return unsafe { avx2::<$T>($($arg),*) };
                }
            }
            body::<$T>($($arg),*)
        }
    };
}
