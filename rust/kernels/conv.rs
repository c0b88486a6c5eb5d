//! Convolution (cross-correlation, as in the book) over NCHW batches, and
//! its gradients, each pass by the method measured fastest for its shape:
//!
//! * [`conv_unrolled`](super::conv_unrolled): unroll each image's windows
//!   and multiply by the filters (any window, stride and pad);
//! * [`conv_direct`](super::conv_direct): stride 1, few input channels
//!   (a first layer): each output vector sums shifted input vectors;
//! * [`winograd`]: 3x3 filters at stride 1 by F(4x4, 3x3) (or F(2x2, 3x3)
//!   on small planes) tiles: 4x fewer multiplications for the price of tile
//!   transforms, which pays from about 8 images and a few input channels.
//!
//! `FERRONET_CONV` (read once) overrides the choice for tests and
//! comparisons: `unrolled`, `direct`, `winograd2` or `winograd4` (each
//! where it applies, the unrolled method elsewhere), or `auto`, the default.

use std::sync::OnceLock;

use super::conv_direct as direct;
use super::conv_unrolled as unrolled;
use super::error::KResult;
use super::float::Float;
use super::geometry::Window;
use super::matmul::PARALLEL_GRAIN_FLOPS;
use super::parallel::{join, num_threads, threads_for};
use super::winograd::{self, TileSize};

/// How one pass is computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Unrolled,
    Direct,
    Winograd(TileSize),
}

/// The three passes of a convolution layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
    Forward,
    InputGrad,
    FilterGrad,
}

/// Fewest images for Winograd: it transforms 16 images at once (one per
/// SIMD lane), and below about half of that the unrolled product is faster
/// (measured on the DeepConvNet layers: even at 4 images, ahead from 8).
const WINOGRAD_MIN_IMAGES: usize = 8;

/// Most input channels for the direct forward of a 3x3 convolution (1 -> 16
/// at 28x28, one thread: direct 0.44 ms, unrolled 0.49, F(4x4, 3x3) 0.87;
/// 3 -> 16: 0.88, 1.16, 1.11; at 4 Winograd takes over).
const DIRECT_MAX_CHANNELS: usize = 3;
/// Largest filter side for which a weight gradient of one input channel
/// goes to the direct method when Winograd does not apply (5x5 is measured).
const DIRECT_DW_MAX_FILTER: usize = 7;

/// Multiply-adds of one pass over the batch.
fn flops(g: &Window, filters: usize) -> usize {
    g.n * g.out_plane() * g.patch() * filters
}

/// Threads for one pass by `method`: Winograd does about a quarter of the
/// direct multiply-adds (below that two threads lost to one on 8 images of
/// 16 -> 16 channels at 8x8: 49 us against 32).
fn threads(g: &Window, filters: usize, method: Method) -> usize {
    let work = match method {
        Method::Winograd(_) => flops(g, filters) / 4,
        Method::Unrolled | Method::Direct => flops(g, filters),
    };
    threads_for(work, PARALLEL_GRAIN_FLOPS)
}

/// The method `FERRONET_CONV` forces, if any.
fn forced() -> Option<Method> {
    static FORCED: OnceLock<Option<Method>> = OnceLock::new();
    *FORCED.get_or_init(
        || match std::env::var("FERRONET_CONV").ok()?.to_ascii_lowercase().as_str() {
            "unrolled" => Some(Method::Unrolled),
            "direct" => Some(Method::Direct),
            "winograd2" => Some(Method::Winograd(TileSize::F2)),
            "winograd4" => Some(Method::Winograd(TileSize::F4)),
            _ => None,
        },
    )
}

/// Whether `m` can compute `pass` of geometry `g` with `filters` filters:
/// Direct needs stride 1 (and computes no input gradient), Winograd 3x3
/// filters at stride 1 (and pad <= 2 for the input gradient, the
/// convolution of `dout` padded by `2 - pad`); both need at least one
/// image, channel and filter (the unrolled method handles empty arrays).
fn applies(m: Method, g: &Window, filters: usize, pass: Pass) -> bool {
    let something = g.n > 0 && g.c > 0 && filters > 0;
    match m {
        Method::Unrolled => true,
        Method::Direct => something && g.stride == 1 && pass != Pass::InputGrad,
        Method::Winograd(_) => {
            something && g.stride == 1 && g.fh == 3 && g.fw == 3 && (pass != Pass::InputGrad || g.pad <= 2)
        }
    }
}

