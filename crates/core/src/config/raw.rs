//! Reading a config: the file as written (`RawConfig`, every axis at the top level or in
//! `[grid]`), turned into a [`SweepConfig`] whose every value knows where it was written.

use serde::Deserialize;
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

use super::{Axis, CarbonConfig, DatasetChoice, Located, PendingError, SearchConfig, SweepConfig};
use crate::choices::{Choice, Precision, Schedule};
use crate::device::DeviceName;
use crate::error::{ConfigError, CoreError};

/// The file's schema, with the sweep axes written once: each axis's name, the type a config
/// writes and its default (`None`: required). From this one list come the `[grid]` table, the
/// top-level keys of `RawConfig`, [`AXES`] and the located values [`WrittenAxes`].
macro_rules! schema {
    (
        axes { $($axis:ident: $ty:ty = $default:expr,)* }
        settings { $($(#[$meta:meta])* $field:ident: $fty:ty,)* }
    ) => {
        /// The `[grid]` table: any axis.
        #[derive(Debug, Clone, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct GridTable {
            $($axis: Option<Spanned<Axis<$ty>>>,)*
        }

        /// The file as written.
        #[derive(Debug, Clone, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct RawConfig {
            $($axis: Option<Spanned<Axis<$ty>>>,)*
            $($(#[$meta])* $field: $fty,)*
        }

        /// Axis names, in the order a config's documentation lists them (the keys allowed in
        /// `[grid]` and `[[exclude]]`).
        pub const AXES: &[&str] = &[$(stringify!($axis)),*];

        /// Every axis with its values and where they were written: the top level, `[grid]`, or
        /// (no span) its default.
        struct WrittenAxes {
            $($axis: Located<Vec<$ty>>,)*
        }

        impl WrittenAxes {
            /// Each axis of `raw` from the top level or `[grid]`; written in both, missing while
            /// required, or an empty list: an error in `errs`.
            fn take(raw: &mut RawConfig, errs: &mut Vec<PendingError>) -> WrittenAxes {
                let grid = raw.grid.take().unwrap_or_default();
                WrittenAxes {
                    $($axis: take(raw.$axis.take(), grid.$axis, stringify!($axis), $default, errs),)*
                }
            }
        }
    };
}

schema! {
    axes {
        model: String = None,
        dataset: DatasetChoice = None,
        batch_size: i64 = None,
        lr: f64 = Some(vec![0.001]),
        optimizer: String = Some(vec!["sgd".into()]),
        epochs: i64 = Some(vec![1]),
        device: String = Some(vec!["cpu".into()]),
        threads: i64 = Some(vec![default_threads()]),
        seed: i64 = Some(vec![0]),
        power_limit_w: f64 = Some(vec![]),
    }
    settings {
        name: Spanned<String>,
        #[serde(default)]
        description: Option<String>,
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
        #[serde(default)]
        search: Option<Spanned<SearchConfig>>,
    }
}

pub(super) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Dotted key at a byte offset: the `[table]` header above it plus the key on its line.
pub(super) fn field_at(text: &str, offset: usize) -> String {
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

/// Where `key = …` is written inside the table at `span`: an inline table `{ … }`, or a
/// `[table]` whose keys follow its header up to the next header. `None` when it is not there
/// (the key has its default).
pub(super) fn key_in(text: &str, span: &Range<usize>, key: &str) -> Option<Range<usize>> {
    let start = span.start.min(text.len());
    let end = if text[start..].starts_with('{') {
        span.end.min(text.len())
    } else {
        text[start..]
            .find("\n[")
            .map_or(text.len(), |i| start + i)
            .max(span.end.min(text.len()))
    };
    let region = &text[start..end];
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    region.match_indices(key).find_map(|(i, _)| {
        let before = region[..i].chars().next_back();
        let after = region[i + key.len()..].trim_start_matches([' ', '\t']);
        (!before.is_some_and(word) && after.starts_with('=') && !after.starts_with("=="))
            .then(|| start + i..start + i + key.len())
    })
}

/// One axis from the top level (`top`) or `[grid]` (`grid`), or its `default` (`None`: the axis
/// is required); written twice, missing or empty is an error in `errs`.
fn take<T>(
    top: Option<Spanned<Axis<T>>>,
    grid: Option<Spanned<Axis<T>>>,
    name: &str,
    default: Option<Vec<T>>,
    errs: &mut Vec<PendingError>,
) -> Located<Vec<T>> {
    let written = |v: Spanned<Axis<T>>, field: String| {
        let span = v.span();
        Located {
            value: v.into_inner().0,
            field,
            span: Some(span),
        }
    };
    let axis = match (top, grid) {
        (Some(t), g) => {
            if let Some(g) = g {
                errs.push((
                    format!("grid.{name}"),
                    Some(g.span()),
                    format!("`{name}` is given both at the top level and in [grid]"),
                    Some("keep one of the two".into()),
                ));
            }
            written(t, name.into())
        }
        (None, Some(g)) => written(g, format!("grid.{name}")),
        (None, None) => {
            if default.is_none() {
                errs.push((
                    format!("grid.{name}"),
                    None,
                    format!("required axis `{name}` is missing"),
                    Some(format!("add `{name} = ...` under [grid]")),
                ));
            }
            Located {
                value: default.unwrap_or_default(),
                field: name.into(),
                span: None,
            }
        }
    };
    if axis.span.is_some() && axis.value.is_empty() {
        errs.push((
            axis.field.clone(),
            axis.span.clone(),
            "the list is empty".into(),
            Some("give at least one value, or leave the key out for its default".into()),
        ));
    }
    axis
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

/// A located list of names parsed into their type; a name that does not parse is an error at the
/// list's place (message and hint from `parse`) and is left out.
fn parsed<T>(
    names: Located<Vec<String>>,
    parse: impl Fn(&str) -> Result<T, (String, Option<String>)>,
    errs: &mut Vec<PendingError>,
) -> Located<Vec<T>> {
    let mut value = Vec::new();
    for name in &names.value {
        match parse(name) {
            Ok(v) => value.push(v),
            Err((message, hint)) => {
                errs.push((names.field.clone(), names.span.clone(), message, hint))
            }
        }
    }
    Located {
        value,
        field: names.field,
        span: names.span,
    }
}

/// A name of a [`Choice`] set, the error split into what is wrong and what is accepted.
fn choice<T: Choice>(name: &str) -> Result<T, (String, Option<String>)> {
    T::parse(name).map_err(|e| {
        (
            format!("unknown {} `{}`", e.what, e.given),
            Some(format!("accepted: {}", e.accepted)),
        )
    })
}

/// A located scalar name parsed like [`parsed`]'s; `fallback` stands in after an error.
fn parsed_scalar<T: Choice>(
    name: Located<String>,
    fallback: T,
    errs: &mut Vec<PendingError>,
) -> Located<T> {
    let l = parsed(
        Located {
            value: vec![name.value],
            field: name.field,
            span: name.span,
        },
        choice::<T>,
        errs,
    );
    Located {
        value: l.value.first().copied().unwrap_or(fallback),
        field: l.field,
        span: l.span,
    }
}

fn default_threads() -> i64 {
    std::thread::available_parallelism().map_or(1, |n| n.get() as i64)
}

impl SweepConfig {
    /// Reads and parses a config file (no catalog checks; see [`SweepConfig::validate`]).
    pub fn load(path: &Path) -> Result<SweepConfig, CoreError> {
        let text = std::fs::read_to_string(path)
            .map_err(crate::error::io("reading sweep config", path))?;
        Self::parse(&text, path)
    }

    /// Parses config text; `path` is used in error messages.
    pub fn parse(text: &str, path: &Path) -> Result<SweepConfig, CoreError> {
        let mut raw: RawConfig = toml::from_str(text).map_err(|e| toml_error(text, path, &e))?;
        let mut errs = Vec::new();
        let axes = WrittenAxes::take(&mut raw, &mut errs);
        let name_span = raw.name.span();
        let search_span = raw.search.as_ref().map(Spanned::span);
        let carbon_span = raw.carbon.as_ref().map(Spanned::span);
        let cfg = SweepConfig {
            path: path.to_path_buf(),
            text: text.to_string(),
            name: raw.name.into_inner(),
            description: raw.description,
            model: axes.model,
            dataset: axes.dataset,
            batch_size: axes.batch_size,
            lr: axes.lr,
            optimizer: parsed(axes.optimizer, choice, &mut errs),
            epochs: axes.epochs,
            device: parsed(
                axes.device,
                |d| DeviceName::parse(d).map_err(|e| (e.to_string(), None)),
                &mut errs,
            ),
            threads: axes.threads,
            seed: axes.seed,
            power_limit_w: axes.power_limit_w,
            repeats: scalar(raw.repeats, "repeats", 1),
            warmup_batches: scalar(raw.warmup_batches, "warmup_batches", 5),
            idle_seconds: scalar(raw.idle_seconds, "idle_seconds", 5.0),
            run_timeout: raw.run_timeout.map(|s| scalar(Some(s), "run_timeout", 0.0)),
            replicate_test: scalar(raw.replicate_test, "replicate_test", 1),
            momentum: scalar(raw.momentum, "momentum", 0.9),
            weight_decay: scalar(raw.weight_decay, "weight_decay", 5e-4),
            schedule: parsed_scalar(
                scalar(raw.schedule, "schedule", "cosine".into()),
                Schedule::Cosine,
                &mut errs,
            ),
            precision: parsed_scalar(
                scalar(raw.precision, "precision", "f32".into()),
                Precision::F32,
                &mut errs,
            ),
            carbon: raw.carbon.map(Spanned::into_inner).unwrap_or_default(),
            carbon_span,
            exclude: raw
                .exclude
                .into_iter()
                .map(|t| {
                    let span = t.span();
                    (t.into_inner(), span)
                })
                .collect(),
            search: raw.search.map(Spanned::into_inner).unwrap_or_default(),
            search_span,
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
}

/// A TOML or schema error of the file as a located config error, with a hint for unknown and
/// missing keys.
fn toml_error(text: &str, path: &Path, e: &toml::de::Error) -> CoreError {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_and_field() {
        let t = "name = \"x\"\n[grid]\nbatch_size = 0\n";
        assert_eq!(line_col(t, t.find('0').unwrap()), (3, 14));
        assert_eq!(field_at(t, t.find('0').unwrap()), "grid.batch_size");
    }
}
