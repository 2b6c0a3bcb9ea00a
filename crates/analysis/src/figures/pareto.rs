//! Accuracy–energy Pareto front over configurations (model × setting, mean over repeats).

use std::path::Path;

use plotters::prelude::*;

use super::scatter::{emit_scatter, Scatter, Series};
use super::{truncate, FigureError, FigureInput, FigureOutcome};
use crate::data;
use crate::groups::config_groups;
use crate::pareto::pareto_front;
use crate::AnalysisError;

pub(super) fn prepare(input: &FigureInput) -> Result<Scatter, FigureError> {
    let groups = config_groups(&input.runs);
    let source = data::AccuracySource::choose(&input.runs);
    let pts: Vec<(String, f64, f64)> = groups
        .iter()
        .filter_map(|g| {
            let e = g.mean(|r| input.basis.train_j(r))?;
            let a = g.mean(|r| source.of(r))?;
            (e > 0.0).then(|| {
                (
                    format!("{} b{}", g.model, g.context.batch_size),
                    data::wh(e),
                    a * 100.0,
                )
            })
        })
        .collect();
    if pts.len() < 2 {
        return Err(FigureError::TooFewConfigurations { found: pts.len() });
    }
    let pairs: Vec<(f64, f64)> = pts.iter().map(|p| (p.1, p.2)).collect();
    let front = pareto_front(&pairs);
    let fp: Vec<(f64, f64)> = front.iter().map(|&i| pairs[i]).collect();
    Ok(Scatter {
        title: "Accuracy–energy Pareto front".into(),
        x_label: input.energy_label("training"),
        y_label: format!("{} [%]", source.name()),
        x_log: true,
        series: vec![
            Series {
                label: "configurations".into(),
                color: RGBColor(150, 150, 150),
                marker: super::Marker::Circle,
                points: pairs,
                line: false,
                thin: false,
            },
            Series {
                line: true,
                ..Series::nth(3, "Pareto front".into(), fp)
            },
        ],
        notes: front
            .iter()
            .take(12)
            .map(|&i| (pts[i].1, pts[i].2, truncate(&pts[i].0, 28)))
            .collect(),
        legend: SeriesLabelPosition::LowerRight,
        ..Default::default()
    })
}

/// Writes `pareto.png|svg`.
pub(crate) fn write(dir: &Path, input: &FigureInput) -> Result<FigureOutcome, AnalysisError> {
    emit_scatter(
        dir,
        input,
        "pareto",
        "Accuracy–energy Pareto front",
        (1100, 750),
        prepare(input),
    )
}
