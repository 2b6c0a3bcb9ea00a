//! Reading a config: the file as written (`RawConfig`, every axis at the top level or in
//! `[grid]`, see [`super::schema`]), turned into a [`SweepConfig`] whose every value is of its
//! type and knows where it was written.

use std::ops::Range;
use std::path::Path;
use toml::Spanned;

use super::schema::{RawConfig, Settings, TypedAxes, Written};
use super::{Axis, Located, PendingError, SweepConfig};
use crate::choices::{Precision, RunOrder, Schedule};
use crate::error::{ConfigError, CoreError};

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

/// One axis as written at the top level (`top`) or in `[grid]` (`grid`); `None` when it is not
/// written. Written twice, missing while `required`, or an empty list is an error in `errs`.
pub(super) fn take_written<W>(
    top: Option<Spanned<Axis<W>>>,
    grid: Option<Spanned<Axis<W>>>,
    name: &str,
    required: bool,
    errs: &mut Vec<PendingError>,
) -> Option<Located<Vec<W>>> {
    let written = |v: Spanned<Axis<W>>, field: String| {
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
            if required {
                errs.push((
                    format!("grid.{name}"),
                    None,
                    format!("required axis `{name}` is missing"),
                    Some(format!("add `{name} = ...` under [grid]")),
                ));
            }
            return None;
        }
    };
    if axis.value.is_empty() {
        errs.push((
            axis.field.clone(),
            axis.span.clone(),
            "the list is empty".into(),
            Some("give at least one value, or leave the key out for its default".into()),
        ));
    }
    Some(axis)
}

/// An axis's values in their type: those `written` (a value that is not of the type is an
/// error at the list's place and is left out), or else its `default` (none while required).
pub(super) fn typed<T: Written>(
    written: Option<Located<Vec<T::Raw>>>,
    name: &str,
    default: Option<Vec<T>>,
    errs: &mut Vec<PendingError>,
) -> Located<Vec<T>> {
    let Some(written) = written else {
        return Located {
            value: default.unwrap_or_default(),
            field: name.into(),
            span: None,
        };
    };
    let mut value = Vec::new();
    for raw in written.value {
        match T::from_raw(raw) {
            Ok(v) => value.push(v),
            Err((message, hint)) => {
                errs.push((written.field.clone(), written.span.clone(), message, hint))
            }
        }
    }
    Located {
        value,
        field: written.field,
        span: written.span,
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

/// A setting in its type: as written (a value that is not of the type is an error at its
/// place, and `default` stands in), or its `default`.
fn typed_scalar<T: Written>(
    v: Option<Spanned<T::Raw>>,
    name: &str,
    default: T,
    errs: &mut Vec<PendingError>,
) -> Located<T> {
    let Some(s) = v else {
        return scalar(None, name, default);
    };
    let span = s.span();
    let value = T::from_raw(s.into_inner()).unwrap_or_else(|(message, hint)| {
        errs.push((name.into(), Some(span.clone()), message, hint));
        default
    });
    Located {
        value,
        field: name.into(),
        span: Some(span),
    }
}

/// Stands in for a `quiet_gate` that is written (its value is always taken from the file).
const QUIET_DEFAULT: crate::interference::QuietGate = crate::interference::QuietGate {
    max_share: crate::interference::DEFAULT_THRESHOLD,
    max_wait_s: 60.0,
};

/// Stands in for an `lr_scaling` that is written (its value is always taken from the file).
const LR_SCALING_DEFAULT: super::LrScaling = super::LrScaling {
    rule: super::ScalingRule::Linear,
    reference_batch: 1,
};

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
        let axes = TypedAxes::take(&mut raw, &mut errs);
        let name_span = raw.name.span();
        let search_span = raw.search.as_ref().map(Spanned::span);
        let carbon_span = raw.carbon.as_ref().map(Spanned::span);
        let workload_span = raw.workload.as_ref().map(Spanned::span);
        let settings = Settings {
            path: path.to_path_buf(),
            text: text.to_string(),
            name: raw.name.into_inner(),
            description: raw.description,
            repeats: scalar(raw.repeats, "repeats", 1),
            order: typed_scalar(raw.order, "order", RunOrder::Interleaved, &mut errs),
            interference_threshold: scalar(
                raw.interference_threshold,
                "interference_threshold",
                crate::interference::DEFAULT_THRESHOLD,
            ),
            quiet_gate: raw
                .quiet_gate
                .map(|g| scalar(Some(g), "quiet_gate", QUIET_DEFAULT)),
            warmup_batches: scalar(raw.warmup_batches, "warmup_batches", 5),
            idle_seconds: scalar(raw.idle_seconds, "idle_seconds", 5.0),
            run_timeout: raw.run_timeout.map(|s| scalar(Some(s), "run_timeout", 0.0)),
            replicate_test: scalar(raw.replicate_test, "replicate_test", 1),
            momentum: scalar(raw.momentum, "momentum", 0.9),
            weight_decay: scalar(raw.weight_decay, "weight_decay", 5e-4),
            schedule: typed_scalar(raw.schedule, "schedule", Schedule::Cosine, &mut errs),
            lr_scaling: raw
                .lr_scaling
                .map(|s| scalar(Some(s), "lr_scaling", LR_SCALING_DEFAULT)),
            lr_warmup_epochs: raw
                .lr_warmup_epochs
                .map(|w| scalar(Some(w), "lr_warmup_epochs", 0.0)),
            bn_recalibration_samples: raw
                .bn_recalibration_samples
                .map(|n| scalar(Some(n), "bn_recalibration_samples", 0)),
            precision: typed_scalar(raw.precision, "precision", Precision::F32, &mut errs),
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
            workload: raw.workload.map(Spanned::into_inner),
            workload_span,
        };
        let cfg = axes.with(settings);
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
