//! Sleeping until a counter moves: the Linux futex, or a short nap elsewhere.
//!
//! A region's owner that has claimed every chunk sleeps here (after a short
//! spin) until the last helper in a chunk leaves. Sleeping rather than
//! spinning matters under contention: a helper descheduled mid-chunk is
//! pulled onto the owner's core as soon as that core goes idle.

use std::sync::atomic::AtomicU32;
#[cfg(not(target_os = "linux"))]
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Sleep while `word` still holds `expected`, for at most `timeout`
/// (spurious wake-ups are allowed: callers re-check their condition).
pub fn wait(word: &AtomicU32, expected: u32, timeout: Duration) {
    #[cfg(target_os = "linux")]
    {
        let ts = libc::timespec {
            tv_sec: timeout.as_secs() as libc::time_t,
            tv_nsec: timeout.subsec_nanos() as libc::c_long,
        };
        // SAFETY: FUTEX_WAIT reads the aligned u32 behind `word` and sleeps;
        // it never writes memory. Errors (EAGAIN, EINTR, ETIMEDOUT) just return.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                word.as_ptr(),
                libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
                expected,
                &ts as *const libc::timespec,
            );
        }
    }
    #[cfg(not(target_os = "linux"))]
    if word.load(Ordering::Acquire) == expected {
        std::thread::sleep(timeout.min(Duration::from_micros(50)));
    }
}

/// Wake every thread sleeping in [`wait`] on `word`.
pub fn wake_all(word: &AtomicU32) {
    #[cfg(target_os = "linux")]
    // SAFETY: FUTEX_WAKE only wakes waiters on this address.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
            i32::MAX,
        );
    }
    #[cfg(not(target_os = "linux"))]
    let _ = word.load(Ordering::Relaxed);
}
