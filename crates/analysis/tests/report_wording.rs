//! The report says what is true of the records it reads: why accuracies fall back to the test
//! set, which floor an exact p-value has, and numbers a person can read.

mod common;

use common::copy;

use std::path::Path;

use greenbench_analysis::{no_validation, stats, write_report, ReportOptions};
use greenbench_core::RunRecord;

/// The records of `dir`, changed by `f` (run ids follow the changed specs).
fn rewrite(dir: &Path, f: impl Fn(&mut RunRecord)) {
    let path = dir.join("runs.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut out = String::new();
    for line in text.lines() {
        let mut r: RunRecord = serde_json::from_str(line).unwrap();
        f(&mut r);
        r.run_id = r.spec.run_id();
        out.push_str(&serde_json::to_string(&r).unwrap());
        out.push('\n');
    }
    std::fs::write(path, out).unwrap();
}

fn records(dir: &Path) -> Vec<RunRecord> {
    std::fs::read_to_string(dir.join("runs.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A run as `validation = 0` records it: nothing held out, no validation accuracy.
fn without_validation(r: &mut RunRecord) {
    r.spec.validation = None;
    if let Some(t) = r.train.as_mut() {
        t.val_acc = None;
        t.validation_samples = None;
        for e in &mut t.epochs {
            e.val_acc = None;
        }
    }
}

fn report(dir: &Path, figures: bool) -> String {
    let s = write_report(
        dir,
        &ReportOptions {
            figures,
            ..Default::default()
        },
    )
    .unwrap();
    std::fs::read_to_string(s.report).unwrap()
}

#[test]
fn a_sweep_configured_without_a_validation_split_is_not_said_to_predate_it() {
    let dir = copy("grid-digits");
    rewrite(dir.path(), without_validation);
    let md = report(dir.path(), false);
    assert!(!md.contains("predate"), "{md}");
    assert!(!md.contains("older records"), "{md}");
    assert!(
        md.contains("configured with no validation split (`validation = 0`)"),
        "{md}"
    );
}

#[test]
fn a_validation_fraction_that_held_out_nothing_is_named() {
    let dir = copy("grid-digits");
    rewrite(dir.path(), |r| {
        without_validation(r);
        r.spec.validation = Some(0.00001);
    });
    let rs = records(dir.path());
    let refs: Vec<&RunRecord> = rs.iter().collect();
    let s = no_validation::accuracy_sources(&refs);
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
    let s = no_validation::accuracy_sources(&refs);
    assert!(!s.contains("predate"), "{s}");
    assert!(s.contains("5 of 12 runs"), "{s}");
    // All with a split: validation accuracy, as before.
    let refs: Vec<&RunRecord> = rs.iter().collect();
    assert!(no_validation::accuracy_sources(&refs).contains("held-out training samples"));
}

#[test]
fn older_records_are_still_said_to_predate_the_split() {
    let dir = copy("quick");
    let rs = records(dir.path());
    let refs: Vec<&RunRecord> = rs.iter().collect();
    assert!(no_validation::accuracy_sources(&refs).contains("predate the validation split"));
}

#[test]
fn the_exact_p_floor_is_stated_per_coefficient() {
    // Four pairs in the same order, neither series evenly spaced: Pearson's exact p reaches
    // 1/4! = 1/24 (only the observed ordering has |r| this large), Spearman's 2/4! = 1/12 (the
    // reversed ranks tie it).
    let (x, y) = ([1.0, 2.0, 4.0, 8.0], [1.0, 3.0, 4.0, 9.0]);
    let p = stats::pearson(&x, &y).unwrap().p_value;
    assert!((p - 1.0 / 24.0).abs() < 1e-12, "{p}");
    let rho = stats::spearman(&x, &y).unwrap().p_value;
    assert!((rho - 1.0 / 12.0).abs() < 1e-12, "{rho}");
    let dir = copy("grid-digits");
    let md = report(dir.path(), false);
    assert!(!md.contains("no p is below 1/12"), "{md}");
    assert!(md.contains("1/n! for Pearson r (1/24 with n = 4)"), "{md}");
    assert!(md.contains("2/n! for Spearman ρ (1/12 with n = 4)"), "{md}");
}

#[test]
fn a_huge_learning_rate_is_printed_compactly() {
    let dir = copy("grid-digits");
    rewrite(dir.path(), |r| r.spec.lr *= 1e302);
    let md = report(dir.path(), true);
    let long_number = |text: &str| {
        text.split(|c: char| !c.is_ascii_digit())
            .any(|digits| digits.len() > 30)
    };
    assert!(md.contains("e300"), "{md}");
    // Every file written for people (report, tables, HTML, figures); the CSV exports keep the
    // number as the records do.
    let mut folders = vec![dir.path().to_path_buf()];
    let mut read = 0;
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path
                .extension()
                .is_some_and(|e| ["md", "svg", "html", "tex"].contains(&e.to_str().unwrap_or("")))
            {
                let text = std::fs::read_to_string(&path).unwrap();
                assert!(!long_number(&text), "{}", path.display());
                read += 1;
            }
        }
    }
    assert!(read > 3, "only {read} files for people were written");
}
