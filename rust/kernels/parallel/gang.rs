//! Gangs: `n` jobs that must all run at the same time, each on a thread of
//! its own (the caller runs job 0; gang workers run the others).
//!
//! A region's chunks are independent, so its caller may run them all alone
//! (`region.rs`). A gang's jobs are not: NumPy's BLAS (OpenBLAS), when it
//! hands its parallel work to ferronet (`bindings/openblas.rs`), splits a
//! matrix product into jobs that wait for each other's packed panels. Run
//! one after another, the first would wait forever for the second. So a
//! gang starts a worker for every job but the caller's, and the caller
//! waits for all of them.
//!
//! One gang runs at a time: OpenBLAS gives each job the scratch buffer of
//! its index, so two gangs at once would share buffers. A second caller
//! waits for the first gang to end (OpenBLAS's own threads serve one call
//! at a time too). A gang started from inside a gang job would wait for
//! itself; OpenBLAS never does that, and [`run`] refuses it (abort) rather
//! than hang.
//!
//! The workers are ferronet's answer to OpenBLAS's own: those spin for about
//! 0.1 s after every call and hold a core that the native kernels need;
//! gang workers stay awake for [`KEEP_WARM`] (yielding between short spins),
//! then sleep on a futex until the next gang. They are separate from the
//! region helpers, which may be busy in a kernel on another Python thread
//! when a gang needs every job running.
//!
//! After `fork` the child forgets the parent's workers and any gang in
//! progress (`forget_after_fork`); its first gang starts new workers.

use std::cell::Cell;
use std::sync::atomic::{fence, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::futex;

/// How long a worker stays awake after its job, for the next gang.
const KEEP_WARM: Duration = Duration::from_micros(100);
/// Empty looks between two yields of the core.
const SPINS_PER_YIELD: u32 = 16;
/// How long a caller spins for its workers before sleeping until they end.
const CALLER_SPIN: Duration = Duration::from_micros(50);
/// The most workers a gang may have (OpenBLAS caps its threads far below).
pub const MAX_WORKERS: usize = 1023;

/// A gang's jobs: `job(i)` for each `i` in `0..jobs`.
type Job<'a> = dyn Fn(usize) + Sync + 'a;

// The gang in progress is published like a seqlock: its caller makes
// GENERATION odd, writes JOB, JOBS and PENDING, then makes GENERATION even
// again. A worker reads them between two equal, even readings of
// GENERATION, so what it reads belongs to one gang. It runs a job only for a
// gang it has not seen yet; the gang cannot end (nor the next one start)
// before it has run it, so it never reads a job that has gone.

/// Bumped twice per gang (odd while a gang is being published); idle workers sleep on it.
static GENERATION: AtomicU32 = AtomicU32::new(0);
/// Where the gang's caller keeps its `&Job` (on its stack, for the gang's duration).
static JOB: AtomicPtr<()> = AtomicPtr::new(std::ptr::null_mut());
/// Jobs in the gang in progress (the caller's included).
static JOBS: AtomicUsize = AtomicUsize::new(0);
/// Workers' jobs of the gang in progress that have not ended; the caller sleeps on it.
static PENDING: AtomicU32 = AtomicU32::new(0);
/// Workers asleep (or about to sleep) on GENERATION.
static SLEEPING: AtomicUsize = AtomicUsize::new(0);
/// 1 while a gang runs: callers take turns.
static BUSY: AtomicU32 = AtomicU32::new(0);
/// Workers started so far: worker `w` runs job `w + 1`.
static STARTED: AtomicUsize = AtomicUsize::new(0);
/// Gangs run so far in this process (for tests and `show_config`).
static GANGS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// Whether this thread is running a gang job now.
    static IN_GANG: Cell<bool> = const { Cell::new(false) };
}

/// Gangs run so far in this process.
pub fn gangs_run() -> u64 {
    GANGS.load(Ordering::Relaxed)
}

/// Gang workers started so far in this process.
pub fn workers_started() -> usize {
    STARTED.load(Ordering::Acquire)
}

/// Gang workers awake now (running a job or about to sleep).
pub fn awake_workers() -> usize {
    workers_started().saturating_sub(SLEEPING.load(Ordering::Relaxed))
}

