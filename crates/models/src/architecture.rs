//! What a model is built from — its family's layer code and that code's settings — and what it
//! accepts as one sample. The model table (`definitions.rs`) names an `Architecture` per model;
//! the registry looks models up in that table.

use std::borrow::Cow;

use candle_nn::VarBuilder;

use greenbench_core::Family;

use crate::error::ModelError;
use crate::input::InputSpec;
use crate::model::Model;
use crate::transformer::char_gpt::GptConfig;
use crate::transformer::vit::VitConfig;
use crate::{cnn, mlp, transformer};

/// What a model accepts as one sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requires {
    /// Any non-text sample shape (flattened).
    AnyImage,
    /// Exactly 3×32×32 images (the pytorch-cifar CNNs).
    Cifar,
    /// C×H×W images with H and W multiples of 4 (ViT patches).
    Patches4,
    /// Token ids `[seq_len]`.
    Text,
}

impl Requires {
    /// Human wording, for errors and listings.
    pub fn describe(self) -> &'static str {
        match self {
            Requires::AnyImage => "image or feature vectors (any C×H×W, flattened)",
            Requires::Cifar => "3×32×32 images",
            Requires::Patches4 => "C×H×W images with H and W multiples of 4",
            Requires::Text => "token-id sequences (a text dataset)",
        }
    }

    /// Checks `input` against the requirement.
    pub fn check(self, model: &str, input: &InputSpec) -> Result<(), ModelError> {
        let s = &input.sample_shape;
        let ok = match self {
            Requires::AnyImage => !input.text && !s.is_empty() && s.iter().all(|&d| d > 0),
            Requires::Cifar => !input.text && s.as_slice() == [3, 32, 32],
            Requires::Patches4 => {
                !input.text
                    && s.len() == 3
                    && s[0] > 0
                    && s[1] > 0
                    && s[2] > 0
                    && s[1].is_multiple_of(4)
                    && s[2].is_multiple_of(4)
            }
            Requires::Text => input.text && s.len() == 1 && s[0] > 0,
        };
        let classes_ok = input.classes >= 2;
        if ok && classes_ok {
            return Ok(());
        }
        let dims: Vec<String> = s.iter().map(|d| d.to_string()).collect();
        let kind = if input.text {
            "token sequences of shape"
        } else {
            "samples of shape"
        };
        Err(ModelError::InputMismatch {
            model: model.to_string(),
            needs: format!("{} and at least 2 classes", self.describe()),
            got: format!("{kind} [{}] with {} classes", dims.join("×"), input.classes),
        })
    }
}

/// What a model is built from: its family's layer code and that code's settings. Decides the
/// model's family, the input it accepts and its description.
#[derive(Clone, Debug)]
pub enum Architecture {
    /// A multilayer perceptron with these hidden widths ([`mlp::Mlp`]).
    Mlp(Cow<'static, [usize]>),
    /// A pytorch-cifar CNN built by this function ([`cnn`]).
    Cnn(cnn::Builder),
    /// A vision transformer of this size ([`transformer::Vit`]).
    Vit(VitConfig),
    /// A character GPT of this size ([`transformer::CharGpt`]).
    CharGpt(GptConfig),
}

impl Architecture {
    /// What the report groups and the planner scales by.
    pub fn family(&self) -> Family {
        match self {
            Architecture::Mlp(_) => Family::Mlp,
            Architecture::Cnn(_) => Family::Cnn,
            Architecture::Vit(_) | Architecture::CharGpt(_) => Family::Transformer,
        }
    }

    /// What one sample must be.
    pub fn requires(&self) -> Requires {
        match self {
            Architecture::Mlp(_) => Requires::AnyImage,
            Architecture::Cnn(_) => Requires::Cifar,
            Architecture::Vit(_) => Requires::Patches4,
            Architecture::CharGpt(_) => Requires::Text,
        }
    }

    /// One line for listings, for the model registered as `name`.
    pub fn describe(&self, name: &str) -> String {
        match self {
            Architecture::Mlp(hidden) => {
                let widths: Vec<String> = hidden.iter().map(|x| x.to_string()).collect();
                format!("MLP in-{}-classes, ReLU", widths.join("-"))
            }
            Architecture::Cnn(_) => format!("pytorch-cifar {name}"),
            Architecture::Vit(c) => format!(
                "ViT, 4×4 patches, width {}, {} blocks, {} heads, MLP {}",
                c.dim, c.depth, c.heads, c.hidden
            ),
            Architecture::CharGpt(c) => format!(
                "character GPT, width {}, {} causal blocks, {} heads, learned positions",
                c.dim, c.depth, c.heads
            ),
        }
    }

    /// Builds the model for `input` (already checked against [`Architecture::requires`]) with
    /// its variables under `vb`.
    pub(crate) fn build(
        &self,
        input: &InputSpec,
        vb: VarBuilder,
    ) -> Result<Box<dyn Model>, ModelError> {
        let s = &input.sample_shape;
        Ok(match self {
            Architecture::Mlp(hidden) => Box::new(mlp::Mlp::new(
                s.iter().product(),
                hidden,
                input.classes,
                vb,
            )?),
            Architecture::Cnn(build) => build(vb)?,
            Architecture::Vit(c) => Box::new(transformer::Vit::new(
                *c,
                (s[0], s[1], s[2]),
                input.classes,
                vb,
            )?),
            Architecture::CharGpt(c) => {
                Box::new(transformer::CharGpt::new(*c, s[0], input.classes, vb)?)
            }
        })
    }
}
