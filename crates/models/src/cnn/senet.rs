//! SENet18 as in pytorch-cifar: a conv-bn-relu stem and pre-activation basic blocks with
//! squeeze-and-excitation (1×1 convolutions `planes → planes/16 → planes`, with bias).

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

use super::layers::{global_avg_pool_keepdim, sigmoid, BatchNorm2d, Conv2d, ConvCfg, Layer};
use crate::model::Model;

struct PreActSeBlock {
    bn1: BatchNorm2d,
    conv1: Conv2d,
    bn2: BatchNorm2d,
    conv2: Conv2d,
    shortcut: Option<Conv2d>,
    fc1: Conv2d,
    fc2: Conv2d,
}

impl PreActSeBlock {
    fn new(vb: VarBuilder, c_in: usize, planes: usize, stride: usize) -> Result<Self> {
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
            fc1: Conv2d::new(vb.pp("fc1"), ConvCfg::new(planes, planes / 16, 1).bias())?,
            fc2: Conv2d::new(vb.pp("fc2"), ConvCfg::new(planes / 16, planes, 1).bias())?,
        })
    }
}

impl Layer for PreActSeBlock {
    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let out = self.bn1.forward_t_relu(x, train)?;
        let short = match &self.shortcut {
            Some(s) => s.forward(&out)?,
            None => x.clone(),
        };
        let out = self.conv1.forward(&out)?;
        let out = self.conv2.forward(&self.bn2.forward_t_relu(&out, train)?)?;
        let w = self.fc1.forward(&global_avg_pool_keepdim(&out)?)?.relu()?;
        let w = sigmoid(&self.fc2.forward(&w)?)?;
        out.broadcast_mul(&w)? + short
    }
}

/// SENet18 (11,260,354 parameters).
pub fn senet18(vb: VarBuilder) -> Result<Box<dyn Model>> {
    super::resnet::staged18(vb, PreActSeBlock::new)
}
