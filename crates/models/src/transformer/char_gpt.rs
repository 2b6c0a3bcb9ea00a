//! A character-level GPT: token and learned position embeddings, causal pre-norm blocks, final
//! layer norm and a linear head predicting the next character at every position.

use candle_core::{DType, Tensor};
use candle_nn::{Linear, VarBuilder};

use super::block::{linear_tokens, Block, LayerNorm};
use crate::complexity::linear_macs;
use crate::model::Model;

/// Size of a character GPT (the named sizes are in the model table, `crate::definitions`).
#[derive(Clone, Copy, Debug)]
pub struct GptConfig {
    /// Token width.
    pub dim: usize,
    /// Number of blocks.
    pub depth: usize,
    /// Attention heads.
    pub heads: usize,
}

/// The GPT. Input: token ids `[n, seq_len]` (u32); output logits `[n, seq_len, vocab]`.
pub struct CharGpt {
    tok: Tensor,
    pos: Tensor,
    blocks: Vec<Block>,
    norm: LayerNorm,
    head: Linear,
    cfg: GptConfig,
    seq_len: usize,
    vocab: usize,
}

impl CharGpt {
    /// Builds a GPT for sequences of up to `seq_len` tokens from a vocabulary of `vocab`.
    pub fn new(
        cfg: GptConfig,
        seq_len: usize,
        vocab: usize,
        vb: VarBuilder,
    ) -> candle_core::Result<Self> {
        let blocks = (0..cfg.depth)
            .map(|i| {
                Block::new(
                    cfg.dim,
                    cfg.heads,
                    4 * cfg.dim,
                    true,
                    vb.pp(format!("blocks.{i}")),
                )
            })
            .collect::<candle_core::Result<Vec<_>>>()?;
        Ok(Self {
            tok: vb.get((vocab, cfg.dim), "tok_embed")?,
            pos: vb.get((seq_len, cfg.dim), "pos_embed")?,
            blocks,
            norm: LayerNorm::new(cfg.dim, vb.pp("norm"))?,
            head: candle_nn::linear(cfg.dim, vocab, vb.pp("head"))?,
            cfg,
            seq_len,
            vocab,
        })
    }
}

impl Model for CharGpt {
    fn forward_t(&self, x: &Tensor, _train: bool) -> candle_core::Result<Tensor> {
        let (n, t) = x.dims2()?;
        if t > self.seq_len {
            candle_core::bail!(
                "sequence of {t} tokens is longer than the model's {}",
                self.seq_len
            )
        }
        let ids = x.to_dtype(DType::U32)?.flatten_all()?;
        let emb = self
            .tok
            .index_select(&ids, 0)?
            .reshape((n, t, self.cfg.dim))?;
        let mut z = emb.broadcast_add(&self.pos.narrow(0, 0, t)?)?;
        for b in &self.blocks {
            z = b.forward(&z)?;
        }
        linear_tokens(&self.head, &self.norm.forward(&z)?)
    }

    fn macs_per_sample(&self) -> u64 {
        self.blocks
            .iter()
            .map(|b| b.macs(self.seq_len))
            .sum::<u64>()
            + linear_macs(self.cfg.dim, self.vocab, self.seq_len)
    }
}
