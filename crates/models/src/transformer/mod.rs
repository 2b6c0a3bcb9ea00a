//! The transformer family: a ViT for small images and a character-level GPT.
//!
//! Built from matmuls plus greenbench's own layer-norm and softmax ops ([`crate::ops::norm`], with
//! their own backward passes): candle's fused layer norm / softmax_last_dim / sdpa drop gradients
//! on CPU.

pub mod block;
pub mod char_gpt;
pub mod vit;

pub use char_gpt::CharGpt;
pub use vit::Vit;
