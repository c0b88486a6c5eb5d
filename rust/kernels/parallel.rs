//! The native thread pool and how work is split over it.
//!
//! One rayon pool serves every kernel (and the GEMM crate, which runs inside
//! it). [`set_num_threads`] rebuilds it. Work below a kernel's grain stays on
//! the calling thread, so tiny problems pay no threading overhead.

use std::ops::Range;
use std::sync::{Arc, RwLock};

use rayon::prelude::*;
use rayon::ThreadPool;

struct Pool {
    threads: usize,
    pool: Option<Arc<ThreadPool>>, // built on first parallel use
}

static POOL: RwLock<Pool> = RwLock::new(Pool { threads: 0, pool: None });

fn default_threads() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// Use `n` threads (at least 1) from now on.
pub fn set_num_threads(n: usize) {
    let mut state = POOL.write().unwrap_or_else(|e| e.into_inner());
    let n = n.max(1);
    if state.threads != n {
        state.threads = n;
        state.pool = None;
    }
}

/// Threads the kernels may use.
pub fn num_threads() -> usize {
    let state = POOL.read().unwrap_or_else(|e| e.into_inner());
    if state.threads == 0 {
        default_threads()
    } else {
        state.threads
    }
}

fn pool() -> Arc<ThreadPool> {
    if let Some(pool) = &POOL.read().unwrap_or_else(|e| e.into_inner()).pool {
        return pool.clone();
    }
    let mut state = POOL.write().unwrap_or_else(|e| e.into_inner());
    if state.threads == 0 {
        state.threads = default_threads();
    }
    let threads = state.threads;
    state
        .pool
        .get_or_insert_with(|| {
            Arc::new(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .thread_name(|i| format!("ferronet-{i}"))
                    .build()
                    .expect("failed to start the ferronet thread pool"),
            )
        })
        .clone()
}

/// How many threads `work` units deserve when each thread should get at
/// least `grain` of them.
pub fn threads_for(work: usize, grain: usize) -> usize {
    (work / grain.max(1)).clamp(1, num_threads())
}

/// Run `f` inside the pool (so nested rayon work, e.g. GEMM, uses it).
pub fn install<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    pool().install(f)
}

/// Call `f` on disjoint ranges covering `0..len`, in parallel when `len`
/// exceeds `grain`. Range starts are multiples of 64 so SIMD loops stay aligned.
pub fn for_each_range(len: usize, grain: usize, f: impl Fn(Range<usize>) + Sync) {
    let threads = threads_for(len, grain);
    if threads == 1 {
        f(0..len);
        return;
    }
    let pieces = threads * 4;
    let step = len.div_ceil(pieces).next_multiple_of(64);
    install(|| {
        (0..len.div_ceil(step)).into_par_iter().for_each(|i| f(i * step..((i + 1) * step).min(len)));
    });
}

/// A mutable slice shared by the workers of [`for_each_range`], each taking
/// its own disjoint range.
pub struct SharedMut<'a, T> {
    ptr: *mut T,
    len: usize,
    _slice: std::marker::PhantomData<&'a mut [T]>,
}

unsafe impl<T: Send> Send for SharedMut<'_, T> {}
unsafe impl<T: Send> Sync for SharedMut<'_, T> {}

impl<'a, T> SharedMut<'a, T> {
    pub fn new(slice: &'a mut [T]) -> Self {
        Self { ptr: slice.as_mut_ptr(), len: slice.len(), _slice: std::marker::PhantomData }
    }

    /// # Safety
    /// Ranges handed out concurrently must not overlap.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn range(&self, r: Range<usize>) -> &mut [T] {
        assert!(r.start <= r.end && r.end <= self.len, "range {r:?} out of 0..{}", self.len);
        std::slice::from_raw_parts_mut(self.ptr.add(r.start), r.end - r.start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn ranges_cover_everything_once() {
        for len in [0usize, 1, 63, 64, 1000, 1 << 20] {
            let seen = AtomicUsize::new(0);
            let mut marks = vec![0u8; len];
            let shared = SharedMut::new(&mut marks);
            for_each_range(len, 1000, |r| {
                seen.fetch_add(r.len(), Ordering::Relaxed);
                for m in unsafe { shared.range(r) } {
                    *m += 1;
                }
            });
            assert_eq!(seen.load(Ordering::Relaxed), len);
            assert!(marks.iter().all(|&m| m == 1));
        }
    }

    #[test]
    fn small_work_stays_on_one_thread() {
        assert_eq!(threads_for(10, 1000), 1);
        assert!(threads_for(1 << 30, 1) >= 1);
    }
}
