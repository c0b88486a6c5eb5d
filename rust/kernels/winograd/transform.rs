//! The minimal-filtering algorithms F(m, 3) (Winograd; Lavin & Gray, "Fast
//! Algorithms for Convolutional Neural Networks", 2016) and their 2-D
//! nesting F(m x m, 3 x 3).
//!
//! One output row of a 3-tap correlation, `y[i] = sum_j g[j] d[i + j]` for
//! `i < m`, is `y = A^T [(G g) * (B^T d)]` with `a = m + 2` products instead
//! of `3 m`: `B^T` (a x a) maps `a` inputs, `G` (a x 3) the filter and `A^T`
//! (m x a) the products back. In 2-D every matrix is applied to the columns
//! and then the rows of a tile: `Y = A^T [(G g G^T) * (B^T d B)] A`.
//!
//! The weight gradient uses the adjoint of the same bilinear map: for an
//! output gradient `dY` (m x m) over an input tile `d` (a x a),
//! `dg = G^T [(A dY A^T) * (B^T d B)] G` (3 x 3).
//!
//! Each transform maps one column of scalars; [`transform_2d!`] applies it
//! to both axes of [`LANES`] tiles, in loops over the tiles that the
//! compiler vectorises (one tile per SIMD lane).

use crate::kernels::float::Float;

/// F(m, 3) with `a = m + 2` (`A`, `M` as const parameters so tiles are
/// fixed-size arrays).
pub trait Winograd<const A: usize, const M: usize>: Copy + Send + Sync + 'static {
    /// `B^T d`: a column of `a` inputs into the transformed domain.
    fn input<T: Float>(d: [T; A]) -> [T; A];
    /// `G g`: a column of the 3x3 filter into the transformed domain.
    fn filter<T: Float>(g: [T; 3]) -> [T; A];
    /// `A^T s`: transformed products back to `m` outputs.
    fn output<T: Float>(s: [T; A]) -> [T; M];
    /// `A dy` (adjoint of [`Winograd::output`]): `m` output gradients into the transformed domain.
    fn output_grad<T: Float>(dy: [T; M]) -> [T; A];
    /// `G^T s` (adjoint of [`Winograd::filter`]): back to the 3 filter taps.
    fn filter_grad<T: Float>(s: [T; A]) -> [T; 3];
}

/// F(2, 3): points 0, 1, -1 and infinity; 16 products per 2x2 output tile
/// (36 direct), only halves as non-integer coefficients.
#[derive(Clone, Copy, Debug)]
pub struct F2;

/// F(4, 3): points 0, 1, -1, 2, -2 and infinity; 36 products per 4x4 output
/// tile (144 direct). Its larger coefficients cost some precision in f32.
#[derive(Clone, Copy, Debug)]
pub struct F4;

#[inline(always)]
fn c<T: Float>(v: f64) -> T {
    T::from_f64(v)
}

impl Winograd<4, 2> for F2 {
    #[inline(always)]
    fn input<T: Float>([d0, d1, d2, d3]: [T; 4]) -> [T; 4] {
        [d0 - d2, d1 + d2, d2 - d1, d1 - d3]
    }

    #[inline(always)]
    fn filter<T: Float>([g0, g1, g2]: [T; 3]) -> [T; 4] {
        let half = c::<T>(0.5);
        let (even, odd) = (half * (g0 + g2), half * g1);
        [g0, even + odd, even - odd, g2]
    }

    #[inline(always)]
    fn output<T: Float>([s0, s1, s2, s3]: [T; 4]) -> [T; 2] {
        [s0 + s1 + s2, s1 - s2 - s3]
    }

    #[inline(always)]
    fn output_grad<T: Float>([y0, y1]: [T; 2]) -> [T; 4] {
        [y0, y0 + y1, y0 - y1, -y1]
    }

    #[inline(always)]
    fn filter_grad<T: Float>([s0, s1, s2, s3]: [T; 4]) -> [T; 3] {
        let half = c::<T>(0.5);
        [s0 + half * (s1 + s2), half * (s1 - s2), half * (s1 + s2) + s3]
    }
}

