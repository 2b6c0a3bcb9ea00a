//! Figure 5: training energy vs MACs per parameter, log axes, one point per model, ρ in the legend.

use std::path::Path;

use super::scatter::{emit_scatter, Scatter, Series};
use super::{FigureError, FigureInput, FigureOutcome};
use crate::data;
use crate::groups::{config_groups, per_model};
use crate::stats;
use crate::AnalysisError;

/// A model's point: name, MACs per parameter, mean training energy (Wh) and its 95 % interval
/// over repeats (for one run the estimate's range where the records carry one, else none).
type ModelPoint = (String, f64, f64, Option<(f64, f64)>);

pub(super) fn prepare(input: &FigureInput) -> Result<Scatter, FigureError> {
    let groups = config_groups(input.ctx.runs);
    let (ctx, models) = per_model(&groups);
    let pts: Vec<ModelPoint> = models
        .iter()
        .filter_map(|g| {
            let x = g.first().and_then(data::macs_per_param)?;
            let e = g
                .spread(|r| input.ctx.basis.train_j(r))?
                .scaled(data::wh(1.0));
            let range = g
                .range(|r| input.ctx.basis.train(r))
                .map(|[l, h]| [data::wh(l), data::wh(h)]);
            (e.mean > 0.0).then(|| (g.model.clone(), x, e.mean, e.error_bar(range)))
        })
        .collect();
    if pts.len() < 2 {
        return Err(FigureError::TooFewModels { found: pts.len() });
    }
    let (x, y): (Vec<f64>, Vec<f64>) = pts.iter().map(|p| (p.1, p.2)).unzip();
    let label = match stats::spearman(&x, &y) {
        Ok(c) => format!(
            "models: Spearman ρ = {:.2} (n = {}, {} p = {}, 95 % CI {})",
            c.coefficient,
            c.n,
            c.p_method.short(),
            crate::numbers::sig(c.p_value, 2),
            crate::numbers::ci(&c.ci95)
        ),
        Err(e) => format!("models: ρ {e}"),
    };
    Ok(Scatter {
        title: format!(
            "Energy vs MACs/parameter — {}",
            ctx.map(|c| c.to_string()).unwrap_or_default()
        ),
        x_label: "MACs per parameter (per sample) [MAC/param]".into(),
        y_label: input.energy_label("training"),
        x_log: true,
        y_log: true,
        series: vec![Series {
            y_err: pts.iter().map(|p| p.3).collect(),
            ..Series::nth(0, label, x.iter().copied().zip(y).collect())
        }],
        notes: pts.into_iter().map(|(m, x, y, _)| (x, y, m)).collect(),
        ..Default::default()
    })
}

/// Writes `energy_vs_macs_per_param.png|svg`.
pub(crate) fn write(dir: &Path, input: &FigureInput) -> Result<FigureOutcome, AnalysisError> {
    emit_scatter(
        dir,
        input,
        "energy_vs_macs_per_param",
        "Energy vs MACs/parameter (log axes)",
        (1100, 750),
        prepare(input),
    )
}
