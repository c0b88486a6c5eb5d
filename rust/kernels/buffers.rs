//! Memory for the arrays the kernels return, kept for reuse when Python
//! frees them.
//!
//! A training loop asks for the same output sizes every step. The C
//! allocator hands blocks of a few hundred KiB and more back to the system
//! when they are freed, so each step mapped fresh pages and took a page
//! fault per 4 KiB to fill them: a SimpleConvNet step spent a quarter of its
//! time there (7.7 ms against 5.5 ms without the faults). A freed block of
//! at least [`MIN_KEPT`] bytes is kept here instead, by exact size, up to a
//! total of [`limit`] bytes; the next output of that size reuses it, already
//! mapped. Past the limit the least recently kept blocks go back to the
//! system first.
//!
//! The cache is a plain mutex taken with `try_lock`: when it is busy (or a
//! `fork` copied it locked) a block is allocated or freed directly instead,
//! so nothing ever waits on it.

use std::alloc::{alloc, dealloc, Layout};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use super::error::{KResult, KernelError};

/// Blocks are aligned for any SIMD load (and whole cache lines).
pub const ALIGN: usize = 64;
/// Smaller blocks go straight back to the allocator (it keeps them mapped).
pub const MIN_KEPT: usize = 16 << 10;

/// `bytes` of memory aligned to [`ALIGN`]; returned to the cache when dropped.
pub struct Block {
    ptr: NonNull<u8>,
    bytes: usize,
}

// SAFETY: a Block owns its memory exclusively, like a Box<[u8]>.
unsafe impl Send for Block {}
unsafe impl Sync for Block {}

impl Block {
    /// A block of `bytes > 0` bytes: a kept one of that size, else a new one.
    /// Its contents are whatever a previous user left.
    pub fn take(bytes: usize) -> KResult<Self> {
        assert!(bytes > 0, "blocks are never empty");
        if bytes >= MIN_KEPT {
            if let Some(ptr) = CACHE.try_lock().ok().and_then(|mut cache| cache.take(bytes)) {
                return Ok(Self { ptr, bytes });
            }
        }
        let layout = layout(bytes)?;
        // SAFETY: the layout's size is not zero.
        let ptr = NonNull::new(unsafe { alloc(layout) }).ok_or(KernelError::OutOfMemory { bytes })?;
        if bytes >= HUGE_PAGE {
            advise_huge_pages(ptr, bytes);
        }
        Ok(Self { ptr, bytes })
    }

