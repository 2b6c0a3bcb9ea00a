//! The zoo: config name → family, required input, description and builder, all read from the
//! one table of `crate::definitions` (plus custom `mlp-<w1>x<w2>…` names).

use std::borrow::Cow;

use candle_nn::VarBuilder;

use greenbench_core::Family;

use crate::definitions::MODELS;
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
    fn build(&self, input: &InputSpec, vb: VarBuilder) -> Result<Box<dyn Model>, ModelError> {
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

/// One registered model (or a custom MLP), as the table of `crate::definitions` gives it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Entry {
    /// Config name (lowercase, hyphens).
    pub name: String,
    /// What the report groups and the planner scales by.
    pub family: Family,
    /// What it accepts.
    #[serde(skip)]
    pub requires: Requires,
    /// One line for listings.
    pub description: String,
    /// What it is built from.
    #[serde(skip)]
    pub arch: Architecture,
}

impl Entry {
    /// The entry of `arch` under `name`: family, input and description from the architecture.
    fn new(name: &str, arch: Architecture) -> Entry {
        Entry {
            name: name.to_string(),
            family: arch.family(),
            requires: arch.requires(),
            description: arch.describe(name),
            arch,
        }
    }
}

/// Every named model, in the table's order: MLP presets, the CNNs, the transformers.
pub fn entries() -> Vec<Entry> {
    MODELS
        .iter()
        .map(|d| Entry::new(d.name, d.arch.clone()))
        .collect()
}

/// Looks a name up: a registered entry, or a custom `mlp-<w1>x<w2>…`.
pub fn lookup(name: &str) -> Result<Entry, ModelError> {
    if let Some(d) = MODELS.iter().find(|d| d.name == name) {
        return Ok(Entry::new(d.name, d.arch.clone()));
    }
    if let Some(hidden) = mlp::parse_widths(name) {
        return Ok(Entry::new(name, Architecture::Mlp(Cow::Owned(hidden))));
    }
    Err(ModelError::UnknownModel {
        name: name.to_string(),
    })
}

/// The registered model whose measured throughput the planner scales to a `family` model that
/// was not measured (a custom MLP); `None` for a family the table marks none of.
pub fn family_reference(family: Family) -> Option<&'static str> {
    MODELS
        .iter()
        .find(|d| d.family_reference && d.arch.family() == family)
        .map(|d| d.name)
}

/// Builds `name` for `input` with its variables under `vb` (values are reset by
/// [`crate::init::init_varmap`] afterwards).
pub fn build(
    name: &str,
    input: &InputSpec,
    vb: VarBuilder,
) -> Result<(Entry, Box<dyn Model>), ModelError> {
    let entry = lookup(name)?;
    entry.requires.check(name, input)?;
    let model = entry.arch.build(input, vb)?;
    Ok((entry, model))
}

/// The input each family is listed with by default (`greenbench models`).
pub fn default_input(requires: Requires) -> InputSpec {
    match requires {
        Requires::AnyImage => InputSpec {
            sample_shape: vec![1, 28, 28],
            classes: 10,
            text: false,
        },
        Requires::Cifar | Requires::Patches4 => InputSpec {
            sample_shape: vec![3, 32, 32],
            classes: 10,
            text: false,
        },
        Requires::Text => InputSpec {
            sample_shape: vec![64],
            classes: 80,
            text: true,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_lowercase_hyphenated() {
        let e = entries();
        let mut names: Vec<&str> = e.iter().map(|e| e.name.as_str()).collect();
        assert!(names.iter().all(|n| n
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')));
        let len = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), len);
    }

    #[test]
    fn every_family_has_exactly_one_planning_reference() {
        use greenbench_core::Choice;
        for &family in Family::ALL {
            let marked: Vec<&str> = MODELS
                .iter()
                .filter(|d| d.family_reference && d.arch.family() == family)
                .map(|d| d.name)
                .collect();
            assert_eq!(marked.len(), 1, "{family}: references {marked:?}");
            assert_eq!(family_reference(family), Some(marked[0]));
        }
    }

    #[test]
    fn named_and_custom_mlps_are_described_alike() {
        let named = lookup("mlp-medium").map(|e| e.description).ok();
        let custom = lookup("mlp-512x256").map(|e| e.description).ok();
        assert_eq!(named.as_deref(), Some("MLP in-512-256-classes, ReLU"));
        assert_eq!(named, custom);
    }

    #[test]
    fn unknown_and_mismatched_inputs_are_errors() {
        assert!(matches!(
            lookup("nope"),
            Err(ModelError::UnknownModel { .. })
        ));
        assert_eq!(
            lookup("mlp-32x16").map(|e| e.family).ok(),
            Some(Family::Mlp)
        );
        let text = default_input(Requires::Text);
        let err = Requires::Patches4.check("vit-tiny", &text);
        assert!(matches!(err, Err(ModelError::InputMismatch { .. })));
        assert!(Requires::Cifar
            .check("lenet", &default_input(Requires::AnyImage))
            .is_err());
        assert!(Requires::AnyImage
            .check("mlp-small", &default_input(Requires::Cifar))
            .is_ok());
    }
}
