//! The native thread pool and how work is split over it.
//!
//! With `n` threads, a parallel region runs on the calling thread plus up to
//! `n - 1` helper threads (OpenBLAS's model: the caller works too, so no
//! core idles while it waits, and small problems stay on the calling
//! thread). Work is cut into chunks that the participants claim one at a
//! time (`region.rs`):
//!
//! * the caller never waits for a helper that has not started (one that is
//!   descheduled, say because NumPy's BLAS threads are spinning): it claims
//!   the remaining chunks itself and waits only for chunks in progress,
//!   spinning briefly and then yielding the core;
//! * a helper that arrives late finds the region closed and leaves without
//!   touching the caller's data;
//! * idle helpers spin in short bursts and yield between them for a short
//!   while after work, then park (`helpers.rs`);
//! * a region takes no more threads than other runnable threads leave CPUs
//!   for (`crowding.rs`): beside a spinning BLAS thread on two cores the
//!   caller works alone rather than time-slice with it;
//! * after `fork` the child forgets the parent's helpers and starts its own;
//! * NumPy's BLAS may run its parallel jobs on ferronet's gang workers
//!   (`gang.rs`), which sleep soon after a call instead of spinning;
//! * a long call can be interrupted between chunks (`interrupt.rs`).
//!
//! (rayon's scoped API, used before, joins every spawned job, so a caller
//! whose helper was descheduled waited a whole time slice for it, and its
//! pool cannot be rebuilt in a forked child.)

mod crowding;
mod futex;
pub mod gang;
mod helpers;
mod interrupt;
mod region;

use std::cell::Cell;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub use interrupt::{interruptible, stop_requested, POLL_EVERY};
use region::{MAX_CHUNKS, MAX_HELPERS, REGION};

/// The thread count set by [`set_num_threads`] (0: the CPU count).
static THREADS: AtomicUsize = AtomicUsize::new(0);

/// Threads per CPU allowed at most (more only adds contention).
const MAX_THREADS_PER_CPU: usize = 4;

/// How long a region runs on the caller alone while the CPUs are crowded
/// before it takes its helpers anyway (see [`run_chunks`]).
const CROWDED_ALONE_AT_MOST: Duration = Duration::from_millis(2);

/// Serial work is cut into pieces of this many elements so that a long
/// single-threaded call still checks for interrupts.
const SERIAL_PIECE: usize = 1 << 22;

/// Where this thread works: outside any region, in the open region (its
/// owner or a helper: that region's cancellation concerns it), or running
/// chunks alone while another caller owns the region (whose cancellation
/// does not concern it).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Outside,
    Participant,
    Alone,
}

thread_local! {
    /// Where this thread works; inside a region, nested regions run serially.
    static PLACE: Cell<Place> = const { Cell::new(Place::Outside) };
}

fn in_region() -> bool {
    PLACE.with(Cell::get) != Place::Outside
}

/// Whether this thread takes part in the open region (so [`REGION`]'s
/// cancellation stops its work).
fn in_open_region() -> bool {
    PLACE.with(Cell::get) == Place::Participant
}

/// Marks where this thread works until dropped.
struct InRegion(Place);

impl InRegion {
    /// As the owner of the open region or one of its helpers.
    fn participate() -> Self {
        Self(PLACE.with(|p| p.replace(Place::Participant)))
    }

    /// Alone, beside a region another caller owns.
    fn alone() -> Self {
        Self(PLACE.with(|p| p.replace(Place::Alone)))
    }
}

impl Drop for InRegion {
    fn drop(&mut self) {
        PLACE.with(|p| p.set(self.0));
    }
}

/// The CPU count, looked up once (the lookup reads cgroup files: ~30 us).
pub fn cpu_count() -> usize {
    static CPUS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CPUS.get_or_init(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1))
}

/// The most threads [`set_num_threads`] accepts: a few per CPU.
pub fn max_threads() -> usize {
    (cpu_count() * MAX_THREADS_PER_CPU).clamp(2, MAX_HELPERS + 1)
}

/// Use up to `n` threads from now on (fewer while other threads crowd the
/// CPUs), at least 1 and at most [`max_threads`]; returns the count in effect.
pub fn set_num_threads(n: usize) -> usize {
    let n = n.clamp(1, max_threads());
    THREADS.store(n, Ordering::Relaxed);
    n
}

/// Threads the kernels may use.
pub fn num_threads() -> usize {
    match THREADS.load(Ordering::Relaxed) {
        0 => cpu_count().min(max_threads()),
        n => n,
    }
}

/// Helper threads started so far in this process.
pub fn helpers_started() -> usize {
    helpers::started()
}

/// How many threads `work` units deserve when each thread should get at
/// least `grain` of them (1 inside another parallel region). Kernels plan
/// their blocks for this count, which depends only on the work and
/// [`set_num_threads`], so their results never depend on what else runs;
/// [`run_chunks`] may then run the blocks on fewer threads.
pub fn threads_for(work: usize, grain: usize) -> usize {
    if in_region() {
        return 1;
    }
    (work / grain.max(1)).clamp(1, num_threads())
}

