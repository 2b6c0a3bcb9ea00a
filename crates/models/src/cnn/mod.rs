//! The CNN family: the 16 networks of pytorch-cifar used by the paper (3×32×32 input, 10 classes),
//! registered by name in the model table (`crate::definitions`).
//!
//! Every network is written from the reference PyTorch code with the same layers and variable
//! names, so its trainable parameter count equals PyTorch's exactly. See [`layers`] for how
//! variables are created (batch-norm running statistics are `VarMap` entries named
//! `….running_mean` / `….running_var`, saved with checkpoints but not trainable and not counted), how MACs are
//! counted (convolutions and linear layers only, per sample at 3×32×32) and how grouped /
//! depthwise convolutions and padded max pooling are implemented with ops that have a CPU
//! backward pass.
//!
//! Verified against PyTorch (torch 2.x, pytorch-cifar at its current HEAD): the `VarMap` of every
//! network loads into the PyTorch model's `state_dict` with no missing or unexpected keys (only
//! the batch-norm `num_batches_tracked` counters are absent), and the logits of a 4-image batch agree to ~1e-5 in eval
//! mode, in train mode (batch statistics) and in eval mode after that step's running-statistics
//! update; PyTorch's conv + linear MACs (forward hooks) equal [`Model::macs_per_sample`] exactly.

use candle_nn::VarBuilder;

use crate::model::Model;

mod densenet;
mod dla_simple;
mod dpn;
mod efficientnet;
mod googlenet;
pub mod layers;
mod lenet;
mod mobilenet;
mod mobilenet_v2;
mod pnasnet;
mod preact_resnet;
mod regnet;
mod resnet;
mod resnext;
mod senet;
mod shufflenet_v2;
mod staged;
mod vgg;

/// Builds one network with its variables under the given `VarBuilder`.
pub type Builder = fn(VarBuilder) -> candle_core::Result<Box<dyn Model>>;

// The builders the model table (`crate::definitions`) names.
pub(crate) use densenet::densenet121;
pub(crate) use dla_simple::simple_dla;
pub(crate) use dpn::dpn26;
pub(crate) use efficientnet::efficientnet_b0;
pub(crate) use googlenet::googlenet;
pub(crate) use lenet::lenet;
pub(crate) use mobilenet::mobilenet;
pub(crate) use mobilenet_v2::mobilenet_v2;
pub(crate) use pnasnet::pnasnet_b;
pub(crate) use preact_resnet::preact_resnet18;
pub(crate) use regnet::regnetx_200mf;
pub(crate) use resnet::resnet18;
pub(crate) use resnext::resnext29_2x64d;
pub(crate) use senet::senet18;
pub(crate) use shufflenet_v2::shufflenet_v2;
pub(crate) use vgg::vgg16;
