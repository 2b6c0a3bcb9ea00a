//! MobileNetV2 as in pytorch-cifar (CIFAR strides: stem and second stage at stride 1).

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

use super::layers::{finish, ConvBn, ConvCfg, Layer, Linear};
use super::staged::{stage_blocks, Head, Names, Pool, Staged, Stem};
use crate::model::Model;

/// `(expansion, out_planes, num_blocks, stride)` per stage.
const CFG: &[(usize, usize, usize, usize)] = &[
    (1, 16, 1, 1),
    (6, 24, 2, 1),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
];

/// Expand 1×1 → depthwise 3×3 → project 1×1; residual only at stride 1 (projected when the
/// channel count changes).
struct Block {
    expand: ConvBn,
    dw: ConvBn,
    project: ConvBn,
    stride: usize,
    shortcut: Option<ConvBn>,
}

impl Block {
    /// Block `c_in → c_out` with expansion `t` at `stride`, PyTorch names `conv1..3 bn1..3
    /// shortcut.{0,1}`.
    fn new(v: &VarBuilder, c_in: usize, c_out: usize, t: usize, stride: usize) -> Result<Self> {
        let planes = t * c_in;
        let shortcut = if stride == 1 && c_in != c_out {
            Some(ConvBn::new(
                &v.pp("shortcut"),
                "0",
                "1",
                ConvCfg::new(c_in, c_out, 1),
            )?)
        } else {
            None
        };
        Ok(Self {
            expand: ConvBn::new(v, "conv1", "bn1", ConvCfg::new(c_in, planes, 1))?,
            dw: ConvBn::new(
                v,
                "conv2",
                "bn2",
                ConvCfg::new(planes, planes, 3)
                    .stride(stride)
                    .pad(1)
                    .groups(planes),
            )?,
            project: ConvBn::new(v, "conv3", "bn3", ConvCfg::new(planes, c_out, 1))?,
            stride,
            shortcut,
        })
    }
}

impl Layer for Block {
    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let out = self.expand.forward_t_relu(x, train)?;
        let out = self.dw.forward_t_relu(&out, train)?;
        let out = self.project.forward_t(&out, train)?;
        if self.stride != 1 {
            return Ok(out);
        }
        match &self.shortcut {
            Some(s) => out + s.forward_t(x, train)?,
            None => out + x,
        }
    }
}

/// MobileNetV2 (2,296,922 parameters).
pub fn mobilenet_v2(vb: VarBuilder) -> Result<Box<dyn Model>> {
    let stem = ConvBn::new(&vb, "conv1", "bn1", ConvCfg::new(3, 32, 3).pad(1))?;
    let stages: Vec<_> = CFG.iter().map(|&(_, _, n, s)| (n, s)).collect();
    let (blocks, _) = stage_blocks(&vb, Names::Flat, 32, &stages, |v, b| {
        let (t, c_out, _, _) = CFG[b.stage];
        Ok((Block::new(&v, b.c_in, c_out, t, b.stride)?, c_out))
    })?;
    let head = ConvBn::new(&vb, "conv2", "bn2", ConvCfg::new(320, 1280, 1))?;
    let linear = Linear::new(vb.pp("linear"), 1280, 10)?;
    let net = Staged {
        stem: Stem::ConvBnRelu(stem),
        blocks,
        head: Head::ConvBnRelu(head),
        pool: Pool::Avg(4),
        linear,
    };
    finish(net, &vb)
}
