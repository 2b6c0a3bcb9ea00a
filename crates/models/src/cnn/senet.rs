//! SENet18 as in pytorch-cifar: a conv-bn-relu stem and pre-activation basic blocks with
//! squeeze-and-excitation (1×1 convolutions `planes → planes/16 → planes`, with bias).

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

use super::layers::{global_avg_pool_keepdim, scale_channels_add, sigmoid, Conv2d, ConvCfg, Layer};
use super::preact_resnet::PreActBlock;
use crate::model::Model;

/// A pre-activation basic block whose residual branch is scaled by a squeeze-and-excitation gate.
struct PreActSeBlock {
    block: PreActBlock,
    fc1: Conv2d,
    fc2: Conv2d,
}

impl PreActSeBlock {
    fn new(vb: VarBuilder, c_in: usize, planes: usize, stride: usize) -> Result<Self> {
        Ok(Self {
            block: PreActBlock::new(vb.clone(), c_in, planes, stride)?,
            fc1: Conv2d::new(vb.pp("fc1"), ConvCfg::new(planes, planes / 16, 1).bias())?,
            fc2: Conv2d::new(vb.pp("fc2"), ConvCfg::new(planes / 16, planes, 1).bias())?,
        })
    }
}

impl Layer for PreActSeBlock {
    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let (out, short) = self.block.branches(x, train)?;
        let w = self.fc1.forward(&global_avg_pool_keepdim(&out)?)?.relu()?;
        let w = sigmoid(&self.fc2.forward(&w)?)?;
        scale_channels_add(&out, &w, &short)
    }
}

/// SENet18 (11,260,354 parameters).
pub fn senet18(vb: VarBuilder) -> Result<Box<dyn Model>> {
    let stem = super::resnet::stem18(&vb)?;
    super::resnet::staged18(vb, stem, PreActSeBlock::new)
}