/// The method for `pass` of a convolution of geometry `g` with `filters`
/// filters.
pub fn method(g: &Window, filters: usize, pass: Pass) -> Method {
    if let Some(m) = forced() {
        return if applies(m, g, filters, pass) {
            m
        } else {
            Method::Unrolled
        };
    }
    if !applies(Method::Winograd(TileSize::F4), g, filters, pass) {
        // other filter sizes: the direct weight gradient of one input
        // channel, for filters up to 7x7 (SimpleConvNet's 1 -> 30 5x5 at
        // one thread: 2.1-2.2 ms against 3.1-3.2 unrolled; its forward:
        // 1.8 ms either way). One call of the direct kernel per image
        // would be too long to interrupt with huge filters.
        let direct_dw = pass == Pass::FilterGrad
            && g.c == 1
            && g.fh.max(g.fw) <= DIRECT_DW_MAX_FILTER
            && applies(Method::Direct, g, filters, pass);
        return if direct_dw { Method::Direct } else { Method::Unrolled };
    }
    // the pass's convolution: its input channels and output plane
    let (inputs, (oh, ow)) = match pass {
        Pass::Forward => (g.c, (g.oh, g.ow)),
        Pass::InputGrad => (filters, (g.h, g.w)),
        Pass::FilterGrad => (g.c, (g.oh, g.ow)),
    };
    // one input channel (or up to three in the forward) leaves too few
    // products for Winograd's transforms to pay
    if (pass == Pass::Forward && inputs <= DIRECT_MAX_CHANNELS) || (pass == Pass::FilterGrad && inputs == 1) {
        return Method::Direct;
    }
    if g.n < WINOGRAD_MIN_IMAGES || inputs < 2 {
        return Method::Unrolled;
    }
    // F(2x2, 3x3) where it needs fewer transformed products (planes 1 or 2
    // outputs high or wide, where 4x4 tiles would be mostly padding), and
    // for weight gradients whose 4x4 tiles overhang the plane by more than
    // a fifth, where its cheaper transforms win (16 -> 16 and 16 -> 32 at
    // 14x14, tiles covering 16x16: 6-9% faster)
    let products = |m: usize, a: usize| a * a * oh.div_ceil(m) * ow.div_ceil(m);
    let overhang = 5 * products(4, 4) > 6 * oh * ow;
    if products(2, 4) < products(4, 6) || (pass == Pass::FilterGrad && overhang) {
        Method::Winograd(TileSize::F2)
    } else {
        Method::Winograd(TileSize::F4)
    }
}

/// `out (n, fn, oh, ow) = conv(x (n, c, h, w), w (fn, c, fh, fw)) + b (fn,)`.
pub fn conv_forward<T: Float>(x: &[T], w: &[T], b: &[T], g: &Window, out: &mut [T]) -> KResult<()> {
    let filters = b.len();
    assert_eq!(x.len(), g.n * g.image());
    assert_eq!(w.len(), filters * g.patch());
    assert_eq!(out.len(), g.n * filters * g.out_plane());
    if out.is_empty() {
        return Ok(()); // the image loops would run n times for nothing (n may be 2^45)
    }
    match method(g, filters, Pass::Forward) {
        Method::Unrolled => unrolled::forward(x, w, b, g, out),
        m @ Method::Direct => direct::forward(x, w, b, g, out, threads(g, filters, m)),
        m @ Method::Winograd(size) => winograd::forward(x, w, b, g, out, size, threads(g, filters, m)),
    }
}

