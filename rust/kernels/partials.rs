//! Parallel reductions whose result does not depend on the thread count.
//!
//! The work `0..len` is cut into fixed blocks (their size depends on `len`
//! only), each block's partial result goes to its own slot, and the slots
//! are merged in block order afterwards. Threads only decide who computes
//! which block, so 1 or 8 threads give the same bits.

use std::ops::Range;

use super::parallel::{run_chunks, threads_for, SharedMut};

/// The most blocks a reduction is cut into (their partials live on the stack).
pub const MAX_BLOCKS: usize = 1024;

/// A partial result of one block, merged with the next block's.
pub trait Partial: Copy + Send + Sync {
    /// The partial of no work.
    const EMPTY: Self;
    /// `self` followed by `next`.
    fn merge(self, next: Self) -> Self;
}

/// A plain sum.
impl Partial for f64 {
    const EMPTY: Self = 0.0;
    fn merge(self, next: Self) -> Self {
        self + next
    }
}

/// `f(block)` for consecutive blocks covering `0..len`, merged in order.
///
/// Blocks hold a multiple of `min_block` units (the last one may be
/// shorter), at most [`MAX_BLOCKS`] of them; they run on up to `threads_for(len, grain)`
/// threads. `f` may also write outputs of its block (through a
/// [`SharedMut`]: blocks are disjoint).
pub fn reduce_blocks<P: Partial>(
    len: usize,
    min_block: usize,
    grain: usize,
    f: impl Fn(Range<usize>) -> P + Sync,
) -> P {
    let min_block = min_block.max(1);
    let block = len.div_ceil(MAX_BLOCKS).next_multiple_of(min_block).max(min_block);
    let blocks = len.div_ceil(block);
    let mut slots = [P::EMPTY; MAX_BLOCKS];
    let shared = SharedMut::new(&mut slots[..blocks]);
    run_chunks(blocks, threads_for(len, grain), |i| {
        let partial = f(i * block..((i + 1) * block).min(len));
        // SAFETY: each block index is run exactly once.
        let slot = unsafe { shared.range(i..i + 1) };
        slot[0] = partial;
    });
    slots[..blocks].iter().fold(P::EMPTY, |acc, &p| acc.merge(p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::parallel::set_num_threads;

    #[test]
    fn every_unit_once_and_the_same_bits_at_any_thread_count() {
        let values: Vec<f64> = (0..3_000_017u64)
            .map(|i| ((i * 7919) % 1000) as f64 * 0.1 + 1e-7)
            .collect();
        let sum = |threads| {
            set_num_threads(threads);
            reduce_blocks(values.len(), 4096, 1 << 14, |r| values[r].iter().sum::<f64>())
        };
        let one = sum(1);
        assert_eq!(one, sum(2));
        assert_eq!(one, sum(4));
        set_num_threads(2);
        let exact: f64 = values.iter().sum();
        assert!((one - exact).abs() < 1e-6 * exact);
        for len in [0usize, 1, 63, 4096, 4097, MAX_BLOCKS * 4096 + 1] {
            let count = reduce_blocks(len, 4096, 1000, |r| {
                assert!(r.start % 4096 == 0 && !r.is_empty());
                r.len() as f64
            });
            assert_eq!(count, len as f64);
        }
    }
}