/// Run `job(i)` for every `i` in `0..jobs`, all at the same time: job 0 on
/// the calling thread, the others on gang workers. Returns when all have
/// ended.
///
/// Aborts the process (with a message) when the OS refuses a worker thread
/// or when called from inside a gang job: either way the jobs already
/// running would wait forever for the missing one, and OpenBLAS, whose
/// jobs these are, cannot be told that its call failed.
pub fn run(jobs: usize, job: &Job<'_>) {
    if jobs == 0 {
        return;
    }
    if IN_GANG.with(Cell::get) {
        fatal("a gang was started from inside a gang job");
    }
    if jobs == 1 {
        in_gang(|| job(0));
        GANGS.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let workers = jobs - 1;
    if workers > MAX_WORKERS {
        fatal("a gang asked for more workers than ferronet starts");
    }
    take_turn();
    start_workers(workers);
    let job_ref: &Job<'_> = job; // lives on this stack until every worker's job has ended
    let generation = GENERATION.load(Ordering::Relaxed); // even: only a turn's holder writes it
    GENERATION.store(generation.wrapping_add(1), Ordering::Relaxed);
    fence(Ordering::Release);
    JOB.store(&job_ref as *const &Job<'_> as *mut (), Ordering::Relaxed);
    JOBS.store(jobs, Ordering::Relaxed);
    PENDING.store(workers as u32, Ordering::Relaxed);
    // SeqCst pairs with the workers' SeqCst SLEEPING/GENERATION pair: either
    // they see the new generation before they sleep or they are counted as sleeping.
    GENERATION.store(generation.wrapping_add(2), Ordering::SeqCst);
    if SLEEPING.load(Ordering::SeqCst) > 0 {
        futex::wake_all(&GENERATION);
    }
    in_gang(|| job(0));
    wait_for_workers();
    JOB.store(std::ptr::null_mut(), Ordering::Relaxed);
    GANGS.fetch_add(1, Ordering::Relaxed);
    end_turn();
}

fn in_gang(f: impl FnOnce()) {
    IN_GANG.with(|g| g.set(true));
    f();
    IN_GANG.with(|g| g.set(false));
}

fn fatal(why: &str) -> ! {
    eprintln!("ferronet: cannot run NumPy's BLAS jobs: {why}; aborting rather than hang");
    std::process::abort()
}

/// Wait until no other gang runs, then mark ours as running.
fn take_turn() {
    while BUSY
        .compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        futex::wait(&BUSY, 1, Duration::from_millis(1));
    }
}

fn end_turn() {
    BUSY.store(0, Ordering::Release);
    futex::wake_all(&BUSY);
}

/// Wait until every worker's job of this gang has ended: spin briefly
/// (yielding), then sleep until the last worker wakes us.
fn wait_for_workers() {
    let started = Instant::now();
    let mut spins = 0u32;
    loop {
        let pending = PENDING.load(Ordering::Acquire);
        if pending == 0 {
            return;
        }
        if started.elapsed() < CALLER_SPIN {
            spins += 1;
            if spins.is_multiple_of(SPINS_PER_YIELD) {
                std::thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        } else {
            futex::wait(&PENDING, pending, Duration::from_millis(1));
        }
    }
}

/// Make sure workers `0..count` exist (called with BUSY held, so one caller at a time).
fn start_workers(count: usize) {
    super::register_fork_handler();
    let mut index = STARTED.load(Ordering::Acquire);
    while index < count {
        // a new worker waits for the gang after the current generation's
        let seen = GENERATION.load(Ordering::SeqCst);
        let spawned = std::thread::Builder::new()
            .name(format!("ferronet-blas-{index}"))
            .stack_size(8 << 20) // a pthread's default: OpenBLAS's jobs were written for its own threads
            .spawn(move || work(index, seen));
        if spawned.is_err() {
            fatal("the OS refused a thread");
        }
        index += 1;
        STARTED.store(index, Ordering::Release);
    }
}

/// A worker's life: for every gang, run job `index + 1` if the gang has that
/// many jobs; stay awake for a while after, then sleep until the next gang.
fn work(index: usize, mut seen: u32) {
    let mut last_work = Instant::now();
    let mut spins = 0u32;
    loop {
        let generation = GENERATION.load(Ordering::Acquire);
        if generation != seen && generation.is_multiple_of(2) {
            let jobs = JOBS.load(Ordering::Relaxed);
            let job = JOB.load(Ordering::Relaxed);
            fence(Ordering::Acquire);
            if GENERATION.load(Ordering::Relaxed) != generation {
                continue; // the next gang is being published: read again
            }
            seen = generation;
            if index + 1 < jobs && !job.is_null() {
                // SAFETY: `job` points at the gang's `&Job` on its caller's
                // stack, which stays until PENDING (not yet decremented by
                // us) reaches 0.
                let job: &Job<'_> = unsafe { *(job as *const &Job<'_>) };
                in_gang(|| job(index + 1));
                if PENDING.fetch_sub(1, Ordering::AcqRel) == 1 {
                    futex::wake_all(&PENDING);
                }
            }
            last_work = Instant::now();
            spins = 0;
            continue;
        }
        spins += 1;
        if !spins.is_multiple_of(SPINS_PER_YIELD) {
            std::hint::spin_loop();
            continue;
        }
        if generation != seen || last_work.elapsed() < KEEP_WARM {
            std::thread::yield_now();
            continue;
        }
        SLEEPING.fetch_add(1, Ordering::SeqCst);
        if GENERATION.load(Ordering::SeqCst) == seen {
            futex::wait(&GENERATION, seen, Duration::from_secs(1));
        }
        SLEEPING.fetch_sub(1, Ordering::SeqCst);
        last_work = Instant::now();
    }
}

