//! A search's course: validation accuracy vs cumulative training energy, one line per
//! configuration across its rungs (a promoted configuration's line continues where its
//! earlier rung stopped).

use std::path::Path;

use plotters::prelude::*;

use super::scatter::{emit_scatter, Scatter, Series};
use super::{FigureError, FigureInput, FigureOutcome};
use crate::search::SearchSummary;
use crate::AnalysisError;
use greenbench_core::Strategy;

/// Beyond this many configurations only the chosen and the promoted ones get a legend entry.
const LABEL_ALL_UP_TO: usize = 12;

/// A configuration's short legend label (the legend cuts at 22 characters).
fn short_label(s: &SearchSummary, i: usize) -> String {
    let c = &s.configurations[i];
    c.label.replace(" lr ", " lr")
}

/// The legend text of configuration `i` (" +" when promoted), or empty when it gets none.
fn legend_label(s: &SearchSummary, i: usize, promoted: bool) -> String {
    let chosen = s.chosen == Some(i);
    let many = s.configurations.len() > LABEL_ALL_UP_TO;
    match (chosen, promoted) {
        (true, _) => short_label(s, i),
        (false, true) => format!("{} +", short_label(s, i)),
        (false, false) if many => String::new(),
        (false, false) => short_label(s, i),
    }
}

/// Palette slot of the `k`-th configuration that is not chosen: every slot but black (7, 15,
/// …), which marks the chosen one.
fn slot(k: usize) -> usize {
    k + k / 7
}

/// One line per configuration, the chosen one last (on top) and black.
fn series(s: &SearchSummary, unit_j: f64) -> Vec<Series> {
    let promoted: Vec<usize> = s
        .rungs
        .iter()
        .flat_map(|r| r.promoted.iter().copied())
        .collect();
    let mut order: Vec<usize> = (0..s.configurations.len())
        .filter(|&i| s.chosen != Some(i))
        .collect();
    order.extend(s.chosen);
    order
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            let points = s.configurations[i]
                .curve
                .iter()
                .map(|&(j, a)| (j / unit_j, a * 100.0))
                .collect();
            let label = legend_label(s, i, promoted.contains(&i));
            let mut series = Series {
                line: true,
                ..Series::nth(slot(k), label, points)
            };
            if s.chosen == Some(i) {
                series.color = RGBColor(0, 0, 0);
                series.dash = super::Dash::Solid;
            }
            series
        })
        .filter(|x| !x.points.is_empty())
        .collect()
}

pub(super) fn prepare(input: &FigureInput) -> Result<Scatter, FigureError> {
    let Some(s) = input
        .search
        .as_ref()
        .filter(|s| s.config.strategy != Strategy::Grid)
    else {
        return Err(FigureError::NotASearch);
    };
    let most_j = s
        .configurations
        .iter()
        .flat_map(|c| c.curve.iter().map(|p| p.0))
        .fold(0.0, f64::max);
    // Wh, or J for a search that spent less than 0.1 Wh on a configuration.
    let (unit_j, unit) = if most_j < 360.0 {
        (1.0, "J")
    } else {
        (3600.0, "Wh")
    };
    let series = series(s, unit_j);
    if series.is_empty() {
        return Err(FigureError::NoSearchCurves);
    }
    let chosen = s
        .chosen
        .map(|i| format!("; black: the chosen {}", s.configurations[i].label))
        .unwrap_or_default();
    let legend = if s.configurations.len() > LABEL_ALL_UP_TO {
        format!(
            " (legend: the chosen and the promoted of {} configurations)",
            s.configurations.len()
        )
    } else {
        String::new()
    };
    Ok(Scatter {
        title: format!(
            "Search: validation accuracy vs cumulative training energy{legend}; + = promoted{chosen}"
        ),
        x_label: format!("cumulative training energy of the configuration, raw [{unit}]"),
        y_label: match s.validation_samples {
            Some(n) => format!("validation accuracy ({n} held-out samples) [%]"),
            None => "validation accuracy [%]".into(),
        },
        series,
        ..Default::default()
    })
}

/// Writes `search.png|svg|pdf`.
pub(crate) fn write(dir: &Path, input: &FigureInput) -> Result<FigureOutcome, AnalysisError> {
    emit_scatter(
        dir,
        input,
        "search",
        "Search: validation accuracy vs cumulative training energy",
        (1400, 750),
        prepare(input),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::{search_config, summarize};
    use crate::Sweep;

    fn digits() -> SearchSummary {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/search-digits");
        let sweep = Sweep::load(&dir).unwrap();
        summarize(&search_config(&sweep).unwrap().unwrap(), &sweep.records)
    }

    #[test]
    fn with_more_than_twelve_configurations_only_the_chosen_and_promoted_are_labelled() {
        let mut s = digits();
        let chosen = s.chosen.unwrap();
        let promoted: Vec<usize> = s.rungs.iter().flat_map(|r| r.promoted.clone()).collect();
        let labelled = |s: &SearchSummary| -> Vec<usize> {
            (0..s.configurations.len())
                .filter(|&i| !legend_label(s, i, promoted.contains(&i)).is_empty())
                .collect()
        };
        // Twelve: every configuration has an entry; promoted ones end in " +", the chosen not.
        assert_eq!(labelled(&s).len(), 12);
        assert!(legend_label(&s, promoted[0], true).ends_with(" +"));
        assert!(!legend_label(&s, chosen, true).ends_with(" +"));
        // Thirteen: the chosen and the promoted only.
        let extra = s.configurations[0].clone();
        s.configurations.push(extra);
        let mut want: Vec<usize> = promoted.clone();
        want.push(chosen);
        want.sort_unstable();
        want.dedup();
        assert_eq!(labelled(&s), want);
        let carbon = crate::CarbonSettings::default();
        let ctx = crate::context::ReportContext {
            runs: &[],
            basis: crate::EnergyBasis::Raw,
            quality: "estimated".into(),
            carbon: &carbon,
        };
        let scatter = prepare(&FigureInput {
            ctx: &ctx,
            cv_predictions: Vec::new(),
            width_in: None,
            cv_note: None,
            search: Some(s),
        })
        .unwrap();
        assert!(scatter
            .title
            .contains("the chosen and the promoted of 13 configurations"));
        let last = scatter.series.last().unwrap();
        assert_eq!(
            last.color,
            RGBColor(0, 0, 0),
            "the chosen one is black, on top"
        );
        assert_eq!(last.dash, crate::figures::Dash::Solid, "and solid");
        assert!(scatter.series[..scatter.series.len() - 1]
            .iter()
            .all(|x| x.color != RGBColor(0, 0, 0)));
    }
}
