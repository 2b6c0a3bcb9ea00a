//! The table of registered models: one [`ModelDef`] per named model, in the order `greenbench
//! models` lists them. Every function of [`crate::registry`] reads this table, so adding a model
//! is one entry here plus its layer code; its family, the input it accepts and its description
//! follow from its [`Architecture`].

use std::borrow::Cow;

use crate::architecture::Architecture;
use crate::cnn;
use crate::transformer::char_gpt::GptConfig;
use crate::transformer::vit::VitConfig;

/// One registered model.
#[derive(Debug)]
pub(crate) struct ModelDef {
    /// Config name (lowercase, hyphens).
    pub name: &'static str,
    /// What it is built from.
    pub arch: Architecture,
    /// Whether this is its family's planning reference: the measured model whose rate in MACs
    /// per second the planner gives a model of the same family that was not measured (a custom
    /// MLP). Exactly one per family.
    pub family_reference: bool,
}

impl ModelDef {
    /// The same model, marked as its family's planning reference.
    const fn family_reference(mut self) -> ModelDef {
        self.family_reference = true;
        self
    }
}

/// An MLP with these hidden widths.
const fn mlp(name: &'static str, hidden: &'static [usize]) -> ModelDef {
    ModelDef {
        name,
        arch: Architecture::Mlp(Cow::Borrowed(hidden)),
        family_reference: false,
    }
}

/// A pytorch-cifar CNN built by `build`.
const fn cnn(name: &'static str, build: cnn::Builder) -> ModelDef {
    ModelDef {
        name,
        arch: Architecture::Cnn(build),
        family_reference: false,
    }
}

/// A vision transformer of this size.
const fn vit(name: &'static str, size: VitConfig) -> ModelDef {
    ModelDef {
        name,
        arch: Architecture::Vit(size),
        family_reference: false,
    }
}

/// A character GPT of this size.
const fn char_gpt(name: &'static str, size: GptConfig) -> ModelDef {
    ModelDef {
        name,
        arch: Architecture::CharGpt(size),
        family_reference: false,
    }
}

/// Every registered model, in the order `greenbench models` lists them: MLPs (hidden widths),
/// the 16 pytorch-cifar CNNs, ViTs, character GPTs.
pub(crate) static MODELS: [ModelDef; 22] = [
    mlp("mlp-small", &[256]),
    mlp("mlp-medium", &[512, 256]).family_reference(),
    mlp("mlp-large", &[1024, 1024, 512]),
    cnn("lenet", cnn::lenet),
    cnn("vgg16", cnn::vgg16),
    cnn("resnet18", cnn::resnet18).family_reference(),
    cnn("preact-resnet18", cnn::preact_resnet18),
    cnn("googlenet", cnn::googlenet),
    cnn("densenet121", cnn::densenet121),
    cnn("resnext29-2x64d", cnn::resnext29_2x64d),
    cnn("mobilenet", cnn::mobilenet),
    cnn("mobilenet-v2", cnn::mobilenet_v2),
    cnn("dpn26", cnn::dpn26),
    cnn("shufflenet-v2", cnn::shufflenet_v2),
    cnn("senet18", cnn::senet18),
    cnn("efficientnet-b0", cnn::efficientnet_b0),
    cnn("regnetx-200mf", cnn::regnetx_200mf),
    cnn("simple-dla", cnn::simple_dla),
    cnn("pnasnet-b", cnn::pnasnet_b),
    vit(
        "vit-tiny",
        VitConfig {
            dim: 64,
            depth: 4,
            heads: 4,
            hidden: 128,
        },
    )
    .family_reference(),
    vit(
        "vit-small",
        VitConfig {
            dim: 192,
            depth: 6,
            heads: 6,
            hidden: 384,
        },
    ),
    char_gpt(
        "char-gpt",
        GptConfig {
            dim: 128,
            depth: 4,
            heads: 4,
        },
    ),
];