/// Register (once) what a forked child runs first: `fork` copies only the
/// calling thread, so the helpers and gang workers forget the parent's threads.
fn register_fork_handler() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        #[cfg(unix)]
        // SAFETY: registers a plain function; it only stores to atomics.
        unsafe {
            libc::pthread_atfork(None, None, Some(after_fork_in_child));
        }
    });
}

/// In a forked child. Only atomic stores: async-signal-safe.
#[cfg(unix)]
extern "C" fn after_fork_in_child() {
    helpers::forget_after_fork();
    gang::forget_after_fork();
}

/// This pool's threads that are awake besides the caller: region helpers
/// and gang workers (the latter spin briefly after running NumPy's BLAS
/// jobs; they are ours, not a foreign thread that crowds the CPUs).
fn awake_threads() -> usize {
    helpers::awake() + gang::awake_workers()
}

/// Whether a short region planned for `threads` threads would run on the
/// caller alone now, the CPUs being crowded (see [`run_chunks`]).
pub fn would_run_alone(threads: usize) -> bool {
    let threads = threads.min(num_threads());
    threads <= 1 || in_region() || crowding::usable(threads, awake_threads) <= 1
}

/// Run `f(i)` for every `i` in `0..chunks` on up to `threads` threads (the
/// caller included), each chunk exactly once; chunks not yet started are
/// skipped once [`stop_requested`] says so.
///
/// While other runnable threads leave no CPU free ([`crowding`]), the
/// chunks run on the caller alone, which looks again between them; a region
/// that has run alone for [`CROWDED_ALONE_AT_MOST`] is long, and long
/// regions gain from sharing the cores (their ~90% parallel efficiency on
/// 4/3 of a core beats one core), so it takes its helpers anyway.
pub fn run_chunks(chunks: usize, threads: usize, f: impl Fn(usize) + Sync) {
    let wanted = threads.min(chunks).min(num_threads());
    if wanted <= 1 || in_region() {
        run_alone(0..chunks, &f);
        return;
    }
    let mut first = 0;
    let mut threads = crowding::usable(wanted, awake_threads);
    if threads <= 1 {
        // as inside a region: chunks that call kernels run them serially
        let _inside = InRegion::alone();
        let started = Instant::now();
        while first < chunks {
            if stop_requested() {
                return;
            }
            f(first);
            first += 1;
            threads = crowding::usable(wanted, awake_threads);
            if threads > 1 {
                break;
            }
            if started.elapsed() >= CROWDED_ALONE_AT_MOST {
                threads = wanted;
                break;
            }
        }
    }
    let rest = chunks - first;
    let threads = threads.min(rest);
    if threads <= 1 {
        let _inside = InRegion::alone();
        run_alone(first..chunks, &f);
        return;
    }
    if stop_requested() {
        return;
    }
    let Some(owner) = REGION.try_own() else {
        // another thread's region is open: run alone rather than wait for it
        let _inside = InRegion::alone();
        run_alone(first..chunks, &f);
        return;
    };
    // a region holds at most MAX_CHUNKS claims: group chunks beyond that
    let per_claim = rest.div_ceil(MAX_CHUNKS);
    let claims = rest.div_ceil(per_claim);
    let job = |claim: usize| {
        for i in first + claim * per_claim..(first + (claim + 1) * per_claim).min(chunks) {
            f(i);
        }
    };
    let _inside = InRegion::participate();
    REGION.run(owner, &job, claims, threads - 1, &stop_requested);
}

/// Run chunks `range` on this thread, until [`stop_requested`].
fn run_alone(range: Range<usize>, f: &impl Fn(usize)) {
    for i in range {
        if stop_requested() {
            return;
        }
        f(i);
    }
}

