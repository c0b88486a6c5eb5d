//! Random erasing's kernel: one rectangle of each image of an NCHW batch
//! set to a value, in every plane of the image (in a copy, or in place).
//!
//! Image `n`'s box `[top, left, bottom, right]` covers rows `top..bottom` and
//! columns `left..right`, clipped to the plane: any integers are valid, and
//! a box that is empty or outside the plane erases nothing.

use std::ops::Range;

use super::float::Float;
use super::images::{for_each_plane_block, Images};
use super::parallel::SharedMut;

/// Elements copied per thread below which a call stays single-threaded.
const GRAIN: usize = 1 << 16;

/// Values in one image's box `[top, left, bottom, right]`.
pub const BOX: usize = 4;

/// `out = x`, then every plane of image `n` set to `value` inside `boxes[n]`.
pub fn erase_boxes<T: Float>(x: &[T], img: Images, boxes: &[i64], value: T, out: &mut [T]) {
    assert_eq!(x.len(), img.len(), "x length");
    each_plane(img, boxes, value, out, |p, o| o.copy_from_slice(&x[img.plane_range(p)]));
}

/// [`erase_boxes`] writing the boxes into `x` itself (nothing else is touched).
pub fn erase_boxes_in_place<T: Float>(x: &mut [T], img: Images, boxes: &[i64], value: T) {
    each_plane(img, boxes, value, x, |_, _| {});
}

/// For every plane `p` of `out` (blocks of planes on the threads): `first(p, plane)`,
/// then its image's box set to `value`.
fn each_plane<T: Float>(img: Images, boxes: &[i64], value: T, out: &mut [T], first: impl Fn(usize, &mut [T]) + Sync) {
    assert_eq!(out.len(), img.len(), "out length");
    assert_eq!(boxes.len(), img.n * BOX, "one box per image");
    if out.is_empty() {
        return;
    }
    let out = SharedMut::new(out);
    for_each_plane_block(img.planes(), img.plane(), GRAIN, |planes| {
        for p in planes {
            // SAFETY: each plane is written by one block only.
            let o = unsafe { out.range(img.plane_range(p)) };
            first(p, o);
            let b = &boxes[(p / img.c) * BOX..][..BOX];
            let (rows, cols) = (clip(b[0], b[2], img.h), clip(b[1], b[3], img.w));
            for row in o[rows.start * img.w..rows.end * img.w].chunks_exact_mut(img.w) {
                row[cols.clone()].fill(value);
            }
        }
    });
}

/// `lo..hi` within `0..size` (empty when `hi <= lo`).
fn clip(lo: i64, hi: i64, size: usize) -> Range<usize> {
    let size = i64::try_from(size).unwrap_or(i64::MAX);
    let lo = lo.clamp(0, size);
    lo as usize..hi.clamp(lo, size) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::parallel::set_num_threads;

    #[test]
    fn boxes_are_clipped_and_fill_every_plane_of_their_image() {
        let img = Images::new([3, 2, 3, 4]);
        let x: Vec<f64> = (0..img.len()).map(|v| v as f64).collect();
        let boxes = [1, 1, 3, 3, -5, 2, 1, 99, 2, 2, 1, 1]; // inside; clipped; empty
        let mut out = vec![0.0; x.len()];
        erase_boxes(&x, img, &boxes, -1.0, &mut out);
        let mut in_place = x.clone();
        erase_boxes_in_place(&mut in_place, img, &boxes, -1.0);
        assert_eq!(in_place, out);
        for p in 0..img.planes() {
            for i in 0..3 {
                for j in 0..4 {
                    let k = p * 12 + i * 4 + j;
                    let erased = match p / 2 {
                        0 => (1..3).contains(&i) && (1..3).contains(&j),
                        1 => i < 1 && j >= 2,
                        _ => false,
                    };
                    assert_eq!(out[k], if erased { -1.0 } else { x[k] }, "plane {p} ({i}, {j})");
                }
            }
        }
    }

    #[test]
    fn extreme_boxes_and_empty_batches() {
        assert_eq!(clip(i64::MIN, i64::MAX, 5), 0..5);
        assert_eq!(clip(i64::MAX, i64::MIN, 5), 5..5);
        assert_eq!(clip(3, 2, 5), 3..3);
        for shape in [[0, 1, 2, 2], [2, 1, 0, 3], [2, 0, 3, 3]] {
            let img = Images::new(shape);
            erase_boxes::<f32>(&[], img, &vec![0; img.n * BOX], 0.0, &mut []);
        }
    }

    #[test]
    fn results_do_not_depend_on_the_thread_count() {
        let img = Images::new([200, 3, 28, 28]);
        let x: Vec<f32> = (0..img.len()).map(|v| (v % 251) as f32).collect();
        let boxes: Vec<i64> = (0..img.n as i64)
            .flat_map(|n| [n % 20, n % 13, n % 20 + 7, n % 13 + 9])
            .collect();
        let mut runs = Vec::new();
        for threads in [1, 2, 3] {
            set_num_threads(threads);
            let mut out = vec![0.0f32; x.len()];
            erase_boxes(&x, img, &boxes, 0.5, &mut out);
            runs.push(out);
        }
        set_num_threads(2);
        assert!(runs.windows(2).all(|r| r[0] == r[1]));
    }
}
