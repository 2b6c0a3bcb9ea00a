//! The trait every model of the zoo implements.

use candle_core::Tensor;

/// A trainable network of the zoo.
///
/// Input: `[batch, ...sample_shape]` (f32, or u32 token ids for language models).
/// Output: logits `[batch, classes]`, or `[batch, seq_len, vocab]` for language models.
pub trait Model: Send + Sync {
    /// Forward pass; `train` selects training behaviour (batch-norm statistics, dropout).
    fn forward_t(&self, x: &Tensor, train: bool) -> candle_core::Result<Tensor>;
    /// Multiply-accumulates of one forward pass for one sample, counted analytically per layer
    /// (convolutions, linear layers, attention matmuls; batch-norm, activations and pooling are
    /// not counted).
    fn macs_per_sample(&self) -> u64;
    /// Name prefixes of variables that exist only to match the reference parameter count and take
    /// no part in the forward pass (e.g. pytorch-cifar EfficientNet's unused first expansion conv),
    /// so the gradient test does not require a gradient for them.
    fn unused_variables(&self) -> &'static [&'static str] {
        &[]
    }
}