impl Winograd<6, 4> for F4 {
    #[inline(always)]
    fn input<T: Float>([d0, d1, d2, d3, d4, d5]: [T; 6]) -> [T; 6] {
        let (four, five, two) = (c::<T>(4.0), c::<T>(5.0), c::<T>(2.0));
        let (a, b) = (d4 - four * d2, d3 - four * d1); // rows 1 and 2: a +- b
        let (p, q) = (d4 - d2, two * (d3 - d1)); // rows 3 and 4: p +- q
        [
            four * d0 - five * d2 + d4,
            a + b,
            a - b,
            p + q,
            p - q,
            four * d1 - five * d3 + d5,
        ]
    }

    #[inline(always)]
    fn filter<T: Float>([g0, g1, g2]: [T; 3]) -> [T; 6] {
        let sixth = c::<T>(1.0 / 6.0);
        let (e1, o1) = (-sixth * (g0 + g2), -sixth * g1); // rows 1 and 2: e1 +- o1
        let (e3, o3) = (c::<T>(1.0 / 24.0) * g0 + sixth * g2, c::<T>(1.0 / 12.0) * g1); // rows 3 and 4
        [c::<T>(0.25) * g0, e1 + o1, e1 - o1, e3 + o3, e3 - o3, g2]
    }

    #[inline(always)]
    fn output<T: Float>([s0, s1, s2, s3, s4, s5]: [T; 6]) -> [T; 4] {
        let (two, four, eight) = (c::<T>(2.0), c::<T>(4.0), c::<T>(8.0));
        let (p1, m1, p2, m2) = (s1 + s2, s1 - s2, s3 + s4, s3 - s4);
        [s0 + p1 + p2, m1 + two * m2, p1 + four * p2, m1 + eight * m2 + s5]
    }

    #[inline(always)]
    fn output_grad<T: Float>([y0, y1, y2, y3]: [T; 4]) -> [T; 6] {
        let (two, four, eight) = (c::<T>(2.0), c::<T>(4.0), c::<T>(8.0));
        let (e1, o1) = (y0 + y2, y1 + y3); // points +-1: e1 +- o1
        let (e2, o2) = (y0 + four * y2, two * y1 + eight * y3); // points +-2
        [y0, e1 + o1, e1 - o1, e2 + o2, e2 - o2, y3]
    }

    #[inline(always)]
    fn filter_grad<T: Float>([s0, s1, s2, s3, s4, s5]: [T; 6]) -> [T; 3] {
        let sixth = c::<T>(1.0 / 6.0);
        let (p1, m1, p2, m2) = (s1 + s2, s1 - s2, s3 + s4, s3 - s4);
        [
            c::<T>(0.25) * s0 - sixth * p1 + c::<T>(1.0 / 24.0) * p2,
            -sixth * m1 + c::<T>(1.0 / 12.0) * m2,
            -sixth * p1 + sixth * p2 + s5,
        ]
    }
}

/// `$f`, a 1-D transform from `$i` to `$o` scalars, applied to the columns
/// and then the rows of [`LANES`] square tiles of `$i x $i`, giving `$o x $o`
/// each. `$load(i, j)` is element `(i, j)` of the tiles (`&[T]`, lane `l`
/// at `[l]`), `$store(p, q, &[T; LANES])` takes element `(p, q)` of the
/// results; `$mid` is scratch, `&mut [[[T; LANES]; $i]; $o]`.
///
/// A macro of plain loops, so each call of `$f` is a direct, inlined call
/// and the innermost loops run over the lanes with unit stride: the shape
/// the compiler vectorises (closures and by-value arrays of lanes were
/// turned into gathers and scatters instead).
macro_rules! transform_2d {
    ($T:ty, $load:expr, $f:path, $i:expr, $o:expr, $store:expr, $mid:expr) => {{
        let mid: &mut [[[$T; LANES]; $i]; $o] = $mid; // mid[p][j]: $f of column j, element p
        for j in 0..$i {
            let mut src = [[<$T>::ZERO; LANES]; $i];
            for (i, lanes) in src.iter_mut().enumerate() {
                lanes.copy_from_slice(&$load(i, j)[..LANES]);
            }
            for l in 0..LANES {
                let mut col = [<$T>::ZERO; $i];
                for i in 0..$i {
                    col[i] = src[i][l];
                }
                let r = $f(col);
                for p in 0..$o {
                    mid[p][j][l] = r[p];
                }
            }
        }
        for (p, mid_p) in mid.iter().enumerate() {
            let mut out = [[<$T>::ZERO; LANES]; $o];
            for l in 0..LANES {
                let mut row = [<$T>::ZERO; $i];
                for j in 0..$i {
                    row[j] = mid_p[j][l];
                }
                let r = $f(row);
                for q in 0..$o {
                    out[q][l] = r[q];
                }
            }
            for (q, lanes) in out.iter().enumerate() {
                $store(p, q, lanes);
            }
        }
    }};
}
pub(super) use transform_2d;

