//! What a kernel can fail with, and the one checked way kernels allocate.
//!
//! Kernels never panic on input that reached them through the bindings:
//! buffers they need are allocated with [`try_vec`] (never `vec![..; n]`
//! with a size derived from arguments), so an impossible size is an
//! [`KernelError::OutOfMemory`] or [`KernelError::TooLarge`] the bindings
//! turn into `MemoryError` / `ValueError`, not an abort.

use std::fmt;

use super::geometry::GeometryError;

/// Why a kernel did not produce its result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KernelError {
    /// A buffer of `bytes` bytes could not be allocated.
    OutOfMemory { bytes: usize },
    /// `what` would hold more elements than the address space allows.
    TooLarge { what: &'static str },
    /// Sliding-window geometry that does not fit (see [`GeometryError`]).
    Geometry(GeometryError),
    /// The call was cancelled between chunks (a signal such as Ctrl-C).
    Interrupted,
}

impl fmt::Display for KernelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OutOfMemory { bytes } => write!(f, "could not allocate {bytes} bytes"),
            Self::TooLarge { what } => write!(f, "{what} would be too large to allocate"),
            Self::Geometry(e) => write!(f, "{e}"),
            Self::Interrupted => write!(f, "interrupted"),
        }
    }
}

impl std::error::Error for KernelError {}

impl From<GeometryError> for KernelError {
    fn from(e: GeometryError) -> Self {
        Self::Geometry(e)
    }
}

pub type KResult<T> = Result<T, KernelError>;

/// `len` copies of `value`, allocated fallibly: an error instead of an abort
/// when the memory is not there (or `len` elements overflow the address space).
pub fn try_vec<T: Copy>(len: usize, value: T, what: &'static str) -> KResult<Vec<T>> {
    let bytes = len
        .checked_mul(std::mem::size_of::<T>())
        .filter(|&b| b <= isize::MAX as usize)
        .ok_or(KernelError::TooLarge { what })?;
    let mut v = Vec::new();
    v.try_reserve_exact(len)
        .map_err(|_| KernelError::OutOfMemory { bytes })?;
    v.resize(len, value);
    Ok(v)
}

/// `a * b * ...` or [`KernelError::TooLarge`] naming `what` on overflow.
pub fn checked_product(dims: &[usize], what: &'static str) -> KResult<usize> {
    dims.iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or(KernelError::TooLarge { what })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impossible_sizes_are_errors_not_aborts() {
        assert_eq!(
            try_vec(usize::MAX / 2, 0.0f64, "scratch"),
            Err(KernelError::TooLarge { what: "scratch" })
        );
        // representable but far beyond any machine's memory
        assert!(matches!(
            try_vec(1usize << 60, 0u8, "scratch"),
            Err(KernelError::OutOfMemory { .. })
        ));
        assert_eq!(try_vec(3, 1.5f32, "x").unwrap(), vec![1.5; 3]);
        assert_eq!(checked_product(&[2, 3, 4], "x"), Ok(24));
        assert!(checked_product(&[usize::MAX, 2], "x").is_err());
    }
}
