//! Figure 4: per-epoch training loss, cumulative energy (Wh) and accuracy, one line per model
//! (mean over repeats, the comparison setting).

use std::path::Path;

use greenbench_core::EpochRecord;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::legend::{draw_legend, legend_height, legend_layout};
use super::scatter::{Scatter, Series, SIDE_W};
use super::{axis_font, emit, Ctx, FigureError, FigureInput, FigureOutcome, Plot, NARROW_PX};
use crate::context::ReportContext;
use crate::data;
use crate::groups::{config_groups, per_model, ConfigGroup, Context, Spread};
use crate::AnalysisError;

const MAX_MODELS: usize = 24;

pub(super) struct Epochs {
    panels: Vec<Option<Scatter>>,
    /// "first 10 of 14 models" when capped.
    cap_note: Option<String>,
    missing: Vec<&'static str>,
}

/// A curve: per epoch index (1-based) the mean over a group's runs, and its 95 % interval over
/// repeats where there are several.
type Curve = (Vec<(f64, f64)>, Vec<Option<(f64, f64)>>);

/// Mean over a group's runs of `f` at each epoch index (1-based), where present, with its
/// interval.
fn curve(g: &ConfigGroup, f: &dyn Fn(&[EpochRecord], usize) -> Option<f64>) -> Curve {
    let n = data::most_epochs(&g.runs);
    (0..n)
        .filter_map(|i| {
            let v: Vec<f64> = g
                .runs
                .iter()
                .filter_map(|r| f(&r.train.as_ref()?.epochs, i))
                .filter(|v| v.is_finite())
                .collect();
            let s = Spread::of(&v)?;
            Some((((i + 1) as f64, s.mean), s.interval()))
        })
        .unzip()
}

/// A per-epoch value of one run: its epoch records and the 0-based epoch index.
type EpochValue = Box<dyn Fn(&[EpochRecord], usize) -> Option<f64>>;

/// What one panel plots: its title, y label, the value per epoch, and the word naming the
/// value when no run recorded it.
struct PanelSpec {
    title: String,
    y_label: String,
    value: EpochValue,
    what: &'static str,
}

/// The models (one comparison-setting group each) with at least one run that recorded epochs,
/// and that setting.
fn models_with_epochs<'g, 'a>(
    groups: &'g [ConfigGroup<'a>],
) -> (Option<Context>, Vec<&'g ConfigGroup<'a>>) {
    let (ctx, models) = per_model(groups);
    let models = models
        .into_iter()
        .filter(|g| {
            g.runs
                .iter()
                .any(|r| r.train.as_ref().is_some_and(|t| !t.epochs.is_empty()))
        })
        .collect();
    (ctx, models)
}

/// Whether any run of `groups` recorded a per-epoch evaluation accuracy.
fn any_eval_accuracy(groups: &[&ConfigGroup]) -> bool {
    groups.iter().any(|g| {
        g.runs.iter().any(|r| {
            r.train
                .as_ref()
                .is_some_and(|t| t.epochs.iter().any(|e| e.val_acc.is_some()))
        })
    })
}

/// Whether every run of `groups` that recorded a per-epoch evaluation accuracy measured it on a
/// held-out validation split (`validation_samples` recorded).
fn held_out(groups: &[&ConfigGroup]) -> bool {
    groups
        .iter()
        .flat_map(|g| g.runs.iter())
        .filter_map(|r| r.train.as_ref())
        .filter(|t| t.epochs.iter().any(|e| e.val_acc.is_some()))
        .all(|t| t.validation_samples.is_some())
}

/// The three panels: training loss, cumulative energy on the context's basis (Wh) and accuracy
/// (the evaluation accuracy when any run has one, else the training accuracy; `held_out`:
/// measured on a validation split, not the test set). `setting` names the comparison setting in every title.
fn panel_specs(
    ctx: &ReportContext,
    setting: &str,
    (has_val, held_out): (bool, bool),
) -> [PanelSpec; 3] {
    let (basis, quality) = (ctx.basis, &ctx.quality);
    let cumulative_wh = move |e: &[EpochRecord], i: usize| -> Option<f64> {
        let parts: Option<Vec<f64>> = e.get(..=i)?.iter().map(|x| basis.epoch_j(x)).collect();
        parts.map(|p| data::wh(p.iter().sum()))
    };
    let accuracy_pct = move |e: &[EpochRecord], i: usize| -> Option<f64> {
        let x = e.get(i)?;
        Some(100.0 * if has_val { x.val_acc? } else { x.train_acc })
    };
    [
        PanelSpec {
            title: format!("Training loss{setting}"),
            y_label: "mean training loss".into(),
            value: Box::new(|e: &[EpochRecord], i: usize| e.get(i).map(|e| e.loss)),
            what: "loss",
        },
        PanelSpec {
            title: format!("Cumulative {} energy{setting}", basis.name()),
            y_label: format!("training energy ({quality}) [Wh]"),
            value: Box::new(cumulative_wh),
            what: "per-epoch energy",
        },
        PanelSpec {
            // Records with `validation_samples` measured val_acc on a split held out of training;
            // older records measured it on the test set.
            title: match (has_val, held_out) {
                (true, true) => format!("Validation accuracy{setting}"),
                (true, false) => format!("Test accuracy{setting}"),
                (false, _) => format!("Training accuracy{setting}"),
            },
            y_label: match (has_val, held_out) {
                (true, true) => "validation accuracy (held out of training) [%]".into(),
                (true, false) => "test-set accuracy [%]".into(),
                (false, _) => "training accuracy [%]".into(),
            },
            value: Box::new(accuracy_pct),
            what: "accuracy",
        },
    ]
}

