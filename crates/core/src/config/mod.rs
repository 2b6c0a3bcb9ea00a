//! The sweep configuration (TOML): schema, located validation, and expansion into run specs.
//!
//! Every axis ([`AXES`], each a row of the one table in `schema.rs`) may be a scalar or a list, at
//! the top level or in `[grid]` (not both). The grid is the Cartesian product of the axes minus
//! `[[exclude]]` tables, times `repeats`.

use serde::de::{self, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use std::marker::PhantomData;
use std::ops::Range;

pub mod bounds;
mod dataset_sizes;
mod expand;
mod grid_checks;
mod lr_scaling;
mod order;
mod raw;
mod schema;
pub mod search;
mod validate;
pub mod workload;
mod workload_checks;

pub use crate::carbon::CarbonConfig;
pub use lr_scaling::{LrScaling, ScalingRule};
pub use schema::{axis_values, SweepConfig, AXES};
pub use search::{Budget, Objective, SearchConfig, Strategy};

/// An error found before its location is turned into line and column:
/// (field, byte span, message, hint).
pub(crate) type PendingError = (String, Option<Range<usize>>, String, Option<String>);

/// A sweep axis: one value or a list of values.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Axis<T>(pub Vec<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Axis<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Axis<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a value or a list of values")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = seq.next_element()? {
                    v.push(x);
                }
                Ok(Axis(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                T::deserialize(v.into_deserializer()).map(|x| Axis(vec![x]))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                T::deserialize(v.into_deserializer()).map(|x| Axis(vec![x]))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                T::deserialize(v.into_deserializer()).map(|x| Axis(vec![x]))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                T::deserialize(v.into_deserializer()).map(|x| Axis(vec![x]))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                T::deserialize(v.into_deserializer()).map(|x| Axis(vec![x]))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(|x| Axis(vec![x]))
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// A dataset named in a config: a registry name, or a table with a path and options.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DatasetChoice {
    /// Registry name.
    pub name: String,
    /// User-supplied location (required for `cifar10`).
    pub path: Option<String>,
    /// Train on N training samples only, picked stratified by class (the same for every run).
    pub subset: Option<usize>,
    /// Fraction of the training samples held out as the validation split (default
    /// [`DEFAULT_VALIDATION`]; 0 holds nothing out and per-epoch accuracy is not measured).
    pub validation: Option<f64>,
    /// Measure test accuracy and inference on N test samples only, stratified by class, the same
    /// images for every run.
    pub test_subset: Option<usize>,
    /// Test-set replication for inference (overrides the top-level value).
    pub replicate_test: Option<usize>,
}

/// The validation fraction of a dataset whose table does not give one: a tenth of the training
/// samples is held out for per-epoch accuracy and every choice a search makes.
pub const DEFAULT_VALIDATION: f64 = 0.1;

impl DatasetChoice {
    /// The validation fraction runs of this dataset use (`None` when nothing is held out).
    pub fn validation_fraction(&self) -> Option<f64> {
        Some(self.validation.unwrap_or(DEFAULT_VALIDATION)).filter(|&v| v > 0.0)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DatasetTable {
    name: String,
    path: Option<String>,
    subset: Option<usize>,
    validation: Option<f64>,
    test_subset: Option<usize>,
    replicate_test: Option<usize>,
}

impl<'de> Deserialize<'de> for DatasetChoice {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DatasetChoice;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "a dataset name or a table { name, path, subset, validation, test_subset, replicate_test }",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(DatasetChoice {
                    name: v.into(),
                    path: None,
                    subset: None,
                    validation: None,
                    test_subset: None,
                    replicate_test: None,
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let t = DatasetTable::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(DatasetChoice {
                    name: t.name,
                    path: t.path,
                    subset: t.subset,
                    validation: t.validation,
                    test_subset: t.test_subset,
                    replicate_test: t.replicate_test,
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// A located value: the value and where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Located<T> {
    /// The value as parsed (or the default).
    pub value: T,
    /// Dotted field path (`grid.batch_size`).
    pub field: String,
    /// Byte range in the file; `None` for defaults.
    pub span: Option<Range<usize>>,
}
