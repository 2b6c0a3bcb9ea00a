//! ResNeXt29 (2×64d) as in pytorch-cifar: three stages of grouped-convolution bottlenecks.

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

use super::layers::{finish, ConvBn, ConvCfg, Layer, Linear};
use super::staged::{stage_blocks, Head, Names, Pool, Staged, Stem};
use crate::model::Model;

/// 1×1 → grouped 3×3 → 1×1 bottleneck with a projection shortcut when the shape changes
/// (ResNeXt's block, and RegNetX's, which has the same layers and names).
pub(crate) struct Bottleneck {
    c1: ConvBn,
    c2: ConvBn,
    c3: ConvBn,
    shortcut: Option<ConvBn>,
}

impl Bottleneck {
    /// Block `c_in → mid → mid (groups, stride) → c_out`, PyTorch names `conv1..3 bn1..3
    /// shortcut.{0,1}`.
    pub(crate) fn new(
        vb: VarBuilder,
        (c_in, mid, c_out): (usize, usize, usize),
        groups: usize,
        stride: usize,
    ) -> Result<Self> {
        let shortcut = if stride != 1 || c_in != c_out {
            Some(ConvBn::new(
                &vb.pp("shortcut"),
                "0",
                "1",
                ConvCfg::new(c_in, c_out, 1).stride(stride),
            )?)
        } else {
            None
        };
        Ok(Self {
            c1: ConvBn::new(&vb, "conv1", "bn1", ConvCfg::new(c_in, mid, 1))?,
            c2: ConvBn::new(
                &vb,
                "conv2",
                "bn2",
                ConvCfg::new(mid, mid, 3)
                    .stride(stride)
                    .pad(1)
                    .groups(groups),
            )?,
            c3: ConvBn::new(&vb, "conv3", "bn3", ConvCfg::new(mid, c_out, 1))?,
            shortcut,
        })
    }
}

impl Layer for Bottleneck {
    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let out = self.c1.forward_t_relu(x, train)?;
        let out = self.c2.forward_t_relu(&out, train)?;
        let short = match &self.shortcut {
            Some(s) => s.forward_t(x, train)?,
            None => x.clone(),
        };
        let planes = short.dim(1)?;
        self.c3.forward_t_join_relu(&out, &short, planes, train)
    }
}

/// ResNeXt29_2x64d (9,128,778 parameters).
pub fn resnext29_2x64d(vb: VarBuilder) -> Result<Box<dyn Model>> {
    let cardinality = 2;
    let stem = ConvBn::new(&vb, "conv1", "bn1", ConvCfg::new(3, 64, 1))?;
    let stages = [(3, 1), (3, 2), (3, 2)];
    let (blocks, c_out) = stage_blocks(&vb, Names::PerStage, 64, &stages, |v, b| {
        // Bottleneck width 64, doubled at every stage; expansion 2.
        let gw = cardinality * (64 << b.stage);
        let block = Bottleneck::new(v, (b.c_in, gw, 2 * gw), cardinality, b.stride)?;
        Ok((block, 2 * gw))
    })?;
    let linear = Linear::new(vb.pp("linear"), c_out, 10)?;
    let net = Staged {
        stem: Stem::ConvBnRelu(stem),
        blocks,
        head: Head::None,
        pool: Pool::Avg(8),
        linear,
    };
    finish(net, &vb)
}
