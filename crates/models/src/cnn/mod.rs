//! The CNN family: the 16 networks of pytorch-cifar used by the paper (3×32×32 input, 10 classes).
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

/// Config names of the CNNs, in the order `greenbench models` lists them.
pub const NAMES: &[&str] = &[
    "lenet",
    "vgg16",
    "resnet18",
    "preact-resnet18",
    "googlenet",
    "densenet121",
    "resnext29-2x64d",
    "mobilenet",
    "mobilenet-v2",
    "dpn26",
    "shufflenet-v2",
    "senet18",
    "efficientnet-b0",
    "regnetx-200mf",
    "simple-dla",
    "pnasnet-b",
];

/// Builds the CNN `name` with its variables under `vb`.
pub fn build(name: &str, vb: VarBuilder) -> candle_core::Result<Box<dyn Model>> {
    match name {
        "lenet" => lenet::lenet(vb),
        "vgg16" => vgg::vgg16(vb),
        "resnet18" => resnet::resnet18(vb),
        "preact-resnet18" => preact_resnet::preact_resnet18(vb),
        "googlenet" => googlenet::googlenet(vb),
        "densenet121" => densenet::densenet121(vb),
        "resnext29-2x64d" => resnext::resnext29_2x64d(vb),
        "mobilenet" => mobilenet::mobilenet(vb),
        "mobilenet-v2" => mobilenet_v2::mobilenet_v2(vb),
        "dpn26" => dpn::dpn26(vb),
        "shufflenet-v2" => shufflenet_v2::shufflenet_v2(vb),
        "senet18" => senet::senet18(vb),
        "efficientnet-b0" => efficientnet::efficientnet_b0(vb),
        "regnetx-200mf" => regnet::regnetx_200mf(vb),
        "simple-dla" => dla_simple::simple_dla(vb),
        "pnasnet-b" => pnasnet::pnasnet_b(vb),
        _ => Err(candle_core::Error::Msg(format!("unknown CNN `{name}`"))),
    }
}
