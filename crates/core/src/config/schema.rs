//! The sweep axes, written once. Each row of the table at the bottom gives an axis's name, its
//! type, its default (typed; `None`: required), its place in the expansion (`nest 0` is the
//! outermost loop) and the [`RunSpec`] fields a value of it sets. From that one table come the
//! `[grid]` table and the top-level keys of the file, [`AXES`], the typed fields of
//! [`SweepConfig`], the grid's points, the run spec built at each point, and the axis values of a
//! spec that `[[exclude]]` tables and the dry run's JSON read.
//!
//! Adding an axis: add its row here and the `RunSpec` field it sets (an optional field, left out
//! of the spec's JSON when unset, keeps the run ids of existing runs).

use serde::Deserialize;
use serde_json::Value;
use std::ops::Range;
use toml::Spanned;

use super::raw::{take_written, typed};
use super::{Axis, CarbonConfig, DatasetChoice, Located, PendingError, SearchConfig};
use crate::choices::{Choice, Optimizer, Precision, RunOrder, Schedule};
use crate::device::DeviceName;
use crate::interference::QuietGate;
use crate::spec::RunSpec;

/// A type an axis or setting holds, and how a file writes it: the same value (numbers, names,
/// dataset tables) or a name parsed into a closed set (optimizer, device), whose error is split
/// into what is wrong and what is accepted.
pub(super) trait Written: Sized {
    /// The type as the file writes it.
    type Raw;
    /// The value written, or what is wrong with it and a hint.
    fn from_raw(raw: Self::Raw) -> Result<Self, (String, Option<String>)>;
}

macro_rules! written_as_itself {
    ($($t:ty),*) => {$(
        impl Written for $t {
            type Raw = $t;
            fn from_raw(raw: $t) -> Result<$t, (String, Option<String>)> {
                Ok(raw)
            }
        }
    )*};
}
written_as_itself!(String, i64, f64, DatasetChoice);

macro_rules! written_as_choice {
    ($($t:ty),*) => {$(
        impl Written for $t {
            type Raw = String;
            fn from_raw(raw: String) -> Result<$t, (String, Option<String>)> {
                <$t as Choice>::parse(&raw).map_err(|e| {
                    (
                        format!("unknown {} `{}`", e.what, e.given),
                        Some(format!("accepted: {}", e.accepted)),
                    )
                })
            }
        }
    )*};
}
written_as_choice!(Optimizer, Schedule, Precision, RunOrder);

impl Written for DeviceName {
    type Raw = String;
    fn from_raw(raw: String) -> Result<DeviceName, (String, Option<String>)> {
        DeviceName::parse(&raw).map_err(|e| (e.to_string(), None))
    }
}

/// An axis's value at a point: the value itself, or for an axis whose unset list is one point
/// (`optional`) the value if any.
macro_rules! value_at {
    ($values:expr, $i:expr) => {
        &$values[$i]
    };
    ($values:expr, $i:expr, optional) => {
        $values.get($i)
    };
}

/// How many points an axis has: its values, or one ("not set") for an unset `optional` axis.
macro_rules! points {
    ($values:expr) => {
        $values.len()
    };
    ($values:expr, optional) => {
        $values.len().max(1)
    };
}

/// An axis as the grid checks and the expansion see it.
pub(super) struct AxisView<'a> {
    /// Its name (`batch_size`).
    pub name: &'static str,
    /// Where it was written (`grid.batch_size`).
    pub field: &'a str,
    /// Byte range in the file; `None` for its default.
    pub span: &'a Option<Range<usize>>,
    /// Its values as JSON, as a spec holds them.
    pub values: Vec<Value>,
    /// How many points of the grid it spans (one for an unset optional axis).
    pub points: usize,
    /// Its value's index at a point.
    pub index: fn(&Point) -> usize,
    /// Sets its value's index at a point.
    pub set: fn(&mut Point, usize),
}

fn json_values<T: serde::Serialize>(values: &[T]) -> Vec<Value> {
    values
        .iter()
        .map(|v| serde_json::to_value(v).unwrap_or(Value::Null))
        .collect()
}

