//! Predicted (leave-one-model-out) vs measured training energy, log axes, with y = x.

use std::path::Path;

use super::scatter::{emit_scatter, Scatter, Series};
use super::{FigureError, FigureInput, FigureOutcome};
use crate::data;
use crate::AnalysisError;

pub(super) fn prepare(input: &FigureInput) -> Result<Scatter, FigureError> {
    let pts: Vec<(f64, f64)> = input
        .cv_predictions
        .iter()
        .filter(|p| p.1 > 0.0 && p.2 > 0.0)
        .map(|p| (data::wh(p.2), data::wh(p.1)))
        .collect();
    if pts.len() < 2 {
        return Err(match &input.cv_note {
            Some(why) => FigureError::NoPredictions { why: why.clone() },
            None => FigureError::TooFewPredictions { found: pts.len() },
        });
    }
    let lo = pts
        .iter()
        .flat_map(|p| [p.0, p.1])
        .fold(f64::INFINITY, f64::min);
    let hi = pts.iter().flat_map(|p| [p.0, p.1]).fold(0.0f64, f64::max);
    Ok(Scatter {
        title: "Parameter estimator: predicted vs measured (leave one model out)".into(),
        x_label: input.energy_label("measured training"),
        y_label: "predicted training energy [Wh]".into(),
        x_log: true,
        y_log: true,
        series: vec![
            Series::identity(lo, hi),
            Series::nth(0, format!("held-out runs (n = {})", pts.len()), pts),
        ],
        ..Default::default()
    })
}

/// Writes `predicted_vs_measured.png|svg`.
pub(crate) fn write(dir: &Path, input: &FigureInput) -> Result<FigureOutcome, AnalysisError> {
    emit_scatter(
        dir,
        input,
        "predicted_vs_measured",
        "Estimator: predicted vs measured energy",
        (900, 800),
        prepare(input),
    )
}
