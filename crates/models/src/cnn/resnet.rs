//! ResNet18 as in pytorch-cifar: 3×3 stem without pooling, four stages of basic blocks.

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

use super::layers::{finish, ConvBn, ConvCfg, Layer, Linear};
use super::staged::{stage_blocks, Head, Names, Pool, Staged, Stem};
use crate::model::Model;

/// The basic residual block (two 3×3 conv-bn, projection shortcut when the shape changes).
pub(crate) struct BasicBlock {
    c1: ConvBn,
    c2: ConvBn,
    shortcut: Option<ConvBn>,
}

impl BasicBlock {
    /// Block `c_in → planes` at `stride`, PyTorch names `conv1 bn1 conv2 bn2 shortcut.{0,1}`.
    pub(crate) fn new(vb: VarBuilder, c_in: usize, planes: usize, stride: usize) -> Result<Self> {
        let c1 = ConvBn::new(
            &vb,
            "conv1",
            "bn1",
            ConvCfg::new(c_in, planes, 3).stride(stride).pad(1),
        )?;
        let c2 = ConvBn::new(&vb, "conv2", "bn2", ConvCfg::new(planes, planes, 3).pad(1))?;
        let shortcut = if stride != 1 || c_in != planes {
            let cfg = ConvCfg::new(c_in, planes, 1).stride(stride);
            Some(ConvBn::new(&vb.pp("shortcut"), "0", "1", cfg)?)
        } else {
            None
        };
        Ok(Self { c1, c2, shortcut })
    }
}

impl Layer for BasicBlock {
    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let out = self.c1.forward_t_relu(x, train)?;
        let short = match &self.shortcut {
            Some(s) => s.forward_t(x, train)?,
            None => x.clone(),
        };
        let planes = short.dim(1)?;
        self.c2.forward_t_join_relu(&out, &short, planes, train)
    }
}

/// The ResNet18 skeleton (shared by PreActResNet18 and SENet18): `stem`, four stages of two
/// blocks (64, 128, 256, 512 planes; strides 1, 2, 2, 2) from `block(vb, c_in, planes, stride)`,
/// a 4×4 average pool and a linear classifier, with pytorch-cifar's variable names
/// (`layer{1..4}.{0,1}`, `linear`).
pub(crate) fn staged18<B: Layer + 'static>(
    vb: VarBuilder,
    stem: Stem,
    block: impl Fn(VarBuilder, usize, usize, usize) -> Result<B>,
) -> Result<Box<dyn Model>> {
    let planes = [64, 128, 256, 512];
    let stages = [(2, 1), (2, 2), (2, 2), (2, 2)];
    let (blocks, _) = stage_blocks(&vb, Names::PerStage, 64, &stages, |v, b| {
        let p = planes[b.stage];
        Ok((block(v, b.c_in, p, b.stride)?, p))
    })?;
    let linear = Linear::new(vb.pp("linear"), 512, 10)?;
    let net = Staged {
        stem,
        blocks,
        head: Head::None,
        pool: Pool::Avg(4),
        linear,
    };
    finish(net, &vb)
}

/// The conv-bn-ReLU stem of ResNet18 and SENet18 (`conv1`, `bn1`: 3×3, 3 → 64).
pub(crate) fn stem18(vb: &VarBuilder) -> Result<Stem> {
    let cfg = ConvCfg::new(3, 64, 3).pad(1);
    Ok(Stem::ConvBnRelu(ConvBn::new(vb, "conv1", "bn1", cfg)?))
}

/// ResNet18 (11,173,962 parameters).
pub fn resnet18(vb: VarBuilder) -> Result<Box<dyn Model>> {
    let stem = stem18(&vb)?;
    staged18(vb, stem, BasicBlock::new)
}
