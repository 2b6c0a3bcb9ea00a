//! The zoo: config name → family, required input, description and builder, all read from the
//! one table of `crate::definitions` (plus custom `mlp-<w1>x<w2>…` names).

use std::borrow::Cow;

use candle_nn::VarBuilder;

use greenbench_core::Family;

pub use crate::architecture::{Architecture, Requires};
use crate::definitions::MODELS;
use crate::error::ModelError;
use crate::input::InputSpec;
use crate::mlp;
use crate::model::Model;

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
