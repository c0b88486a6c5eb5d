//! Stopping a long native call between chunks when a signal (Ctrl-C)
//! arrives.
//!
//! The kernels know nothing of Python. A binding runs a kernel inside
//! [`interruptible`] with a `poll` function (it re-takes the GIL and runs
//! Python's signal handlers); the calling thread asks it at most every
//! [`POLL_EVERY`], between chunks, through [`stop_requested`]. Once `poll`
//! says stop, the open region closes, later regions of the call are
//! skipped, and [`interruptible`] reports it: the binding discards the
//! partial result and raises the handler's exception.

use std::cell::Cell;
use std::time::{Duration, Instant};

use super::region::REGION;

/// How often the calling thread runs `poll` during a long call.
pub const POLL_EVERY: Duration = Duration::from_millis(50);

/// The interruptible call running on this thread.
struct Call<'a> {
    poll: &'a dyn Fn() -> bool,
    next_poll: Cell<Instant>,
    stopped: Cell<bool>,
}

thread_local! {
    static CALL: Cell<*const Call<'static>> = const { Cell::new(std::ptr::null()) };
}

/// Run `work` on this thread, asking `poll` every [`POLL_EVERY`] (between
/// chunks) whether to stop. `None` when it stopped early: the results of
/// `work` are then incomplete and must be discarded.
pub fn interruptible<R>(poll: &dyn Fn() -> bool, work: impl FnOnce() -> R) -> Option<R> {
    let call = Call {
        poll,
        next_poll: Cell::new(Instant::now() + POLL_EVERY),
        stopped: Cell::new(false),
    };
    let erased: *const Call<'static> = (&call as *const Call<'_>).cast();
    let previous = CALL.with(|c| c.replace(erased));
    struct Restore(*const Call<'static>);
    impl Drop for Restore {
        fn drop(&mut self) {
            CALL.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(previous);
    let result = work();
    (!call.stopped.get()).then_some(result)
}

/// Whether the work should stop now: on the thread that made an
/// interruptible call, `poll` said so (asked when due); on a helper (or an
/// owner without a poll), the open region it works in was cancelled. A
/// caller running alone beside another caller's region never stops for
/// that region's cancellation. Cheap enough to ask per image or row block.
pub fn stop_requested() -> bool {
    let call = CALL.with(Cell::get);
    if call.is_null() {
        return super::in_open_region() && REGION.is_cancelled();
    }
    // SAFETY: set by `interruptible` on this thread, for the duration of its call.
    let call = unsafe { &*call };
    if call.stopped.get() {
        return true;
    }
    let now = Instant::now();
    if now >= call.next_poll.get() {
        call.next_poll.set(now + POLL_EVERY);
        if (call.poll)() {
            call.stopped.set(true);
        }
    }
    call.stopped.get()
}
