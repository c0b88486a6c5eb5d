//! Unrolling image patches into matrices (im2col) and folding them back
//! (col2im), with zero padding. No temporaries: every function writes into
//! a buffer the caller allocated.
//!
//! Two layouts:
//! * the book's, for a whole batch: `col (n*oh*ow, c*fh*fw)`, one row per
//!   output position `(n, i, j)`, one column per filter tap `(c, ky, kx)`
//!   ([`im2col`], [`col2im`]);
//! * the transposed one, for one image: `cols (c*fh*fw, oh*ow)`
//!   ([`unfold_image`], [`fold_image`]). A convolution is then
//!   `W (fn, c*fh*fw) @ cols`, which is already the image's `(fn, oh, ow)`
//!   output plane: no transpose.

use super::float::Float;
use super::geometry::Window;
use super::parallel::{run_chunks, threads_for, SharedMut};

/// Elements written per thread below which a call stays single-threaded.
const GRAIN: usize = 1 << 16;

/// The input row `ih` for output row `i` and filter row `ky`, if inside.
#[inline]
fn input_row(g: &Window, i: usize, ky: usize) -> Option<usize> {
    (i * g.stride + ky).checked_sub(g.pad).filter(|&r| r < g.h)
}

/// `cols (c*fh*fw, oh*ow)` of one image `x (c, h, w)`.
pub fn unfold_image<T: Float>(x: &[T], g: &Window, cols: &mut [T]) {
    assert_eq!(x.len(), g.image());
    assert_eq!(cols.len(), g.patch() * g.out_plane());
    let mut rows = cols.chunks_exact_mut(g.out_plane().max(1));
    for c in 0..g.c {
        let plane = &x[c * g.in_plane()..(c + 1) * g.in_plane()];
        for ky in 0..g.fh {
            for kx in 0..g.fw {
                let row = rows.next().expect("one row per filter tap");
                let js = g.valid_outputs(kx, g.w, g.ow);
                for (i, out) in row.chunks_exact_mut(g.ow).enumerate() {
                    let Some(ih) = input_row(g, i, ky) else {
                        out.fill(T::ZERO);
                        continue;
                    };
                    let src = &plane[ih * g.w..(ih + 1) * g.w];
                    out[..js.start].fill(T::ZERO);
                    out[js.end..].fill(T::ZERO);
                    if js.is_empty() {
                        continue;
                    }
                    // input column of output j: j * stride + kx - pad
                    let first = js.start * g.stride + kx - g.pad;
                    if g.stride == 1 {
                        out[js.clone()].copy_from_slice(&src[first..first + js.len()]);
                    } else {
                        for (o, &v) in out[js.clone()].iter_mut().zip(src[first..].iter().step_by(g.stride)) {
                            *o = v;
                        }
                    }
                }
            }
        }
    }
}

/// `dx (c, h, w) += fold(cols)`: the adjoint of [`unfold_image`]; entries
/// that came from padding are dropped, overlapping taps add up.
pub fn fold_image<T: Float>(cols: &[T], g: &Window, dx: &mut [T]) {
    assert_eq!(dx.len(), g.image());
    assert_eq!(cols.len(), g.patch() * g.out_plane());
    let mut rows = cols.chunks_exact(g.out_plane().max(1));
    for c in 0..g.c {
        let plane = &mut dx[c * g.in_plane()..(c + 1) * g.in_plane()];
        for ky in 0..g.fh {
            for kx in 0..g.fw {
                let row = rows.next().expect("one row per filter tap");
                let js = g.valid_outputs(kx, g.w, g.ow);
                if js.is_empty() {
                    continue;
                }
                let first = js.start * g.stride + kx - g.pad;
                for (i, src) in row.chunks_exact(g.ow).enumerate() {
                    let Some(ih) = input_row(g, i, ky) else { continue };
                    let dst = &mut plane[ih * g.w + first..(ih + 1) * g.w];
                    for (d, &v) in dst.iter_mut().step_by(g.stride).zip(&src[js.clone()]) {
                        *d += v;
                    }
                }
            }
        }
    }
}

