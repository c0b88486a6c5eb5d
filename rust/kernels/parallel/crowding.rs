//! How many CPUs other threads leave free: a parallel region never takes
//! more threads than there are free CPUs for them.
//!
//! On a crowded machine an extra thread only adds time slicing. With two
//! cores and one foreign runnable thread (OpenBLAS's worker spins about
//! 0.1 s after every NumPy matmul; another process trains), a 2-thread
//! region gets 4/3 of a core for work that runs at ~70% efficiency on two:
//! slower than the same region on the caller's thread alone, which then has
//! a core to itself.
//!
//! Linux counts the runnable threads of the whole machine in
//! `/proc/loadavg` (the `running/total` field, an instant value). Others are
//! that count less the caller and the helpers that are awake. When other
//! threads run, a region uses at most `online CPUs - others` threads (at
//! least 1); when none run, the count set by `set_num_threads` stands. The
//! count is read at most once per [`PROBE_EVERY`] (a read costs a few
//! microseconds), so a region follows the machine within a millisecond and a
//! wrong reading costs at most one period. Long regions take their helpers
//! anyway (`run_chunks`): at ~90% parallel efficiency, 4/3 of a core shared
//! with the foreign thread beats one core alone.
//!
//! The online CPU count is the machine's, not the process's CPU quota: in a
//! container on a large host the count stays above the others' threads and
//! nothing changes. Elsewhere than Linux nothing changes either.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Least time between two readings of the machine's runnable count.
const PROBE_EVERY: Duration = Duration::from_millis(1);

/// Most threads a region may use now (`usize::MAX`: no limit).
static FREE: AtomicUsize = AtomicUsize::new(usize::MAX);
/// When the count was last read, in nanoseconds since [`epoch`] (+1, so 0 is "never").
static LAST_PROBE: AtomicU64 = AtomicU64::new(0);

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// `threads`, lowered to what the CPUs other threads leave free allow.
/// `awake_helpers` is how many of this pool's helpers are awake (they are
/// runnable, so the machine's count includes them).
pub fn usable(threads: usize, awake_helpers: impl FnOnce() -> usize) -> usize {
    if threads <= 1 {
        return threads;
    }
    let now = epoch().elapsed().as_nanos() as u64 + 1;
    let last = LAST_PROBE.load(Ordering::Relaxed);
    let due = last == 0 || now.saturating_sub(last) >= PROBE_EVERY.as_nanos() as u64;
    // one caller probes at a time; the others use the last reading
    if due
        && LAST_PROBE
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        let free = match (runnable_threads(), online_cpus()) {
            (Some(running), Some(cpus)) => free_threads(cpus, running, 1 + awake_helpers()),
            _ => usize::MAX,
        };
        FREE.store(free, Ordering::Relaxed);
    }
    threads.min(FREE.load(Ordering::Relaxed))
}

/// Threads a region may use on `cpus` CPUs when `running` threads are
/// runnable, `ours` of them this pool's (the caller included).
pub fn free_threads(cpus: usize, running: usize, ours: usize) -> usize {
    match running.saturating_sub(ours) {
        0 => usize::MAX,
        others => cpus.saturating_sub(others).max(1),
    }
}

/// The machine's online CPU count, looked up once.
fn online_cpus() -> Option<usize> {
    static CPUS: OnceLock<Option<usize>> = OnceLock::new();
    *CPUS.get_or_init(|| {
        #[cfg(target_os = "linux")]
        {
            // SAFETY: sysconf has no preconditions.
            let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
            (n > 0).then_some(n as usize)
        }
        #[cfg(not(target_os = "linux"))]
        None
    })
}

/// Runnable threads on the whole machine now, from `/proc/loadavg`.
fn runnable_threads() -> Option<usize> {
    #[cfg(target_os = "linux")]
    {
        use std::io::Read;
        let mut buf = [0u8; 128];
        let mut file = std::fs::File::open("/proc/loadavg").ok()?;
        let len = file.read(&mut buf).ok()?;
        parse_running(&buf[..len])
    }
    #[cfg(not(target_os = "linux"))]
    None
}

/// The `running` of `/proc/loadavg`'s fourth field, `running/total`.
fn parse_running(loadavg: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(loadavg).ok()?;
    let field = text.split_ascii_whitespace().nth(3)?;
    field.split('/').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_running_field_is_parsed() {
        assert_eq!(parse_running(b"0.52 0.31 0.20 3/81 12345\n"), Some(3));
        assert_eq!(parse_running(b"0.52 0.31 0.20 17/1081 1\n"), Some(17));
        assert_eq!(parse_running(b"garbage"), None);
        assert_eq!(parse_running(b"1 2 3 x/81 5"), None);
        assert_eq!(parse_running(&[0xff, 0xfe]), None);
    }

    #[test]
    fn free_threads_leave_room_for_others() {
        // alone: whatever was asked for (even more threads than CPUs)
        assert_eq!(free_threads(2, 1, 1), usize::MAX);
        assert_eq!(free_threads(2, 2, 2), usize::MAX);
        assert_eq!(free_threads(2, 0, 3), usize::MAX);
        // one spinning BLAS thread on two CPUs: the caller alone
        assert_eq!(free_threads(2, 2, 1), 1);
        assert_eq!(free_threads(2, 3, 2), 1);
        // another process's two threads: still the caller
        assert_eq!(free_threads(2, 3, 1), 1);
        // a large machine with a few others
        assert_eq!(free_threads(64, 10, 2), 56);
    }

    #[test]
    fn threads_that_crowd_every_cpu_leave_one_thread() {
        // as many busy threads as online CPUs: a region gets the caller only
        let Some(cpus) = online_cpus() else { return };
        if runnable_threads().is_none() {
            return;
        }
        crate::kernels::testing::with_busy_threads(cpus, || {
            let mut seen = Vec::new();
            for _ in 0..5 {
                std::thread::sleep(PROBE_EVERY * 2);
                seen.push(usable(cpus.max(2), || 0));
            }
            // a busy thread may be between time slices at one reading; most show
            assert!(
                seen.iter().filter(|&&t| t == 1).count() >= 3,
                "threads allowed: {seen:?}"
            );
        });
    }
}
