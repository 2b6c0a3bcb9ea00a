//! The CNN family: the 16 networks of pytorch-cifar used by the paper (3×32×32 input, 10 classes).
//!
//! Every network is written from the reference PyTorch code with the same layers and variable
//! names, so its trainable parameter count equals PyTorch's exactly. See [`layers`] for how
//! variables are created (batch-norm running statistics are buffers kept inside the model, not
//! in the `VarBuilder`, so a `VarMap` holds exactly the trainable parameters), how MACs are
//! counted (convolutions and linear layers only, per sample at 3×32×32) and how grouped /
//! depthwise convolutions and padded max pooling are implemented with ops that have a CPU
//! backward pass.

use candle_nn::VarBuilder;

use crate::model::Model;

pub mod layers;
mod lenet;
mod resnet;

/// Config names of the CNNs, in the order `greenbench models` lists them.
pub const NAMES: &[&str] = &["lenet", "resnet18"];

/// Builds the CNN `name` with its variables under `vb`.
pub fn build(name: &str, vb: VarBuilder) -> candle_core::Result<Box<dyn Model>> {
    match name {
        "lenet" => lenet::lenet(vb),
        "resnet18" => resnet::resnet18(vb),
        _ => Err(candle_core::Error::Msg(format!("unknown CNN `{name}`"))),
    }
}