/// The book's im2col: `x (n, c, h, w)` -> `col (n*oh*ow, c*fh*fw)`.
pub fn im2col<T: Float>(x: &[T], g: &Window, col: &mut [T]) {
    assert_eq!(x.len(), g.n * g.image());
    let rows_per_image = g.out_plane() * g.patch();
    assert_eq!(col.len(), g.n * rows_per_image);
    if col.is_empty() {
        return; // no channels (or no images): nothing to write, however many images there are
    }
    let shared = SharedMut::new(col);
    run_chunks(g.n, threads_for(col_len(g), GRAIN), |n| {
        // SAFETY: image n owns rows n*oh*ow .. (n+1)*oh*ow of col.
        let rows = unsafe { shared.range(n * rows_per_image..(n + 1) * rows_per_image) };
        image_im2col(&x[n * g.image()..(n + 1) * g.image()], g, rows);
    });
}

fn col_len(g: &Window) -> usize {
    g.n * g.out_plane() * g.patch()
}

/// The input column of filter column 0 for output column `j` (may be
/// negative: padding), and whether the whole `fw`-wide tap run is inside.
#[inline]
fn tap_start(g: &Window, j: usize) -> (isize, bool) {
    let start = (j * g.stride) as isize - g.pad as isize;
    (start, start >= 0 && start as usize + g.fw <= g.w)
}

