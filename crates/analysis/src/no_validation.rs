//! Why runs have no validation accuracy, said as the records show it: records written before the
//! validation split existed, a sweep configured with `validation = 0`, a fraction too small to
//! hold out a sample, or a split whose accuracy is not a number.

use greenbench_core::RunRecord;

use crate::data::{accuracy, distinct, test_images, validation_accuracy, AccuracySource};

/// Why one run has no validation accuracy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// Written before the validation split existed (no `validation_samples`): its per-epoch
    /// `val_acc` was measured on the test set.
    Predates,
    /// Configured with no validation split (`validation = 0`): nothing held out, no per-epoch
    /// accuracy.
    NotConfigured,
    /// Configured with a validation fraction that held out no samples.
    HeldNothing,
    /// A split was held out, but its accuracy is not a finite number (training diverged).
    NotFinite,
}

impl Missing {
    /// Every reason, in the order a sentence lists them.
    const ALL: [Missing; 4] = [
        Missing::Predates,
        Missing::NotConfigured,
        Missing::HeldNothing,
        Missing::NotFinite,
    ];

    /// Why `r` has no validation accuracy; `None` when it has one, or no training record.
    pub fn of(r: &RunRecord) -> Option<Missing> {
        if validation_accuracy(r).is_some() {
            return None;
        }
        let t = r.train.as_ref()?;
        Some(if t.validation_samples.is_some() {
            Missing::NotFinite
        } else if t.val_acc.is_some() || t.epochs.iter().any(|e| e.val_acc.is_some()) {
            Missing::Predates
        } else if r.spec.validation.is_some() {
            Missing::HeldNothing
        } else {
            Missing::NotConfigured
        })
    }

    /// `n` runs with this reason, as a clause of a list.
    fn counted(self, n: usize) -> String {
        match self {
            Missing::Predates => format!("{n} predate the validation split"),
            Missing::NotConfigured => format!("{n} were configured with `validation = 0`"),
            Missing::HeldNothing => {
                format!("{n} had a validation fraction that held out no samples")
            }
            Missing::NotFinite => format!("{n} have a validation accuracy that is not a number"),
        }
    }
}

/// The runs that have an accuracy of either kind, and how many of them lack a validation
/// accuracy for each reason (in [`Missing::ALL`]'s order).
fn tally(runs: &[&RunRecord]) -> (usize, Vec<(Missing, usize)>) {
    let with_any: Vec<&&RunRecord> = runs
        .iter()
        .filter(|r| accuracy(r).is_some() || validation_accuracy(r).is_some())
        .collect();
    let counts = Missing::ALL
        .iter()
        .map(|&m| {
            let n = with_any
                .iter()
                .filter(|r| Missing::of(r) == Some(m))
                .count();
            (m, n)
        })
        .filter(|&(_, n)| n > 0)
        .collect();
    (with_any.len(), counts)
}

/// The one reason every run with an accuracy shares, if they share one.
fn sole_reason(runs: &[&RunRecord]) -> Option<Missing> {
    match tally(runs) {
        (n, counts) if counts.len() == 1 && counts[0].1 == n => Some(counts[0].0),
        _ => None,
    }
}

/// The report's sentence for a sweep whose choices fall back to test accuracy (`test` names it,
/// with the number of images): why there is no validation accuracy.
pub fn fallback_sentence(runs: &[&RunRecord], test: &str) -> String {
    let choices = "choices (best configuration, Pareto front)";
    match sole_reason(runs) {
        Some(Missing::Predates) => format!(
            "Accuracies: these records predate the validation split (no `validation_samples`), so \
             their per-epoch accuracy was measured on the test set, and {choices} fall back to \
             {test}."
        ),
        Some(Missing::NotConfigured) => format!(
            "Accuracies: the sweep was configured with no validation split (`validation = 0`), so \
             no per-epoch accuracy was measured, and {choices} use {test}."
        ),
        Some(Missing::HeldNothing) => format!(
            "Accuracies: the validation fraction of these runs held out no samples, so no \
             validation accuracy was measured, and {choices} use {test}."
        ),
        Some(Missing::NotFinite) => {
            format!("Accuracies: no run has a finite validation accuracy, so {choices} use {test}.")
        }
        None => {
            let (n, counts) = tally(runs);
            let k: usize = counts.iter().map(|c| c.1).sum();
            let why: Vec<String> = counts.iter().map(|&(m, c)| m.counted(c)).collect();
            format!(
                "Accuracies: {k} of {n} runs have no validation accuracy ({}), so {choices} use \
                 {test} for every run.",
                why.join("; ")
            )
        }
    }
}

