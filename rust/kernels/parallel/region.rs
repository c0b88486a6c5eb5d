//! The parallel region: one job at a time, its chunks claimed by whoever is
//! there.
//!
//! A caller *opens* the region with a job and a chunk count, then claims and
//! runs chunks itself. Helper threads claim chunks too, whenever they look.
//! Everything a participant needs to decide whether it may take part is in
//! one atomic word ([`State`]): the next chunk, the chunk count, how many
//! participants are inside a chunk right now, and how many helpers may join.
//! A claim is one compare-and-swap of that word, so:
//!
//! * the caller never waits for a helper that has not started: once every
//!   chunk is claimed it only waits for chunks *in progress* (`active`);
//! * a helper that arrives late finds no chunk to claim and leaves without
//!   reading the job (which lives on the caller's stack): it dereferences the
//!   job only after a successful claim, and a claim keeps `active > 0`,
//!   which keeps the caller, and so the job, alive;
//! * cancelling (Ctrl-C) is closing the region early: `next = chunks`.

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::futex;

/// A chunk's work. The region holds a pointer to the caller's `&Job`.
pub type Job<'a> = dyn Fn(usize) + Sync + 'a;

/// Bit layout of the region word (low to high).
const NEXT_BITS: u32 = 20;
const CHUNK_BITS: u32 = 20;
const ACTIVE_BITS: u32 = 10;
const HELPER_BITS: u32 = 8;
const CHUNK_SHIFT: u32 = NEXT_BITS;
const ACTIVE_SHIFT: u32 = CHUNK_SHIFT + CHUNK_BITS;
const HELPER_SHIFT: u32 = ACTIVE_SHIFT + ACTIVE_BITS;
const EPOCH_SHIFT: u32 = HELPER_SHIFT + HELPER_BITS;

/// Most chunks one region can hold; callers group more into ranges.
pub const MAX_CHUNKS: usize = (1 << CHUNK_BITS) - 1;
/// Most helper threads a region can admit (the thread cap stays below it).
pub const MAX_HELPERS: usize = (1 << HELPER_BITS) - 1;

const fn mask(bits: u32) -> u64 {
    (1 << bits) - 1
}

/// The region word: `next | chunks | active | helpers | epoch`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct State(u64);

impl State {
    fn open(chunks: usize, helpers: usize, epoch: u64) -> Self {
        debug_assert!(chunks <= MAX_CHUNKS && helpers <= MAX_HELPERS);
        Self(((chunks as u64) << CHUNK_SHIFT) | ((helpers as u64) << HELPER_SHIFT) | (epoch << EPOCH_SHIFT))
    }
    fn next(self) -> usize {
        (self.0 & mask(NEXT_BITS)) as usize
    }
    fn chunks(self) -> usize {
        ((self.0 >> CHUNK_SHIFT) & mask(CHUNK_BITS)) as usize
    }
    fn active(self) -> usize {
        ((self.0 >> ACTIVE_SHIFT) & mask(ACTIVE_BITS)) as usize
    }
    fn helpers(self) -> usize {
        ((self.0 >> HELPER_SHIFT) & mask(HELPER_BITS)) as usize
    }
    fn epoch(self) -> u64 {
        self.0 >> EPOCH_SHIFT
    }
    fn has_unclaimed(self) -> bool {
        self.next() < self.chunks()
    }
    /// One more chunk claimed by one more active participant.
    fn claimed(self) -> Self {
        Self(self.0 + 1 + (1 << ACTIVE_SHIFT))
    }
    /// One more chunk claimed by a participant that was already active.
    fn claimed_again(self) -> Self {
        Self(self.0 + 1)
    }
    /// One participant left.
    fn left(self) -> Self {
        Self(self.0 - (1 << ACTIVE_SHIFT))
    }
    /// No chunk left to claim (chunks in progress go on).
    fn closed(self) -> Self {
        Self((self.0 & !mask(NEXT_BITS)) | self.chunks() as u64)
    }
}

/// The one region slot of the process.
pub struct Region {
    state: AtomicU64,
    /// The open region's job: a pointer to the caller's `&Job`.
    job: AtomicPtr<&'static Job<'static>>,
    /// Taken by the caller that owns the open region.
    owned: AtomicBool,
    /// Set when the open region was cancelled.
    cancelled: AtomicBool,
    /// Set when a chunk panicked on a helper (a bug: the caller re-panics).
    helper_panicked: AtomicBool,
    /// Bumped each time the last participant in a chunk leaves.
    drained: AtomicU32,
    /// True while the owner sleeps waiting for `drained` to move.
    owner_asleep: AtomicBool,
}

