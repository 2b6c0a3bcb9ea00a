//! The zoo: config name → family, required input, description and builder.

use candle_nn::VarBuilder;

use greenbench_core::Family;

use crate::error::ModelError;
use crate::input::InputSpec;
use crate::model::Model;
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

/// One registered model.
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
}

/// Every named model: MLP presets, the CNNs, the transformers.
pub fn entries() -> Vec<Entry> {
    let mut v = Vec::new();
    for (name, w) in mlp::PRESETS {
        let widths: Vec<String> = w.iter().map(|x| x.to_string()).collect();
        v.push(Entry {
            name: name.to_string(),
            family: Family::Mlp,
            requires: Requires::AnyImage,
            description: format!("MLP in-{}-classes, ReLU", widths.join("-")),
        });
    }
    for name in cnn::NAMES {
        v.push(Entry {
            name: name.to_string(),
            family: Family::Cnn,
            requires: Requires::Cifar,
            description: format!("pytorch-cifar {name}"),
        });
    }
    for (name, c) in transformer::vit::PRESETS {
        v.push(Entry {
            name: name.to_string(),
            family: Family::Transformer,
            requires: Requires::Patches4,
            description: format!(
                "ViT, 4×4 patches, width {}, {} blocks, {} heads, MLP {}",
                c.dim, c.depth, c.heads, c.hidden
            ),
        });
    }
    for (name, c) in transformer::char_gpt::PRESETS {
        v.push(Entry {
            name: name.to_string(),
            family: Family::Transformer,
            requires: Requires::Text,
            description: format!(
                "character GPT, width {}, {} causal blocks, {} heads, learned positions",
                c.dim, c.depth, c.heads
            ),
        });
    }
    v
}

/// Looks a name up: a registered entry, or a custom `mlp-<w1>x<w2>…`.
pub fn lookup(name: &str) -> Result<Entry, ModelError> {
    if let Some(e) = entries().into_iter().find(|e| e.name == name) {
        return Ok(e);
    }
    if let Some(w) = mlp::parse_widths(name) {
        let widths: Vec<String> = w.iter().map(|x| x.to_string()).collect();
        return Ok(Entry {
            name: name.to_string(),
            family: Family::Mlp,
            requires: Requires::AnyImage,
            description: format!("MLP in-{}-classes, ReLU", widths.join("-")),
        });
    }
    Err(ModelError::UnknownModel {
        name: name.to_string(),
    })
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
    let s = &input.sample_shape;
    let model: Box<dyn Model> = match entry.family {
        Family::Mlp => {
            let hidden = mlp::parse_widths(name).ok_or_else(|| ModelError::UnknownModel {
                name: name.to_string(),
            })?;
            Box::new(mlp::Mlp::new(
                s.iter().product(),
                &hidden,
                input.classes,
                vb,
            )?)
        }
        Family::Cnn => cnn::build(name, vb)?,
        Family::Transformer => {
            if let Some((_, c)) = transformer::vit::PRESETS.iter().find(|(n, _)| *n == name) {
                Box::new(transformer::Vit::new(
                    *c,
                    (s[0], s[1], s[2]),
                    input.classes,
                    vb,
                )?)
            } else if let Some((_, c)) = transformer::char_gpt::PRESETS
                .iter()
                .find(|(n, _)| *n == name)
            {
                Box::new(transformer::CharGpt::new(*c, s[0], input.classes, vb)?)
            } else {
                return Err(ModelError::UnknownModel {
                    name: name.to_string(),
                });
            }
        }
    };
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