    pub fn as_mut_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

impl Drop for Block {
    fn drop(&mut self) {
        if self.bytes >= MIN_KEPT {
            if let Ok(mut cache) = CACHE.try_lock() {
                let pushed_out = cache.keep(self.ptr, self.bytes, limit());
                drop(cache);
                pushed_out.into_iter().for_each(free);
                return;
            }
        }
        free((self.ptr, self.bytes));
    }
}

/// Blocks of at least this many bytes start on a huge-page boundary and ask
/// the system for huge pages (as NumPy does for its large arrays): a 7 MB
/// activation then spans 4 TLB entries instead of 1,700.
const HUGE_PAGE: usize = 2 << 20;

/// The layout of a block of `bytes`: a function of the size alone, so
/// freeing needs nothing else.
fn layout(bytes: usize) -> KResult<Layout> {
    let align = if bytes >= HUGE_PAGE { HUGE_PAGE } else { ALIGN };
    Layout::from_size_align(bytes, align).map_err(|_| KernelError::TooLarge { what: "an array" })
}

#[cfg(target_os = "linux")]
fn advise_huge_pages(ptr: NonNull<u8>, bytes: usize) {
    // SAFETY: the range is this block's own memory, page-aligned at the start
    // (HUGE_PAGE alignment); madvise only advises, it never fails the block.
    unsafe {
        libc::madvise(ptr.as_ptr().cast(), bytes, libc::MADV_HUGEPAGE);
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_: NonNull<u8>, _: usize) {}

fn free((ptr, bytes): (NonNull<u8>, usize)) {
    // SAFETY: allocated in `Block::take` with this very layout (the size was valid then).
    unsafe { dealloc(ptr.as_ptr(), layout(bytes).unwrap_unchecked()) }
}

/// Kept blocks, (pointer, size), oldest first (tens of them in a training
/// step: a linear search is enough).
struct Cache {
    kept: Vec<(NonNull<u8>, usize)>,
    kept_bytes: usize,
}

// SAFETY: the pointers are owned blocks, moved in and out under the mutex.
unsafe impl Send for Cache {}

static CACHE: Mutex<Cache> = Mutex::new(Cache {
    kept: Vec::new(),
    kept_bytes: 0,
});

impl Cache {
    /// The most recently kept block of exactly `bytes`.
    fn take(&mut self, bytes: usize) -> Option<NonNull<u8>> {
        let at = self.kept.iter().rposition(|&(_, size)| size == bytes)?;
        self.kept_bytes -= bytes;
        Some(self.kept.remove(at).0)
    }

    /// Keep `ptr` (`bytes` long) within `limit` bytes in all; returns the
    /// blocks to free: the oldest kept ones pushed out, or `ptr` itself when
    /// it alone is over the limit.
    fn keep(&mut self, ptr: NonNull<u8>, bytes: usize, limit: usize) -> Vec<(NonNull<u8>, usize)> {
        if bytes > limit {
            return vec![(ptr, bytes)];
        }
        let out = self.shrink_to(limit - bytes);
        self.kept.push((ptr, bytes));
        self.kept_bytes += bytes;
        out
    }

    /// Push out the oldest blocks until at most `bytes` are kept; returns them.
    fn shrink_to(&mut self, bytes: usize) -> Vec<(NonNull<u8>, usize)> {
        let mut count = 0;
        while self.kept_bytes > bytes {
            self.kept_bytes -= self.kept[count].1;
            count += 1;
        }
        self.kept.drain(..count).collect()
    }
}

/// The most bytes kept (0: none): set by [`set_limit`], else
/// [`default_limit`].
static LIMIT: AtomicUsize = AtomicUsize::new(usize::MAX);

/// An eighth of the machine's memory, at most 1 GiB (at least 64 MiB),
/// looked up once (every output and every freed block asks for the limit).
pub fn default_limit() -> usize {
    static DEFAULT: OnceLock<usize> = OnceLock::new();
    *DEFAULT.get_or_init(|| {
        const MIB: usize = 1 << 20;
        let ram = physical_memory().unwrap_or(512 * MIB);
        (ram / 8).clamp(64 * MIB, 1024 * MIB)
    })
}

fn physical_memory() -> Option<usize> {
    #[cfg(unix)]
    {
        // SAFETY: sysconf has no preconditions.
        let (pages, page) = unsafe { (libc::sysconf(libc::_SC_PHYS_PAGES), libc::sysconf(libc::_SC_PAGESIZE)) };
        (pages > 0 && page > 0).then(|| (pages as usize).saturating_mul(page as usize))
    }
    #[cfg(not(unix))]
    None
}

/// The most bytes the cache keeps now.
pub fn limit() -> usize {
    match LIMIT.load(Ordering::Relaxed) {
        usize::MAX => default_limit(),
        n => n,
    }
}

/// Keep at most `bytes` from now on (0: keep nothing); frees what is over.
pub fn set_limit(bytes: usize) {
    LIMIT.store(bytes.min(usize::MAX - 1), Ordering::Relaxed);
    shrink_to(bytes);
}

fn shrink_to(bytes: usize) -> usize {
    let pushed_out = CACHE
        .try_lock()
        .map(|mut cache| cache.shrink_to(bytes))
        .unwrap_or_default();
    pushed_out
        .into_iter()
        .map(|block| {
            free(block);
            block.1
        })
        .sum()
}

/// Bytes kept for reuse now.
pub fn kept_bytes() -> usize {
    CACHE.try_lock().map(|cache| cache.kept_bytes).unwrap_or(0)
}

/// Give every kept block back to the system; returns how many bytes that was.
pub fn release() -> usize {
    shrink_to(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    // the cache is one per process: these tests share it, so each uses sizes of its own

    #[test]
    fn a_freed_block_is_reused_for_the_same_size() {
        let bytes = MIN_KEPT + 64 * 7;
        let first = Block::take(bytes).unwrap();
        let address = first.as_mut_ptr() as usize;
        assert_eq!(address % ALIGN, 0);
        drop(first);
        let second = Block::take(bytes).unwrap();
        assert_eq!(second.as_mut_ptr() as usize, address);
        let other = Block::take(bytes + 64).unwrap();
        assert_ne!(other.as_mut_ptr() as usize, address);
    }

    #[test]
    fn small_blocks_are_not_kept() {
        let block = Block::take(100).unwrap();
        assert_eq!(block.bytes(), 100);
        assert_eq!(block.as_mut_ptr() as usize % ALIGN, 0);
        drop(block); // straight back to the allocator: nothing to check but that it is fine
    }

    #[test]
    fn the_cache_stays_within_its_limit_oldest_out_first() {
        let mut cache = Cache {
            kept: Vec::new(),
            kept_bytes: 0,
        };
        let fake = |i: usize| NonNull::new((i * ALIGN) as *mut u8).unwrap();
        assert!(cache.keep(fake(1), 100, 250).is_empty());
        assert!(cache.keep(fake(2), 100, 250).is_empty());
        let out = cache.keep(fake(3), 100, 250);
        assert_eq!(out, vec![(fake(1), 100)]);
        assert_eq!(cache.kept_bytes, 200);
        assert_eq!(cache.keep(fake(4), 300, 250), vec![(fake(4), 300)]); // alone over the limit
        assert_eq!(cache.take(100), Some(fake(3))); // the most recent of that size
        assert_eq!(cache.take(100), Some(fake(2)));
        assert_eq!(cache.take(100), None);
        assert_eq!(cache.kept_bytes, 0);
        cache.kept.clear(); // the fake pointers must not be freed
    }

    #[test]
    fn impossible_sizes_are_errors() {
        assert!(matches!(Block::take(usize::MAX - 8), Err(KernelError::TooLarge { .. })));
        assert!(matches!(Block::take(1 << 60), Err(KernelError::OutOfMemory { .. })));
    }
}
