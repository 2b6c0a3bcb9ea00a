//! The report's "Energy ranges" section: every ok run's training and inference energy on the
//! report's basis with its range (`low_j`–`high_j` of the records: the 5–95 % range of an
//! estimate, a measurement's counter resolution), so a reader sees how far an estimated joule
//! can be trusted. Left out when no run carries a range (folders written before ranges existed).

use std::fmt::Write as _;

use greenbench_core::ComponentEnergy;
use greenbench_core::RunRecord;

use crate::context::ReportContext;
use crate::data::EnergyBasis;
use crate::numbers::sig;

/// Longest table; the rest is in runs.csv.
const MAX_ROWS: usize = 50;

/// "12.3 J [10.1, 15.2]", or the value alone without a range, or "—".
pub fn with_range(e: Option<&ComponentEnergy>) -> String {
    let Some(j) = e.and_then(|e| e.total_j) else {
        return "—".into();
    };
    match e.and_then(|e| e.low_j.zip(e.high_j)) {
        Some((l, h)) => format!("{} J [{}, {}]", sig(j, 3), sig(l, 3), sig(h, 3)),
        None => format!("{} J", sig(j, 3)),
    }
}

/// Writes the section when any run has a range.
pub fn write(md: &mut String, ctx: &ReportContext) {
    let (runs, basis) = (ctx.runs, ctx.basis);
    let has = |r: &&&RunRecord| {
        [basis.train(r), basis.inference(r)]
            .into_iter()
            .flatten()
            .any(|e| e.low_j.is_some())
    };
    if !runs.iter().any(|r| has(&r)) {
        return;
    }
    let _ = writeln!(
        md,
        "## Energy ranges\n\n{} energy of every ok run with its range in brackets: for an estimate the \
         5th–95th percentile over its model's parameter ranges, for a measurement ± its counter's \
         resolution (the method and sources are in the meters line above and in docs/measurement.md). \
         A figure without brackets has no stated range.\n\n| run | model | training | inference |\n|---|---|---:|---:|",
        match basis {
            EnergyBasis::Net => "Net",
            EnergyBasis::Raw => "Raw",
        }
    );
    for r in runs.iter().take(MAX_ROWS) {
        let _ = writeln!(
            md,
            "| `{}` | {} | {} | {} |",
            r.run_id,
            r.spec.model,
            with_range(basis.train(r)),
            with_range(basis.inference(r))
        );
    }
    if runs.len() > MAX_ROWS {
        let _ = writeln!(
            md,
            "\n… and {} more (runs.csv has every range).",
            runs.len() - MAX_ROWS
        );
    }
    md.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use greenbench_core::{Component, Joules, Quality};
    use std::collections::BTreeMap;

    #[test]
    fn a_range_is_shown_in_brackets_and_its_absence_is_not_invented() {
        let mut p = BTreeMap::new();
        p.insert(Component::Cpu, (Some(Joules(12.34)), Quality::Estimated));
        let old = ComponentEnergy::from_parts(&p);
        assert_eq!(with_range(Some(&old)), "12.3 J");
        let new = old
            .clone()
            .with_ranges([(Component::Cpu, [10.1, 15.2])].into(), BTreeMap::new());
        assert_eq!(with_range(Some(&new)), "12.3 J [10.1, 15.2]");
        assert_eq!(with_range(None), "—");
    }
}
