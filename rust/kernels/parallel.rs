//! The native thread pool and how work is split over it.
//!
//! With `n` threads, a parallel region runs on the calling thread plus the
//! `n - 1` workers of one rayon pool (OpenBLAS's model: the caller works
//! too, so no core idles while it waits). Work is cut into chunks that the
//! participants claim one at a time, so a worker that wakes late only takes
//! what is left. After a region the workers spin for a short, bounded time
//! (ending the moment new work arrives) so back-to-back kernels separated by
//! a little Python code don't pay a thread wake-up each time. Work below a
//! kernel's grain stays on the calling thread.

use std::cell::Cell;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use rayon::ThreadPool;

struct Pool {
    threads: usize,
    workers: Option<Arc<ThreadPool>>, // threads - 1 of them, built on first use
}

static POOL: RwLock<Pool> = RwLock::new(Pool {
    threads: 0,
    workers: None,
});

/// Bumped at the start of every parallel region; spinning workers watch it.
static GENERATION: AtomicU64 = AtomicU64::new(0);
/// Workers currently spinning after a region.
static SPINNING: AtomicUsize = AtomicUsize::new(0);
/// How long workers stay awake after a region.
const KEEP_WARM: Duration = Duration::from_micros(300);

thread_local! {
    /// Set while this thread works inside a region: nested regions run serially.
    static IN_REGION: Cell<bool> = const { Cell::new(false) };
}

/// The CPU count, looked up once (the lookup reads cgroup files: ~30 us).
fn default_threads() -> usize {
    static CPUS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CPUS.get_or_init(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1))
}

/// Use `n` threads (at least 1) from now on.
pub fn set_num_threads(n: usize) {
    let mut state = POOL.write().unwrap_or_else(|e| e.into_inner());
    let n = n.max(1);
    if state.threads != n {
        state.threads = n;
        state.workers = None;
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

fn workers() -> Arc<ThreadPool> {
    if let Some(pool) = &POOL.read().unwrap_or_else(|e| e.into_inner()).workers {
        return pool.clone();
    }
    let mut state = POOL.write().unwrap_or_else(|e| e.into_inner());
    if state.threads == 0 {
        state.threads = default_threads();
    }
    let count = state.threads.saturating_sub(1).max(1);
    state
        .workers
        .get_or_insert_with(|| {
            Arc::new(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(count)
                    .thread_name(|i| format!("ferronet-{i}"))
                    .build()
                    .expect("failed to start the ferronet thread pool"),
            )
        })
        .clone()
}

/// How many threads `work` units deserve when each thread should get at
/// least `grain` of them (1 inside another parallel region).
pub fn threads_for(work: usize, grain: usize) -> usize {
    if IN_REGION.with(Cell::get) {
        return 1;
    }
    (work / grain.max(1)).clamp(1, num_threads())
}

struct RegionGuard(bool);

impl RegionGuard {
    fn enter() -> Self {
        Self(IN_REGION.with(|r| r.replace(true)))
    }
}

impl Drop for RegionGuard {
    fn drop(&mut self) {
        IN_REGION.with(|r| r.set(self.0));
    }
}

/// Run `f(i)` for every `i` in `0..chunks` on up to `threads` threads (the
/// caller included), each chunk exactly once.
pub fn run_chunks(chunks: usize, threads: usize, f: impl Fn(usize) + Sync) {
    let threads = threads.min(chunks).min(num_threads());
    if threads <= 1 || IN_REGION.with(Cell::get) {
        (0..chunks).for_each(f);
        return;
    }
    let pool = workers();
    GENERATION.fetch_add(1, Ordering::AcqRel);
    let next = AtomicUsize::new(0);
    let claim = || {
        let _region = RegionGuard::enter();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= chunks {
                break;
            }
            f(i);
        }
    };
    let helpers_done = AtomicUsize::new(0);
    pool.in_place_scope(|scope| {
        for _ in 1..threads {
            scope.spawn(|_| {
                claim();
                helpers_done.fetch_add(1, Ordering::Release);
            });
        }
        claim();
        // Spin (bounded) until the helpers finish: sleeping on the scope's
        // latch would add a thread wake-up (~20 us here) to every region.
        let deadline = Instant::now() + KEEP_WARM;
        while helpers_done.load(Ordering::Acquire) < threads - 1 && Instant::now() < deadline {
            std::hint::spin_loop();
        }
    });
    keep_warm(&pool, threads - 1);
}

/// Run two independent tasks side by side when `threads > 1` (each on one
/// thread), else one after the other.
pub fn join(threads: usize, a: impl FnOnce() + Send, b: impl FnOnce() + Send) {
    if threads.min(num_threads()) <= 1 || IN_REGION.with(Cell::get) {
        a();
        b();
        return;
    }
    // run_chunks needs `Fn`; each task is taken out exactly once.
    let (a, b) = (std::sync::Mutex::new(Some(a)), std::sync::Mutex::new(Some(b)));
    run_chunks(2, threads, |i| {
        if i == 0 {
            if let Some(a) = a.lock().unwrap_or_else(|e| e.into_inner()).take() {
                a();
            }
        } else if let Some(b) = b.lock().unwrap_or_else(|e| e.into_inner()).take() {
            b();
        }
    });
}

/// Have up to `count` workers spin until the next region starts or
/// [`KEEP_WARM`] passes, whichever comes first.
fn keep_warm(pool: &ThreadPool, count: usize) {
    let generation = GENERATION.load(Ordering::Acquire);
    while SPINNING.load(Ordering::Relaxed) < count {
        SPINNING.fetch_add(1, Ordering::Relaxed);
        pool.spawn(move || {
            let deadline = Instant::now() + KEEP_WARM;
            while GENERATION.load(Ordering::Relaxed) == generation && Instant::now() < deadline {
                for _ in 0..32 {
                    std::hint::spin_loop();
                }
            }
            SPINNING.fetch_sub(1, Ordering::Relaxed);
        });
    }
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
    run_chunks(len.div_ceil(step), threads, |i| f(i * step..((i + 1) * step).min(len)));
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
        Self {
            ptr: slice.as_mut_ptr(),
            len: slice.len(),
            _slice: std::marker::PhantomData,
        }
    }

    /// # Safety
    /// Ranges handed out concurrently must not overlap.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn range(&self, r: Range<usize>) -> &mut [T] {
        assert!(
            r.start <= r.end && r.end <= self.len,
            "range {r:?} out of 0..{}",
            self.len
        );
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
    fn chunks_run_once_each_and_nested_regions_are_serial() {
        set_num_threads(2);
        let counts: Vec<AtomicUsize> = (0..100).map(|_| AtomicUsize::new(0)).collect();
        run_chunks(100, 2, |i| {
            counts[i].fetch_add(1, Ordering::Relaxed);
            assert_eq!(threads_for(1 << 30, 1), 1, "nested regions must be serial");
        });
        assert!(counts.iter().all(|c| c.load(Ordering::Relaxed) == 1));
    }

    #[test]
    fn small_work_stays_on_one_thread() {
        assert_eq!(threads_for(10, 1000), 1);
        assert!(threads_for(1 << 30, 1) >= 1);
    }
}
