//! Figure 4: per-epoch training loss, cumulative energy (Wh) and accuracy, one line per model
//! (mean over repeats, the comparison setting).

use std::path::Path;

use greenbench_core::record::EpochRecord;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::scatter::{Scatter, Series};
use super::{axis_font, color, emit, FigureInput, FigureOutcome, Plot};
use crate::data;
use crate::groups::{config_groups, per_model, ConfigGroup};
use crate::stats;
use crate::AnalysisError;

const MAX_MODELS: usize = 10;

struct Epochs {
    panels: Vec<Option<Scatter>>,
    /// "first 10 of 14 models" when capped.
    cap_note: Option<String>,
    missing: Vec<&'static str>,
}

/// Mean over a group's runs of `f` at each epoch index (1-based), where present.
fn curve(g: &ConfigGroup, f: &dyn Fn(&[EpochRecord], usize) -> Option<f64>) -> Vec<(f64, f64)> {
    let n = g
        .runs
        .iter()
        .filter_map(|r| r.train.as_ref())
        .map(|t| t.epochs.len())
        .max()
        .unwrap_or(0);
    (0..n)
        .filter_map(|i| {
            let v: Vec<f64> = g
                .runs
                .iter()
                .filter_map(|r| f(&r.train.as_ref()?.epochs, i))
                .filter(|v| v.is_finite())
                .collect();
            Some(((i + 1) as f64, stats::mean(&v)?))
        })
        .collect()
}

fn prepare(input: &FigureInput) -> Result<Epochs, String> {
    let groups = config_groups(&input.runs);
    let (ctx, models) = per_model(&groups);
    let models: Vec<_> = models
        .into_iter()
        .filter(|g| {
            g.runs
                .iter()
                .any(|r| r.train.as_ref().is_some_and(|t| !t.epochs.is_empty()))
        })
        .collect();
    if models.is_empty() {
        return Err("no run recorded per-epoch figures".into());
    }
    let shown = &models[..models.len().min(MAX_MODELS)];
    let basis = input.basis;
    let has_val = shown.iter().any(|g| {
        g.runs.iter().any(|r| {
            r.train
                .as_ref()
                .is_some_and(|t| t.epochs.iter().any(|e| e.val_acc.is_some()))
        })
    });
    let loss = |e: &[EpochRecord], i: usize| e.get(i).map(|e| e.loss);
    let cum = move |e: &[EpochRecord], i: usize| -> Option<f64> {
        let parts: Option<Vec<f64>> = e.get(..=i)?.iter().map(|x| basis.epoch_j(x)).collect();
        parts.map(|p| data::wh(p.iter().sum()))
    };
    let acc = move |e: &[EpochRecord], i: usize| -> Option<f64> {
        let x = e.get(i)?;
        Some(100.0 * if has_val { x.val_acc? } else { x.train_acc })
    };
    type F<'a> = &'a dyn Fn(&[EpochRecord], usize) -> Option<f64>;
    let specs: [(&str, String, F, bool, &'static str); 3] = [
        (
            "Training loss",
            "mean training loss".into(),
            &loss,
            true,
            "loss",
        ),
        (
            "Cumulative energy",
            input.energy_label("cumulative training"),
            &cum,
            false,
            "per-epoch energy",
        ),
        (
            if has_val {
                "Validation accuracy"
            } else {
                "Training accuracy"
            },
            format!(
                "{} accuracy [%]",
                if has_val { "validation" } else { "training" }
            ),
            &acc,
            false,
            "accuracy",
        ),
    ];
    let mut missing = Vec::new();
    let panels = specs
        .into_iter()
        .enumerate()
        .map(|(pi, (title, y_label, f, _, what))| {
            let series: Vec<Series> = shown
                .iter()
                .enumerate()
                .map(|(i, g)| Series {
                    label: if pi == 0 {
                        g.model.clone()
                    } else {
                        String::new()
                    },
                    color: color(i),
                    points: curve(g, f),
                    line: true,
                    thin: false,
                })
                .filter(|s| !s.points.is_empty())
                .collect();
            if series.is_empty() {
                missing.push(what);
                return None;
            }
            Some(Scatter {
                title: title.into(),
                x_label: "epoch".into(),
                y_label,
                x_log: false,
                y_log: false,
                y_zero: pi == 1,
                series,
                notes: Vec::new(),
                legend: SeriesLabelPosition::UpperRight,
                x_ticks: None,
                legend_outside: true,
                x_integer: true,
            })
        })
        .collect();
    let _ = ctx;
    let cap_note = (models.len() > MAX_MODELS)
        .then(|| format!("first {MAX_MODELS} of {} models", models.len()));
    Ok(Epochs {
        panels,
        cap_note,
        missing,
    })
}

impl Plot for Epochs {
    fn size(&self) -> (u32, u32) {
        (1900, 620)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let w = root.dim_in_pixel().0;
        let (root, side) = root.split_horizontally(w.saturating_sub(super::scatter::LEGEND_W));
        if let Some(Some(first)) = self.panels.first() {
            first.side_legend(&side)?;
        }
        if let Some(note) = &self.cap_note {
            let y = 70 + 24 * MAX_MODELS as i32 + 10;
            side.draw(&Text::new(note.clone(), (4, y), super::tick_font()))
                .map_err(|e| e.to_string())?;
        }
        let areas = root.split_evenly((1, 3));
        for (area, panel) in areas.iter().zip(&self.panels) {
            match panel {
                Some(p) => p.draw_plot(area)?,
                None => {
                    let what = self.missing.join(", ");
                    area.draw(&Text::new(
                        format!("no {what} recorded"),
                        (40, 300),
                        axis_font(),
                    ))
                    .map_err(|e| e.to_string())?;
                }
            }
        }
        Ok(())
    }
}

/// Writes `epochs.png|svg`.
pub(crate) fn write(dir: &Path, input: &FigureInput) -> Result<FigureOutcome, AnalysisError> {
    emit(
        dir,
        "epochs",
        "Per-epoch loss, cumulative energy and accuracy",
        prepare(input),
    )
}
