//! Figure 3: GPU power vs GPU utilisation per run, or CPU power vs CPU utilisation without a GPU.

use std::path::Path;

use super::scatter::{emit_scatter, Scatter, Series};
use super::{FigureError, FigureInput, FigureOutcome};
use crate::stats;
use crate::AnalysisError;

pub(super) fn prepare(input: &FigureInput) -> Result<Scatter, FigureError> {
    let gpu: Vec<(f64, f64)> = input
        .ctx
        .runs
        .iter()
        .filter_map(|r| {
            let t = r.train.as_ref()?;
            Some((t.gpu_util_mean?, t.avg_power_w.gpu_w?))
        })
        .collect();
    let cpu: Vec<(f64, f64)> = input
        .ctx
        .runs
        .iter()
        .filter_map(|r| {
            let t = r.train.as_ref()?;
            Some((t.cpu_util_mean?, t.avg_power_w.cpu_w?))
        })
        .collect();
    let (which, points) = if !gpu.is_empty() {
        ("GPU", gpu)
    } else if !cpu.is_empty() {
        ("CPU", cpu)
    } else {
        return Err(FigureError::NoUtilisation);
    };
    let (x, y): (Vec<f64>, Vec<f64>) = points.iter().copied().unzip();
    let r = match stats::pearson(&x, &y) {
        Ok(c) => format!("runs (Pearson r = {:.2}, n = {})", c.coefficient, c.n),
        Err(e) => format!("runs (r {e})"),
    };
    Ok(Scatter {
        title: format!("{which} power vs {which} utilisation during training"),
        x_label: format!("mean {which} utilisation [%]"),
        y_label: format!("average {which} power, raw ({}) [W]", input.ctx.quality),
        y_zero: true,
        series: vec![Series::nth(0, r, points)],
        ..Default::default()
    })
}

/// Writes `power_vs_util.png|svg`.
pub(crate) fn write(dir: &Path, input: &FigureInput) -> Result<FigureOutcome, AnalysisError> {
    emit_scatter(
        dir,
        input,
        "power_vs_util",
        "Power vs utilisation (GPU, else CPU)",
        (1000, 700),
        prepare(input),
    )
}
