//! Optimizer updates: one fused pass over each parameter, in place.
//!
//! Every step reads the gradient once and reads/writes the parameter and its
//! state once; hyper-parameters arrive as f64 and are rounded to `T` once.

use super::float::Float;
use super::parallel::{for_each_range, SharedMut};

/// Elements per thread below which a step stays single-threaded: 16K
/// (TwoLayerNet(784, 50, 10)'s W1 of 39,200 float64 is updated by two
/// threads: SGD 17.0 -> 12.6 us at 2 threads; at 32K it stayed on one).
const GRAIN: usize = 1 << 14;

/// Split `param` and its state buffers into disjoint ranges and run `chunk`
/// on each, in parallel for large parameters.
macro_rules! step {
    ($chunk:ident, $param:ident, $grad:ident, [$($state:ident),*], $($scalar:expr),*) => {{
        let len = $param.len();
        assert_eq!($grad.len(), len, "grad length differs from param");
        $( assert_eq!($state.len(), len, "state length differs from param"); )*
        let param = SharedMut::new($param);
        let state = ($(SharedMut::new($state),)*);
        for_each_range(len, GRAIN, |r| {
            let ($($state,)*) = &state;
            // SAFETY: for_each_range hands out disjoint ranges.
            unsafe { $chunk(param.range(r.clone()), &$grad[r.clone()], $($state.range(r.clone()),)* $($scalar),*) }
        });
    }};
}

/// `p -= lr * g`.
pub fn sgd<T: Float>(p: &mut [T], g: &[T], lr: f64) {
    step!(sgd_chunk, p, g, [], T::from_f64(lr));
}

/// `v = mu*v - lr*g; p += v`.
pub fn momentum<T: Float>(p: &mut [T], g: &[T], v: &mut [T], lr: f64, mu: f64) {
    step!(momentum_chunk, p, g, [v], T::from_f64(lr), T::from_f64(mu));
}

/// Nesterov momentum (Bengio et al. 2012), with `v` before its update:
/// `p += mu*mu*v - (1+mu)*lr*g; v = mu*v - lr*g`.
pub fn nesterov<T: Float>(p: &mut [T], g: &[T], v: &mut [T], lr: f64, mu: f64) {
    step!(nesterov_chunk, p, g, [v], T::from_f64(lr), T::from_f64(mu));
}

/// `h += g*g; p -= lr * g / (sqrt(h) + 1e-7)`.
pub fn adagrad<T: Float>(p: &mut [T], g: &[T], h: &mut [T], lr: f64) {
    step!(adagrad_chunk, p, g, [h], T::from_f64(lr), T::from_f64(1e-7));
}

/// `h = decay*h + (1-decay)*g*g; p -= lr * g / (sqrt(h) + 1e-7)`.
pub fn rmsprop<T: Float>(p: &mut [T], g: &[T], h: &mut [T], lr: f64, decay: f64) {
    step!(
        rmsprop_chunk,
        p,
        g,
        [h],
        T::from_f64(lr),
        T::from_f64(decay),
        T::from_f64(1.0 - decay),
        T::from_f64(1e-7)
    );
}

/// AdaDelta: `h = rho*h + (1-rho)*g²; delta = sqrt(d+eps)/sqrt(h+eps)*g;
/// d = rho*d + (1-rho)*delta²; p -= lr*delta`.
#[allow(clippy::too_many_arguments)]
pub fn adadelta<T: Float>(p: &mut [T], g: &[T], h: &mut [T], d: &mut [T], lr: f64, rho: f64, eps: f64) {
    step!(
        adadelta_chunk,
        p,
        g,
        [h, d],
        T::from_f64(lr),
        T::from_f64(rho),
        T::from_f64(1.0 - rho),
        T::from_f64(eps)
    );
}

/// Adam at step `t >= 1` (the book's form): `m += (1-b1)(g-m)`,
/// `v += (1-b2)(g²-v)`, `p -= lr_t m / (sqrt(v) + 1e-7)` with
/// `lr_t = lr sqrt(1-b2^t) / (1-b1^t)`.
#[allow(clippy::too_many_arguments)]
pub fn adam<T: Float>(p: &mut [T], g: &[T], m: &mut [T], v: &mut [T], lr: f64, beta1: f64, beta2: f64, t: u64) {
    let lr_t = adam_lr_t(lr, beta1, beta2, t);
    step!(
        adam_chunk,
        p,
        g,
        [m, v],
        T::from_f64(lr_t),
        T::from_f64(1.0 - beta1),
        T::from_f64(1.0 - beta2),
        T::from_f64(1e-7)
    );
}

