//! ResNeXt29 (2×64d) as in pytorch-cifar: three stages of grouped-convolution bottlenecks.

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

use super::layers::{finish, flatten, ConvBn, ConvCfg, Layer, Linear};
use crate::model::Model;

/// 1×1 → grouped 3×3 (cardinality groups) → 1×1 (expansion 2), projection shortcut.
struct Block {
    c1: ConvBn,
    c2: ConvBn,
    c3: ConvBn,
    shortcut: Option<ConvBn>,
}

impl Block {
    fn new(
        vb: VarBuilder,
        c_in: usize,
        cardinality: usize,
        width: usize,
        stride: usize,
    ) -> Result<Self> {
        let gw = cardinality * width;
        let shortcut = if stride != 1 || c_in != 2 * gw {
            Some(ConvBn::new(
                &vb.pp("shortcut"),
                "0",
                "1",
                ConvCfg::new(c_in, 2 * gw, 1).stride(stride),
            )?)
        } else {
            None
        };
        Ok(Self {
            c1: ConvBn::new(&vb, "conv1", "bn1", ConvCfg::new(c_in, gw, 1))?,
            c2: ConvBn::new(
                &vb,
                "conv2",
                "bn2",
                ConvCfg::new(gw, gw, 3)
                    .stride(stride)
                    .pad(1)
                    .groups(cardinality),
            )?,
            c3: ConvBn::new(&vb, "conv3", "bn3", ConvCfg::new(gw, 2 * gw, 1))?,
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

struct ResNeXt {
    stem: ConvBn,
    blocks: Vec<Block>,
    linear: Linear,
}

impl Layer for ResNeXt {
    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let mut x = self.stem.forward_t_relu(x, train)?;
        for b in &self.blocks {
            x = b.forward_t(&x, train)?;
        }
        self.linear.forward(&flatten(&x.avg_pool2d(8)?)?)
    }
}

/// ResNeXt29_2x64d (9,128,778 parameters).
pub fn resnext29_2x64d(vb: VarBuilder) -> Result<Box<dyn Model>> {
    let (cardinality, mut width) = (2, 64);
    let stem = ConvBn::new(&vb, "conv1", "bn1", ConvCfg::new(3, 64, 1))?;
    let mut blocks = Vec::new();
    let mut c_in = 64;
    for (stage, stride) in [1, 2, 2].into_iter().enumerate() {
        for i in 0..3 {
            let v = vb.pp(format!("layer{}.{i}", stage + 1));
            blocks.push(Block::new(
                v,
                c_in,
                cardinality,
                width,
                if i == 0 { stride } else { 1 },
            )?);
            c_in = 2 * cardinality * width;
        }
        width *= 2;
    }
    let linear = Linear::new(vb.pp("linear"), c_in, 10)?;
    finish(
        ResNeXt {
            stem,
            blocks,
            linear,
        },
        &vb,
    )
}
