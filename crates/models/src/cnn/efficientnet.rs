//! EfficientNetB0 as in pytorch-cifar: MBConv blocks with squeeze-and-excitation and swish.
//!
//! Differences in training mode only: the reference's dropout (p = 0.2) before the classifier
//! is omitted. Its drop-connect rate is `0.2·b/blocks` with `b` never incremented, i.e. always 0,
//! so there is no drop-connect to reproduce. As in the reference, the first block (expansion 1)
//! owns an expansion conv and batch-norm (`layers.0.conv1`, `layers.0.bn1`) that its forward pass
//! skips: they count as parameters but never receive a gradient.

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

use super::layers::{
    finish_with_unused, global_avg_pool_keepdim, sigmoid, swish, Act, Conv2d, ConvBn, ConvCfg,
    Layer, Linear,
};
use super::staged::{stage_blocks, Head, Names, Pool, Staged, Stem};
use crate::model::Model;

struct Block {
    /// `None` when the expansion ratio is 1 (the reference skips its conv1/bn1).
    expand: Option<ConvBn>,
    dw: ConvBn,
    se1: Conv2d,
    se2: Conv2d,
    project: ConvBn,
    skip: bool,
}

impl Block {
    fn new(
        vb: VarBuilder,
        c_in: usize,
        c_out: usize,
        k: usize,
        stride: usize,
        expansion: usize,
    ) -> Result<Self> {
        let ch = expansion * c_in;
        let se_ch = c_in / 4; // int(in_channels · 0.25)
        let expand = ConvBn::new(&vb, "conv1", "bn1", ConvCfg::new(c_in, ch, 1))?;
        let pad = if k == 3 { 1 } else { 2 };
        Ok(Self {
            expand: if expansion == 1 { None } else { Some(expand) },
            dw: ConvBn::new(
                &vb,
                "conv2",
                "bn2",
                ConvCfg::new(ch, ch, k).stride(stride).pad(pad).groups(ch),
            )?,
            se1: Conv2d::new(vb.pp("se.se1"), ConvCfg::new(ch, se_ch, 1).bias())?,
            se2: Conv2d::new(vb.pp("se.se2"), ConvCfg::new(se_ch, ch, 1).bias())?,
            project: ConvBn::new(&vb, "conv3", "bn3", ConvCfg::new(ch, c_out, 1))?,
            skip: stride == 1 && c_in == c_out,
        })
    }
}

impl Layer for Block {
    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let out = match &self.expand {
            Some(e) => e.forward_t_act(x, train, Act::Silu)?,
            None => x.clone(),
        };
        let out = self.dw.forward_t_act(&out, train, Act::Silu)?;
        let w = swish(&self.se1.forward(&global_avg_pool_keepdim(&out)?)?)?;
        let w = sigmoid(&self.se2.forward(&w)?)?;
        let out = self.project.forward_scaled_t(&out, &w, train)?;
        if self.skip {
            out + x
        } else {
            Ok(out)
        }
    }
}

/// The expansion conv and batch-norm of the first block, created (as in the reference) but skipped
/// by its forward pass because the block's expansion ratio is 1.
const UNUSED: &[&str] = &["layers.0.conv1.", "layers.0.bn1."];

/// EfficientNetB0 (3,599,686 parameters).
pub fn efficientnet_b0(vb: VarBuilder) -> Result<Box<dyn Model>> {
    let expansion = [1, 6, 6, 6, 6, 6, 6];
    let out_channels = [16, 24, 40, 80, 112, 192, 320];
    let kernel = [3, 3, 5, 3, 5, 5, 3];
    let stages = [(1, 1), (2, 2), (2, 2), (3, 2), (3, 1), (4, 2), (1, 1)];
    let stem = ConvBn::new(&vb, "conv1", "bn1", ConvCfg::new(3, 32, 3).pad(1))?;
    let (blocks, _) = stage_blocks(&vb, Names::Flat, 32, &stages, |v, b| {
        let (c_out, k, t) = (out_channels[b.stage], kernel[b.stage], expansion[b.stage]);
        Ok((Block::new(v, b.c_in, c_out, k, b.stride, t)?, c_out))
    })?;
    let linear = Linear::new(vb.pp("linear"), 320, 10)?;
    let net = Staged {
        stem: Stem::ConvBnSwish(stem),
        blocks,
        head: Head::None,
        pool: Pool::Global,
        linear,
    };
    finish_with_unused(net, &vb, UNUSED)
}
