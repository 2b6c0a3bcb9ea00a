//! A Vision Transformer for small images: 4×4 patches embedded by a linear layer, class token,
//! learned positions, pre-norm blocks, layer norm and a linear head on the class token.

use candle_core::Tensor;
use candle_nn::{Linear, VarBuilder};

use super::block::{linear_tokens, Block, LayerNorm};
use crate::complexity::linear_macs;
use crate::model::Model;

/// Patch side in pixels.
pub const PATCH: usize = 4;

/// Size of a ViT (the named sizes are in the model table, `crate::definitions`).
#[derive(Clone, Copy, Debug)]
pub struct VitConfig {
    /// Token width.
    pub dim: usize,
    /// Number of blocks.
    pub depth: usize,
    /// Attention heads.
    pub heads: usize,
    /// MLP hidden width.
    pub hidden: usize,
}

/// A vision transformer: 4×4 patches embedded with learned positions and a class token, pre-norm
/// blocks, a linear head on the class token.
pub struct Vit {
    patch: Linear,
    cls: Tensor,
    pos: Tensor,
    blocks: Vec<Block>,
    norm: LayerNorm,
    head: Linear,
    chw: (usize, usize, usize),
    cfg: VitConfig,
    classes: usize,
}

impl Vit {
    /// Builds a ViT for `[c, h, w]` images (h, w multiples of 4) and `classes` outputs.
    pub fn new(
        cfg: VitConfig,
        chw: (usize, usize, usize),
        classes: usize,
        vb: VarBuilder,
    ) -> candle_core::Result<Self> {
        let (c, h, w) = chw;
        if !h.is_multiple_of(PATCH) || !w.is_multiple_of(PATCH) || h == 0 || w == 0 {
            candle_core::bail!("ViT needs image sides that are multiples of {PATCH}, got {h}×{w}")
        }
        let tokens = (h / PATCH) * (w / PATCH) + 1;
        let blocks = (0..cfg.depth)
            .map(|i| {
                Block::new(
                    cfg.dim,
                    cfg.heads,
                    cfg.hidden,
                    false,
                    vb.pp(format!("blocks.{i}")),
                )
            })
            .collect::<candle_core::Result<Vec<_>>>()?;
        Ok(Self {
            patch: candle_nn::linear(c * PATCH * PATCH, cfg.dim, vb.pp("patch"))?,
            cls: vb.get((1, 1, cfg.dim), "cls_token")?,
            pos: vb.get((1, tokens, cfg.dim), "pos_embed")?,
            blocks,
            norm: LayerNorm::new(cfg.dim, vb.pp("norm"))?,
            head: candle_nn::linear(cfg.dim, classes, vb.pp("head"))?,
            chw,
            cfg,
            classes,
        })
    }

    fn tokens(&self) -> usize {
        (self.chw.1 / PATCH) * (self.chw.2 / PATCH) + 1
    }
}

impl Model for Vit {
    fn forward_t(&self, x: &Tensor, _train: bool) -> candle_core::Result<Tensor> {
        let (c, h, w) = self.chw;
        let n = x.dim(0)?;
        let (gh, gw) = (h / PATCH, w / PATCH);
        let patches = x
            .reshape((n, c, gh, PATCH, gw, PATCH))?
            .permute((0, 2, 4, 1, 3, 5))?
            .contiguous()?
            .reshape((n, gh * gw, c * PATCH * PATCH))?;
        let tok = linear_tokens(&self.patch, &patches)?;
        let cls = self.cls.broadcast_as((n, 1, self.cfg.dim))?;
        let mut z = Tensor::cat(&[&cls, &tok], 1)?.broadcast_add(&self.pos)?;
        for b in &self.blocks {
            z = b.forward(&z)?;
        }
        let z = self.norm.forward(&z)?;
        linear_tokens(&self.head, &z.narrow(1, 0, 1)?.squeeze(1)?)
    }

    fn macs_per_sample(&self) -> u64 {
        let t = self.tokens();
        let (c, _, _) = self.chw;
        linear_macs(c * PATCH * PATCH, self.cfg.dim, t - 1)
            + self.blocks.iter().map(|b| b.macs(t)).sum::<u64>()
            + linear_macs(self.cfg.dim, self.classes, 1)
    }
}
