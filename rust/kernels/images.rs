//! An NCHW batch as a stack of planes, and running work over blocks of
//! planes on the thread pool (pooling, the augmentation kernels).

use std::ops::Range;

use super::parallel::{run_chunks, threads_for};

/// `n` images of `c` planes of `h x w` elements, stored in C order (NCHW).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Images {
    pub n: usize,
    pub c: usize,
    pub h: usize,
    pub w: usize,
}

impl Images {
    /// `[n, c, h, w]`.
    pub fn new([n, c, h, w]: [usize; 4]) -> Self {
        Self { n, c, h, w }
    }

    /// Elements in one plane (`h * w`).
    pub fn plane(&self) -> usize {
        self.h * self.w
    }

    /// Planes in the batch (`n * c`).
    pub fn planes(&self) -> usize {
        self.n * self.c
    }

    /// Elements in the batch.
    pub fn len(&self) -> usize {
        self.planes() * self.plane()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The elements of plane `p` within the batch.
    pub fn plane_range(&self, p: usize) -> Range<usize> {
        p * self.plane()..(p + 1) * self.plane()
    }
}

/// Call `f` on blocks of `0..planes`, in parallel when `planes * per_plane`
/// (elements touched) reaches `grain` per thread.
pub fn for_each_plane_block(planes: usize, per_plane: usize, grain: usize, f: impl Fn(Range<usize>) + Sync) {
    let threads = threads_for(planes.saturating_mul(per_plane), grain);
    if threads <= 1 || planes <= 1 {
        f(0..planes);
        return;
    }
    // A few blocks per thread, so a late-starting thread only takes what is left.
    let step = planes.div_ceil(threads * 4);
    run_chunks(planes.div_ceil(step), threads, |i| {
        f(i * step..((i + 1) * step).min(planes))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::parallel::set_num_threads;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn blocks_cover_every_plane_once() {
        set_num_threads(2);
        for (planes, per_plane) in [(0, 10), (1, 1 << 20), (7, 1), (300, 1 << 12)] {
            let seen: Vec<AtomicUsize> = (0..planes).map(|_| AtomicUsize::new(0)).collect();
            for_each_plane_block(planes, per_plane, 1 << 15, |r| {
                for p in r {
                    seen[p].fetch_add(1, Ordering::Relaxed);
                }
            });
            assert!(seen.iter().all(|s| s.load(Ordering::Relaxed) == 1));
        }
    }

    #[test]
    fn sizes() {
        let img = Images::new([2, 3, 4, 5]);
        assert_eq!((img.plane(), img.planes(), img.len()), (20, 6, 120));
        assert_eq!(img.plane_range(2), 40..60);
        assert!(Images::new([0, 3, 4, 5]).is_empty());
    }
}
