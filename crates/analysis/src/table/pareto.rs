//! The accuracy–energy Pareto table: the configurations (model × setting, mean over repeats)
//! not beaten on both lower training energy and higher accuracy, each with its 95 % t-interval
//! over repeats and n.

use super::{Cell, Column, ColumnKind, Digits, Number, Table};
use crate::context::ReportContext;
use crate::data::{self, AccuracySource};
use crate::pareto::{configuration_points, pareto_front};

/// The front's table and what its prose says about it.
pub struct Pareto {
    /// One row per configuration on the front.
    pub table: Table,
    /// Configurations on the front.
    pub front: usize,
    /// Configurations with both accuracy and energy.
    pub points: usize,
    /// Which accuracy the front is chosen on.
    pub source: AccuracySource,
}

/// The Pareto front of the context's runs.
pub fn build(ctx: &ReportContext) -> Pareto {
    let source = AccuracySource::choose(ctx.runs);
    let (groups, pts) = configuration_points(ctx, source);
    let front = pareto_front(&pts.iter().map(|p| (p.1, p.2)).collect::<Vec<_>>());
    let num = |h: String, latex: &str| Column::new(h, latex, ColumnKind::Number);
    let columns = vec![
        Column::new("model", "model", ColumnKind::Text),
        num("batch".into(), "batch"),
        num("lr".into(), "lr"),
        num("epochs".into(), "epochs"),
        num(
            format!(
                "training energy (Wh, {}, {})",
                ctx.basis.name(),
                ctx.quality
            ),
            "train energy (\\si{\\watt\\hour})",
        ),
        num(
            format!("{} (%)", source.name()),
            match source {
                AccuracySource::Validation => "val. acc. (\\si{\\percent})",
                AccuracySource::Test => "test acc. (\\si{\\percent})",
            },
        ),
    ];
    let rows = front
        .iter()
        .map(|&i| {
            let (gi, _, _) = pts[i];
            let g = &groups[gi];
            let energy = g.spread(|r| ctx.basis.train_j(r));
            let accuracy = g.spread(|r| source.of(r));
            vec![
                Cell::text(g.model.clone()),
                Cell::number(Some(g.context.batch_size as f64), Digits::Exact),
                // The learning rate as the config wrote it.
                Cell::text(g.context.lr.clone()),
                Cell::number(Some(g.context.epochs as f64), Digits::Exact),
                Cell::Number(
                    Number::mean(
                        energy.map(|s| s.scaled(data::wh(1.0))),
                        Digits::Significant(3),
                    )
                    .with_range(
                        g.range(|r| ctx.basis.train(r))
                            .map(|[l, h]| [data::wh(l), data::wh(h)]),
                    ),
                ),
                Cell::Number(Number::mean(
                    accuracy.map(|s| s.scaled(100.0)),
                    Digits::Decimals(2),
                )),
            ]
        })
        .collect();
    Pareto {
        table: Table { columns, rows },
        front: front.len(),
        points: pts.len(),
        source,
    }
}