/// Gradients of [`conv_forward`] for `dout (n, fn, oh, ow)`:
/// `dw (fn, c, fh, fw)`, `db (fn,)` and, when given, `dx (n, c, h, w)`;
/// on two threads the two passes may run side by side (see below).
#[allow(clippy::too_many_arguments)]
pub fn conv_backward<T: Float>(
    dout: &[T],
    x: &[T],
    w: &[T],
    g: &Window,
    dx: Option<&mut [T]>,
    dw: &mut [T],
    db: &mut [T],
) -> KResult<()> {
    let filters = db.len();
    assert_eq!(x.len(), g.n * g.image());
    assert_eq!(w.len(), filters * g.patch());
    assert_eq!(dw.len(), filters * g.patch());
    assert_eq!(dout.len(), g.n * filters * g.out_plane());
    if dout.is_empty() {
        // sums over no positions; the image loops would run n times for nothing
        dw.fill(T::ZERO);
        db.fill(T::ZERO);
        if let Some(dx) = dx {
            assert_eq!(dx.len(), g.n * g.image());
            dx.fill(T::ZERO);
        }
        return Ok(());
    }
    let dw_method = method(g, filters, Pass::FilterGrad);
    let filter_grad = |dw: &mut [T], db: &mut [T]| match dw_method {
        Method::Unrolled => unrolled::filter_grad(dout, x, g, dw, db),
        m @ Method::Direct => direct::filter_grad(dout, x, g, dw, db, threads(g, filters, m)),
        m @ Method::Winograd(size) => winograd::filter_grad(dout, x, g, dw, db, size, threads(g, filters, m)),
    };
    let Some(dx) = dx else {
        return filter_grad(dw, db);
    };
    assert_eq!(dx.len(), g.n * g.image());
    let dx_method = method(g, filters, Pass::InputGrad);
    let input_grad = |dx: &mut [T]| match dx_method {
        Method::Unrolled | Method::Direct => unrolled::input_grad(dout, w, g, filters, dx),
        m @ Method::Winograd(size) => winograd::input_grad(dout, w, g, filters, dx, size, threads(g, filters, m)),
    };
    // On two threads, two Winograd passes that would each take both run side
    // by side, one per thread: each pass alone scales to 0.6-0.8x of its
    // one-thread time (its transforms share the memory bandwidth; its last
    // blocks leave a thread idle), the pair side by side to about the
    // longer pass's one-thread time. DeepConvNet's layers at batch 100 in
    // the network, side by side against one after the other (2 threads,
    // 2026-11-28): 16 -> 16 at 28x28 3.98 ms against 5.45, 32 -> 32 at
    // 14x14 4.39 against 5.65, 64 -> 64 at 8x8 4.26 against 5.20; the
    // training step 3.5-7% faster.
    let two = |m: Method| matches!(m, Method::Winograd(_)) && threads(g, filters, m) == 2;
    if num_threads() == 2 && two(dw_method) && two(dx_method) {
        let (mut dw_done, mut dx_done) = (Ok(()), Ok(()));
        join(2, || dw_done = filter_grad(dw, db), || dx_done = input_grad(dx));
        dw_done?;
        return dx_done;
    }
    filter_grad(dw, db)?;
    input_grad(dx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::testing::{assert_close, naive_conv_forward, Rng};

    #[test]
    fn empty_outputs_are_no_work_however_many_images() {
        // 2^45 images of no channels, no width: nothing to read or write
        let g = Window::new([1 << 45, 0, 1, 0], 1, 5, 1 << 40, 1 << 40).unwrap();
        let started = std::time::Instant::now();
        conv_forward::<f32>(&[], &[], &[], &g, &mut []).unwrap();
        let (mut dw, mut db) = (vec![], vec![]);
        conv_backward::<f32>(&[], &[], &[], &g, Some(&mut []), &mut dw, &mut db).unwrap();
        // images but no filters: the input gradient is a sum over nothing
        let g = Window::new([2, 3, 4, 4], 3, 3, 1, 1).unwrap();
        let x = vec![1.0f32; g.n * g.image()];
        let mut dx = vec![7.0f32; x.len()];
        conv_backward(&[], &x, &[], &g, Some(&mut dx), &mut [], &mut []).unwrap();
        assert!(dx.iter().all(|&v| v == 0.0));
        // no images: the filter and bias gradients are sums over nothing
        let g = Window::new([0, 3, 4, 4], 3, 3, 1, 1).unwrap();
        let w = vec![1.0f32; 2 * g.patch()];
        let (mut dw, mut db) = (vec![7.0f32; w.len()], vec![7.0f32; 2]);
        conv_backward(&[], &[], &w, &g, Some(&mut []), &mut dw, &mut db).unwrap();
        assert!(dw.iter().chain(&db).all(|&v| v == 0.0));
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }

    struct Case {
        g: Window,
        filters: usize,
    }

    fn cases() -> Vec<Case> {
        [
            ([2, 3, 7, 6], 4, 3, 3, 1, 1),
            ([1, 1, 8, 8], 5, 5, 5, 1, 0),
            ([3, 2, 9, 8], 3, 3, 2, 2, 1),
            ([2, 3, 6, 7], 2, 2, 3, 3, 2),
            ([5, 16, 14, 14], 16, 3, 3, 1, 1),
            ([2, 16, 28, 28], 4, 3, 3, 1, 1), // large: the transposed weight-gradient path
            // 3x3, stride 1, 8+ images: Winograd
            ([9, 16, 14, 14], 16, 3, 3, 1, 1), // F(4x4, 3x3)
            ([10, 3, 5, 2], 4, 3, 3, 1, 1),    // two outputs wide: F(2x2, 3x3)
            ([8, 2, 9, 7], 3, 3, 3, 1, 2),     // pad 2
            ([8, 1, 6, 6], 4, 3, 3, 1, 0),     // one channel: forward and dW direct, dx Winograd
            ([3, 2, 5, 7], 5, 3, 3, 1, 2),     // two channels, three images: forward direct
            ([17, 4, 7, 7], 2, 3, 3, 1, 3),    // pad 3: the input gradient unrolled
        ]
        .into_iter()
        .map(|(shape, filters, fh, fw, stride, pad)| Case {
            g: Window::new(shape, fh, fw, stride, pad).unwrap(),
            filters,
        })
        .collect()
    }

    /// `dx` and `dw` are the adjoint of the forward (linear in x and in w
    /// with b = 0): `<dout, F(dir)> == <grad, dir>` for random directions.
    #[allow(clippy::too_many_arguments)]
    fn assert_adjoint(g: &Window, dout: &[f64], x: &[f64], w: &[f64], dx: &[f64], dw: &[f64], rng: &mut Rng, tol: f64) {
        let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(a, b)| a * b).sum::<f64>();
        let zero_b = vec![0.0; dw.len() / g.patch()];
        let dir = rng.vec(x.len());
        assert!((dot(dout, &naive_conv_forward(&dir, w, &zero_b, g)) - dot(dx, &dir)).abs() < tol);
        let dir = rng.vec(w.len());
        assert!((dot(dout, &naive_conv_forward(x, &dir, &zero_b, g)) - dot(dw, &dir)).abs() < tol);
    }

    #[test]
    fn passes_side_by_side_on_two_threads_give_the_gradients() {
        // DeepConvNet's second layer on 16 images: both passes Winograd on two threads
        let g = Window::new([16, 16, 28, 28], 3, 3, 1, 1).unwrap();
        let filters = 16;
        crate::kernels::parallel::set_num_threads(2);
        for pass in [Pass::FilterGrad, Pass::InputGrad] {
            let m = method(&g, filters, pass);
            assert!(matches!(m, Method::Winograd(_)) && threads(&g, filters, m) == 2);
        }
        let mut rng = Rng::new(5);
        let (x, w) = (rng.vec(g.n * g.image()), rng.vec(filters * g.patch()));
        let dout = rng.vec(g.n * filters * g.out_plane());
        let (mut dx, mut dw, mut db) = (vec![f64::NAN; x.len()], vec![f64::NAN; w.len()], vec![0.0; filters]);
        conv_backward(&dout, &x, &w, &g, Some(&mut dx), &mut dw, &mut db).unwrap();
        // one after the other: the filter gradient alone, the input gradient on its own
        let (mut dw1, mut db1) = (vec![f64::NAN; w.len()], vec![0.0; filters]);
        conv_backward(&dout, &x, &w, &g, None, &mut dw1, &mut db1).unwrap();
        let mut dx1 = vec![f64::NAN; x.len()];
        winograd::input_grad(&dout, &w, &g, filters, &mut dx1, TileSize::F4, 1).unwrap();
        assert_close(&dw, &dw1, 1e-12);
        assert_close(&db, &db1, 1e-12);
        assert_close(&dx, &dx1, 1e-12);
        // and they are the adjoint of the forward
        assert_adjoint(&g, &dout, &x, &w, &dx, &dw, &mut rng, 1e-8);
    }

    #[test]
    fn methods_follow_the_measured_limits() {
        let g = |shape, pad| Window::new(shape, 3, 3, 1, pad).unwrap();
        let winograd4 = Method::Winograd(TileSize::F4);
        assert_eq!(method(&g([100, 16, 28, 28], 1), 16, Pass::Forward), winograd4);
        assert_eq!(method(&g([100, 32, 14, 14], 2), 32, Pass::InputGrad), winograd4);
        assert_eq!(method(&g([100, 16, 14, 14], 1), 32, Pass::Forward), winograd4);
        assert_eq!(
            method(&g([100, 16, 14, 14], 1), 32, Pass::FilterGrad),
            Method::Winograd(TileSize::F2)
        );
        assert_eq!(method(&g([100, 32, 14, 14], 2), 32, Pass::FilterGrad), winograd4); // 16x16 outputs
        assert_eq!(method(&g([100, 1, 28, 28], 1), 16, Pass::Forward), Method::Direct);
        assert_eq!(method(&g([100, 1, 28, 28], 1), 16, Pass::FilterGrad), Method::Direct);
        assert_eq!(method(&g([100, 3, 28, 28], 1), 16, Pass::Forward), Method::Direct);
        assert_eq!(method(&g([100, 3, 28, 28], 1), 16, Pass::FilterGrad), winograd4);
        assert_eq!(method(&g([100, 4, 28, 28], 1), 16, Pass::Forward), winograd4);
        assert_eq!(method(&g([7, 16, 28, 28], 1), 16, Pass::Forward), Method::Unrolled);
        assert_eq!(method(&g([100, 16, 28, 28], 3), 16, Pass::InputGrad), Method::Unrolled);
        assert_eq!(
            method(&g([100, 16, 2, 9], 1), 16, Pass::Forward),
            Method::Winograd(TileSize::F2)
        );
        let strided = Window::new([100, 16, 28, 28], 3, 3, 2, 1).unwrap();
        assert_eq!(method(&strided, 16, Pass::Forward), Method::Unrolled);
        assert_eq!(method(&g([0, 16, 28, 28], 1), 16, Pass::Forward), Method::Unrolled);
        assert_eq!(method(&g([100, 0, 28, 28], 1), 16, Pass::Forward), Method::Unrolled);
        assert_eq!(method(&g([100, 16, 28, 28], 1), 0, Pass::FilterGrad), Method::Unrolled);
        let five = Window::new([100, 1, 28, 28], 5, 5, 1, 0).unwrap(); // SimpleConvNet's
        assert_eq!(method(&five, 30, Pass::Forward), Method::Unrolled);
        assert_eq!(method(&five, 30, Pass::FilterGrad), Method::Direct);
        assert_eq!(method(&five, 30, Pass::InputGrad), Method::Unrolled);
        let two_channels = Window::new([100, 2, 28, 28], 5, 5, 1, 0).unwrap();
        assert_eq!(method(&two_channels, 30, Pass::FilterGrad), Method::Unrolled);
        let huge = Window::new([1, 1, 1, 1], 301, 301, 1, 300).unwrap();
        assert_eq!(method(&huge, 1, Pass::FilterGrad), Method::Unrolled);
    }

    #[test]
    fn forward_matches_the_definition() {
        let mut rng = Rng::new(21);
        crate::kernels::parallel::set_num_threads(2);
        for Case { g, filters } in cases() {
            let (x, w, b) = (rng.vec(g.n * g.image()), rng.vec(filters * g.patch()), rng.vec(filters));
            let mut out = vec![f64::NAN; g.n * filters * g.out_plane()];
            conv_forward(&x, &w, &b, &g, &mut out).unwrap();
            assert_close(&out, &naive_conv_forward(&x, &w, &b, &g), 1e-12);
        }
    }

    /// The gradients are the adjoint of the (linear in x, w, b) forward:
    /// <dout, conv(x', w', b')> for one-hot perturbations, checked via
    /// random directions: <dout, F(dx_dir)> == <grad, dir>.
    #[test]
    fn backward_is_the_adjoint_of_forward() {
        let mut rng = Rng::new(8);
        for Case { g, filters } in cases() {
            let (x, w) = (rng.vec(g.n * g.image()), rng.vec(filters * g.patch()));
            let dout = rng.vec(g.n * filters * g.out_plane());
            let (mut dx, mut dw, mut db) = (vec![f64::NAN; x.len()], vec![f64::NAN; w.len()], vec![0.0; filters]);
            conv_backward(&dout, &x, &w, &g, Some(&mut dx), &mut dw, &mut db).unwrap();
            assert_adjoint(&g, &dout, &x, &w, &dx, &dw, &mut rng, 1e-9);
            // d/db: the sum of dout per filter
            for (f, &d) in db.iter().enumerate() {
                let want: f64 = (0..g.n)
                    .map(|n| {
                        dout[(n * filters + f) * g.out_plane()..][..g.out_plane()]
                            .iter()
                            .sum::<f64>()
                    })
                    .sum();
                assert!((d - want).abs() < 1e-10);
            }
            // skipping dx leaves dw and db unchanged
            let (mut dw2, mut db2) = (vec![0.0; w.len()], vec![0.0; filters]);
            conv_backward(&dout, &x, &w, &g, None, &mut dw2, &mut db2).unwrap();
            assert_close(&dw2, &dw, 1e-13);
            assert_close(&db2, &db, 1e-13);
        }
    }
}
