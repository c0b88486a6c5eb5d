//! The helper threads: started on demand, one per extra thread, each
//! looking for chunks of the open region (see `region.rs`).
//!
//! After taking part in a region a helper stays awake for [`KEEP_WARM`],
//! so back-to-back kernels separated by a little Python code find it
//! already there (no wake-up per region on a quiet machine). While it waits
//! it spins in short bursts and yields the core between them, so it never
//! keeps a runnable thread (NumPy's BLAS, another process) off the CPU for
//! long. Then it parks until a caller wakes it.
//!
//! `fork` copies only the calling thread: the child's helpers do not exist.
//! A `pthread_atfork` handler forgets them in the child, which starts new
//! ones on its first parallel kernel.

use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};
use std::thread::Thread;
use std::time::{Duration, Instant};

use super::region::{MAX_HELPERS, REGION};

/// How long a helper stays awake after its last chunk.
const KEEP_WARM: Duration = Duration::from_micros(300);
/// Empty looks between two yields of the core.
const SPINS_PER_YIELD: u32 = 16;

struct Helper {
    /// Its thread handle (leaked `Box`), null until started.
    thread: AtomicPtr<Thread>,
    /// True while it is parked (or about to park).
    parked: AtomicBool,
}

#[allow(clippy::declare_interior_mutable_const)]
const IDLE: Helper = Helper {
    thread: AtomicPtr::new(std::ptr::null_mut()),
    parked: AtomicBool::new(false),
};
static HELPERS: [Helper; MAX_HELPERS] = [IDLE; MAX_HELPERS];
/// Helpers `0..STARTED` have been started.
static STARTED: AtomicUsize = AtomicUsize::new(0);
/// Held while starting helpers.
static STARTING: AtomicBool = AtomicBool::new(false);

/// Make sure helpers `0..count` exist and are awake (called by a caller
/// that just opened a region admitting `count` helpers).
pub fn wake(count: usize) {
    let count = count.min(MAX_HELPERS);
    if STARTED.load(Ordering::Acquire) < count {
        start(count);
    }
    let started = STARTED.load(Ordering::Acquire).min(count);
    for helper in &HELPERS[..started] {
        if helper.parked.load(Ordering::SeqCst) {
            let thread = helper.thread.load(Ordering::Acquire);
            if !thread.is_null() {
                // SAFETY: set once from a leaked Box before STARTED counted it.
                unsafe { (*thread).unpark() };
            }
        }
    }
}

/// Helpers started and not parked: runnable threads of this pool.
pub fn awake() -> usize {
    let started = STARTED.load(Ordering::Acquire);
    HELPERS[..started]
        .iter()
        .filter(|helper| !helper.parked.load(Ordering::Relaxed))
        .count()
}

/// Helpers started so far (for tests and `show_config`).
pub fn started() -> usize {
    STARTED.load(Ordering::Acquire)
}

/// Start helpers up to `count` (fewer if the OS refuses a thread: the
/// kernels then run on the threads there are).
fn start(count: usize) {
    if STARTING
        .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        return; // another caller is starting them
    }
    super::register_fork_handler();
    let mut index = STARTED.load(Ordering::Acquire);
    while index < count {
        let spawned = std::thread::Builder::new()
            .name(format!("ferronet-{index}"))
            .stack_size(1 << 20)
            .spawn(move || run(index));
        match spawned {
            Ok(handle) => {
                let thread = Box::into_raw(Box::new(handle.thread().clone()));
                HELPERS[index].thread.store(thread, Ordering::Release);
                index += 1;
                STARTED.store(index, Ordering::Release);
            }
            Err(_) => break,
        }
    }
    STARTING.store(false, Ordering::Release);
}

/// A helper's life: take part in regions; stay warm for a while after
/// work, yielding the core between short spins; then park.
fn run(index: usize) {
    let me = &HELPERS[index];
    let mut last_work = Instant::now();
    let mut spins = 0u32;
    loop {
        if REGION.help(index) {
            last_work = Instant::now();
            spins = 0;
            continue;
        }
        spins += 1;
        if !spins.is_multiple_of(SPINS_PER_YIELD) {
            for _ in 0..32 {
                std::hint::spin_loop();
            }
            continue;
        }
        if last_work.elapsed() < KEEP_WARM {
            std::thread::yield_now();
            continue;
        }
        // Park, unless a region opened meanwhile. The SeqCst store and load
        // pair with the caller's SeqCst publish and `parked` load: at least
        // one of the two sees the other, so no wake-up is lost.
        me.parked.store(true, Ordering::SeqCst);
        if !REGION.has_work_for(index) {
            std::thread::park();
        }
        me.parked.store(false, Ordering::SeqCst);
        last_work = Instant::now();
    }
}

/// In a forked child: forget the parent's helpers (their threads were not
/// copied) and any region that was in progress; new helpers start on the
/// next parallel kernel. Only atomic stores: async-signal-safe.
#[cfg_attr(not(unix), allow(dead_code))]
pub(super) fn forget_after_fork() {
    for helper in &HELPERS {
        helper.thread.store(std::ptr::null_mut(), Ordering::SeqCst); // the handle leaks, by design
        helper.parked.store(false, Ordering::SeqCst);
    }
    STARTED.store(0, Ordering::SeqCst);
    STARTING.store(false, Ordering::SeqCst);
    REGION.reset_after_fork();
}
