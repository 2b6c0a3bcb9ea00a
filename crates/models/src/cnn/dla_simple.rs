//! SimpleDLA as in pytorch-cifar (`dla_simple.py`): three conv-bn-relu layers, then trees of
//! residual basic blocks whose outputs are aggregated by 1×1 root convolutions.

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

use super::layers::{finish, flatten, ConvBn, ConvCfg, Layer, Linear};
use super::resnet::BasicBlock;
use crate::model::Model;

/// Concatenates its inputs and applies conv1×1-bn-relu.
struct Root {
    cb: ConvBn,
}

/// A tree of `2^level` basic blocks: `root(left(x), right(left(x)))`.
struct Tree {
    root: Root,
    left: Box<dyn Layer>,
    right: Box<dyn Layer>,
}

impl Tree {
    fn new(vb: VarBuilder, c_in: usize, c_out: usize, level: usize, stride: usize) -> Result<Self> {
        let root = Root {
            cb: ConvBn::new(
                &vb.pp("root"),
                "conv",
                "bn",
                ConvCfg::new(2 * c_out, c_out, 1),
            )?,
        };
        let (left, right): (Box<dyn Layer>, Box<dyn Layer>) = if level == 1 {
            (
                Box::new(BasicBlock::new(vb.pp("left_tree"), c_in, c_out, stride)?),
                Box::new(BasicBlock::new(vb.pp("right_tree"), c_out, c_out, 1)?),
            )
        } else {
            (
                Box::new(Tree::new(
                    vb.pp("left_tree"),
                    c_in,
                    c_out,
                    level - 1,
                    stride,
                )?),
                Box::new(Tree::new(vb.pp("right_tree"), c_out, c_out, level - 1, 1)?),
            )
        };
        Ok(Self { root, left, right })
    }
}

impl Layer for Tree {
    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let out1 = self.left.forward_t(x, train)?;
        let out2 = self.right.forward_t(&out1, train)?;
        self.root
            .cb
            .forward_t_relu(&Tensor::cat(&[&out1, &out2], 1)?, train)
    }
}

struct SimpleDla {
    /// base, layer1, layer2.
    stem: [ConvBn; 3],
    trees: Vec<Tree>,
    linear: Linear,
}

impl Layer for SimpleDla {
    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let mut x = x.clone();
        for cb in &self.stem {
            x = cb.forward_t_relu(&x, train)?;
        }
        for t in &self.trees {
            x = t.forward_t(&x, train)?;
        }
        self.linear.forward(&flatten(&x.avg_pool2d(4)?)?)
    }
}

/// SimpleDLA (15,142,970 parameters).
pub fn simple_dla(vb: VarBuilder) -> Result<Box<dyn Model>> {
    let cbr = |name: &str, c_in, c_out| {
        ConvBn::new(&vb.pp(name), "0", "1", ConvCfg::new(c_in, c_out, 3).pad(1))
    };
    let stem = [
        cbr("base", 3, 16)?,
        cbr("layer1", 16, 16)?,
        cbr("layer2", 16, 32)?,
    ];
    let trees = vec![
        Tree::new(vb.pp("layer3"), 32, 64, 1, 1)?,
        Tree::new(vb.pp("layer4"), 64, 128, 2, 2)?,
        Tree::new(vb.pp("layer5"), 128, 256, 2, 2)?,
        Tree::new(vb.pp("layer6"), 256, 512, 1, 2)?,
    ];
    let linear = Linear::new(vb.pp("linear"), 512, 10)?;
    finish(
        SimpleDla {
            stem,
            trees,
            linear,
        },
        &vb,
    )
}
