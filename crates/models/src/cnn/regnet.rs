//! RegNetX_200MF as in pytorch-cifar: bottleneck ratio 1, group width 8, no squeeze-excitation.

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

use super::layers::{finish, global_avg_pool, ConvBn, ConvCfg, Layer, Linear};
use crate::model::Model;

const GROUP_WIDTH: usize = 8;

struct Block {
    c1: ConvBn,
    c2: ConvBn,
    c3: ConvBn,
    shortcut: Option<ConvBn>,
}

impl Block {
    fn new(vb: VarBuilder, w_in: usize, w_out: usize, stride: usize) -> Result<Self> {
        let w_b = w_out; // round(w_out · bottleneck ratio 1)
        let groups = w_b / GROUP_WIDTH;
        let shortcut = if stride != 1 || w_in != w_out {
            Some(ConvBn::new(
                &vb.pp("shortcut"),
                "0",
                "1",
                ConvCfg::new(w_in, w_out, 1).stride(stride),
            )?)
        } else {
            None
        };
        Ok(Self {
            c1: ConvBn::new(&vb, "conv1", "bn1", ConvCfg::new(w_in, w_b, 1))?,
            c2: ConvBn::new(
                &vb,
                "conv2",
                "bn2",
                ConvCfg::new(w_b, w_b, 3)
                    .stride(stride)
                    .pad(1)
                    .groups(groups),
            )?,
            c3: ConvBn::new(&vb, "conv3", "bn3", ConvCfg::new(w_b, w_out, 1))?,
            shortcut,
        })
    }
}

impl Layer for Block {
    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let out = self.c1.forward_t_relu(x, train)?;
        let out = self.c2.forward_t_relu(&out, train)?;
        let out = self.c3.forward_t(&out, train)?;
        let short = match &self.shortcut {
            Some(s) => s.forward_t(x, train)?,
            None => x.clone(),
        };
        crate::ops::elementwise::add_relu(&out, &short)
    }
}

struct RegNet {
    stem: ConvBn,
    blocks: Vec<Block>,
    linear: Linear,
}

impl Layer for RegNet {
    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let mut x = self.stem.forward_t_relu(x, train)?;
        for b in &self.blocks {
            x = b.forward_t(&x, train)?;
        }
        self.linear.forward(&global_avg_pool(&x)?)
    }
}

/// RegNetX_200MF (2,321,946 parameters).
pub fn regnetx_200mf(vb: VarBuilder) -> Result<Box<dyn Model>> {
    let depths = [1, 1, 4, 7];
    let widths = [24, 56, 152, 368];
    let strides = [1, 1, 2, 2];
    let stem = ConvBn::new(&vb, "conv1", "bn1", ConvCfg::new(3, 64, 3).pad(1))?;
    let mut blocks = Vec::new();
    let mut w_in = 64;
    for s in 0..4 {
        for i in 0..depths[s] {
            let v = vb.pp(format!("layer{}.{i}", s + 1));
            blocks.push(Block::new(
                v,
                w_in,
                widths[s],
                if i == 0 { strides[s] } else { 1 },
            )?);
            w_in = widths[s];
        }
    }
    let linear = Linear::new(vb.pp("linear"), widths[3], 10)?;
    finish(
        RegNet {
            stem,
            blocks,
            linear,
        },
        &vb,
    )
}
