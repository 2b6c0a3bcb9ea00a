//! PreActResNet18 as in pytorch-cifar: batch-norm and ReLU before each convolution.

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

use super::layers::{conv_bn_act, Act, BatchNorm2d, Conv2d, ConvCfg, Layer};
use super::staged::Stem;
use crate::model::Model;

pub(crate) struct PreActBlock {
    bn1: BatchNorm2d,
    conv1: Conv2d,
    bn2: BatchNorm2d,
    conv2: Conv2d,
    shortcut: Option<Conv2d>,
}

impl PreActBlock {
    /// Builds the block with pytorch-cifar's names (`bn1`, `conv1`, `bn2`, `conv2`, `shortcut.0`).
    pub(crate) fn new(vb: VarBuilder, c_in: usize, planes: usize, stride: usize) -> Result<Self> {
        let shortcut = if stride != 1 || c_in != planes {
            Some(Conv2d::new(
                vb.pp("shortcut.0"),
                ConvCfg::new(c_in, planes, 1).stride(stride),
            )?)
        } else {
            None
        };
        Ok(Self {
            bn1: BatchNorm2d::new(vb.pp("bn1"), c_in)?,
            conv1: Conv2d::new(
                vb.pp("conv1"),
                ConvCfg::new(c_in, planes, 3).stride(stride).pad(1),
            )?,
            bn2: BatchNorm2d::new(vb.pp("bn2"), planes)?,
            conv2: Conv2d::new(vb.pp("conv2"), ConvCfg::new(planes, planes, 3).pad(1))?,
            shortcut,
        })
    }

    /// The residual branch and the shortcut, before they are added (SENet gates the branch first).
    pub(crate) fn branches(&self, x: &Tensor, train: bool) -> Result<(Tensor, Tensor)> {
        let out = self.bn1.forward_t_relu(x, train)?;
        let short = match &self.shortcut {
            Some(s) => s.forward(&out)?,
            None => x.clone(),
        };
        let out = conv_bn_act(&self.conv1, &self.bn2, &out, train, Act::Relu)?;
        let out = self.conv2.forward(&out)?;
        Ok((out, short))
    }
}

impl Layer for PreActBlock {
    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let (out, short) = self.branches(x, train)?;
        out + short
    }
}

/// PreActResNet18 (11,171,146 parameters).
pub fn preact_resnet18(vb: VarBuilder) -> Result<Box<dyn Model>> {
    let conv1 = Conv2d::new(vb.pp("conv1"), ConvCfg::new(3, 64, 3).pad(1))?;
    super::resnet::staged18(vb, Stem::Conv(conv1), PreActBlock::new)
}
