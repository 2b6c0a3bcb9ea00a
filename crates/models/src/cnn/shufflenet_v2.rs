//! ShuffleNetV2 (net size 1) as in pytorch-cifar: channel split, depthwise convolutions and
//! channel shuffle (2 groups).

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

use super::layers::{finish, split_channels, ConvBn, ConvCfg, Layer, Linear};
use super::staged::{Head, Pool, Staged, Stem};
use crate::model::Model;

/// `cat([a, b], 1)` then the channel shuffle with 2 groups (`[N, 2, C, H, W]` → swap → `[N,
/// 2C, H, W]`), as one interleaving copy on the CPU.
fn cat_shuffle(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    crate::ops::elementwise::concat_shuffle(a, b)
}

/// Keeps half the channels, transforms the other half (1×1, depthwise 3×3, 1×1), shuffles.
struct BasicBlock {
    c1: ConvBn,
    c2: ConvBn,
    c3: ConvBn,
    half: usize,
}

impl BasicBlock {
    fn new(vb: VarBuilder, c_in: usize) -> Result<Self> {
        let c = c_in / 2;
        Ok(Self {
            c1: ConvBn::new(&vb, "conv1", "bn1", ConvCfg::new(c, c, 1))?,
            c2: ConvBn::new(&vb, "conv2", "bn2", ConvCfg::new(c, c, 3).pad(1).groups(c))?,
            c3: ConvBn::new(&vb, "conv3", "bn3", ConvCfg::new(c, c, 1))?,
            half: c,
        })
    }
}

impl Layer for BasicBlock {
    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let (x1, x2) = split_channels(x, self.half)?;
        let out = self.c1.forward_t_relu(&x2, train)?;
        let out = self.c2.forward_t(&out, train)?;
        let out = self.c3.forward_t_relu(&out, train)?;
        cat_shuffle(&x1, &out)
    }
}

/// Stride-2 block: both branches downsample, outputs concatenated and shuffled.
struct DownBlock {
    c1: ConvBn,
    c2: ConvBn,
    c3: ConvBn,
    c4: ConvBn,
    c5: ConvBn,
}

impl DownBlock {
    fn new(vb: VarBuilder, c_in: usize, c_out: usize) -> Result<Self> {
        let mid = c_out / 2;
        Ok(Self {
            c1: ConvBn::new(
                &vb,
                "conv1",
                "bn1",
                ConvCfg::new(c_in, c_in, 3).stride(2).pad(1).groups(c_in),
            )?,
            c2: ConvBn::new(&vb, "conv2", "bn2", ConvCfg::new(c_in, mid, 1))?,
            c3: ConvBn::new(&vb, "conv3", "bn3", ConvCfg::new(c_in, mid, 1))?,
            c4: ConvBn::new(
                &vb,
                "conv4",
                "bn4",
                ConvCfg::new(mid, mid, 3).stride(2).pad(1).groups(mid),
            )?,
            c5: ConvBn::new(&vb, "conv5", "bn5", ConvCfg::new(mid, mid, 1))?,
        })
    }
}

impl Layer for DownBlock {
    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let left = self.c1.forward_t(x, train)?;
        let left = self.c2.forward_t_relu(&left, train)?;
        let right = self.c3.forward_t_relu(x, train)?;
        let right = self.c4.forward_t(&right, train)?;
        let right = self.c5.forward_t_relu(&right, train)?;
        cat_shuffle(&left, &right)
    }
}

/// ShuffleNetV2, net size 1 (1,263,854 parameters).
pub fn shufflenet_v2(vb: VarBuilder) -> Result<Box<dyn Model>> {
    let out_channels = [116, 232, 464, 1024];
    let num_blocks = [3, 7, 3];
    let stem = ConvBn::new(&vb, "conv1", "bn1", ConvCfg::new(3, 24, 3).pad(1))?;
    let mut blocks: Vec<Box<dyn Layer>> = Vec::new();
    let mut c_in = 24;
    for s in 0..3 {
        let c = out_channels[s];
        let v = vb.pp(format!("layer{}", s + 1));
        blocks.push(Box::new(DownBlock::new(v.pp("0"), c_in, c)?));
        for i in 0..num_blocks[s] {
            blocks.push(Box::new(BasicBlock::new(v.pp(i + 1), c)?));
        }
        c_in = c;
    }
    let head = ConvBn::new(
        &vb,
        "conv2",
        "bn2",
        ConvCfg::new(out_channels[2], out_channels[3], 1),
    )?;
    let linear = Linear::new(vb.pp("linear"), out_channels[3], 10)?;
    let net = Staged {
        stem: Stem::ConvBnRelu(stem),
        blocks,
        head: Head::ConvBnRelu(head),
        pool: Pool::Avg(4),
        linear,
    };
    finish(net, &vb)
}