/// AdamW (Loshchilov & Hutter): Adam with decoupled weight decay. The
/// parameter first shrinks by `lr * weight_decay` of itself, then takes
/// [`adam`]'s step: `p = p * (1 - lr*weight_decay) - lr_t m / (sqrt(v) + 1e-7)`.
#[allow(clippy::too_many_arguments)]
pub fn adamw<T: Float>(
    p: &mut [T],
    g: &[T],
    m: &mut [T],
    v: &mut [T],
    lr: f64,
    beta1: f64,
    beta2: f64,
    weight_decay: f64,
    t: u64,
) {
    let lr_t = adam_lr_t(lr, beta1, beta2, t);
    step!(
        adamw_chunk,
        p,
        g,
        [m, v],
        T::from_f64(lr_t),
        T::from_f64(1.0 - beta1),
        T::from_f64(1.0 - beta2),
        T::from_f64(1e-7),
        T::from_f64(1.0 - lr * weight_decay)
    );
}

/// Adam's step size at step `t >= 1`: `lr sqrt(1-b2^t) / (1-b1^t)`.
fn adam_lr_t(lr: f64, beta1: f64, beta2: f64, t: u64) -> f64 {
    let t = t.min(i32::MAX as u64) as i32;
    lr * (1.0 - beta2.powi(t)).sqrt() / (1.0 - beta1.powi(t))
}

multiversion! {
    fn sgd_chunk<T>(p: &mut [T], g: &[T], lr: T) {
        for (p, &g) in p.iter_mut().zip(g) {
            *p -= lr * g;
        }
    }
}

multiversion! {
    fn momentum_chunk<T>(p: &mut [T], g: &[T], v: &mut [T], lr: T, mu: T) {
        for ((p, &g), v) in p.iter_mut().zip(g).zip(v.iter_mut()) {
            *v = mu * *v - lr * g;
            *p += *v;
        }
    }
}

multiversion! {
    fn nesterov_chunk<T>(p: &mut [T], g: &[T], v: &mut [T], lr: T, mu: T) {
        for ((p, &g), v) in p.iter_mut().zip(g).zip(v.iter_mut()) {
            *p += mu * mu * *v - (T::ONE + mu) * lr * g;
            *v = mu * *v - lr * g;
        }
    }
}

multiversion! {
    fn adagrad_chunk<T>(p: &mut [T], g: &[T], h: &mut [T], lr: T, eps: T) {
        for ((p, &g), h) in p.iter_mut().zip(g).zip(h.iter_mut()) {
            *h += g * g;
            *p -= lr * g / (h.sqrt() + eps);
        }
    }
}

multiversion! {
    fn rmsprop_chunk<T>(p: &mut [T], g: &[T], h: &mut [T], lr: T, decay: T, one_minus_decay: T, eps: T) {
        for ((p, &g), h) in p.iter_mut().zip(g).zip(h.iter_mut()) {
            *h = decay * *h + one_minus_decay * g * g;
            *p -= lr * g / (h.sqrt() + eps);
        }
    }
}

multiversion! {
    fn adadelta_chunk<T>(p: &mut [T], g: &[T], h: &mut [T], d: &mut [T], lr: T, rho: T, one_minus_rho: T, eps: T) {
        for (((p, &g), h), d) in p.iter_mut().zip(g).zip(h.iter_mut()).zip(d.iter_mut()) {
            *h = rho * *h + one_minus_rho * g * g;
            let delta = (*d + eps).sqrt() / (*h + eps).sqrt() * g;
            *d = rho * *d + one_minus_rho * delta * delta;
            *p -= lr * delta;
        }
    }
}

multiversion! {
    fn adam_chunk<T>(p: &mut [T], g: &[T], m: &mut [T], v: &mut [T], lr_t: T, one_minus_b1: T, one_minus_b2: T, eps: T) {
        for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
            *m += one_minus_b1 * (g - *m);
            *v += one_minus_b2 * (g * g - *v);
            *p -= lr_t * *m / (v.sqrt() + eps);
        }
    }
}

