//! Figure 2: average training power per component (CPU, DRAM, GPU) per model, stacked bars.

use std::path::Path;

use greenbench_core::Component;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::bars::{draw_hbars, height, HBars};
use super::{color, emit, FigureError, FigureInput, FigureOutcome, Plot};
use crate::groups::{config_groups, per_model};
use crate::AnalysisError;

pub(super) struct Power {
    title: String,
    names: Vec<String>,
    values: Vec<Vec<Option<f64>>>,
    series: Vec<(&'static str, RGBColor)>,
}

pub(super) fn prepare(input: &FigureInput) -> Result<Power, FigureError> {
    let groups = config_groups(input.ctx.runs);
    let (ctx, models) = per_model(&groups);
    let comps: Vec<Component> = Component::ALL
        .into_iter()
        .filter(|&c| {
            models
                .iter()
                .any(|g| g.mean(|r| r.train.as_ref()?.avg_power_w.get(c)).is_some())
        })
        .collect();
    if comps.is_empty() {
        return Err(FigureError::NoComponentPower);
    }
    let names = models.iter().map(|g| g.model.clone()).collect();
    let values = models
        .iter()
        .map(|g| {
            comps
                .iter()
                .map(|&c| g.mean(|r| r.train.as_ref()?.avg_power_w.get(c)))
                .collect()
        })
        .collect();
    let series = comps
        .iter()
        .map(|c| {
            let (name, i) = match c {
                Component::Cpu => ("CPU", 0),
                Component::Dram => ("DRAM", 2),
                Component::Gpu => ("GPU", 1),
            };
            (name, color(i))
        })
        .collect();
    let title = format!(
        "Average training power per component (raw, {}) — {}",
        input.ctx.quality,
        ctx.map(|c| c.to_string()).unwrap_or_default()
    );
    Ok(Power {
        title,
        names,
        values,
        series,
    })
}

impl Plot for Power {
    fn size(&self, width: Option<u32>) -> (u32, u32) {
        let w = width.unwrap_or(1200);
        (
            w,
            super::title_height(&self.title, w) + height(self.names.len()),
        )
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), FigureError> {
        let root = super::titled(root, &self.title)?;
        draw_hbars(
            &root,
            &HBars {
                title: "",
                x_label: "average power [W]",
                names: &self.names,
                values: &self.values,
                series: &self.series,
            },
        )
    }
}

/// Writes `power.png|svg`.
pub(crate) fn write(dir: &Path, input: &FigureInput) -> Result<FigureOutcome, AnalysisError> {
    emit(
        dir,
        "power",
        "Average power per component per model",
        input,
        prepare(input),
    )
}
