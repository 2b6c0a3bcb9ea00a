//! ResNet18 as in pytorch-cifar: 3×3 stem without pooling, four stages of basic blocks.

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

use super::layers::{finish, flatten, ConvBn, ConvCfg, Layer, Linear};
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
        let out = self.c2.forward_t(&out, train)?;
        let short = match &self.shortcut {
            Some(s) => s.forward_t(x, train)?,
            None => x.clone(),
        };
        crate::ops::elementwise::add_relu(&out, &short)
    }
}

/// The skeleton ResNet18 and SENet18 share: a conv-bn-ReLU stem, four stages of two blocks
/// (64, 128, 256, 512 planes; strides 1, 2, 2, 2), a 4×4 average pool and a linear classifier.
pub(crate) struct Staged<B> {
    stem: ConvBn,
    blocks: Vec<B>,
    linear: Linear,
}

impl<B: Layer> Layer for Staged<B> {
    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let mut x = self.stem.forward_t_relu(x, train)?;
        for b in &self.blocks {
            x = b.forward_t(&x, train)?;
        }
        self.linear.forward(&flatten(&x.avg_pool2d(4)?)?)
    }
}

/// Builds a [`Staged`] network whose blocks come from `block(vb, c_in, planes, stride)`, with
/// pytorch-cifar's variable names (`conv1`, `bn1`, `layer{1..4}.{0,1}`, `linear`).
pub(crate) fn staged18<B: Layer + 'static>(
    vb: VarBuilder,
    block: impl Fn(VarBuilder, usize, usize, usize) -> Result<B>,
) -> Result<Box<dyn Model>> {
    let stem = ConvBn::new(&vb, "conv1", "bn1", ConvCfg::new(3, 64, 3).pad(1))?;
    let mut blocks = Vec::new();
    let mut c_in = 64;
    for (stage, (planes, stride)) in [(64, 1), (128, 2), (256, 2), (512, 2)]
        .into_iter()
        .enumerate()
    {
        for i in 0..2 {
            let vb_b = vb.pp(format!("layer{}.{i}", stage + 1));
            blocks.push(block(vb_b, c_in, planes, if i == 0 { stride } else { 1 })?);
            c_in = planes;
        }
    }
    let linear = Linear::new(vb.pp("linear"), 512, 10)?;
    finish(
        Staged {
            stem,
            blocks,
            linear,
        },
        &vb,
    )
}

/// ResNet18 (11,173,962 parameters).
pub fn resnet18(vb: VarBuilder) -> Result<Box<dyn Model>> {
    staged18(vb, BasicBlock::new)
}
