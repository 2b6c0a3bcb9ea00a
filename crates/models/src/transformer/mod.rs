//! The transformer family: a ViT for small images and a character-level GPT.
//!
//! Built from primitives only (matmul, `candle_nn::ops::softmax`, `layer_norm_slow`): candle's
//! fused layer norm / softmax_last_dim / sdpa drop gradients on CPU.

pub mod block;
pub mod char_gpt;
pub mod vit;

pub use char_gpt::CharGpt;
pub use vit::Vit;
