//! The Winograd passes against the direct definition of the convolution.

use super::*;
use crate::kernels::parallel::set_num_threads;
use crate::kernels::testing::{assert_close, naive_conv_forward, Rng};

/// `dw[f,c,ky,kx] = sum dout[n,f,i,j] x[n,c,i+ky-p,j+kx-p]`: the derivative of
/// [`naive_conv_forward`] in each tap.
fn naive_filter_grad(dout: &[f64], x: &[f64], g: &Window, filters: usize) -> Vec<f64> {
    let mut dw = vec![0.0; filters * g.c * 9];
    for n in 0..g.n {
        for f in 0..filters {
            for c in 0..g.c {
                for ky in 0..3 {
                    for kx in 0..3 {
                        let mut acc = 0.0;
                        for i in 0..g.oh {
                            for j in 0..g.ow {
                                let (ih, iw) = ((i + ky) as isize - g.pad as isize, (j + kx) as isize - g.pad as isize);
                                if ih >= 0 && iw >= 0 && (ih as usize) < g.h && (iw as usize) < g.w {
                                    let xv = x[((n * g.c + c) * g.h + ih as usize) * g.w + iw as usize];
                                    acc += dout[((n * filters + f) * g.oh + i) * g.ow + j] * xv;
                                }
                            }
                        }
                        dw[((f * g.c + c) * 3 + ky) * 3 + kx] += acc;
                    }
                }
            }
        }
    }
    dw
}

/// Geometries with odd and even planes, planes smaller than a tile, pads
/// 0 to 2, one image, and more images than a block holds.
fn cases() -> Vec<(Window, usize)> {
    [
        ([1, 1, 3, 3], 1, 0),
        ([2, 3, 7, 5], 4, 1),
        ([3, 2, 6, 9], 3, 2),
        ([1, 5, 1, 2], 2, 2),
        ([2, 4, 10, 11], 6, 0),
        ([40, 3, 8, 8], 5, 1),
        ([3, 16, 14, 14], 16, 1),
    ]
    .into_iter()
    .map(|(shape, filters, pad)| (Window::new(shape, 3, 3, 1, pad).unwrap(), filters))
    .collect()
}

const SIZES: [TileSize; 2] = [TileSize::F2, TileSize::F4];

#[test]
fn forward_matches_the_definition() {
    let mut rng = Rng::new(4);
    for threads in [1, 2] {
        set_num_threads(threads);
        for (g, filters) in cases() {
            let (x, w, b) = (rng.vec(g.n * g.image()), rng.vec(filters * g.c * 9), rng.vec(filters));
            let want = naive_conv_forward(&x, &w, &b, &g);
            for size in SIZES {
                let mut out = vec![f64::NAN; want.len()];
                forward(&x, &w, &b, &g, &mut out, size, threads).unwrap();
                assert_close(&out, &want, 1e-12);
            }
        }
    }
}

/// The gradients are the adjoint of the forward (linear in x and in w):
/// `<dout, F(x', w)> == <dx, x'>` and `<dout, F(x, w')> == <dw, w'>`.
#[test]
fn gradients_are_the_adjoint_of_forward() {
    let mut rng = Rng::new(6);
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(a, b)| a * b).sum::<f64>();
    for threads in [1, 2] {
        set_num_threads(threads);
        for (g, filters) in cases() {
            let (x, w) = (rng.vec(g.n * g.image()), rng.vec(filters * g.c * 9));
            let dout = rng.vec(g.n * filters * g.out_plane());
            let zero_b = vec![0.0; filters];
            for size in SIZES {
                let mut dx = vec![f64::NAN; x.len()];
                input_grad(&dout, &w, &g, filters, &mut dx, size, threads).unwrap();
                let dir = rng.vec(x.len());
                let want = dot(&dout, &naive_conv_forward(&dir, &w, &zero_b, &g));
                assert!(
                    (dot(&dx, &dir) - want).abs() < 1e-10 * (1.0 + want.abs()),
                    "dx {g:?} {size:?}"
                );

                let (mut dw, mut db) = (vec![f64::NAN; w.len()], vec![f64::NAN; filters]);
                filter_grad(&dout, &x, &g, &mut dw, &mut db, size, threads).unwrap();
                assert_close(&dw, &naive_filter_grad(&dout, &x, &g, filters), 1e-11);
                for (f, &d) in db.iter().enumerate() {
                    let sum: f64 = (0..g.n)
                        .map(|n| {
                            dout[(n * filters + f) * g.out_plane()..][..g.out_plane()]
                                .iter()
                                .sum::<f64>()
                        })
                        .sum();
                    assert!((d - sum).abs() < 1e-11 * (1.0 + sum.abs()));
                }
            }
        }
    }
}