/// Panel `index` (0 = loss, carrying the legend labels; 1 = energy, from zero): one line per
/// model in `shown`, or `None` when no model has a point.
fn panel(index: usize, spec: PanelSpec, shown: &[&ConfigGroup]) -> Option<Scatter> {
    let series: Vec<Series> = shown
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let label = if index == 0 {
                g.model.clone()
            } else {
                String::new()
            };
            let (points, y_err) = curve(g, &*spec.value);
            Series {
                line: true,
                y_err,
                ..Series::nth(i, label, points)
            }
        })
        .filter(|s| !s.points.is_empty())
        .collect();
    if series.is_empty() {
        return None;
    }
    Some(Scatter {
        title: spec.title,
        x_label: "epoch".into(),
        y_label: spec.y_label,
        y_zero: index == 1,
        series,
        x_integer: true,
        ..Default::default()
    })
}

pub(super) fn prepare(input: &FigureInput) -> Result<Epochs, FigureError> {
    let groups = config_groups(input.ctx.runs);
    let (ctx, models) = models_with_epochs(&groups);
    if models.is_empty() {
        return Err(FigureError::NoEpochs);
    }
    let shown = &models[..models.len().min(MAX_MODELS)];
    // The runs shown are those of the comparison setting; every panel says which batch size.
    let setting = ctx
        .map(|c| format!(" (batch {})", c.batch_size))
        .unwrap_or_default();
    let specs = panel_specs(
        input.ctx,
        &setting,
        (any_eval_accuracy(shown), held_out(shown)),
    );
    let mut missing = Vec::new();
    let panels = specs
        .into_iter()
        .enumerate()
        .map(|(index, spec)| {
            let what = spec.what;
            let p = panel(index, spec, shown);
            if p.is_none() {
                missing.push(what);
            }
            p
        })
        .collect();
    let cap_note = (models.len() > MAX_MODELS)
        .then(|| format!("first {MAX_MODELS} of {} models", models.len()));
    Ok(Epochs {
        panels,
        cap_note,
        missing,
    })
}

impl Epochs {
    /// Series of the first panel present (they carry the legend labels).
    fn legend_series(&self) -> Vec<&Series> {
        self.panels
            .iter()
            .flatten()
            .next()
            .map(|p| p.series.iter().filter(|s| !s.label.is_empty()).collect())
            .unwrap_or_default()
    }

    /// Height of the legend (and the cap note) in an area `w` pixels wide.
    fn legend_height(&self, w: u32) -> u32 {
        let mut labels: Vec<&str> = self
            .legend_series()
            .iter()
            .map(|s| s.label.as_str())
            .collect();
        if let Some(n) = &self.cap_note {
            labels.push(n);
        }
        legend_layout(&labels, w).height
    }

    fn draw_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        panel: &Option<Scatter>,
    ) -> Result<(), FigureError> {
        match panel {
            Some(p) => p.draw_plot(area),
            None => {
                let what = self.missing.join(", ");
                area.draw(&Text::new(
                    format!("no {what} recorded"),
                    (40, area.dim_in_pixel().1 as i32 / 2),
                    axis_font(),
                ))
                .ctx()
            }
        }
    }
}

/// Widths from which the legend sits right of the panels instead of below them.
const SIDE_LEGEND_PX: u32 = 1500;

impl Plot for Epochs {
    fn size(&self, width: Option<u32>) -> (u32, u32) {
        let Some(w) = width else {
            // The side legend's column needs 70 px + its entries.
            return (1900, (80 + self.legend_height(SIDE_W)).max(620));
        };
        let legend = self.legend_height(w);
        if w < NARROW_PX {
            // One panel per row.
            (w, 3 * (w as f64 * 0.62) as u32 + legend)
        } else if w < SIDE_LEGEND_PX {
            (w, (w as f64 * 0.42).max(420.0) as u32 + legend)
        } else {
            (w, (80 + self.legend_height(SIDE_W)).max(620))
        }
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), FigureError> {
        let (w, h) = root.dim_in_pixel();
        let mut entries = self.legend_series();
        let note;
        if let Some(n) = &self.cap_note {
            note = Series {
                color: RGBColor(255, 255, 255),
                thin: true,
                ..Series::nth(0, n.clone(), Vec::new())
            };
            entries.push(&note);
        }
        if w >= SIDE_LEGEND_PX {
            let (root, side) = root.split_horizontally(w.saturating_sub(SIDE_W));
            draw_legend(&side.margin(70, 0, 0, 0), &entries)?;
            let areas = root.split_evenly((1, 3));
            for (area, panel) in areas.iter().zip(&self.panels) {
                self.draw_panel(area, panel)?;
            }
            return Ok(());
        }
        let lh = legend_height(&entries, w);
        let (plots, below) = root.split_vertically(h.saturating_sub(lh));
        draw_legend(&below, &entries)?;
        let areas = if w < NARROW_PX {
            plots.split_evenly((3, 1))
        } else {
            plots.split_evenly((1, 3))
        };
        for (area, panel) in areas.iter().zip(&self.panels) {
            self.draw_panel(area, panel)?;
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
        input,
        prepare(input),
    )
}
