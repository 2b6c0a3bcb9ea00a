//! DPN26 (dual path network) as in pytorch-cifar: residual paths added, dense paths
//! concatenated, grouped 3×3 convolutions with 32 groups.

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

use super::layers::{finish, flatten, split_channels, ConvBn, ConvCfg, Layer, Linear};
use crate::model::Model;

struct Bottleneck {
    c1: ConvBn,
    c2: ConvBn,
    c3: ConvBn,
    shortcut: Option<ConvBn>,
    out_planes: usize,
}

impl Bottleneck {
    #[allow(clippy::too_many_arguments)]
    fn new(
        vb: VarBuilder,
        last: usize,
        mid: usize,
        out: usize,
        dense: usize,
        stride: usize,
        first: bool,
    ) -> Result<Self> {
        let shortcut = if first {
            Some(ConvBn::new(
                &vb.pp("shortcut"),
                "0",
                "1",
                ConvCfg::new(last, out + dense, 1).stride(stride),
            )?)
        } else {
            None
        };
        Ok(Self {
            c1: ConvBn::new(&vb, "conv1", "bn1", ConvCfg::new(last, mid, 1))?,
            c2: ConvBn::new(
                &vb,
                "conv2",
                "bn2",
                ConvCfg::new(mid, mid, 3).stride(stride).pad(1).groups(32),
            )?,
            c3: ConvBn::new(&vb, "conv3", "bn3", ConvCfg::new(mid, out + dense, 1))?,
            shortcut,
            out_planes: out,
        })
    }
}

impl Layer for Bottleneck {
    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let out = self.c1.forward_t_relu(x, train)?;
        let out = self.c2.forward_t_relu(&out, train)?;
        let out = self.c3.forward_t(&out, train)?;
        let x = match &self.shortcut {
            Some(s) => s.forward_t(x, train)?,
            None => x.clone(),
        };
        let d = self.out_planes;
        let (xr, xd) = split_channels(&x, d)?;
        let (or, od) = split_channels(&out, d)?;
        Tensor::cat(&[&(xr + or)?, &xd, &od], 1)?.relu()
    }
}

struct Dpn {
    stem: ConvBn,
    blocks: Vec<Bottleneck>,
    linear: Linear,
}

impl Layer for Dpn {
    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let mut x = self.stem.forward_t_relu(x, train)?;
        for b in &self.blocks {
            x = b.forward_t(&x, train)?;
        }
        self.linear.forward(&flatten(&x.avg_pool2d(4)?)?)
    }
}

/// DPN26 (11,574,842 parameters).
pub fn dpn26(vb: VarBuilder) -> Result<Box<dyn Model>> {
    let in_planes = [96, 192, 384, 768];
    let out_planes = [256, 512, 1024, 2048];
    let num_blocks = [2, 2, 2, 2];
    let dense_depth = [16, 32, 24, 128];
    let stem = ConvBn::new(&vb, "conv1", "bn1", ConvCfg::new(3, 64, 3).pad(1))?;
    let mut blocks = Vec::new();
    let mut last = 64;
    for s in 0..4 {
        let stride = if s == 0 { 1 } else { 2 };
        for i in 0..num_blocks[s] {
            let v = vb.pp(format!("layer{}.{i}", s + 1));
            let st = if i == 0 { stride } else { 1 };
            blocks.push(Bottleneck::new(
                v,
                last,
                in_planes[s],
                out_planes[s],
                dense_depth[s],
                st,
                i == 0,
            )?);
            last = out_planes[s] + (i + 2) * dense_depth[s];
        }
    }
    let linear = Linear::new(
        vb.pp("linear"),
        out_planes[3] + (num_blocks[3] + 1) * dense_depth[3],
        10,
    )?;
    finish(
        Dpn {
            stem,
            blocks,
            linear,
        },
        &vb,
    )
}
