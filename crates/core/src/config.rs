//! The sweep configuration (TOML): schema, located validation, and expansion into run specs.
//!
//! Every axis (`model`, `dataset`, `batch_size`, `lr`, `optimizer`, `epochs`, `device`, `threads`,
//! `seed`, `power_limit_w`) may be a scalar or a list, at the top level or in `[grid]` (not both).
//! The grid is the Cartesian product of the axes minus `[[exclude]]` tables, times `repeats`.

use serde::de::{self, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use std::marker::PhantomData;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;

use crate::catalog::Catalog;
use crate::error::{ConfigError, CoreError};
use crate::spec::RunSpec;

/// Optimizers a config may name.
pub const OPTIMIZERS: &[&str] = &["sgd", "sgd-nesterov", "adamw"];
/// Learning-rate schedules a config may name.
pub const SCHEDULES: &[&str] = &["cosine", "step", "constant"];
/// Precisions a config may name.
pub const PRECISIONS: &[&str] = &["f32"];
/// Axis names (keys allowed in `[grid]` and `[[exclude]]`).
pub const AXES: &[&str] = &[
    "model",
    "dataset",
    "batch_size",
    "lr",
    "optimizer",
    "epochs",
    "device",
    "threads",
    "seed",
    "power_limit_w",
];

/// An error found before its location is turned into line and column:
/// (field, byte span, message, hint).
type PendingError = (String, Option<Range<usize>>, String, Option<String>);

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
    /// Use only the first N training samples.
    pub subset: Option<usize>,
    /// Test-set replication for inference (overrides the top-level value).
    pub replicate_test: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DatasetTable {
    name: String,
    path: Option<String>,
    subset: Option<usize>,
    replicate_test: Option<usize>,
}

impl<'de> Deserialize<'de> for DatasetChoice {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DatasetChoice;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a dataset name or a table { name, path, subset, replicate_test }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(DatasetChoice {
                    name: v.into(),
                    path: None,
                    subset: None,
                    replicate_test: None,
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let t = DatasetTable::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(DatasetChoice {
                    name: t.name,
                    path: t.path,
                    subset: t.subset,
                    replicate_test: t.replicate_test,
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// Carbon accounting settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CarbonConfig {
    /// Grid carbon intensity in g CO2-eq per kWh. Default 475, the 2019 world average of the IEA
    /// (Global Energy & CO2 Status Report 2019), also CodeCarbon's world default.
    #[serde(default = "default_intensity")]
    pub intensity_g_per_kwh: f64,
    /// Power usage effectiveness of the site (1.0 = no overhead).
    #[serde(default = "default_pue")]
    pub pue: f64,
    /// ISO 3166-1 alpha-2 code (or `WORLD`): use that country's yearly average from the
    /// committed table ([`crate::grid`]) instead of `intensity_g_per_kwh`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// A CSV of `timestamp,g_per_kwh` rows (path relative to the config file): each run's
    /// emissions use the mean intensity over its own start–end window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intensity_csv: Option<String>,
}

fn default_intensity() -> f64 {
    475.0
}
fn default_pue() -> f64 {
    1.0
}

impl Default for CarbonConfig {
    fn default() -> Self {
        CarbonConfig {
            intensity_g_per_kwh: default_intensity(),
            pue: default_pue(),
            country: None,
            intensity_csv: None,
        }
    }
}

/// The `[grid]` table: any axis.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct GridTable {
    model: Option<Spanned<Axis<String>>>,
    dataset: Option<Spanned<Axis<DatasetChoice>>>,
    batch_size: Option<Spanned<Axis<i64>>>,
    lr: Option<Spanned<Axis<f64>>>,
    optimizer: Option<Spanned<Axis<String>>>,
    epochs: Option<Spanned<Axis<i64>>>,
    device: Option<Spanned<Axis<String>>>,
    threads: Option<Spanned<Axis<i64>>>,
    seed: Option<Spanned<Axis<i64>>>,
    power_limit_w: Option<Spanned<Axis<f64>>>,
}

/// The file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    name: Spanned<String>,
    #[serde(default)]
    description: Option<String>,
    model: Option<Spanned<Axis<String>>>,
    dataset: Option<Spanned<Axis<DatasetChoice>>>,
    batch_size: Option<Spanned<Axis<i64>>>,
    lr: Option<Spanned<Axis<f64>>>,
    optimizer: Option<Spanned<Axis<String>>>,
    epochs: Option<Spanned<Axis<i64>>>,
    device: Option<Spanned<Axis<String>>>,
    threads: Option<Spanned<Axis<i64>>>,
    seed: Option<Spanned<Axis<i64>>>,
    power_limit_w: Option<Spanned<Axis<f64>>>,
    repeats: Option<Spanned<i64>>,
    warmup_batches: Option<Spanned<i64>>,
    idle_seconds: Option<Spanned<f64>>,
    run_timeout: Option<Spanned<f64>>,
    replicate_test: Option<Spanned<i64>>,
    momentum: Option<Spanned<f64>>,
    weight_decay: Option<Spanned<f64>>,
    schedule: Option<Spanned<String>>,
    precision: Option<Spanned<String>>,
    #[serde(default)]
    carbon: Option<Spanned<CarbonConfig>>,
    #[serde(default)]
    grid: Option<GridTable>,
    #[serde(default)]
    exclude: Vec<Spanned<toml::Table>>,
}

/// A located value: the value and where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Located<T> {
    /// The value.
    pub value: T,
    /// Dotted field path (`grid.batch_size`).
    pub field: String,
    /// Byte range in the file; `None` for defaults.
    pub span: Option<Range<usize>>,
}

/// A parsed sweep configuration.
#[derive(Debug, Clone)]
pub struct SweepConfig {
    /// The file it came from.
    pub path: PathBuf,
    /// The text as given (kept for the manifest).
    pub text: String,
    /// Sweep name (output folder `results/<name>/`).
    pub name: String,
    /// Free-text description.
    pub description: Option<String>,
    /// Model axis.
    pub model: Located<Vec<String>>,
    /// Dataset axis.
    pub dataset: Located<Vec<DatasetChoice>>,
    /// Batch-size axis (validated ≥ 1).
    pub batch_size: Located<Vec<i64>>,
    /// Learning-rate axis.
    pub lr: Located<Vec<f64>>,
    /// Optimizer axis.
    pub optimizer: Located<Vec<String>>,
    /// Epochs axis.
    pub epochs: Located<Vec<i64>>,
    /// Device axis.
    pub device: Located<Vec<String>>,
    /// Threads axis.
    pub threads: Located<Vec<i64>>,
    /// Seed axis.
    pub seed: Located<Vec<i64>>,
    /// GPU power-limit axis (watts); empty = leave the limit alone.
    pub power_limit_w: Located<Vec<f64>>,
    /// Repeats of every grid point.
    pub repeats: Located<i64>,
    /// Unmetered warmup batches per run.
    pub warmup_batches: Located<i64>,
    /// Idle baseline length in seconds before the sweep.
    pub idle_seconds: Located<f64>,
    /// Per-run wall-clock limit in seconds.
    pub run_timeout: Option<Located<f64>>,
    /// Test-set replication for inference.
    pub replicate_test: Located<i64>,
    /// SGD momentum.
    pub momentum: Located<f64>,
    /// Weight decay.
    pub weight_decay: Located<f64>,
    /// LR schedule.
    pub schedule: Located<String>,
    /// Precision.
    pub precision: Located<String>,
    /// Carbon settings.
    pub carbon: CarbonConfig,
    /// Exclusion tables, each with its byte span.
    pub exclude: Vec<(toml::Table, Range<usize>)>,
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Dotted key at a byte offset: the `[table]` header above it plus the key on its line.
fn field_at(text: &str, offset: usize) -> String {
    let offset = offset.min(text.len());
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let line = &text[line_start..line_end];
    let key = line.split('=').next().unwrap_or("").trim().to_string();
    let header = text[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_string());
    match (header, line.contains('=')) {
        (Some(h), true) if !key.starts_with('[') => format!("{h}.{key}"),
        (_, true) => key,
        (Some(h), false) => h,
        (None, false) => "(top level)".into(),
    }
}

fn take<T>(
    top: Option<Spanned<Axis<T>>>,
    grid: Option<Spanned<Axis<T>>>,
    name: &str,
    default: Option<Vec<T>>,
    errs: &mut Vec<PendingError>,
) -> Located<Vec<T>> {
    match (top, grid) {
        (Some(t), Some(g)) => {
            errs.push((
                format!("grid.{name}"),
                Some(g.span()),
                format!("`{name}` is given both at the top level and in [grid]"),
                Some("keep one of the two".into()),
            ));
            let span = t.span();
            Located {
                value: t.into_inner().0,
                field: name.into(),
                span: Some(span),
            }
        }
        (Some(t), None) => {
            let span = t.span();
            Located {
                value: t.into_inner().0,
                field: name.into(),
                span: Some(span),
            }
        }
        (None, Some(g)) => {
            let span = g.span();
            Located {
                value: g.into_inner().0,
                field: format!("grid.{name}"),
                span: Some(span),
            }
        }
        (None, None) => match default {
            Some(d) => Located {
                value: d,
                field: name.into(),
                span: None,
            },
            None => {
                errs.push((
                    format!("grid.{name}"),
                    None,
                    format!("required axis `{name}` is missing"),
                    Some(format!("add `{name} = ...` under [grid]")),
                ));
                Located {
                    value: Vec::new(),
                    field: name.into(),
                    span: None,
                }
            }
        },
    }
}

fn scalar<T>(v: Option<Spanned<T>>, name: &str, default: T) -> Located<T> {
    match v {
        Some(s) => {
            let span = s.span();
            Located {
                value: s.into_inner(),
                field: name.into(),
                span: Some(span),
            }
        }
        None => Located {
            value: default,
            field: name.into(),
            span: None,
        },
    }
}

fn default_threads() -> i64 {
    std::thread::available_parallelism().map_or(1, |n| n.get() as i64)
}

impl SweepConfig {
    /// Reads and parses a config file (no catalog checks; see [`SweepConfig::validate`]).
    pub fn load(path: &Path) -> Result<SweepConfig, CoreError> {
        let text = std::fs::read_to_string(path).map_err(|source| CoreError::Io {
            what: "reading sweep config",
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parses config text; `path` is used in error messages.
    pub fn parse(text: &str, path: &Path) -> Result<SweepConfig, CoreError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let off = e.span().map_or(0, |s| s.start);
            let (line, column) = line_col(text, off);
            let message = e.message().trim().to_string();
            let hint = if message.starts_with("unknown field") {
                Some("remove the key or fix its spelling; docs/config.md lists every key".into())
            } else if message.starts_with("missing field") {
                Some("add it; docs/config.md lists every key".into())
            } else {
                None
            };
            CoreError::Config(ConfigError {
                file: path.to_path_buf(),
                line,
                column,
                field: if e.span().is_some() {
                    field_at(text, off)
                } else {
                    "(top level)".into()
                },
                message,
                hint,
            })
        })?;
        let mut errs = Vec::new();
        let g = raw.grid.unwrap_or_default();
        let name_span = raw.name.span();
        let cfg = SweepConfig {
            path: path.to_path_buf(),
            text: text.to_string(),
            name: raw.name.into_inner(),
            description: raw.description,
            model: take(raw.model, g.model, "model", None, &mut errs),
            dataset: take(raw.dataset, g.dataset, "dataset", None, &mut errs),
            batch_size: take(raw.batch_size, g.batch_size, "batch_size", None, &mut errs),
            lr: take(raw.lr, g.lr, "lr", Some(vec![0.001]), &mut errs),
            optimizer: take(
                raw.optimizer,
                g.optimizer,
                "optimizer",
                Some(vec!["sgd".into()]),
                &mut errs,
            ),
            epochs: take(raw.epochs, g.epochs, "epochs", Some(vec![1]), &mut errs),
            device: take(
                raw.device,
                g.device,
                "device",
                Some(vec!["cpu".into()]),
                &mut errs,
            ),
            threads: take(
                raw.threads,
                g.threads,
                "threads",
                Some(vec![default_threads()]),
                &mut errs,
            ),
            seed: take(raw.seed, g.seed, "seed", Some(vec![0]), &mut errs),
            power_limit_w: take(
                raw.power_limit_w,
                g.power_limit_w,
                "power_limit_w",
                Some(vec![]),
                &mut errs,
            ),
            repeats: scalar(raw.repeats, "repeats", 1),
            warmup_batches: scalar(raw.warmup_batches, "warmup_batches", 5),
            idle_seconds: scalar(raw.idle_seconds, "idle_seconds", 5.0),
            run_timeout: raw.run_timeout.map(|s| scalar(Some(s), "run_timeout", 0.0)),
            replicate_test: scalar(raw.replicate_test, "replicate_test", 1),
            momentum: scalar(raw.momentum, "momentum", 0.9),
            weight_decay: scalar(raw.weight_decay, "weight_decay", 5e-4),
            schedule: scalar(raw.schedule, "schedule", "cosine".into()),
            precision: scalar(raw.precision, "precision", "f32".into()),
            carbon: raw.carbon.map(Spanned::into_inner).unwrap_or_default(),
            exclude: raw
                .exclude
                .into_iter()
                .map(|t| {
                    let span = t.span();
                    (t.into_inner(), span)
                })
                .collect(),
        };
        if cfg.name.trim().is_empty() || cfg.name.contains(['/', '\\']) || cfg.name.starts_with('.')
        {
            errs.push((
                "name".into(),
                Some(name_span),
                format!("`{}` is not usable as a folder name", cfg.name),
                Some("use letters, digits, '-' and '_'".into()),
            ));
        }
        if errs.is_empty() {
            Ok(cfg)
        } else {
            Err(cfg.collect(errs).unwrap_err())
        }
    }

    fn err(
        &self,
        field: &str,
        span: Option<Range<usize>>,
        message: String,
        hint: Option<String>,
    ) -> ConfigError {
        let (line, column) = match span {
            Some(s) => line_col(&self.text, s.start),
            None => (1, 1),
        };
        ConfigError {
            file: self.path.clone(),
            line,
            column,
            field: field.into(),
            message,
            hint,
        }
    }

    fn collect(&self, errs: Vec<PendingError>) -> Result<(), CoreError> {
        let mut v: Vec<ConfigError> = errs
            .into_iter()
            .map(|(f, s, m, h)| self.err(&f, s, m, h))
            .collect();
        match v.len() {
            0 => Ok(()),
            1 => Err(CoreError::Config(v.remove(0))),
            _ => Err(CoreError::ConfigMany(v)),
        }
    }

    /// Problems with `carbon.country` / `carbon.intensity_csv`: both given, an explicit
    /// intensity beside either, an unknown country, a CSV that cannot be read or parsed (file and
    /// line named). Whether the CSV covers each run's time is checked when runs exist (report).
    fn carbon_problems(&self) -> Vec<String> {
        let c = &self.carbon;
        let mut v = Vec::new();
        if c.country.is_some() && c.intensity_csv.is_some() {
            v.push("give either carbon.country or carbon.intensity_csv, not both".into());
        }
        if (c.country.is_some() || c.intensity_csv.is_some())
            && c.intensity_g_per_kwh != default_intensity()
        {
            v.push(format!(
                "carbon.intensity_g_per_kwh = {} conflicts with carbon.country / carbon.intensity_csv; remove one",
                c.intensity_g_per_kwh
            ));
        }
        if let Some(code) = &c.country {
            if crate::grid::country_intensity(code).is_none() {
                let codes: Vec<&str> = crate::grid::country_table()
                    .iter()
                    .map(|c| c.code)
                    .collect();
                v.push(format!(
                    "carbon.country `{code}` is not in the grid-intensity table (ISO 3166-1 alpha-2 codes: {})",
                    codes.join(", ")
                ));
            }
        }
        if let Some(rel) = &c.intensity_csv {
            let path = self.path.parent().unwrap_or(Path::new(".")).join(rel);
            match std::fs::read_to_string(&path) {
                Err(err) => v.push(format!(
                    "carbon.intensity_csv: cannot read {} ({err}); the path is relative to the config file",
                    path.display()
                )),
                Ok(text) => {
                    if let Err(m) =
                        crate::grid::IntensitySeries::parse(&text, &path.display().to_string())
                    {
                        v.push(format!("carbon.intensity_csv: {m}"));
                    }
                }
            }
        }
        v
    }

    /// Checks values and names: empty axes, sizes ≤ 0, non-finite or non-positive rates, unknown
    /// models, datasets, devices, optimizers and schedules, and malformed excludes. Reports every
    /// error found, each with file, line, column, field and the accepted values.
    pub fn validate(&self, catalog: &dyn Catalog) -> Result<(), CoreError> {
        let mut errs = Vec::new();
        let mut e = |l_field: &str, span: &Option<Range<usize>>, m: String, h: Option<String>| {
            errs.push((l_field.to_string(), span.clone(), m, h));
        };
        macro_rules! nonempty {
            ($ax:expr) => {
                if $ax.value.is_empty() {
                    e(
                        &$ax.field,
                        &$ax.span,
                        "the list is empty".into(),
                        Some("give at least one value".into()),
                    );
                }
            };
        }
        nonempty!(self.model);
        nonempty!(self.dataset);
        nonempty!(self.batch_size);
        nonempty!(self.lr);
        nonempty!(self.optimizer);
        nonempty!(self.epochs);
        nonempty!(self.device);
        nonempty!(self.threads);
        nonempty!(self.seed);
        for (ax, what) in [
            (&self.batch_size, "batch size"),
            (&self.epochs, "epochs"),
            (&self.threads, "threads"),
        ] {
            for &v in &ax.value {
                if v < 1 {
                    e(
                        &ax.field,
                        &ax.span,
                        format!("{what} must be at least 1, found {v}"),
                        None,
                    );
                }
            }
        }
        for &s in &self.seed.value {
            if s < 0 {
                e(
                    &self.seed.field,
                    &self.seed.span,
                    format!("seed must be ≥ 0, found {s}"),
                    None,
                );
            }
        }
        for &lr in &self.lr.value {
            if !(lr.is_finite() && lr > 0.0) {
                e(
                    &self.lr.field,
                    &self.lr.span,
                    format!("learning rate must be a positive number, found {lr}"),
                    None,
                );
            }
        }
        for &w in &self.power_limit_w.value {
            if !(w.is_finite() && w > 0.0) {
                e(
                    &self.power_limit_w.field,
                    &self.power_limit_w.span,
                    format!("power limit must be positive watts, found {w}"),
                    None,
                );
            }
        }
        for (v, what) in [
            (&self.repeats, "repeats"),
            (&self.replicate_test, "replicate_test"),
        ] {
            if v.value < 1 {
                e(
                    &v.field,
                    &v.span,
                    format!("{what} must be at least 1, found {}", v.value),
                    None,
                );
            }
        }
        if self.warmup_batches.value < 0 {
            e(
                &self.warmup_batches.field,
                &self.warmup_batches.span,
                format!(
                    "warmup_batches must be ≥ 0, found {}",
                    self.warmup_batches.value
                ),
                None,
            );
        }
        if !(self.idle_seconds.value.is_finite() && self.idle_seconds.value >= 0.0) {
            e(
                &self.idle_seconds.field,
                &self.idle_seconds.span,
                format!(
                    "idle_seconds must be ≥ 0, found {}",
                    self.idle_seconds.value
                ),
                None,
            );
        }
        if let Some(t) = &self.run_timeout {
            if !(t.value.is_finite() && t.value > 0.0) {
                e(
                    &t.field,
                    &t.span,
                    format!("run_timeout must be positive seconds, found {}", t.value),
                    None,
                );
            }
        }
        if !(0.0..1.0).contains(&self.momentum.value) {
            e(
                &self.momentum.field,
                &self.momentum.span,
                format!("momentum must be in [0, 1), found {}", self.momentum.value),
                None,
            );
        }
        if !(self.weight_decay.value >= 0.0 && self.weight_decay.value.is_finite()) {
            e(
                &self.weight_decay.field,
                &self.weight_decay.span,
                format!(
                    "weight_decay must be ≥ 0, found {}",
                    self.weight_decay.value
                ),
                None,
            );
        }
        if !(self.carbon.intensity_g_per_kwh >= 0.0 && self.carbon.pue >= 1.0) {
            e(
                "carbon",
                &None,
                format!(
                    "carbon needs intensity_g_per_kwh ≥ 0 and pue ≥ 1, found {} and {}",
                    self.carbon.intensity_g_per_kwh, self.carbon.pue
                ),
                None,
            );
        }
        for m in self.carbon_problems() {
            e("carbon", &None, m, None);
        }
        let one_of = |v: &str, list: &[&str]| list.contains(&v);
        for o in &self.optimizer.value {
            if !one_of(o, OPTIMIZERS) {
                e(
                    &self.optimizer.field,
                    &self.optimizer.span,
                    format!("unknown optimizer `{o}`"),
                    Some(format!("accepted: {}", OPTIMIZERS.join(", "))),
                );
            }
        }
        if !one_of(&self.schedule.value, SCHEDULES) {
            e(
                &self.schedule.field,
                &self.schedule.span,
                format!("unknown schedule `{}`", self.schedule.value),
                Some(format!("accepted: {}", SCHEDULES.join(", "))),
            );
        }
        if !one_of(&self.precision.value, PRECISIONS) {
            e(
                &self.precision.field,
                &self.precision.span,
                format!("unsupported precision `{}`", self.precision.value),
                Some(format!("accepted: {}", PRECISIONS.join(", "))),
            );
        }
        for m in &self.model.value {
            if let Err(accepted) = catalog.check_model(m) {
                e(
                    &self.model.field,
                    &self.model.span,
                    format!("unknown model `{m}`"),
                    Some(accepted),
                );
            }
        }
        let datasets = catalog.datasets();
        for d in &self.dataset.value {
            if !datasets.is_empty() && !datasets.contains(&d.name) {
                e(
                    &self.dataset.field,
                    &self.dataset.span,
                    format!("unknown dataset `{}`", d.name),
                    Some(format!(
                        "accepted: {} (see `greenbench datasets`)",
                        datasets.join(", ")
                    )),
                );
            } else if d.subset == Some(0) || d.replicate_test == Some(0) {
                e(
                    &self.dataset.field,
                    &self.dataset.span,
                    "subset and replicate_test must be at least 1".into(),
                    None,
                );
            }
        }
        for dev in &self.device.value {
            if let Err(why) = catalog.check_device(dev) {
                e(
                    &self.device.field,
                    &self.device.span,
                    format!("device `{dev}` cannot be used: {why}"),
                    None,
                );
            }
        }
        for (table, span) in &self.exclude {
            if table.is_empty() {
                e(
                    "exclude",
                    &Some(span.clone()),
                    "an [[exclude]] table is empty and would drop every run".into(),
                    Some("name at least one axis".into()),
                );
            }
            for (k, v) in table {
                if !AXES.contains(&k.as_str()) {
                    e(
                        &format!("exclude.{k}"),
                        &Some(span.clone()),
                        format!("`{k}` is not an axis"),
                        Some(format!("accepted: {}", AXES.join(", "))),
                    );
                } else if matches!(v, toml::Value::Array(_) | toml::Value::Table(_)) {
                    e(
                        &format!("exclude.{k}"),
                        &Some(span.clone()),
                        "exclude values must be single values".into(),
                        Some("write one [[exclude]] table per combination".into()),
                    );
                }
            }
        }
        self.check_bounds(catalog, &mut errs);
        if errs.is_empty() {
            let mut seen = std::collections::BTreeSet::new();
            for spec in self.expand() {
                if seen.insert((spec.model.clone(), spec.dataset.clone())) {
                    if let Err(why) = catalog.check_combination(&spec.model, &spec.dataset) {
                        errs.push((self.model.field.clone(), self.model.span.clone(), format!("model `{}` cannot train on dataset `{}`: {why}", spec.model, spec.dataset), Some("drop the pair with an [[exclude]] table, or pick a matching dataset".into())));
                    }
                }
            }
            for d in &self.dataset.value {
                if let Err(why) = catalog.check_dataset_present(&d.name, d.path.as_deref()) {
                    errs.push((
                        self.dataset.field.clone(),
                        self.dataset.span.clone(),
                        format!("dataset `{}` is not available: {why}", d.name),
                        None,
                    ));
                }
            }
        }
        self.collect(errs)
    }

    /// Expands the grid into run specs in a stable order (dataset, model, batch size, lr,
    /// optimizer, epochs, device, threads, seed, power limit, repeat; each in the order written),
    /// excluded combinations removed.
    ///
    /// From a config's text to the runs a sweep would do:
    ///
    /// ```
    /// use greenbench_core::{catalog::AcceptAll, SweepConfig};
    ///
    /// let text = r#"
    /// name = "demo"
    /// dataset = "digits"
    /// epochs = 2
    /// [grid]
    /// model = ["mlp-small", "mlp-64"]
    /// batch_size = [32, 128]
    /// lr = 0.05
    /// [[exclude]]
    /// model = "mlp-64"
    /// batch_size = 128
    /// "#;
    /// let cfg = SweepConfig::parse(text, std::path::Path::new("demo.toml")).unwrap();
    /// cfg.validate(&AcceptAll).unwrap(); // the binary validates against the model zoo
    /// let runs = cfg.expand();
    /// let got: Vec<(&str, usize)> = runs.iter().map(|s| (s.model.as_str(), s.batch_size)).collect();
    /// assert_eq!(got, [("mlp-small", 32), ("mlp-small", 128), ("mlp-64", 32)]);
    /// assert!(runs.iter().all(|s| s.epochs == 2 && s.run_id().len() == 12));
    /// ```
    pub fn expand(&self) -> Vec<RunSpec> {
        let limits: Vec<Option<f64>> = if self.power_limit_w.value.is_empty() {
            vec![None]
        } else {
            self.power_limit_w.value.iter().map(|&w| Some(w)).collect()
        };
        // The axes in expansion order; the last one varies fastest.
        let lens = [
            self.dataset.value.len(),
            self.model.value.len(),
            self.batch_size.value.len(),
            self.lr.value.len(),
            self.optimizer.value.len(),
            self.epochs.value.len(),
            self.device.value.len(),
            self.threads.value.len(),
            self.seed.value.len(),
            limits.len(),
            self.repeats.value.max(1) as usize,
        ];
        odometer(&lens)
            .map(|i| self.spec_at(&i, &limits))
            .filter(|spec| !self.excluded(spec))
            .collect()
    }

    /// The run at index `i` of each axis (in [`SweepConfig::expand`]'s order).
    fn spec_at(&self, i: &[usize], limits: &[Option<f64>]) -> RunSpec {
        let ds = &self.dataset.value[i[0]];
        RunSpec {
            model: self.model.value[i[1]].clone(),
            dataset: ds.name.clone(),
            dataset_path: ds.path.clone(),
            subset: ds.subset,
            batch_size: self.batch_size.value[i[2]].max(1) as usize,
            lr: self.lr.value[i[3]],
            optimizer: self.optimizer.value[i[4]].clone(),
            momentum: self.momentum.value,
            weight_decay: self.weight_decay.value,
            schedule: self.schedule.value.clone(),
            epochs: self.epochs.value[i[5]].max(1) as usize,
            device: self.device.value[i[6]].clone(),
            threads: self.threads.value[i[7]].max(1) as usize,
            seed: self.seed.value[i[8]].max(0) as u64,
            power_limit_w: limits[i[9]],
            repeat: i[10],
            precision: self.precision.value.clone(),
            warmup_batches: self.warmup_batches.value.max(0) as usize,
            replicate_test: ds
                .replicate_test
                .unwrap_or(self.replicate_test.value.max(1) as usize),
            timeout_s: self.run_timeout.as_ref().map(|t| t.value),
        }
    }

    fn excluded(&self, s: &RunSpec) -> bool {
        self.exclude
            .iter()
            .any(|(t, _)| !t.is_empty() && t.iter().all(|(k, v)| axis_matches(s, k, v)))
    }

    /// A canonical JSON form of everything that determines the runs (for "same config" checks
    /// on resume and merge): the expanded run ids and the sweep name.
    pub fn fingerprint(&self) -> String {
        let ids: Vec<String> = self.expand().iter().map(RunSpec::run_id).collect();
        serde_json::json!({ "name": self.name, "runs": ids }).to_string()
    }
}

/// Every index tuple below `lens`, in lexicographic order (the last position varies fastest):
/// the Cartesian product of the axes as nested loops would walk it. Empty if any axis is empty.
fn odometer(lens: &[usize]) -> impl Iterator<Item = Vec<usize>> + '_ {
    let mut next = (!lens.contains(&0)).then(|| vec![0; lens.len()]);
    std::iter::from_fn(move || {
        let current = next.take()?;
        let mut n = current.clone();
        for k in (0..lens.len()).rev() {
            n[k] += 1;
            if n[k] < lens[k] {
                next = Some(n);
                break;
            }
            n[k] = 0;
        }
        Some(current)
    })
}

fn axis_matches(s: &RunSpec, key: &str, v: &toml::Value) -> bool {
    let num = |x: f64| match v {
        toml::Value::Integer(i) => (*i as f64 - x).abs() < 1e-12,
        toml::Value::Float(f) => (f - x).abs() <= 1e-12 * x.abs().max(1.0),
        _ => false,
    };
    let text = |x: &str| v.as_str() == Some(x);
    match key {
        "model" => text(&s.model),
        "dataset" => text(&s.dataset),
        "optimizer" => text(&s.optimizer),
        "device" => text(&s.device),
        "batch_size" => num(s.batch_size as f64),
        "lr" => num(s.lr),
        "epochs" => num(s.epochs as f64),
        "threads" => num(s.threads as f64),
        "seed" => num(s.seed as f64),
        "power_limit_w" => s.power_limit_w.is_some_and(num),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odometer_walks_the_product_like_nested_loops() {
        let got: Vec<Vec<usize>> = odometer(&[2, 1, 3]).collect();
        let mut want = Vec::new();
        for a in 0..2 {
            for b in 0..1 {
                for c in 0..3 {
                    want.push(vec![a, b, c]);
                }
            }
        }
        assert_eq!(got, want);
        assert_eq!(odometer(&[2, 0, 3]).count(), 0);
    }

    #[test]
    fn line_col_and_field() {
        let t = "name = \"x\"\n[grid]\nbatch_size = 0\n";
        assert_eq!(line_col(t, t.find('0').unwrap()), (3, 14));
        assert_eq!(field_at(t, t.find('0').unwrap()), "grid.batch_size");
    }
}