/// How long the owner spins for chunks in progress before it sleeps.
const SPIN_BEFORE_SLEEP: Duration = Duration::from_micros(20);
/// The longest single sleep (then it re-checks, and asks `stop`).
const SLEEP_AT_MOST: Duration = Duration::from_millis(1);

pub static REGION: Region = Region {
    state: AtomicU64::new(0),
    job: AtomicPtr::new(std::ptr::null_mut()),
    owned: AtomicBool::new(false),
    cancelled: AtomicBool::new(false),
    helper_panicked: AtomicBool::new(false),
    drained: AtomicU32::new(0),
    owner_asleep: AtomicBool::new(false),
};

/// Proof that this thread owns the open region (see [`Region::open`]).
pub struct Owner(());

impl Region {
    /// Become the region's owner, or None when another caller owns it (it
    /// then runs its chunks alone: two callers never wait for each other).
    pub fn try_own(&self) -> Option<Owner> {
        self.owned
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(|_| Owner(()))
    }

    /// Publish `job` with `chunks` chunks that up to `helpers` helper threads
    /// may join, run the chunks the caller can claim, then wait for the
    /// chunks in progress. `stop()` is asked between chunks; when it says
    /// so the region closes early. Returns whether it was cancelled.
    pub fn run(&self, owner: Owner, job: &Job<'_>, chunks: usize, helpers: usize, stop: &dyn Fn() -> bool) -> bool {
        debug_assert!(chunks <= MAX_CHUNKS);
        let job_ref: &Job<'_> = job;
        // SAFETY: helpers dereference this only while they hold a claim,
        // and this function does not return while a claim is held.
        let erased = &job_ref as *const &Job<'_> as *mut &'static Job<'static>;
        self.job.store(erased, Ordering::Relaxed);
        self.cancelled.store(false, Ordering::Relaxed);
        let epoch = State(self.state.load(Ordering::Relaxed)).epoch().wrapping_add(1) & mask(64 - EPOCH_SHIFT);
        self.state
            .store(State::open(chunks, helpers.min(MAX_HELPERS), epoch).0, Ordering::SeqCst);
        super::helpers::wake(helpers);

        let mut cancelled = false;
        let mut panic = None;
        if let Some(first) = self.claim(usize::MAX) {
            let mut i = first;
            loop {
                if let Err(payload) = catch_unwind(AssertUnwindSafe(|| job(i))) {
                    // leave the region consistent, then re-raise below
                    panic = Some(payload);
                    self.cancel();
                    self.leave();
                    break;
                }
                if !cancelled && stop() {
                    cancelled = true;
                    self.cancel();
                }
                match self.claim_again() {
                    Some(next) => i = next,
                    None => break,
                }
            }
        }
        // Only chunks that a helper is running remain: wait for those,
        // spinning briefly, then sleeping (a descheduled helper then gets
        // this core).
        let started = Instant::now();
        let mut spins = 0u32;
        loop {
            let drained = self.drained.load(Ordering::SeqCst);
            if State(self.state.load(Ordering::SeqCst)).active() == 0 {
                break;
            }
            spins += 1;
            if !spins.is_multiple_of(64) || started.elapsed() < SPIN_BEFORE_SLEEP {
                std::hint::spin_loop();
                continue;
            }
            if !cancelled && stop() {
                cancelled = true;
                self.cancel();
            }
            // SeqCst store then load, paired with the leaver's SeqCst bump
            // and load in `drain`: no wake-up is lost.
            self.owner_asleep.store(true, Ordering::SeqCst);
            if State(self.state.load(Ordering::SeqCst)).active() > 0 {
                futex::wait(&self.drained, drained, SLEEP_AT_MOST);
            }
            self.owner_asleep.store(false, Ordering::SeqCst);
        }
        let helper_panicked = self.helper_panicked.swap(false, Ordering::Relaxed);
        let Owner(()) = owner;
        self.owned.store(false, Ordering::Release);
        if let Some(payload) = panic {
            resume_unwind(payload);
        }
        assert!(!helper_panicked, "a parallel kernel panicked on a helper thread");
        cancelled
    }