macro_rules! schema {
    (
        axes {$(
            $(#[$doc:meta])*
            $axis:ident: $ty:ty = $default:expr, nest $nest:literal $([$optional:ident])?,
                spec |$c:ident, $v:ident| { $($field:ident: $value:expr),* $(,)? };
        )*}
        file {$( $(#[$fmeta:meta])* $fname:ident: $fty:ty, )*}
        settings {$( $(#[$smeta:meta])* $sname:ident: $sty:ty, )*}
        spec_settings |$sc:ident, $sp:ident| { $($sfield:ident: $svalue:expr),* $(,)? }
    ) => {
        /// The `[grid]` table: any axis.
        #[derive(Debug, Clone, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub(super) struct GridTable {
            $($axis: Option<Spanned<Axis<<$ty as Written>::Raw>>>,)*
        }

        /// The file as written.
        #[derive(Debug, Clone, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub(super) struct RawConfig {
            $($axis: Option<Spanned<Axis<<$ty as Written>::Raw>>>,)*
            $($(#[$fmeta])* pub(super) $fname: $fty,)*
        }

        /// Axis names, in the order a config's documentation lists them (the keys allowed in
        /// `[grid]` and `[[exclude]]`).
        pub const AXES: &[&str] = &[$(stringify!($axis)),*];

        /// A parsed sweep configuration.
        #[derive(Debug, Clone)]
        pub struct SweepConfig {
            $($(#[$doc])* pub $axis: Located<Vec<$ty>>,)*
            $($(#[$smeta])* pub $sname: $sty,)*
        }

        /// Every axis with its values and where they were written: the top level, `[grid]`, or
        /// (no span) its default.
        pub(super) struct TypedAxes {
            $($axis: Located<Vec<$ty>>,)*
        }

        impl TypedAxes {
            /// Each axis of `raw` from the top level or `[grid]`, then each turned into its type;
            /// written in both, missing while required, an empty list or a value that is not of
            /// its type: an error in `errs` (the file's errors first, then the values').
            pub(super) fn take(raw: &mut RawConfig, errs: &mut Vec<PendingError>) -> TypedAxes {
                let grid = raw.grid.take().unwrap_or_default();
                $(let $axis = take_written(
                    raw.$axis.take(),
                    grid.$axis,
                    stringify!($axis),
                    Option::<Vec<$ty>>::is_none(&$default),
                    errs,
                );)*
                TypedAxes {
                    $($axis: typed($axis, stringify!($axis), $default, errs),)*
                }
            }

            /// The config of these axes and its other settings.
            pub(super) fn with(self, settings: Settings) -> SweepConfig {
                SweepConfig {
                    $($axis: self.$axis,)*
                    $($sname: settings.$sname,)*
                }
            }
        }

        /// Everything of a [`SweepConfig`] but its axes.
        pub(super) struct Settings {
            $(pub(super) $sname: $sty,)*
        }

        /// A point of the grid: the index of its value on each axis, and the repeat.
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        pub(super) struct Point {
            $(pub(super) $axis: usize,)*
            /// Which repeat of the configuration (0-based).
            pub(super) repeat: usize,
        }

        impl SweepConfig {
            /// The axes in expansion order (the outermost loop first).
            pub(super) fn axes_in_order(&self) -> Vec<AxisView<'_>> {
                let mut axes = vec![$((
                    $nest,
                    AxisView {
                        name: stringify!($axis),
                        field: &self.$axis.field,
                        span: &self.$axis.span,
                        values: json_values(&self.$axis.value),
                        points: points!(self.$axis.value $(, $optional)?),
                        index: |p| p.$axis,
                        set: |p, i| p.$axis = i,
                    },
                )),*];
                axes.sort_by_key(|(nest, _)| *nest);
                axes.into_iter().map(|(_, a)| a).collect()
            }

            /// The run at point `p`.
            pub(super) fn spec_at(&self, p: &Point) -> RunSpec {
                $(let $axis = value_at!(self.$axis.value, p.$axis $(, $optional)?);)*
                RunSpec {
                    $($($field: {
                        #[allow(unused_variables)]
                        let $c = self;
                        let $v = $axis;
                        $value
                    },)*)*
                    $($sfield: {
                        #[allow(unused_variables)]
                        let $sc = self;
                        #[allow(unused_variables)]
                        let $sp = p;
                        $svalue
                    },)*
                }
            }
        }
    };
}

schema! {
    axes {
        /// Model axis.
        model: String = None, nest 1,
            spec |c, v| { model: v.clone() };
        /// Dataset axis.
        dataset: DatasetChoice = None, nest 0,
            spec |c, d| {
                dataset: d.name.clone(),
                dataset_path: d.path.clone(),
                subset: d.subset,
                validation: d.validation_fraction(),
                test_subset: d.test_subset,
                replicate_test: d.replicate_test.unwrap_or(c.replicate_test.value.max(1) as usize),
            };
        /// Batch-size axis (validated ≥ 1).
        batch_size: i64 = None, nest 2,
            spec |c, v| { batch_size: (*v).max(1) as usize };
        /// Learning-rate axis.
        lr: f64 = Some(vec![0.001]), nest 3,
            spec |c, v| { lr: *v };
        /// Optimizer axis.
        optimizer: Optimizer = Some(vec![Optimizer::Sgd]), nest 4,
            spec |c, v| { optimizer: *v };
        /// Epochs axis.
        epochs: i64 = Some(vec![1]), nest 5,
            spec |c, v| { epochs: (*v).max(1) as usize };
        /// Device axis.
        device: DeviceName = Some(vec![DeviceName::Cpu]), nest 6,
            spec |c, v| { device: *v };
        /// Threads axis.
        threads: i64 = Some(vec![default_threads()]), nest 7,
            spec |c, v| { threads: (*v).max(1) as usize };
        /// Seed axis.
        seed: i64 = Some(vec![0]), nest 8,
            spec |c, v| { seed: (*v).max(0) as u64 };
        /// GPU power-limit axis (watts); empty = leave the limit alone.
        power_limit_w: f64 = Some(vec![]), nest 9 [optional],
            spec |c, w| { power_limit_w: w.copied() };
    }
    file {
        name: Spanned<String>,
        #[serde(default)]
        description: Option<String>,
        repeats: Option<Spanned<i64>>,
        order: Option<Spanned<<RunOrder as Written>::Raw>>,
        interference_threshold: Option<Spanned<f64>>,
        #[serde(default)]
        quiet_gate: Option<Spanned<QuietGate>>,
        warmup_batches: Option<Spanned<i64>>,
        idle_seconds: Option<Spanned<f64>>,
        run_timeout: Option<Spanned<f64>>,
        replicate_test: Option<Spanned<i64>>,
        momentum: Option<Spanned<f64>>,
        weight_decay: Option<Spanned<f64>>,
        schedule: Option<Spanned<<Schedule as Written>::Raw>>,
        #[serde(default)]
        lr_scaling: Option<Spanned<super::LrScaling>>,
        lr_warmup_epochs: Option<Spanned<f64>>,
        bn_recalibration_samples: Option<Spanned<i64>>,
        precision: Option<Spanned<<Precision as Written>::Raw>>,
        #[serde(default)]
        carbon: Option<Spanned<CarbonConfig>>,
        #[serde(default)]
        grid: Option<GridTable>,
        #[serde(default)]
        exclude: Vec<Spanned<toml::Table>>,
        #[serde(default)]
        search: Option<Spanned<SearchConfig>>,
        #[serde(default)]
        workload: Option<Spanned<super::workload::WorkloadTable>>,
    }
    settings {
        /// The file it came from.
        path: std::path::PathBuf,
        /// The text as given (kept for the manifest).
        text: String,
        /// Sweep name (output folder `results/<name>/`).
        name: String,
        /// Free-text description.
        description: Option<String>,
        /// Repeats of every grid point.
        repeats: Located<i64>,
        /// The order the runs run in (default `interleaved`, which is the grid order when
        /// `repeats` is 1).
        order: Located<RunOrder>,
        /// Share of the machine (0 to 1) other processes may use during a run before its record
        /// is flagged `interference`.
        interference_threshold: Located<f64>,
        /// Wait for a quiet machine before each run (`None`: start at once).
        quiet_gate: Option<Located<QuietGate>>,
        /// Unmetered warmup batches per run.
        warmup_batches: Located<i64>,
        /// Idle baseline length in seconds before the sweep.
        idle_seconds: Located<f64>,
        /// Per-run wall-clock limit in seconds.
        run_timeout: Option<Located<f64>>,
        /// Test-set replication for inference.
        replicate_test: Located<i64>,
        /// SGD momentum.
        momentum: Located<f64>,
        /// Weight-decay coefficient of every run (≥ 0; coupled for SGD, decoupled for AdamW).
        weight_decay: Located<f64>,
        /// Learning-rate schedule of every run.
        schedule: Located<Schedule>,
        /// The learning rate scaled with the batch size (`None`: every run trains with the
        /// grid's `lr`).
        lr_scaling: Option<Located<super::LrScaling>>,
        /// Epochs of linear learning-rate warm-up at the start of every run (`None`: none).
        lr_warmup_epochs: Option<Located<f64>>,
        /// Training samples over which every run re-estimates its batch-norm statistics at the
        /// end of each epoch (`None`: never).
        bn_recalibration_samples: Option<Located<i64>>,
        /// Numeric precision of training (`f32`, the only one accepted today).
        precision: Located<Precision>,
        /// Carbon settings.
        carbon: CarbonConfig,
        /// Where `carbon` was written, for errors (`None`: the defaults).
        carbon_span: Option<Range<usize>>,
        /// Exclusion tables, each with its byte span.
        exclude: Vec<(toml::Table, Range<usize>)>,
        /// The `[search]` table (the default: the whole grid, no budget).
        search: SearchConfig,
        /// Where `[search]` was written, for errors.
        search_span: Option<Range<usize>>,
        /// The `[workload]` table: an external command run instead of a zoo model, if any.
        workload: Option<super::workload::WorkloadTable>,
        /// Where `[workload]` was written, for errors.
        workload_span: Option<Range<usize>>,
    }
    spec_settings |c, p| {
        momentum: c.momentum.value,
        weight_decay: c.weight_decay.value,
        schedule: c.schedule.value,
        lr_warmup_epochs: c.lr_warmup_epochs.as_ref().map(|w| w.value).filter(|&w| w > 0.0),
        bn_recalibration_samples: c
            .bn_recalibration_samples
            .as_ref()
            .map(|n| n.value)
            .filter(|&n| n > 0)
            .map(|n| n as usize),
        repeat: p.repeat,
        precision: c.precision.value,
        warmup_batches: c.warmup_batches.value.max(0) as usize,
        continues: None,
        schedule_epochs: None,
        timeout_s: c.run_timeout.as_ref().map(|t| t.value),
        workload: None,
    }
}

/// The default of the `threads` axis: every core the machine offers.
fn default_threads() -> i64 {
    std::thread::available_parallelism().map_or(1, |n| n.get() as i64)
}

/// A run's value on each axis, in [`AXES`]' order, as JSON (a spec's key for an axis is the
/// axis's name; an axis the spec does not set, like `power_limit_w` by default, is null).
pub fn axis_values(spec: &RunSpec) -> Vec<(&'static str, Value)> {
    let fields = match serde_json::to_value(spec) {
        Ok(Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    };
    AXES.iter()
        .map(|&a| (a, fields.get(a).cloned().unwrap_or(Value::Null)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &str) -> SweepConfig {
        let text = format!("name = \"t\"\nmodel = \"m\"\ndataset = \"d\"\nbatch_size = 8\n{extra}");
        SweepConfig::parse(&text, std::path::Path::new("t.toml")).unwrap()
    }

    #[test]
    fn the_expansion_nests_the_axes_in_their_table_order_dataset_outermost() {
        let names: Vec<&str> = config("").axes_in_order().iter().map(|a| a.name).collect();
        assert_eq!(
            names,
            [
                "dataset",
                "model",
                "batch_size",
                "lr",
                "optimizer",
                "epochs",
                "device",
                "threads",
                "seed",
                "power_limit_w"
            ]
        );
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), AXES.len(), "every axis once");
    }

    #[test]
    fn every_axis_is_a_key_of_the_spec_it_sets() {
        let cfg = config("power_limit_w = 150\noptimizer = \"adamw\"\n");
        let spec = &cfg.expand()[0];
        let values = axis_values(spec);
        assert_eq!(values.iter().map(|(a, _)| *a).collect::<Vec<_>>(), AXES);
        for (axis, value) in &values {
            assert!(!value.is_null(), "`{axis}` is not a key of the spec's JSON");
        }
        let unset = axis_values(&config("").expand()[0]);
        assert!(unset
            .iter()
            .any(|(a, v)| *a == "power_limit_w" && v.is_null()));
    }

    #[test]
    fn defaults_are_typed_values() {
        let cfg = config("");
        assert_eq!(cfg.optimizer.value, [Optimizer::Sgd]);
        assert_eq!(cfg.device.value, [DeviceName::Cpu]);
        assert_eq!(cfg.schedule.value, Schedule::Cosine);
        assert_eq!(cfg.precision.value, Precision::F32);
        assert!(cfg.optimizer.span.is_none() && cfg.power_limit_w.value.is_empty());
    }
}
