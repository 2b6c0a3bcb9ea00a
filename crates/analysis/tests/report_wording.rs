//! The report says what is true of the records it reads: why accuracies fall back to the test
//! set, which floor an exact p-value has, and numbers a person can read.

mod common;

use common::{copy, rewrite, without_validation};

use std::path::Path;

use greenbench_analysis::{write_report, ReportOptions};

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
fn the_exact_p_floor_is_stated_per_coefficient() {
    // The committed sweep has four configurations: the floors of n = 4 (see the statistics'
    // own test of the exact p).
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