multiversion! {
    /// One image's rows of the book's layout: `rows (oh*ow, c*fh*fw)`.
    pub fn image_im2col<T>(x: &[T], g: &Window, rows: &mut [T]) {
        let patch = g.patch();
        for i in 0..g.oh {
            let out = &mut rows[i * g.ow * patch..(i + 1) * g.ow * patch]; // (ow, patch)
            for c in 0..g.c {
                for ky in 0..g.fh {
                    let col = (c * g.fh + ky) * g.fw; // this run's first column
                    let taps = out.chunks_exact_mut(patch).map(|row| &mut row[col..col + g.fw]);
                    let Some(ih) = input_row(g, i, ky) else {
                        taps.for_each(|tap| tap.fill(T::ZERO));
                        continue;
                    };
                    let src = &x[c * g.in_plane() + ih * g.w..][..g.w];
                    for (j, tap) in taps.enumerate() {
                        let (start, inside) = tap_start(g, j);
                        if inside {
                            copy_short(tap, &src[start as usize..start as usize + g.fw]);
                        } else {
                            for (kx, t) in tap.iter_mut().enumerate() {
                                let iw = start + kx as isize;
                                *t = if iw >= 0 && (iw as usize) < g.w { src[iw as usize] } else { T::ZERO };
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `dst.copy_from_slice(src)` for the short runs of a filter row, with the
/// common widths unrolled (a `memcpy` call per 3-element run costs more
/// than the copy).
#[inline(always)]
fn copy_short<T: Copy>(dst: &mut [T], src: &[T]) {
    macro_rules! fixed {
        ($($n:literal)*) => {
            match dst.len() {
                $($n => dst[..$n].copy_from_slice(&src[..$n]),)*
                _ => dst.copy_from_slice(src),
            }
        };
    }
    fixed!(1 2 3 4 5 6 7)
}

/// The book's col2im: `col (n*oh*ow, c*fh*fw)` -> `x (n, c, h, w)`, summing
/// overlapping taps and dropping padding. `x` is overwritten.
pub fn col2im<T: Float>(col: &[T], g: &Window, x: &mut [T]) {
    assert_eq!(x.len(), g.n * g.image());
    let rows_per_image = g.out_plane() * g.patch();
    assert_eq!(col.len(), g.n * rows_per_image);
    if x.is_empty() {
        return; // no channels (or no images): nothing to write, however many images there are
    }
    let shared = SharedMut::new(x);
    run_chunks(g.n, threads_for(col_len(g), GRAIN), |n| {
        // SAFETY: image n writes only its own (c, h, w) block of x.
        let img = unsafe { shared.range(n * g.image()..(n + 1) * g.image()) };
        img.fill(T::ZERO);
        image_col2im(&col[n * rows_per_image..(n + 1) * rows_per_image], g, img);
    });
}

multiversion! {
    fn image_col2im<T>(rows: &[T], g: &Window, x: &mut [T]) {
        let patch = g.patch();
        for i in 0..g.oh {
            for j in 0..g.ow {
                let (start, inside) = tap_start(g, j);
                let row = &rows[(i * g.ow + j) * patch..][..patch];
                for (run, tap) in row.chunks_exact(g.fw).enumerate() {
                    let (c, ky) = (run / g.fh, run % g.fh);
                    let Some(ih) = input_row(g, i, ky) else { continue };
                    let dst = &mut x[c * g.in_plane() + ih * g.w..][..g.w];
                    if inside {
                        for (d, &t) in dst[start as usize..start as usize + g.fw].iter_mut().zip(tap) {
                            *d += t;
                        }
                    } else {
                        for (kx, &t) in tap.iter().enumerate() {
                            let iw = start + kx as isize;
                            if iw >= 0 && (iw as usize) < g.w {
                                dst[iw as usize] += t;
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::testing::Rng;

    /// x[n, c, ih, iw] for padded coordinates, 0 outside.
    fn at(x: &[f64], g: &Window, n: usize, c: usize, ih: isize, iw: isize) -> f64 {
        if ih < 0 || iw < 0 || ih >= g.h as isize || iw >= g.w as isize {
            return 0.0;
        }
        x[((n * g.c + c) * g.h + ih as usize) * g.w + iw as usize]
    }

    const CASES: [([usize; 4], usize, usize, usize, usize); 8] = [
        ([2, 3, 7, 6], 3, 3, 1, 1),
        ([1, 1, 5, 5], 5, 5, 1, 0),
        ([2, 2, 9, 8], 3, 2, 2, 1),
        ([1, 3, 6, 7], 2, 3, 3, 2),
        ([3, 1, 4, 4], 1, 1, 1, 0),
        ([1, 2, 3, 3], 4, 4, 1, 2),
        ([1, 2, 1, 1], 3, 3, 3, 2),
        ([2, 1, 2, 5], 5, 2, 2, 2),
    ];

    #[test]
    fn im2col_matches_definition_in_both_layouts() {
        let mut rng = Rng::new(11);
        for (shape, fh, fw, stride, pad) in CASES {
            let g = Window::new(shape, fh, fw, stride, pad).unwrap();
            let x = rng.vec(g.n * g.image());
            let mut col = vec![f64::NAN; col_len(&g)];
            im2col(&x, &g, &mut col);
            let mut cols = vec![f64::NAN; g.patch() * g.out_plane()];
            for n in 0..g.n {
                unfold_image(&x[n * g.image()..(n + 1) * g.image()], &g, &mut cols);
                for i in 0..g.oh {
                    for j in 0..g.ow {
                        for c in 0..g.c {
                            for ky in 0..fh {
                                for kx in 0..fw {
                                    let ih = (i * stride + ky) as isize - pad as isize;
                                    let iw = (j * stride + kx) as isize - pad as isize;
                                    let want = at(&x, &g, n, c, ih, iw);
                                    let tap = (c * fh + ky) * fw + kx;
                                    let pos = i * g.ow + j;
                                    assert_eq!(col[(n * g.out_plane() + pos) * g.patch() + tap], want);
                                    assert_eq!(cols[tap * g.out_plane() + pos], want);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn no_channels_means_no_work_however_many_images() {
        // 2^40 images of no channels: a loop over the images would run for hours
        let g = Window::new([1 << 40, 0, 0, 0], 1, 1, 1, 1).unwrap();
        assert_eq!((g.oh, g.ow), (2, 2));
        im2col::<f32>(&[], &g, &mut []);
        col2im::<f32>(&[], &g, &mut []);
    }

    #[test]
    fn folding_is_the_adjoint_of_unfolding() {
        let mut rng = Rng::new(5);
        for (shape, fh, fw, stride, pad) in CASES {
            let g = Window::new(shape, fh, fw, stride, pad).unwrap();
            let x = rng.vec(g.n * g.image());
            let c = rng.vec(col_len(&g));
            let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(a, b)| a * b).sum::<f64>();
            // <col2im(c), x> == <c, im2col(x)>
            let (mut col, mut back) = (vec![0.0; c.len()], vec![f64::NAN; x.len()]);
            im2col(&x, &g, &mut col);
            col2im(&c, &g, &mut back);
            assert!((dot(&back, &x) - dot(&c, &col)).abs() < 1e-9);
            // the same for one image in the transposed layout
            let img = &x[..g.image()];
            let ct = &c[..g.patch() * g.out_plane()];
            let (mut cols, mut folded) = (vec![0.0; ct.len()], vec![0.0; img.len()]);
            unfold_image(img, &g, &mut cols);
            fold_image(ct, &g, &mut folded);
            assert!((dot(&folded, img) - dot(ct, &cols)).abs() < 1e-9);
        }
    }
}
