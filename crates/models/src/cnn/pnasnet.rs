//! PNASNet-B as in pytorch-cifar: cells of separable (depthwise, possibly channel-multiplying)
//! 7×7, 3×3, 5×5 convolutions and a 3×3 max pool, 32 base planes.

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

use super::layers::{finish, max_pool2d, ConvBn, ConvCfg, Layer, Linear};
use super::staged::{Head, Pool, Staged, Stem};
use crate::model::Model;

/// The reference's `SepConv`: one `k`×`k` conv with `groups = in_planes`, then batch-norm.
fn sep_conv(
    vb: &VarBuilder,
    name: &str,
    c_in: usize,
    c_out: usize,
    k: usize,
    stride: usize,
) -> Result<ConvBn> {
    let cfg = ConvCfg::new(c_in, c_out, k)
        .stride(stride)
        .same()
        .groups(c_in);
    ConvBn::new(&vb.pp(name), "conv1", "bn1", cfg)
}

struct CellB {
    sep1: ConvBn,
    sep2: ConvBn,
    sep3: ConvBn,
    /// 1×1 conv-bn after the pool, only at stride 2.
    pool_proj: Option<ConvBn>,
    reduce: ConvBn,
    stride: usize,
}

impl CellB {
    fn new(vb: VarBuilder, c_in: usize, c_out: usize, stride: usize) -> Result<Self> {
        let pool_proj = if stride == 2 {
            Some(ConvBn::new(
                &vb,
                "conv1",
                "bn1",
                ConvCfg::new(c_in, c_out, 1),
            )?)
        } else {
            None
        };
        Ok(Self {
            sep1: sep_conv(&vb, "sep_conv1", c_in, c_out, 7, stride)?,
            sep2: sep_conv(&vb, "sep_conv2", c_in, c_out, 3, stride)?,
            sep3: sep_conv(&vb, "sep_conv3", c_in, c_out, 5, stride)?,
            pool_proj,
            reduce: ConvBn::new(&vb, "conv2", "bn2", ConvCfg::new(2 * c_out, c_out, 1))?,
            stride,
        })
    }
}

impl Layer for CellB {
    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let y1 = self.sep1.forward_t(x, train)?;
        let y2 = self.sep2.forward_t(x, train)?;
        let mut y3 = max_pool2d(x, 3, self.stride, 1)?;
        if let Some(p) = &self.pool_proj {
            y3 = p.forward_t(&y3, train)?;
        }
        let y4 = self.sep3.forward_t(x, train)?;
        let b1 = crate::ops::elementwise::add_relu(&y1, &y2)?;
        let b2 = crate::ops::elementwise::add_relu(&y3, &y4)?;
        self.reduce
            .forward_t_relu(&Tensor::cat(&[&b1, &b2], 1)?, train)
    }
}

/// PNASNetB (451,626 parameters).
pub fn pnasnet_b(vb: VarBuilder) -> Result<Box<dyn Model>> {
    let planes = 32;
    let stem = ConvBn::new(&vb, "conv1", "bn1", ConvCfg::new(3, planes, 3).pad(1))?;
    let mut cells = Vec::new();
    let mut c_in = planes;
    // layer1 (6 cells), layer2 (downsample), layer3, layer4 (downsample), layer5.
    for (layer, (c, n, stride)) in [
        (planes, 6, 1),
        (2 * planes, 1, 2),
        (2 * planes, 6, 1),
        (4 * planes, 1, 2),
        (4 * planes, 6, 1),
    ]
    .into_iter()
    .enumerate()
    {
        for i in 0..n {
            let v = vb.pp(format!("layer{}", layer + 1));
            let v = if n == 1 { v } else { v.pp(i) };
            cells.push(CellB::new(v, c_in, c, stride)?);
            c_in = c;
        }
    }
    let linear = Linear::new(vb.pp("linear"), 4 * planes, 10)?;
    let net = Staged {
        stem: Stem::ConvBnRelu(stem),
        blocks: cells,
        head: Head::None,
        pool: Pool::Avg(8),
        linear,
    };
    finish(net, &vb)
}
