//! DPN26 (dual path network) as in pytorch-cifar: residual paths added, dense paths
//! concatenated, grouped 3×3 convolutions with 32 groups.

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

use super::layers::{finish, ConvBn, ConvCfg, Layer, Linear};
use super::staged::{stage_blocks, Head, Names, Pool, Staged, Stem};
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
        let x = match &self.shortcut {
            Some(s) => s.forward_t(x, train)?,
            None => x.clone(),
        };
        // cat([x[:d] + out[:d], x[d:], out[d:]]) then ReLU, with out = bn3(conv3(out)).
        self.c3
            .forward_t_join_relu(&out, &x, self.out_planes, train)
    }
}

/// DPN26 (11,574,842 parameters).
pub fn dpn26(vb: VarBuilder) -> Result<Box<dyn Model>> {
    let in_planes = [96, 192, 384, 768];
    let out_planes = [256, 512, 1024, 2048];
    let dense_depth = [16, 32, 24, 128];
    let stages = [(2, 1), (2, 2), (2, 2), (2, 2)];
    let stem = ConvBn::new(&vb, "conv1", "bn1", ConvCfg::new(3, 64, 3).pad(1))?;
    let (blocks, last) = stage_blocks(&vb, Names::PerStage, 64, &stages, |v, b| {
        let (mid, out, dense) = (
            in_planes[b.stage],
            out_planes[b.stage],
            dense_depth[b.stage],
        );
        let first = b.index == 0;
        let block = Bottleneck::new(v, b.c_in, mid, out, dense, b.stride, first)?;
        Ok((block, out + (b.index + 2) * dense))
    })?;
    let linear = Linear::new(vb.pp("linear"), last, 10)?;
    let net = Staged {
        stem: Stem::ConvBnRelu(stem),
        blocks,
        head: Head::None,
        pool: Pool::Avg(4),
        linear,
    };
    finish(net, &vb)
}
