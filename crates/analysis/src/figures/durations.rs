//! Figure 1: training and inference duration per model (horizontal bars, one panel each).

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::bars::{draw_hbars, height, HBars};
use super::{color, emit, FigureError, FigureInput, FigureOutcome, Plot};
use crate::groups::{config_groups, per_model};
use crate::AnalysisError;

pub(super) struct Durations {
    context: String,
    names: Vec<String>,
    train: Vec<Vec<Option<f64>>>,
    infer: Vec<Vec<Option<f64>>>,
}

pub(super) fn prepare(input: &FigureInput) -> Result<Durations, FigureError> {
    let groups = config_groups(input.ctx.runs);
    let (ctx, models) = per_model(&groups);
    if models.is_empty() {
        return Err(FigureError::NoOkRuns);
    }
    let names = models.iter().map(|g| g.model.clone()).collect();
    let train = models
        .iter()
        .map(|g| vec![g.mean(|r| r.train.as_ref().map(|t| t.duration_s))])
        .collect();
    let infer = models
        .iter()
        .map(|g| vec![g.mean(|r| r.inference.as_ref().map(|i| i.duration_s))])
        .collect();
    Ok(Durations {
        context: ctx.map(|c| c.to_string()).unwrap_or_default(),
        names,
        train,
        infer,
    })
}

impl Durations {
    fn title(&self) -> String {
        format!("Duration per model — {}", self.context)
    }
}

impl Plot for Durations {
    fn size(&self, width: Option<u32>) -> (u32, u32) {
        let w = width.unwrap_or(1400);
        let title = super::title_height(&self.title(), w);
        if w < super::NARROW_PX {
            // Panels stacked: training above inference.
            (w, title + 2 * height(self.names.len()))
        } else {
            (w, title + height(self.names.len()))
        }
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), FigureError> {
        let root = super::titled(root, &self.title())?;
        let (w, h) = root.dim_in_pixel();
        let (l, r) = if w < super::NARROW_PX {
            root.split_vertically(h / 2)
        } else {
            root.split_horizontally(w / 2)
        };
        let series = [("", color(0))];
        draw_hbars(
            &l,
            &HBars {
                title: "Training",
                x_label: "training time [s]",
                names: &self.names,
                values: &self.train,
                series: &series,
            },
        )?;
        let series = [("", color(1))];
        draw_hbars(
            &r,
            &HBars {
                title: "Inference",
                x_label: "inference time [s]",
                names: &self.names,
                values: &self.infer,
                series: &series,
            },
        )
    }
}

/// Writes `durations.png|svg`.
pub(crate) fn write(dir: &Path, input: &FigureInput) -> Result<FigureOutcome, AnalysisError> {
    emit(
        dir,
        "durations",
        "Training and inference duration per model",
        input,
        prepare(input),
    )
}