multiversion! {
    fn adamw_chunk<T>(p: &mut [T], g: &[T], m: &mut [T], v: &mut [T], lr_t: T, one_minus_b1: T, one_minus_b2: T, eps: T,
                      decay: T) {
        for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
            *m += one_minus_b1 * (g - *m);
            *v += one_minus_b2 * (g * g - *v);
            *p = *p * decay - lr_t * *m / (v.sqrt() + eps);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adam_first_step_moves_by_about_lr() {
        // After one step m = 0.1 g, v = 0.001 g², lr_t = lr sqrt(0.001) / 0.1,
        // so the update is lr * g / |g| (up to eps).
        let mut p = vec![1.0f64; 3];
        let g = vec![0.5, -2.0, 4.0];
        let (mut m, mut v) = (vec![0.0; 3], vec![0.0; 3]);
        adam(&mut p, &g, &mut m, &mut v, 0.01, 0.9, 0.999, 1);
        for (p, g) in p.iter().zip(&g) {
            assert!((p - (1.0 - 0.01 * g.signum())).abs() < 1e-6, "{p}");
        }
    }

    #[test]
    fn large_steps_are_split_and_match_small_ones() {
        let n = 5 * GRAIN + 3;
        let g: Vec<f32> = (0..n).map(|i| ((i % 97) as f32 - 48.0) * 0.01).collect();
        let mut p_big = vec![0.5f32; n];
        let (mut m, mut v) = (vec![0.0f32; n], vec![0.0f32; n]);
        adam(&mut p_big, &g, &mut m, &mut v, 0.001, 0.9, 0.999, 3);
        for i in [0, 1, GRAIN, n - 1] {
            let mut p = [0.5f32];
            let (mut m1, mut v1) = ([0.0f32], [0.0f32]);
            adam(&mut p, &g[i..i + 1], &mut m1, &mut v1, 0.001, 0.9, 0.999, 3);
            assert_eq!(p[0], p_big[i]);
        }
    }

    #[test]
    fn adamw_is_adam_after_a_decoupled_shrink() {
        let g = [0.5f64, -2.0, 4.0];
        let (mut p, mut m, mut v) = ([1.0f64, -3.0, 0.25], [0.1f64; 3], [0.2f64; 3]);
        let (mut q, mut mq, mut vq) = (p, m, v);
        adamw(&mut p, &g, &mut m, &mut v, 0.01, 0.9, 0.999, 0.5, 4);
        for q in q.iter_mut() {
            *q *= 1.0 - 0.01 * 0.5;
        }
        adam(&mut q, &g, &mut mq, &mut vq, 0.01, 0.9, 0.999, 4);
        for (a, b) in p.iter().zip(&q) {
            assert!((a - b).abs() < 1e-15, "{a} vs {b}");
        }
        assert_eq!((m, v), (mq, vq));
        let (mut p0, mut m0, mut v0) = ([1.0f64, -3.0, 0.25], [0.1f64; 3], [0.2f64; 3]);
        let (mut p1, mut m1, mut v1) = (p0, m0, v0);
        adamw(&mut p0, &g, &mut m0, &mut v0, 0.01, 0.9, 0.999, 0.0, 2);
        adam(&mut p1, &g, &mut m1, &mut v1, 0.01, 0.9, 0.999, 2);
        assert_eq!(p0, p1, "no decay: exactly Adam");
    }

    #[test]
    fn nesterov_uses_velocity_before_update() {
        let mut p = [1.0f64];
        let mut v = [2.0f64];
        nesterov(&mut p, &[3.0], &mut v, 0.1, 0.9);
        assert!((p[0] - (1.0 + 0.81 * 2.0 - 1.9 * 0.1 * 3.0)).abs() < 1e-15);
        assert!((v[0] - (0.9 * 2.0 - 0.3)).abs() < 1e-15);
    }

    #[test]
    fn sgd_momentum_adagrad_rmsprop_adadelta() {
        let mut p = [1.0f64];
        sgd(&mut p, &[2.0], 0.1);
        assert!((p[0] - 0.8).abs() < 1e-15);
        let (mut p, mut v) = ([1.0f64], [0.5f64]);
        momentum(&mut p, &[2.0], &mut v, 0.1, 0.9);
        assert!((v[0] - 0.25).abs() < 1e-15 && (p[0] - 1.25).abs() < 1e-15);
        let (mut p, mut h) = ([1.0f64], [0.0f64]);
        adagrad(&mut p, &[2.0], &mut h, 0.1);
        assert!((h[0] - 4.0).abs() < 1e-15 && (p[0] - (1.0 - 0.1 * 2.0 / (2.0 + 1e-7))).abs() < 1e-15);
        let (mut p, mut h) = ([1.0f64], [1.0f64]);
        rmsprop(&mut p, &[2.0], &mut h, 0.1, 0.99);
        let h_want: f64 = 0.99 + 0.01 * 4.0;
        assert!((h[0] - h_want).abs() < 1e-15);
        assert!((p[0] - (1.0 - 0.1 * 2.0 / (h_want.sqrt() + 1e-7))).abs() < 1e-15);
        let (mut p, mut h, mut d) = ([1.0f64], [0.0f64], [0.0f64]);
        adadelta(&mut p, &[2.0], &mut h, &mut d, 1.0, 0.95, 1e-6);
        let h_want: f64 = 0.05 * 4.0;
        let delta = (1e-6f64).sqrt() / (h_want + 1e-6).sqrt() * 2.0;
        assert!((h[0] - h_want).abs() < 1e-15 && (d[0] - 0.05 * delta * delta).abs() < 1e-18);
        assert!((p[0] - (1.0 - delta)).abs() < 1e-15);
    }
}
