//! 2-D convolution as a candle custom op with its own CPU forward and backward.
//!
//! Dense and grouped convolutions run as im2col + one `gemm` per chunk of samples (the `gemm`
//! crate candle itself uses): the columns of several samples are laid side by side so that late,
//! small feature maps (4×4 in ResNet's last stage) still give the matrix product enough columns.
//! The backward pass is two more products per chunk: `dW += dY·colsᵀ` and `dcols = Wᵀ·dY`
//! followed by col2im (a scatter-add). Convolutions with one input channel per group
//! (depthwise, with or without channel multiplier) use direct loops instead.
//!
//! Work is split over samples on rayon's pool (`RAYON_NUM_THREADS`); the weight gradient is
//! accumulated per thread and summed in a fixed order, so results are deterministic.
//! On devices other than the CPU, and for dtypes other than f32, [`conv2d`] falls back to
//! candle's own `conv2d`.
//!
//! Files: `geom.rs` (the sizes of a call and which algorithm they take), `im2col.rs` (the column
//! matrix and col2im), `dense.rs` (im2col + `gemm`, forward and both gradients), `depthwise.rs`
//! with `padded.rs` and `small_taps.rs` (the direct loops), `small_map.rs` (dense 3×3 on maps of
//! at most 2×2, one product per pixel pair), `op.rs` (the candle ops and the public functions
//! that apply them); Winograd F(2×2, 3×3) is `ops/winograd.rs`.

mod dense;
mod depthwise;
mod geom;
mod im2col;
mod op;
mod padded;
mod small_map;
mod small_taps;
#[cfg(test)]
mod tests;

pub use geom::{set_fast_3x3_paths, ConvParams};
pub use op::{conv2d, conv2d_eval, conv2d_eval_scaled, conv_path, takes_input_scale};
