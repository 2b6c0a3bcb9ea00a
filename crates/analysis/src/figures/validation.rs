//! `greenbench validate`'s figure: greenbench's energy per run against the wall meter's (net of
//! idle), with y = x.

use std::path::Path;

use plotters::prelude::*;

use super::scatter::{Scatter, Series};
use super::{FigureError, FigureOutcome, Plot};
use crate::AnalysisError;

/// The figure at a fixed size.
struct ValidationPlot(Scatter);

impl Plot for ValidationPlot {
    fn size(&self, _width: Option<u32>) -> (u32, u32) {
        (900, 800)
    }
    fn draw<DB: DrawingBackend>(
        &self,
        root: &plotters::drawing::DrawingArea<DB, plotters::coord::Shift>,
    ) -> Result<(), FigureError> {
        self.0.draw(root)
    }
}

/// Writes `validation.{png,svg,pdf}` into `dir`: one point per run, (wall net J, greenbench J).
pub(crate) fn write(
    dir: &Path,
    points: &[(f64, f64)],
    greenbench_label: &str,
) -> Result<FigureOutcome, AnalysisError> {
    let lo = points
        .iter()
        .flat_map(|p| [p.0, p.1])
        .fold(0.0f64, f64::min);
    let hi = points
        .iter()
        .flat_map(|p| [p.0, p.1])
        .fold(0.0f64, f64::max);
    let scatter = Scatter {
        title: "greenbench vs wall meter, energy per run".into(),
        x_label: "wall meter energy − wall idle × window [J]".into(),
        y_label: format!("greenbench energy, {greenbench_label} [J]"),
        y_zero: true,
        series: vec![
            Series::identity(lo, hi),
            Series::nth(0, format!("runs (n = {})", points.len()), points.to_vec()),
        ],
        ..Default::default()
    };
    super::render(
        dir,
        "validation",
        "greenbench vs wall meter",
        &ValidationPlot(scatter),
        None,
    )
}