#[cfg(test)]
mod tests {
    use super::super::tiles::LANES;
    use super::*;
    use crate::kernels::testing::Rng;

    fn random<const N: usize>(rng: &mut Rng) -> [f64; N] {
        std::array::from_fn(|_| rng.next_f64())
    }

    fn dot(a: &[f64], b: &[f64]) -> f64 {
        a.iter().zip(b).map(|(a, b)| a * b).sum()
    }

    /// The 1-D identities, in f64: `A^T[(G g)(B^T d)]` is the correlation,
    /// and the two adjoint maps really are the transposes of `A^T` and `G`.
    fn check<W: Winograd<A, M>, const A: usize, const M: usize>() {
        let mut rng = Rng::new(3);
        for _ in 0..100 {
            let (d, g) = (random::<A>(&mut rng), random::<3>(&mut rng));
            let (u, v) = (W::filter(g), W::input(d));
            let y = W::output(std::array::from_fn(|k| u[k] * v[k]));
            for i in 0..M {
                let want: f64 = (0..3).map(|j| g[j] * d[i + j]).sum();
                assert!((y[i] - want).abs() < 1e-13, "F({M}, 3) output {i}: {} vs {want}", y[i]);
            }
            // <output_grad(dy), s> == <dy, output(s)> and <filter_grad(s), g> == <s, filter(g)>
            let (dy, s) = (random::<M>(&mut rng), random::<A>(&mut rng));
            assert!((dot(&W::output_grad(dy), &s) - dot(&dy, &W::output(s))).abs() < 1e-12);
            assert!((dot(&W::filter_grad(s), &g) - dot(&s, &W::filter(g))).abs() < 1e-12);
        }
    }

    #[test]
    fn one_dimensional_identities_hold() {
        check::<F2, 4, 2>();
        check::<F4, 6, 4>();
    }

    #[test]
    fn transform_2d_applies_the_map_to_both_axes() {
        // f = B^T of F(2, 3) on LANES tiles (src[i][j][l]): compare with B^T d B written out
        let mut rng = Rng::new(9);
        let src: Vec<Vec<Vec<f64>>> = (0..4).map(|_| (0..4).map(|_| rng.vec(LANES)).collect()).collect();
        let mut out = vec![[0.0; LANES]; 16];
        let mut mid = [[[0.0; LANES]; 4]; 4];
        transform_2d!(
            f64,
            |i: usize, j: usize| &src[i][j],
            F2::input::<f64>,
            4,
            4,
            |p: usize, q: usize, v: &[f64; LANES]| out[p * 4 + q] = *v,
            &mut mid
        );
        let bt = [
            [1.0, 0.0, -1.0, 0.0],
            [0.0, 1.0, 1.0, 0.0],
            [0.0, -1.0, 1.0, 0.0],
            [0.0, 1.0, 0.0, -1.0],
        ];
        for l in 0..LANES {
            for p in 0..4 {
                for q in 0..4 {
                    let mut want = 0.0;
                    for i in 0..4 {
                        for j in 0..4 {
                            want += bt[p][i] * src[i][j][l] * bt[q][j];
                        }
                    }
                    assert!((out[p * 4 + q][l] - want).abs() < 1e-14);
                }
            }
        }
    }
}
