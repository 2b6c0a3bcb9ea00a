//! DenseNet121 as in pytorch-cifar (growth rate 32, blocks 6-12-24-16, reduction 0.5).

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

use super::layers::{finish, BatchNorm2d, Conv2d, ConvCfg, Layer, Linear};
use super::staged::{Head, Pool, Staged, Stem};
use crate::model::Model;

const GROWTH: usize = 32;

/// bn-relu-conv1×1 (4·growth) then bn-relu-conv3×3 (growth), output concatenated before input.
struct Bottleneck {
    bn1: BatchNorm2d,
    conv1: Conv2d,
    bn2: BatchNorm2d,
    conv2: Conv2d,
}

impl Layer for Bottleneck {
    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let out = self.conv1.forward(&self.bn1.forward_t_relu(x, train)?)?;
        let out = self.conv2.forward(&self.bn2.forward_t_relu(&out, train)?)?;
        Tensor::cat(&[&out, x], 1)
    }
}

/// bn-relu-conv1×1 then 2×2 average pooling.
struct Transition {
    bn: BatchNorm2d,
    conv: Conv2d,
}

impl Layer for Transition {
    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        self.conv
            .forward(&self.bn.forward_t_relu(x, train)?)?
            .avg_pool2d(2)
    }
}

/// DenseNet121 (6,956,298 parameters).
pub fn densenet121(vb: VarBuilder) -> Result<Box<dyn Model>> {
    let blocks = [6, 12, 24, 16];
    let mut planes = 2 * GROWTH;
    let conv1 = Conv2d::new(vb.pp("conv1"), ConvCfg::new(3, planes, 3).pad(1))?;
    // Dense blocks and transitions, in order.
    let mut body: Vec<Box<dyn Layer>> = Vec::new();
    for (s, &n) in blocks.iter().enumerate() {
        for i in 0..n {
            let v = vb.pp(format!("dense{}.{i}", s + 1));
            body.push(Box::new(Bottleneck {
                bn1: BatchNorm2d::new(v.pp("bn1"), planes)?,
                conv1: Conv2d::new(v.pp("conv1"), ConvCfg::new(planes, 4 * GROWTH, 1))?,
                bn2: BatchNorm2d::new(v.pp("bn2"), 4 * GROWTH)?,
                conv2: Conv2d::new(v.pp("conv2"), ConvCfg::new(4 * GROWTH, GROWTH, 3).pad(1))?,
            }));
            planes += GROWTH;
        }
        if s + 1 < blocks.len() {
            let out = planes / 2; // floor(planes · 0.5)
            let v = vb.pp(format!("trans{}", s + 1));
            body.push(Box::new(Transition {
                bn: BatchNorm2d::new(v.pp("bn"), planes)?,
                conv: Conv2d::new(v.pp("conv"), ConvCfg::new(planes, out, 1))?,
            }));
            planes = out;
        }
    }
    let bn = BatchNorm2d::new(vb.pp("bn"), planes)?;
    let linear = Linear::new(vb.pp("linear"), planes, 10)?;
    let net = Staged {
        stem: Stem::Conv(conv1),
        blocks: body,
        head: Head::BnRelu(bn),
        pool: Pool::Avg(4),
        linear,
    };
    finish(net, &vb)
}
