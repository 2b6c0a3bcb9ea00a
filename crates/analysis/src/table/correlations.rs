//! The correlation table: each pair's Pearson r (raw and of the logarithms) and Spearman ρ on
//! configuration means (with n, p and interval) and how p and the interval were obtained,
//! beside the paper's figure, the coefficient the paper quotes marked.

use super::{point_kind, Cell, Column, ColumnKind, Formats, Number, Table};
use crate::correlation::{Headline, PairResult};

/// The table of `study`.
pub fn build(study: &[PairResult]) -> Table {
    let columns = vec![
        Column::new("pair", "pair", ColumnKind::Text),
        Column::new("point", "point", ColumnKind::Text),
        Column::new("Pearson r", "Pearson $r$", ColumnKind::Estimate),
        Column::new(
            "Pearson r of logs",
            "Pearson $r$ (log--log)",
            ColumnKind::Estimate,
        ),
        Column::new("Spearman ρ", "Spearman $\\rho$", ColumnKind::Estimate),
        Column::new("n", "$n$", ColumnKind::Number).only(Formats::LatexOnly),
        Column::new("method", "method", ColumnKind::Text),
        Column::new("paper quotes", "paper quotes", ColumnKind::Text).only(Formats::LatexOnly),
        Column::new("paper", "paper", ColumnKind::Text),
        Column::new("this sweep", "this sweep", ColumnKind::Text).only(Formats::MarkupOnly),
    ];
    let rows = study
        .iter()
        .map(|p| {
            // n and the methods are the same for every coefficient that was computed.
            let (n, method) = match (&p.pearson, &p.spearman) {
                (Ok(c), _) | (_, Ok(c)) => (
                    Some(c.n as f64),
                    format!(
                        "p: {}; CI: {}",
                        c.p_method,
                        c.ci95.map(|ci| ci.method()).unwrap_or("none")
                    ),
                ),
                _ => (None, "—".into()),
            };
            let quoted = match p.headline {
                Headline::Pearson => Cell::Markup {
                    plain: "r".into(),
                    latex: "$r$".into(),
                },
                Headline::Spearman => Cell::Markup {
                    plain: "ρ".into(),
                    latex: "$\\rho$".into(),
                },
            };
            vec![
                Cell::text(p.pair),
                Cell::text(point_kind(&p.unit)),
                Cell::Number(
                    Number::correlation(&p.pearson).flagged(p.headline == Headline::Pearson),
                ),
                Cell::Number(Number::correlation(&p.pearson_log)),
                Cell::Number(
                    Number::correlation(&p.spearman).flagged(p.headline == Headline::Spearman),
                ),
                Cell::number(n, super::Digits::Exact),
                Cell::text(method),
                quoted,
                Cell::text(p.paper),
                Cell::text(p.comparison.clone()),
            ]
        })
        .collect();
    Table { columns, rows }
}
