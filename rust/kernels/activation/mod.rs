//! Element-wise activations and their gradients. Inputs are never modified;
//! results go to separate output buffers. Every kernel here runs through the
//! one driver [`elementwise!`]: a chunk function compiled for each SIMD tier
//! (`multiversion!`), called on equal ranges in parallel.
//!
//! Which array a backward pass reads is chosen per activation: the forward
//! output `y` where it gives the derivative exactly (ReLU, leaky and
//! randomized ReLU, ReLU6, sigmoid, tanh, ELU: `y` is kept for the next layer
//! anyway), else the input `x` (softplus, swish, GELU, PReLU).
//!
//! * [`piecewise`]: ReLU, leaky ReLU, ReLU6
//! * [`logistic`]: sigmoid and what is built on it: softplus, swish, GELU
//! * [`expm1`]: tanh and ELU, built on `e^x - 1`
//! * [`prelu`]: a learned slope per channel, and its gradient
//! * [`rrelu`]: a random slope per element, drawn from (seed, index)

use super::parallel::for_each_range;

/// Elements per thread below which a call stays single-threaded.
const GRAIN: usize = 1 << 16;

/// `elementwise!(f(a, b; p, q) -> out)` calls the chunk kernel
/// `f(&a[r], &b[r], p, q, &mut out[r])` on disjoint ranges `r` covering the
/// arrays, in parallel; every input must have `out`'s length. With
/// `elementwise!(|r| f(..; p(r)) -> out)` the parameters may use the range
/// (e.g. its first flat index).
macro_rules! elementwise {
    (|$r:ident| $f:ident($($input:expr),+ $(; $($param:expr),+)?) -> $out:expr) => {{
        let len = $out.len();
        $( assert_eq!($input.len(), len, "length mismatch"); )+
        let out = $crate::kernels::parallel::SharedMut::new($out);
        $crate::kernels::activation::for_each_chunk(len, |$r: core::ops::Range<usize>| {
            // SAFETY: for_each_chunk hands out disjoint ranges.
            $f($(&$input[$r.clone()]),+, $($($param,)+)? unsafe { out.range($r) })
        });
    }};
    ($f:ident($($input:expr),+ $(; $($param:expr),+)?) -> $out:expr) => {
        elementwise!(|r| $f($($input),+ $(; $($param),+)?) -> $out)
    };
}

/// The ranges of [`elementwise!`]: [`for_each_range`] with this module's grain.
#[inline]
pub(crate) fn for_each_chunk(len: usize, f: impl Fn(core::ops::Range<usize>) + Sync) {
    for_each_range(len, GRAIN, f);
}

pub mod expm1;
pub mod logistic;
pub mod piecewise;
pub mod prelu;
pub mod rrelu;

pub use expm1::{elu_backward, elu_forward, tanh_backward, tanh_forward};
pub use logistic::{
    gelu_backward, gelu_forward, sigmoid_backward, sigmoid_forward, softplus_backward, softplus_forward,
    swish_backward, swish_forward,
};
pub use piecewise::{
    leaky_relu_backward, leaky_relu_forward, relu6_backward, relu6_forward, relu_backward, relu_forward,
};
pub use prelu::{prelu_backward, prelu_forward};
pub use rrelu::{rrelu_backward, rrelu_forward};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_inputs_split_over_threads_give_the_same_result() {
        let n = 3 * GRAIN + 17;
        let x: Vec<f32> = (0..n).map(|i| (i as f32 * 0.001).sin() * 20.0).collect();
        let mut y = vec![0.0f32; n];
        sigmoid_forward(&x, &mut y);
        for (i, (&x, &y)) in x.iter().zip(&y).enumerate() {
            let want = 1.0 / (1.0 + (-(x as f64)).exp());
            assert!((y as f64 - want).abs() < 1e-6, "element {i}");
        }
    }
}
