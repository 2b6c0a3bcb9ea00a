//! The correlation table: each pair's Pearson r and Spearman ρ (with n, p and interval) beside
//! the paper's figure, the coefficient the paper quotes marked.

use super::{point_kind, Cell, Column, ColumnKind, Formats, Number, Table};
use crate::correlation::{Headline, PairResult};

/// The table of `study`.
pub fn build(study: &[PairResult]) -> Table {
    let columns = vec![
        Column::new("pair", "pair", ColumnKind::Text),
        Column::new("point", "point", ColumnKind::Text),
        Column::new("Pearson r", "Pearson $r$", ColumnKind::Estimate),
        Column::new("Spearman ρ", "Spearman $\\rho$", ColumnKind::Estimate),
        Column::new("n", "$n$", ColumnKind::Number).only(Formats::LatexOnly),
        Column::new("p method", "$p$ method", ColumnKind::Text).only(Formats::LatexOnly),
        Column::new("paper quotes", "paper quotes", ColumnKind::Text).only(Formats::LatexOnly),
        Column::new("paper", "paper", ColumnKind::Text),
        Column::new("this sweep", "this sweep", ColumnKind::Text).only(Formats::MarkupOnly),
    ];
    let rows = study
        .iter()
        .map(|p| {
            // n and the p method are the same for both coefficients when both were computed.
            let (n, method) = match (&p.pearson, &p.spearman) {
                (Ok(c), _) | (_, Ok(c)) => (Some(c.n as f64), c.p_method.to_string()),
                _ => (None, "--".into()),
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
