//! The correlation section decides each row's verdict by the interval rule it states, and the
//! batch-size row puts accuracy beside energy.

mod common;

use common::copy;

use greenbench_analysis::{write_report, ReportOptions};

/// The report of the committed grid sweep (two models × two batch sizes, estimated energy).
fn report() -> String {
    let dir = copy("grid-digits");
    let s = write_report(dir.path(), &ReportOptions::default()).unwrap();
    std::fs::read_to_string(s.report).unwrap()
}

/// The last cell ("this sweep") of each row of the correlation table, by pair.
fn verdicts(md: &str) -> Vec<(String, String)> {
    let section = md
        .split("## Correlations beside the paper")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .unwrap_or_default();
    section
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| pair"))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split(" | ").collect();
            (
                cells[0].trim().to_string(),
                cells[cells.len() - 1].trim().to_string(),
            )
        })
        .collect()
}

/// The verdict cell of one pair's row.
fn verdict(md: &str, pair: &str) -> String {
    verdicts(md)
        .into_iter()
        .find(|(p, _)| p == pair)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no row for {pair:?} in:\n{md}"))
}

#[test]
fn the_rule_is_stated_once() {
    let md = report();
    assert_eq!(
        md.matches("**agrees** when the interval contains").count(),
        1,
        "{md}"
    );
    assert!(md.contains("within ±0.5"), "{md}");
}

#[test]
fn every_row_starts_with_a_verdict_word() {
    let md = report();
    let rows = verdicts(&md);
    assert_eq!(rows.len(), 7, "{md}");
    for (pair, v) in rows {
        assert!(
            [
                "agrees",
                "differs",
                "inconclusive",
                "by construction",
                "significant",
                "not significant"
            ]
            .iter()
            .any(|w| v.starts_with(w)),
            "{pair}: {v}"
        );
    }
}

#[test]
fn estimated_energy_makes_time_vs_energy_hold_by_construction() {
    let md = report();
    let v = verdict(&md, "training time vs training energy");
    assert!(
        v.starts_with("by construction (energy estimated from CPU time"),
        "{v}"
    );
}

#[test]
fn the_batch_size_profile_gives_accuracy_beside_energy() {
    let md = report();
    let v = verdict(&md, "batch size vs training energy");
    assert!(v.contains("32: 1.00 (acc "), "{v}");
    assert!(v.contains("64: "), "{v}");
}

/// Six models whose energies span two decades, each falling with batch size: the batch-size row
/// ranks each configuration against its own model's smallest batch, so it finds the fall that
/// pooled absolute energies (ranking the models instead) would hide.
#[test]
fn the_batch_size_row_compares_each_model_with_its_own_smallest_batch() {
    let records = common::sweep(&common::Shape {
        models: 6,
        batch_sizes: vec![16, 32, 64, 128, 256],
        repeats: 2,
        ..common::Shape::default()
    });
    let dir = tempfile::tempdir().unwrap();
    common::write_sweep(dir.path(), &records, None);
    let options = ReportOptions {
        figures: false,
        ..ReportOptions::default()
    };
    let s = write_report(dir.path(), &options).unwrap();
    let md = std::fs::read_to_string(s.report).unwrap();
    let row = md
        .lines()
        .find(|l| l.starts_with("| batch size vs training energy |"))
        .unwrap();
    // Within each model the ranks fall with batch size almost perfectly; pooled absolute
    // energies would have ranked the six models instead.
    assert!(row.contains("| **-0.9"), "{row}");
    assert!(
        md.contains("relative to its model's mean at its smallest batch"),
        "the method is stated"
    );
    let v = verdict(&md, "batch size vs training energy");
    assert!(v.starts_with("agrees: 95 % CI [-"), "{v}");
    assert!(v.contains("16: 1.00 (acc "), "{v}");
}
