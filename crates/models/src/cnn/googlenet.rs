//! GoogLeNet as in pytorch-cifar: a 3×3 stem and nine inception modules (the 5×5 branch is two
//! 3×3 convolutions); every convolution has a bias and is followed by batch-norm and ReLU.

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

use super::layers::{finish, global_avg_pool, max_pool2d, ConvBn, ConvCfg, Layer, Linear};
use crate::model::Model;

/// A conv (with bias) + bn + relu at sequential indices `i` and `i + 1` of `vb`.
fn cbr(vb: &VarBuilder, i: usize, c_in: usize, c_out: usize, k: usize) -> Result<ConvBn> {
    ConvBn::new(
        vb,
        &i.to_string(),
        &(i + 1).to_string(),
        ConvCfg::new(c_in, c_out, k).same().bias(),
    )
}

fn run(seq: &[ConvBn], x: &Tensor, train: bool) -> Result<Tensor> {
    let mut x = x.clone();
    for cb in seq {
        x = cb.forward_t_relu(&x, train)?;
    }
    Ok(x)
}

struct Inception {
    b1: Vec<ConvBn>,
    b2: Vec<ConvBn>,
    b3: Vec<ConvBn>,
    b4: Vec<ConvBn>,
}

impl Inception {
    /// `(in, n1x1, n3x3red, n3x3, n5x5red, n5x5, pool_planes)` as in the reference.
    fn new(vb: VarBuilder, c: [usize; 7]) -> Result<Self> {
        let [c_in, n1, n3r, n3, n5r, n5, np] = c;
        let (v1, v2, v3, v4) = (vb.pp("b1"), vb.pp("b2"), vb.pp("b3"), vb.pp("b4"));
        Ok(Self {
            b1: vec![cbr(&v1, 0, c_in, n1, 1)?],
            b2: vec![cbr(&v2, 0, c_in, n3r, 1)?, cbr(&v2, 3, n3r, n3, 3)?],
            b3: vec![
                cbr(&v3, 0, c_in, n5r, 1)?,
                cbr(&v3, 3, n5r, n5, 3)?,
                cbr(&v3, 6, n5, n5, 3)?,
            ],
            // Index 0 of b4 is the 3×3 max pool.
            b4: vec![cbr(&v4, 1, c_in, np, 1)?],
        })
    }
}

impl Layer for Inception {
    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let y1 = run(&self.b1, x, train)?;
        let y2 = run(&self.b2, x, train)?;
        let y3 = run(&self.b3, x, train)?;
        let y4 = run(&self.b4, &max_pool2d(x, 3, 1, 1)?, train)?;
        Tensor::cat(&[y1, y2, y3, y4], 1)
    }
}

struct GoogLeNet {
    pre: ConvBn,
    /// a3, b3 | pool | a4 .. e4 | pool | a5, b5.
    stages: [Vec<Inception>; 3],
    linear: Linear,
}

impl Layer for GoogLeNet {
    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let mut x = self.pre.forward_t_relu(x, train)?;
        for (s, stage) in self.stages.iter().enumerate() {
            if s > 0 {
                x = max_pool2d(&x, 3, 2, 1)?;
            }
            for m in stage {
                x = m.forward_t(&x, train)?;
            }
        }
        // AvgPool2d(8, stride 1) on the 8×8 map is the global mean.
        self.linear.forward(&global_avg_pool(&x)?)
    }
}

/// GoogLeNet (6,166,250 parameters).
pub fn googlenet(vb: VarBuilder) -> Result<Box<dyn Model>> {
    let pre = cbr(&vb.pp("pre_layers"), 0, 3, 192, 3)?;
    let mk = |name: &str, c: [usize; 7]| Inception::new(vb.pp(name), c);
    let stages = [
        vec![
            mk("a3", [192, 64, 96, 128, 16, 32, 32])?,
            mk("b3", [256, 128, 128, 192, 32, 96, 64])?,
        ],
        vec![
            mk("a4", [480, 192, 96, 208, 16, 48, 64])?,
            mk("b4", [512, 160, 112, 224, 24, 64, 64])?,
            mk("c4", [512, 128, 128, 256, 24, 64, 64])?,
            mk("d4", [512, 112, 144, 288, 32, 64, 64])?,
            mk("e4", [528, 256, 160, 320, 32, 128, 128])?,
        ],
        vec![
            mk("a5", [832, 256, 160, 320, 32, 128, 128])?,
            mk("b5", [832, 384, 192, 384, 48, 128, 128])?,
        ],
    ];
    let linear = Linear::new(vb.pp("linear"), 1024, 10)?;
    finish(
        GoogLeNet {
            pre,
            stages,
            linear,
        },
        &vb,
    )
}
