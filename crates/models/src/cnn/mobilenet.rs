//! MobileNet (v1) as in pytorch-cifar: depthwise 3×3 + pointwise 1×1 blocks.

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

use super::layers::{finish, ConvBn, ConvCfg, Layer, Linear};
use super::staged::{Head, Pool, Staged, Stem};
use crate::model::Model;

/// `(out_planes, stride)` per block.
const CFG: &[(usize, usize)] = &[
    (64, 1),
    (128, 2),
    (128, 1),
    (256, 2),
    (256, 1),
    (512, 2),
    (512, 1),
    (512, 1),
    (512, 1),
    (512, 1),
    (512, 1),
    (1024, 2),
    (1024, 1),
];

struct Block {
    dw: ConvBn,
    pw: ConvBn,
}

impl Layer for Block {
    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let out = self.dw.forward_t_relu(x, train)?;
        self.pw.forward_t_relu(&out, train)
    }
}

/// MobileNet (3,217,226 parameters).
pub fn mobilenet(vb: VarBuilder) -> Result<Box<dyn Model>> {
    let stem = ConvBn::new(&vb, "conv1", "bn1", ConvCfg::new(3, 32, 3).pad(1))?;
    let mut blocks = Vec::new();
    let mut c_in = 32;
    for (i, &(c_out, stride)) in CFG.iter().enumerate() {
        let v = vb.pp(format!("layers.{i}"));
        let dw = ConvCfg::new(c_in, c_in, 3)
            .stride(stride)
            .pad(1)
            .groups(c_in);
        blocks.push(Block {
            dw: ConvBn::new(&v, "conv1", "bn1", dw)?,
            pw: ConvBn::new(&v, "conv2", "bn2", ConvCfg::new(c_in, c_out, 1))?,
        });
        c_in = c_out;
    }
    let linear = Linear::new(vb.pp("linear"), 1024, 10)?;
    let net = Staged {
        stem: Stem::ConvBnRelu(stem),
        blocks,
        head: Head::None,
        pool: Pool::Avg(2),
        linear,
    };
    finish(net, &vb)
}
