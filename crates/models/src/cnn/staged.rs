//! The skeleton most CNNs here share (a stem, a chain of blocks, an optional head, pooling and a
//! linear classifier) and the loop that builds their stages of blocks with pytorch-cifar's names.

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

use super::layers::{flatten, global_avg_pool, Act, BatchNorm2d, Conv2d, ConvBn, Layer, Linear};

/// The layer before the blocks.
pub(crate) enum Stem {
    /// Convolution, batch-norm, ReLU (the stem of ResNet, MobileNet, DPN, PNASNet, RegNet).
    ConvBnRelu(ConvBn),
    /// conv-bn-swish (EfficientNet).
    ConvBnSwish(ConvBn),
    /// A bare convolution (pre-activation networks, DenseNet).
    Conv(Conv2d),
}

/// The layer between the blocks and the pooling.
pub(crate) enum Head {
    /// Nothing.
    None,
    /// conv-bn-ReLU (MobileNetV2, ShuffleNetV2).
    ConvBnRelu(ConvBn),
    /// bn-ReLU (DenseNet).
    BnRelu(BatchNorm2d),
}

/// The pooling before the classifier.
pub(crate) enum Pool {
    /// `k`×`k` average pooling, then flattening.
    Avg(usize),
    /// Mean over the spatial dimensions.
    Global,
}

/// A CNN made of `stem`, `blocks` in order, `head`, `pool` and the classifier `linear`.
pub(crate) struct Staged<B> {
    /// The first layer.
    pub stem: Stem,
    /// The body.
    pub blocks: Vec<B>,
    /// After the body.
    pub head: Head,
    /// Before the classifier.
    pub pool: Pool,
    /// The classifier.
    pub linear: Linear,
}

impl<B: Layer> Layer for Staged<B> {
    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let mut x = match &self.stem {
            Stem::ConvBnRelu(s) => s.forward_t_relu(x, train)?,
            Stem::ConvBnSwish(s) => s.forward_t_act(x, train, Act::Silu)?,
            Stem::Conv(c) => c.forward(x)?,
        };
        for b in &self.blocks {
            x = b.forward_t(&x, train)?;
        }
        let x = match &self.head {
            Head::None => x,
            Head::ConvBnRelu(h) => h.forward_t_relu(&x, train)?,
            Head::BnRelu(bn) => bn.forward_t_relu(&x, train)?,
        };
        let x = match self.pool {
            Pool::Avg(k) => flatten(&x.avg_pool2d(k)?)?,
            Pool::Global => global_avg_pool(&x)?,
        };
        self.linear.forward(&x)
    }
}

/// How the reference names the blocks of a staged body.
#[derive(Clone, Copy)]
pub(crate) enum Names {
    /// `layer{s}.{i}`, stages counted from 1: one `nn.Sequential` per stage.
    PerStage,
    /// `layers.{n}`, `n` counting all blocks: one `nn.Sequential` for the whole body.
    Flat,
}

/// Where a block sits in a staged body, as handed to the block builder of [`stage_blocks`].
#[derive(Clone, Copy)]
pub(crate) struct Slot {
    /// Stage, from 0.
    pub stage: usize,
    /// Block within the stage, from 0.
    pub index: usize,
    /// Channels coming in: the previous block's output, or the body's input.
    pub c_in: usize,
    /// The stage's stride for its first block, 1 for the others.
    pub stride: usize,
}

/// Builds a body of stages (pytorch-cifar's `_make_layer`): `stages` lists `(depth, stride)`,
/// `c_in` is the body's input channels and `block(vb, slot)` builds one block under its name and
/// returns it with its output channels. Returns the blocks and the body's output channels.
pub(crate) fn stage_blocks<B>(
    vb: &VarBuilder,
    names: Names,
    c_in: usize,
    stages: &[(usize, usize)],
    mut block: impl FnMut(VarBuilder, Slot) -> Result<(B, usize)>,
) -> Result<(Vec<B>, usize)> {
    let mut blocks = Vec::new();
    let mut c_in = c_in;
    for (stage, &(depth, stride)) in stages.iter().enumerate() {
        for index in 0..depth {
            let v = match names {
                Names::PerStage => vb.pp(format!("layer{}.{index}", stage + 1)),
                Names::Flat => vb.pp(format!("layers.{}", blocks.len())),
            };
            let stride = if index == 0 { stride } else { 1 };
            let slot = Slot {
                stage,
                index,
                c_in,
                stride,
            };
            let (b, c_out) = block(v, slot)?;
            blocks.push(b);
            c_in = c_out;
        }
    }
    Ok((blocks, c_in))
}