/// Run two independent tasks side by side when `threads > 1` (each on one
/// thread), else one after the other.
pub fn join(threads: usize, a: impl FnOnce() + Send, b: impl FnOnce() + Send) {
    if threads.min(num_threads()) <= 1 || in_region() {
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

/// Call `f` on disjoint ranges covering `0..len`, in parallel when `len`
/// exceeds `grain`. Range starts are multiples of 64 so SIMD loops stay aligned.
pub fn for_each_range(len: usize, grain: usize, f: impl Fn(Range<usize>) + Sync) {
    let threads = threads_for(len, grain);
    if threads == 1 {
        // pieces, so that a long serial pass still checks for interrupts
        let mut start = 0;
        while start < len {
            if stop_requested() {
                return;
            }
            let end = (start + SERIAL_PIECE).min(len);
            f(start..end);
            start = end;
        }
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
    fn concurrent_callers_each_run_every_chunk_once() {
        set_num_threads(2);
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for round in 0..200 {
                        let chunks = 1 + round % 37;
                        let counts: Vec<AtomicUsize> = (0..chunks).map(|_| AtomicUsize::new(0)).collect();
                        run_chunks(chunks, 2, |i| {
                            counts[i].fetch_add(1, Ordering::Relaxed);
                        });
                        assert!(counts.iter().all(|c| c.load(Ordering::Relaxed) == 1));
                    }
                });
            }
        });
    }

    #[test]
    fn a_caller_alone_beside_a_cancelled_region_runs_every_chunk() {
        // one thread keeps opening long regions that a poll cancels after
        // POLL_EVERY (as Ctrl-C does); the other's calls, which run alone
        // while that region is taken, must still run each chunk once
        set_num_threads(2);
        let done = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                for _ in 0..16 {
                    // chunks of 5 ms: after the stop, the region stays cancelled until they end
                    let stopped = interruptible(&|| true, || {
                        run_chunks(100_000, 2, |_| std::thread::sleep(std::time::Duration::from_millis(5)));
                    });
                    assert!(stopped.is_none());
                }
                done.store(true, Ordering::Relaxed);
            });
            let mut round = 0;
            while !done.load(Ordering::Relaxed) {
                round += 1;
                let chunks = 2 + round % 29;
                let counts: Vec<AtomicUsize> = (0..chunks).map(|_| AtomicUsize::new(0)).collect();
                run_chunks(chunks, 2, |i| {
                    if stop_requested() {
                        return;
                    }
                    counts[i].fetch_add(1, Ordering::Relaxed);
                    std::thread::sleep(std::time::Duration::from_micros(50));
                });
                assert!(counts.iter().all(|c| c.load(Ordering::Relaxed) == 1), "round {round}");
                // leave the region free, so the other thread's calls get to own it
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
        });
    }

    #[test]
    fn an_interrupted_call_stops_between_chunks() {
        set_num_threads(2);
        let ran = AtomicUsize::new(0);
        let polls = AtomicUsize::new(0);
        let stop_now = || polls.fetch_add(1, Ordering::Relaxed) >= 1;
        let started = std::time::Instant::now();
        let result = interruptible(&stop_now, || {
            run_chunks(10_000, 2, |_| {
                ran.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(std::time::Duration::from_millis(1));
            });
            run_chunks(100, 2, |_| panic!("a later region of a stopped call must not run"));
        });
        assert!(result.is_none(), "the call must report that it stopped");
        let ran = ran.load(Ordering::Relaxed);
        assert!(ran < 10_000, "chunks after the stop were skipped (ran {ran})");
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        // the next call runs normally
        let count = AtomicUsize::new(0);
        assert!(interruptible(&|| false, || run_chunks(50, 2, |_| {
            count.fetch_add(1, Ordering::Relaxed);
        }))
        .is_some());
        assert_eq!(count.load(Ordering::Relaxed), 50);
    }

    #[test]
    fn a_panicking_chunk_reaches_the_caller_and_the_pool_survives() {
        set_num_threads(2);
        for _ in 0..20 {
            let result = std::panic::catch_unwind(|| {
                run_chunks(64, 2, |i| {
                    std::thread::sleep(std::time::Duration::from_micros(50));
                    assert!(i != 37, "chunk 37 fails");
                })
            });
            assert!(result.is_err());
        }
        let count = AtomicUsize::new(0);
        run_chunks(64, 2, |_| {
            count.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(count.load(Ordering::Relaxed), 64);
    }

    /// The distinct threads that ran the chunks of one region of `chunks` chunks taking `each`.
    fn threads_used(chunks: usize, each: std::time::Duration) -> usize {
        let ids = std::sync::Mutex::new(std::collections::HashSet::new());
        run_chunks(chunks, 2, |_| {
            ids.lock().unwrap().insert(std::thread::current().id());
            std::thread::sleep(each);
        });
        let count = ids.lock().unwrap().len();
        count
    }

    #[test]
    fn on_crowded_cpus_a_short_region_runs_on_the_caller_and_a_long_one_takes_helpers() {
        if crowding_unavailable() {
            return;
        }
        set_num_threads(2);
        crate::kernels::testing::with_busy_threads(cpu_count().max(2), || {
            // 8 chunks of 50 us: well under CROWDED_ALONE_AT_MOST
            let short: Vec<usize> = (0..5)
                .map(|_| threads_used(8, std::time::Duration::from_micros(50)))
                .collect();
            assert!(
                short.iter().filter(|&&n| n == 1).count() >= 4,
                "threads per short region: {short:?}"
            );
            // 200 chunks of 100 us: past it. A try runs alone while another test's region is
            // open (the tests run at once), so try until one gets the region (at most ~1 s)
            let long: Vec<usize> = (0..50)
                .map(|_| threads_used(200, std::time::Duration::from_micros(100)))
                .take_while(|&n| n < 2)
                .collect();
            assert!(
                long.len() < 50,
                "a long region never took a helper ({} tries)",
                long.len()
            );
        });
    }

    fn crowding_unavailable() -> bool {
        !std::path::Path::new("/proc/loadavg").exists()
    }

    #[test]
    fn the_thread_count_is_capped() {
        let effective = set_num_threads(usize::MAX);
        assert_eq!(effective, max_threads());
        assert_eq!(num_threads(), max_threads());
        assert_eq!(set_num_threads(0), 1);
        set_num_threads(2);
    }

    #[test]
    fn small_work_stays_on_one_thread() {
        assert_eq!(threads_for(10, 1000), 1);
        assert!(threads_for(1 << 30, 1) >= 1);
    }
}
