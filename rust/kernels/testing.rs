//! Helpers for the kernels' unit tests.

use super::geometry::Window;
use super::matmul::MatRef;

/// A small deterministic generator (xorshift) of values in [-1, 1).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }

    pub fn vec(&mut self, n: usize) -> Vec<f64> {
        (0..n).map(|_| self.next_f64()).collect()
    }
}

pub fn assert_close(got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol * (1.0 + w.abs()), "element {i}: got {g}, want {w}");
    }
}

/// `a @ b` by the definition, row-major `(a.rows(), b.cols())`.
pub fn naive_matmul(a: MatRef<'_, f64>, b: MatRef<'_, f64>) -> Vec<f64> {
    let (m, k, n) = (a.rows(), a.cols(), b.cols());
    let mut c = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            c[i * n + j] = (0..k).map(|p| a.at(i, p) * b.at(p, j)).sum();
        }
    }
    c
}

/// The convolution by its definition, the tests' reference:
/// `out[n,f,i,j] = b[f] + sum W[f,c,ky,kx] x[n,c,i*s+ky-p,j*s+kx-p]`.
pub fn naive_conv_forward(x: &[f64], w: &[f64], b: &[f64], g: &Window) -> Vec<f64> {
    let filters = b.len();
    let mut out = vec![0.0; g.n * filters * g.out_plane()];
    for n in 0..g.n {
        for f in 0..filters {
            for i in 0..g.oh {
                for j in 0..g.ow {
                    let mut acc = b[f];
                    for c in 0..g.c {
                        for ky in 0..g.fh {
                            for kx in 0..g.fw {
                                let ih = (i * g.stride + ky) as isize - g.pad as isize;
                                let iw = (j * g.stride + kx) as isize - g.pad as isize;
                                if ih >= 0 && iw >= 0 && (ih as usize) < g.h && (iw as usize) < g.w {
                                    let xv = x[((n * g.c + c) * g.h + ih as usize) * g.w + iw as usize];
                                    acc += w[((f * g.c + c) * g.fh + ky) * g.fw + kx] * xv;
                                }
                            }
                        }
                    }
                    out[((n * filters + f) * g.oh + i) * g.ow + j] = acc;
                }
            }
        }
    }
    out
}

/// Keep `count` threads spinning while `body` runs (CPUs that look busy to
/// `parallel::crowding`); they stop also when `body` panics, so a failed
/// assertion fails the test instead of hanging it.
pub fn with_busy_threads(count: usize, body: impl FnOnce()) {
    use std::sync::atomic::{AtomicBool, Ordering};
    struct StopOnDrop<'a>(&'a AtomicBool);
    impl Drop for StopOnDrop<'_> {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let _stop = StopOnDrop(&stop);
        for _ in 0..count {
            scope.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    std::hint::spin_loop();
                }
            });
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        body();
    });
}
