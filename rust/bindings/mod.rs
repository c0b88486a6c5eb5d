//! The only code that touches PyO3 and rust-numpy: it checks arrays, turns
//! bad input into Python exceptions, releases the GIL and calls the kernels.

pub mod activation;
pub mod array;
pub mod augment;
pub mod batchnorm;
pub mod call;
pub mod conv;
pub mod dense;
pub mod dropout;
pub mod errors;
pub mod info;
pub mod loss;
pub mod openblas;
pub mod optim;
pub mod pooling;
pub mod regularize;
pub mod scalars;
pub mod softmax;
pub mod tensors;
pub mod window;
