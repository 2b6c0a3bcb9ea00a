//! `summary.md`: a Markdown table with one row per model and setting, mean ± σ over repeats.

use crate::context::ReportContext;
use crate::data::{self, EnergyBasis};
use crate::groups::config_groups;
use crate::numbers::{count, pm, sig};

/// The summary table (with a heading line naming the energy basis, its quality and carbon
/// settings) over the report's runs (status ok).
pub fn summary_markdown(ctx: &ReportContext) -> String {
    let (runs, basis, carbon, quality) = (ctx.runs, ctx.basis, ctx.carbon, &ctx.quality);
    let mut s = String::new();
    s.push_str("# Summary per model\n\n");
    s.push_str(&format!(
        "{} ok runs. Energy: **{}**, quality **{}**. {} \
         Carbon: {} g CO2-eq/kWh{} × PUE {} ({}). Values are mean ± σ over repeats (σ only with ≥ 2 runs).\n\n",
        runs.len(),
        basis.name(),
        quality,
        EnergyBasis::choose_explained(runs).1,
        crate::numbers::sig(carbon.intensity_g_per_kwh, 3),
        if carbon.per_run.is_empty() {
            ""
        } else {
            " (mean; each run its own window's)"
        },
        carbon.pue,
        carbon.source
    ));
    s.push_str(
        "| model | family | dataset | batch | lr | epochs | device | runs | params | MACs/sample | MACs/param \
         | train time (s) | train samples/s | train energy (Wh) | train power (W) | CPU cores in use | inference time (s) | inference samples/s | inference energy (Wh) | test accuracy (%) | train CO2 (g) |\n",
    );
    s.push_str(
        "|---|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for g in config_groups(runs) {
        let Some(first) = g.first() else { continue };
        let m = first.model.as_ref();
        let c = &g.context;
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            g.model,
            first.family.map_or(String::new(), |f| f.to_string()),
            c.dataset,
            c.batch_size,
            c.lr,
            c.epochs,
            c.device,
            g.runs.len(),
            m.map(|m| count(m.params)).unwrap_or_else(|| "—".into()),
            m.map(|m| count(m.macs_per_sample)).unwrap_or_else(|| "—".into()),
            m.map(|m| sig(m.macs_per_param, 3)).unwrap_or_else(|| "—".into()),
            pm(g.spread(|r| r.train.as_ref().map(|t| t.duration_s)), 1.0),
            pm(g.spread(|r| r.train.as_ref().map(|t| t.samples_per_s)), 1.0),
            pm(g.spread(|r| basis.train_j(r)), 1.0 / 3600.0),
            pm(g.spread(data::train_power_w), 1.0),
            pm(g.spread(data::train_cores), 1.0),
            pm(g.spread(|r| r.inference.as_ref().map(|i| i.duration_s)), 1.0),
            pm(g.spread(|r| r.inference.as_ref().map(|i| i.samples_per_s)), 1.0),
            pm(g.spread(|r| basis.inference_j(r)), 1.0 / 3600.0),
            pm(g.spread(data::accuracy), 100.0),
            pm(
                g.spread(|r| basis.train_j(r).map(|j| carbon.grams_for(r, j))),
                1.0,
            ),
        ));
    }
    s
}
