//! Stateless functions the networks call between layers: activations, squeeze-and-excitation
//! scaling, flattening and splitting along the channels.

use candle_core::{Result, Tensor};

/// Swish (SiLU) `x·sigmoid(x)`, one op forward and backward on the CPU.
pub fn swish(x: &Tensor) -> Result<Tensor> {
    crate::ops::elementwise::silu(x)
}

/// `x` `[batch, c, h, w]` scaled per sample and channel by `s` `[batch, c, 1, 1]` (the
/// excitation of squeeze-and-excitation), one op forward and backward on the CPU.
pub fn scale_channels(x: &Tensor, s: &Tensor) -> Result<Tensor> {
    crate::ops::elementwise::channel_scale(x, s)
}

/// `x·s + r` (`s` as in [`scale_channels`], `r` shaped like `x`): squeeze-and-excitation's scale
/// and a residual addition in one pass, one op forward and backward on the CPU.
pub fn scale_channels_add(x: &Tensor, s: &Tensor, r: &Tensor) -> Result<Tensor> {
    crate::ops::elementwise::channel_scale_add(x, s, r)
}

/// Logistic sigmoid (candle-nn's op, which has a backward pass).
pub fn sigmoid(x: &Tensor) -> Result<Tensor> {
    candle_nn::ops::sigmoid(x)
}

/// Flattens `[batch, ...]` to `[batch, features]`.
pub fn flatten(x: &Tensor) -> Result<Tensor> {
    x.flatten_from(1)
}

/// Splits `x` along the channels at `c`: `(x[:, :c], x[:, c:])`.
pub fn split_channels(x: &Tensor, c: usize) -> Result<(Tensor, Tensor)> {
    let total = x.dim(1)?;
    Ok((x.narrow(1, 0, c)?, x.narrow(1, c, total - c)?))
}
