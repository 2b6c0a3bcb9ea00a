//! The per-model table: size, runs, and per figure the mean over repeats with its 95 %
//! t-interval and n (time, energy, average power, CPU cores in use, accuracy, carbon), then the
//! coefficient of variation of training time and energy, at the setting with the most models.

use super::{Cell, Column, ColumnKind, Digits, Number, Table};
use crate::context::ReportContext;
use crate::data;
use crate::groups::{config_groups, per_model, Context};

/// The per-model table and the setting it is taken at (`None` when no setting has a model).
pub fn build(ctx: &ReportContext) -> (Table, Option<Context>) {
    let (basis, carbon) = (ctx.basis, ctx.carbon);
    let groups = config_groups(ctx.runs);
    let (setting, models) = per_model(&groups);
    let num = |h: &str, latex: &str| Column::new(h, latex, ColumnKind::Number);
    let columns = vec![
        Column::new("model", "model", ColumnKind::Text),
        num("params (M)", "params (M)"),
        num("MACs/sample (M)", "MACs/sample (M)"),
        num("MACs/param", "MACs/param"),
        num("runs", "runs"),
        num("train time (s)", "train time (\\si{\\second})"),
        num("train energy (Wh)", "train energy (\\si{\\watt\\hour})"),
        num("train power (W)", "train power (\\si{\\watt})"),
        num("CPU cores in use", "CPU cores"),
        num(
            "inference energy (Wh)",
            "inference energy (\\si{\\watt\\hour})",
        ),
        num("test accuracy (%)", "test acc. (\\si{\\percent})"),
        num("train CO2-eq (g)", "train CO$_2$-eq (\\si{\\gram})"),
        num("CV train time (%)", "CV time (\\si{\\percent})"),
        num("CV train energy (%)", "CV energy (\\si{\\percent})"),
    ];
    let rows = models
        .iter()
        .map(|g| {
            let m = g.first().and_then(|r| r.model.as_ref());
            let sig3 = |v: Option<f64>| Cell::number(v, Digits::Significant(3));
            let mean3 = |s| Cell::Number(Number::mean(s, Digits::Significant(3)));
            let time = g.spread(|r| r.train.as_ref().map(|t| t.duration_s));
            let energy = g.spread(|r| basis.train_j(r));
            vec![
                Cell::text(g.model.clone()),
                sig3(m.map(|m| m.params as f64 / 1e6)),
                sig3(m.map(|m| m.macs_per_sample as f64 / 1e6)),
                sig3(m.map(|m| m.macs_per_param)),
                Cell::number(Some(g.runs.len() as f64), Digits::Exact),
                mean3(time),
                Cell::Number(
                    Number::mean(
                        energy.map(|s| s.scaled(1.0 / 3600.0)),
                        Digits::Significant(3),
                    )
                    .with_range(in_wh(g.range(|r| basis.train(r)))),
                ),
                mean3(g.spread(data::train_power_w)),
                mean3(g.spread(data::train_cores)),
                Cell::Number(
                    Number::mean(
                        g.spread(|r| basis.inference_j(r))
                            .map(|s| s.scaled(1.0 / 3600.0)),
                        Digits::Significant(3),
                    )
                    .with_range(in_wh(g.range(|r| basis.inference(r)))),
                ),
                Cell::Number(Number::mean(
                    g.spread(data::accuracy).map(|s| s.scaled(100.0)),
                    Digits::Significant(4),
                )),
                mean3(g.spread(|r| basis.train_j(r).map(|j| carbon.grams_for(r, j)))),
                Cell::Number(Number::cv_pct(time)),
                Cell::Number(Number::cv_pct(energy)),
            ]
        })
        .collect();
    (Table { columns, rows }, setting)
}

/// A range in joules as watt-hours.
fn in_wh(r: Option<[f64; 2]>) -> Option<[f64; 2]> {
    r.map(|[l, h]| [l / 3600.0, h / 3600.0])
}
