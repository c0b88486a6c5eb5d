//! Scratch memory kept per thread between kernel calls.
//!
//! Allocating a few MiB of scratch on every call made the system map fresh
//! pages each time (the allocator returns such blocks to the system on
//! free): page faults and clearing took 5-35% of a Winograd pass, most at
//! small batches (8 images: 1.3 ms instead of 0.25), and twice over with
//! two threads. Each thread instead keeps its largest scratch buffer, grown
//! with [`try_vec`] when a call needs more, so a failed allocation is still
//! an error, not an abort.

use std::any::TypeId;
use std::cell::RefCell;

use super::error::{try_vec, KResult};
use super::float::Float;

thread_local! {
    /// 8-byte words, so the buffer is aligned for both f32 and f64.
    static CACHE: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

/// Run `f` on `len` elements of scratch: this thread's kept buffer, grown
/// when too small (or a new one, when the kept buffer is in use further up
/// this thread's stack). With `zeroed` every element is zero, else the
/// elements hold whatever an earlier call left (any f32/f64 bit pattern).
pub fn with_scratch<T: Float, R>(
    len: usize,
    zeroed: bool,
    what: &'static str,
    f: impl FnOnce(&mut [T]) -> R,
) -> KResult<R> {
    let words = len
        .checked_mul(std::mem::size_of::<T>())
        .map(|bytes| bytes.div_ceil(8))
        .ok_or(super::error::KernelError::TooLarge { what })?;
    // only f32 and f64, for which every bit pattern is a value
    let plain = TypeId::of::<T>() == TypeId::of::<f32>() || TypeId::of::<T>() == TypeId::of::<f64>();
    let mut f = Some(f);
    if plain {
        let kept = CACHE.with(|cell| -> KResult<Option<R>> {
            let Ok(mut buffer) = cell.try_borrow_mut() else {
                return Ok(None);
            };
            if buffer.len() < words {
                *buffer = Vec::new(); // free the old one first
                *buffer = try_vec(words, 0u64, what)?;
            }
            // SAFETY: T is f32 or f64 (checked above): 4 or 8 bytes, alignment
            // at most 8, every bit pattern valid; `words` words hold `len` of them.
            let scratch = unsafe { std::slice::from_raw_parts_mut(buffer.as_mut_ptr().cast::<T>(), len) };
            if zeroed {
                scratch.fill(T::ZERO);
            }
            Ok(f.take().map(|f| f(scratch)))
        })?;
        if let Some(result) = kept {
            return Ok(result);
        }
    }
    // the kept buffer is busy (nested use) or T is another type: a new one
    let mut fresh = try_vec(len, T::ZERO, what)?;
    let f = f.take().expect("f runs once");
    Ok(f(&mut fresh))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_between_calls_zeroed_on_request_and_nested_use_gets_its_own() {
        with_scratch::<f32, _>(10, true, "a", |s| {
            assert!(s.iter().all(|&v| v == 0.0));
            s.fill(7.0);
        })
        .unwrap();
        // the same memory again: dirty unless zeroed
        with_scratch::<f32, _>(10, false, "a", |s| assert!(s.iter().all(|&v| v == 7.0))).unwrap();
        with_scratch::<f64, _>(5, true, "a", |s| assert!(s.iter().all(|&v| v == 0.0))).unwrap();
        let nested = with_scratch::<f32, _>(4, false, "outer", |outer| {
            outer.fill(1.0);
            with_scratch::<f32, _>(4, true, "inner", |inner| {
                inner.fill(2.0);
                inner.as_ptr() != outer.as_ptr()
            })
            .unwrap()
        })
        .unwrap();
        assert!(nested);
        assert!(with_scratch::<f64, _>(usize::MAX / 4, false, "huge", |_| ()).is_err());
    }
}
