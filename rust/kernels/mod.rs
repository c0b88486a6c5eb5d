//! Pure-Rust kernels: stateless functions on contiguous buffers, generic over
//! `f32`/`f64` (the [`float::Float`] trait). Nothing here knows about Python;
//! `crate::bindings` validates arrays and calls these.

#[macro_use]
pub mod simd;
pub mod activation;
pub mod affine;
pub mod batchnorm;
pub mod buffers;
pub mod conv;
pub mod conv_direct;
pub mod conv_unrolled;
pub mod dropout;
pub mod erase;
pub mod error;
pub mod first_error;
pub mod float;
pub mod fma;
pub mod geometry;
pub mod im2col;
pub mod images;
pub mod loss;
pub mod matmul;
pub mod matmul_edge;
pub mod optim;
pub mod parallel;
pub mod partials;
pub mod pooling;
pub mod reduce;
pub mod regularize;
pub mod scratch;
pub mod softmax;
pub mod warp;
pub mod winograd;

#[cfg(test)]
pub(crate) mod testing;