/// In a forked child: the parent's workers were not copied, and a gang that
/// another thread was running will never end. Forget both; the next gang
/// starts new workers. Only atomic stores: async-signal-safe.
#[cfg_attr(not(unix), allow(dead_code))]
pub(super) fn forget_after_fork() {
    STARTED.store(0, Ordering::SeqCst);
    SLEEPING.store(0, Ordering::SeqCst);
    PENDING.store(0, Ordering::SeqCst);
    JOBS.store(0, Ordering::SeqCst);
    JOB.store(std::ptr::null_mut(), Ordering::SeqCst);
    // a gang published halfway by another thread: make the generation even again
    let generation = GENERATION.load(Ordering::SeqCst);
    GENERATION.store(generation.wrapping_add(generation % 2), Ordering::SeqCst);
    BUSY.store(0, Ordering::SeqCst);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    /// Every job runs once, and all jobs of a gang are running together:
    /// each waits at a barrier for all the others (what OpenBLAS's jobs do).
    fn barrier_gang(jobs: usize) {
        let arrived = AtomicUsize::new(0);
        let ran: Vec<AtomicUsize> = (0..jobs).map(|_| AtomicUsize::new(0)).collect();
        run(jobs, &|i| {
            ran[i].fetch_add(1, Ordering::Relaxed);
            arrived.fetch_add(1, Ordering::AcqRel);
            let started = Instant::now();
            while arrived.load(Ordering::Acquire) < jobs {
                assert!(started.elapsed() < Duration::from_secs(20), "job {i} waited forever");
                std::thread::yield_now();
            }
        });
        assert!(ran.iter().all(|r| r.load(Ordering::Relaxed) == 1));
    }

    #[test]
    fn all_jobs_of_a_gang_run_at_once_and_once_each() {
        for jobs in [1usize, 2, 3, 2, 5, 8, 1, 16, 2] {
            for _ in 0..20 {
                barrier_gang(jobs);
            }
        }
        assert!(workers_started() >= 15);
    }

    #[test]
    fn workers_left_out_of_a_small_gang_never_run_a_job_twice() {
        // gangs of 4 and 2 jobs back to back: workers 1 and 2 sit out every
        // other gang, and may look while the next one is being published
        for round in 0..3000 {
            let jobs = if round % 2 == 0 { 4 } else { 2 };
            let ran: Vec<AtomicUsize> = (0..jobs).map(|_| AtomicUsize::new(0)).collect();
            run(jobs, &|i| {
                ran[i].fetch_add(1, Ordering::Relaxed);
            });
            let counts: Vec<usize> = ran.iter().map(|r| r.load(Ordering::Relaxed)).collect();
            assert!(counts.iter().all(|&c| c == 1), "round {round}: {counts:?}");
        }
    }

    #[test]
    fn gangs_from_several_threads_take_turns() {
        // each job marks its index busy: two gangs at once would overlap on an index
        let busy: Vec<AtomicBool> = (0..4).map(|_| AtomicBool::new(false)).collect();
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for round in 0..100 {
                        let jobs = 2 + round % 3;
                        run(jobs, &|i| {
                            assert!(!busy[i].swap(true, Ordering::AcqRel), "index {i} used twice at once");
                            std::thread::sleep(Duration::from_micros(20));
                            busy[i].store(false, Ordering::Release);
                        });
                    }
                });
            }
        });
    }

    #[test]
    fn idle_workers_go_to_sleep() {
        barrier_gang(3);
        std::thread::sleep(KEEP_WARM * 20);
        let started = workers_started();
        let deadline = Instant::now() + Duration::from_secs(5);
        // other tests may run gangs meanwhile; wait for a quiet moment
        while SLEEPING.load(Ordering::SeqCst) < started && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(SLEEPING.load(Ordering::SeqCst), started);
    }
}