    /// Claim a chunk as a newly active participant (helper `index` may join
    /// only when the region admits that many helpers; the caller passes MAX).
    fn claim(&self, index: usize) -> Option<usize> {
        let mut s = self.state.load(Ordering::Acquire);
        loop {
            let st = State(s);
            let admitted = index == usize::MAX || index < st.helpers();
            if !st.has_unclaimed() || !admitted || st.active() == mask(ACTIVE_BITS) as usize {
                return None;
            }
            match self
                .state
                .compare_exchange_weak(s, st.claimed().0, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return Some(st.next()),
                Err(now) => s = now,
            }
        }
    }

    /// After a chunk: claim the next one, or leave (no longer active).
    fn claim_again(&self) -> Option<usize> {
        let mut s = self.state.load(Ordering::Acquire);
        loop {
            let st = State(s);
            let (new, claimed) = if st.has_unclaimed() {
                (st.claimed_again(), Some(st.next()))
            } else {
                (st.left(), None)
            };
            match self
                .state
                .compare_exchange_weak(s, new.0, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => {
                    if claimed.is_none() && new.active() == 0 {
                        self.drain();
                    }
                    return claimed;
                }
                Err(now) => s = now,
            }
        }
    }

    /// An active participant leaves without claiming.
    fn leave(&self) {
        let mut s = self.state.load(Ordering::Acquire);
        loop {
            let new = State(s).left();
            match self
                .state
                .compare_exchange_weak(s, new.0, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => {
                    if new.active() == 0 {
                        self.drain();
                    }
                    return;
                }
                Err(now) => s = now,
            }
        }
    }

    /// The last participant in a chunk left: wake the owner if it sleeps.
    fn drain(&self) {
        self.drained.fetch_add(1, Ordering::SeqCst);
        if self.owner_asleep.load(Ordering::SeqCst) {
            futex::wake_all(&self.drained);
        }
    }

    /// Close the open region early: chunks not yet claimed are skipped.
    fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
        let mut s = self.state.load(Ordering::Acquire);
        while let Err(now) =
            self.state
                .compare_exchange_weak(s, State(s).closed().0, Ordering::AcqRel, Ordering::Acquire)
        {
            s = now;
        }
    }

    /// Whether the open region was cancelled (asked by helpers mid-chunk).
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    /// Whether helper `index` would find a chunk to claim right now.
    pub fn has_work_for(&self, index: usize) -> bool {
        let st = State(self.state.load(Ordering::SeqCst));
        st.has_unclaimed() && index < st.helpers()
    }

    /// Helper `index` takes part: runs chunks while it can claim them.
    /// Returns whether it ran any.
    pub fn help(&self, index: usize) -> bool {
        let Some(mut i) = self.claim(index) else {
            return false;
        };
        // SAFETY: the claim keeps `active > 0`, so the owner is still in
        // `run` and the job it published (its stack) is alive and current.
        let job: &Job<'_> = unsafe { *self.job.load(Ordering::Acquire) };
        let _inside = super::InRegion::participate();
        loop {
            if catch_unwind(AssertUnwindSafe(|| job(i))).is_err() {
                // a bug in a kernel: stop the region, let its caller re-panic
                self.helper_panicked.store(true, Ordering::Relaxed);
                self.cancel();
                self.leave();
                return true;
            }
            match self.claim_again() {
                Some(next) => i = next,
                None => return true,
            }
        }
    }

    /// After `fork`: the child has no helpers and no region in progress.
    pub fn reset_after_fork(&self) {
        self.state.store(0, Ordering::SeqCst);
        self.job.store(std::ptr::null_mut(), Ordering::SeqCst);
        self.cancelled.store(false, Ordering::SeqCst);
        self.helper_panicked.store(false, Ordering::SeqCst);
        self.owner_asleep.store(false, Ordering::SeqCst);
        self.owned.store(false, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_fields_round_trip() {
        let s = State::open(1000, 3, 17);
        assert_eq!(
            (s.next(), s.chunks(), s.active(), s.helpers(), s.epoch()),
            (0, 1000, 0, 3, 17)
        );
        let s = s.claimed().claimed().claimed_again();
        assert_eq!((s.next(), s.active()), (3, 2));
        let s = s.left().closed();
        assert_eq!((s.next(), s.chunks(), s.active(), s.helpers()), (1000, 1000, 1, 3));
        assert!(!s.has_unclaimed());
        let full = State::open(MAX_CHUNKS, MAX_HELPERS, mask(64 - EPOCH_SHIFT));
        assert_eq!(
            (full.chunks(), full.helpers(), full.epoch()),
            (MAX_CHUNKS, MAX_HELPERS, mask(64 - EPOCH_SHIFT))
        );
    }
}
