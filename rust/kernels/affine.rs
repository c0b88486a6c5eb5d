//! The Affine layer `y = x W + b` and its gradients.

use super::float::Float;
use super::matmul::{matmul, MatRef, PARALLEL_GRAIN_FLOPS};
use super::parallel;

/// `out = x @ w + b`; x (n, d), w (d, m), b (m,), out (n, m), all row-major.
///
/// The bias is the GEMM's starting accumulator: `out` is filled with `b`
/// row by row and the product is added onto it in the same GEMM pass.
pub fn affine_forward<T: Float>(x: &[T], w: &[T], b: &[T], out: &mut [T], n: usize, d: usize, m: usize) {
    assert_eq!(b.len(), m);
    for row in out.chunks_exact_mut(m.max(1)) {
        row.copy_from_slice(b);
    }
    matmul(MatRef::row_major(x, n, d), MatRef::row_major(w, d, m), out, true);
}

/// Gradients of [`affine_forward`]: `dx = dout @ w.T` (n, d) when `dx` is
/// given (a network's first layer needs none), `dw = x.T @ dout` (d, m),
/// `db = sum over rows of dout` (m,).
#[allow(clippy::too_many_arguments)]
pub fn affine_backward<T: Float>(
    dout: &[T],
    x: &[T],
    w: &[T],
    dx: Option<&mut [T]>,
    dw: &mut [T],
    db: &mut [T],
    n: usize,
    d: usize,
    m: usize,
) {
    let dout_m = MatRef::row_major(dout, n, m);
    let mut weight_grads = || {
        matmul(MatRef::row_major(x, n, d).t(), dout_m, dw, false);
        column_sums(dout, m, db);
    };
    let Some(dx) = dx else {
        weight_grads();
        return;
    };
    let input_grad = || matmul(dout_m, MatRef::row_major(w, d, m).t(), dx, false);
    // The two products are independent: with two or more threads they run
    // side by side, each on one thread.
    parallel::join(
        parallel::threads_for(2 * n * d * m, PARALLEL_GRAIN_FLOPS),
        input_grad,
        weight_grads,
    );
}

multiversion! {
    /// `sums[j] = sum_i a[i, j]` for row-major `a` with `cols` columns.
    pub fn column_sums<T>(a: &[T], cols: usize, sums: &mut [T]) {
        sums.fill(T::ZERO);
        if cols > 0 {
            for row in a.chunks_exact(cols) {
                for (s, &v) in sums.iter_mut().zip(row) {
                    *s += v;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::testing::{assert_close, Rng};

    #[test]
    fn forward_and_backward_match_definitions() {
        let (n, d, m) = (5, 7, 3);
        let mut rng = Rng::new(3);
        let (x, w, b, dout) = (rng.vec(n * d), rng.vec(d * m), rng.vec(m), rng.vec(n * m));
        let mut y = vec![0.0; n * m];
        affine_forward(&x, &w, &b, &mut y, n, d, m);
        let mut want = vec![0.0; n * m];
        for i in 0..n {
            for j in 0..m {
                want[i * m + j] = b[j] + (0..d).map(|p| x[i * d + p] * w[p * m + j]).sum::<f64>();
            }
        }
        assert_close(&y, &want, 1e-12);

        let (mut dx, mut dw, mut db) = (vec![0.0; n * d], vec![0.0; d * m], vec![0.0; m]);
        affine_backward(&dout, &x, &w, Some(&mut dx), &mut dw, &mut db, n, d, m);
        let (mut dw2, mut db2) = (vec![0.0; d * m], vec![0.0; m]);
        affine_backward(&dout, &x, &w, None, &mut dw2, &mut db2, n, d, m);
        assert_eq!((&dw, &db), (&dw2, &db2));
        for i in 0..n {
            for p in 0..d {
                let want: f64 = (0..m).map(|j| dout[i * m + j] * w[p * m + j]).sum();
                assert!((dx[i * d + p] - want).abs() < 1e-12);
            }
        }
        for p in 0..d {
            for j in 0..m {
                let want: f64 = (0..n).map(|i| x[i * d + p] * dout[i * m + j]).sum();
                assert!((dw[p * m + j] - want).abs() < 1e-12);
            }
        }
        for j in 0..m {
            let want: f64 = (0..n).map(|i| dout[i * m + j]).sum();
            assert!((db[j] - want).abs() < 1e-12);
        }
    }
}