/// The same, as a short clause after "test accuracy: ".
pub fn fallback_clause(runs: &[&RunRecord]) -> String {
    match sole_reason(runs) {
        Some(Missing::Predates) => {
            "these records have no held-out validation split (older records)".into()
        }
        Some(Missing::NotConfigured) => {
            "the sweep was configured with no validation split (`validation = 0`)".into()
        }
        Some(Missing::HeldNothing) => "the validation fraction held out no samples".into(),
        Some(Missing::NotFinite) => "no run has a finite validation accuracy".into(),
        None => {
            let (n, counts) = tally(runs);
            let k: usize = counts.iter().map(|c| c.1).sum();
            format!("{k} of {n} runs have no validation accuracy")
        }
    }
}

/// A sentence saying where the report's accuracies come from: per-epoch and choices on the
/// validation split (with its size) or, when runs have none, the test set and why (see
/// this module); final accuracy on the test images (with their number, and whether
/// a `test_subset`).
pub fn accuracy_sources(runs: &[&RunRecord]) -> String {
    let val_n = distinct(runs, |r| r.train.as_ref()?.validation_samples);
    let test_n = distinct(runs, test_images);
    let subset = runs.iter().any(|r| r.spec.test_subset.is_some());
    let test = if test_n.is_empty() {
        "test accuracy".to_string()
    } else {
        format!(
            "test accuracy ({test_n} images{})",
            if subset { ", test_subset" } else { "" }
        )
    };
    match AccuracySource::choose(runs) {
        AccuracySource::Validation => format!(
            "Accuracies: per-epoch figures and every choice (best configuration, Pareto front, \
             search) use validation accuracy ({val_n} held-out training samples); the final \
             accuracy of a run is {test}, measured once at its end."
        ),
        AccuracySource::Test => fallback_sentence(runs, &test),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_common::{copy, records, rewrite, without_validation};

    #[test]
    fn a_validation_fraction_that_held_out_nothing_is_named() {
        let dir = copy("grid-digits");
        rewrite(dir.path(), |r| {
            without_validation(r);
            r.spec.validation = Some(0.00001);
        });
        let rs = records(dir.path());
        let refs: Vec<&RunRecord> = rs.iter().collect();
        let s = accuracy_sources(&refs);
        assert!(!s.contains("predate"), "{s}");
        assert!(s.contains("held out no samples"), "{s}");
    }

    #[test]
    fn runs_with_and_without_a_validation_split_are_counted() {
        let dir = copy("grid-digits");
        let rs = records(dir.path());
        let mut mixed = rs.clone();
        for r in mixed.iter_mut().take(5) {
            without_validation(r);
        }
        let refs: Vec<&RunRecord> = mixed.iter().collect();
        let s = accuracy_sources(&refs);
        assert!(!s.contains("predate"), "{s}");
        assert!(s.contains("5 of 12 runs"), "{s}");
        // All with a split: validation accuracy, as before.
        let refs: Vec<&RunRecord> = rs.iter().collect();
        assert!(accuracy_sources(&refs).contains("held-out training samples"));
    }

    #[test]
    fn older_records_are_still_said_to_predate_the_split() {
        let dir = copy("quick");
        let rs = records(dir.path());
        let refs: Vec<&RunRecord> = rs.iter().collect();
        assert!(accuracy_sources(&refs).contains("predate the validation split"));
    }
}
