//! `greenbench meters` through the binary: a header row, a power column with units, and a note on
//! what each column means and what each reading covered; watts per core no CPU can draw refused.

mod common;

use common::{greenbench, run};

#[test]
fn meters_prints_a_header_and_explains_the_columns_and_the_reading() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run(greenbench()
        .args(["meters", "--powercap-root"])
        .arg(dir.path().join("no-powercap")));
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["source", "state", "quality", "power"],
        "{text}"
    );
    let rapl = lines
        .iter()
        .find(|l| l.starts_with("rapl"))
        .expect("a rapl row");
    assert!(
        rapl.contains("unavailable") && rapl.ends_with('—'),
        "{text}"
    );
    // The estimate is always available; its reading is of this (idle) process, in watts.
    let est = lines
        .iter()
        .find(|l| l.starts_with("estimate"))
        .expect("an estimate row");
    assert!(est.contains("available") && est.ends_with(" W"), "{text}");
    assert!(
        text.contains("power: mean power over a 1.0 s reading"),
        "{text}"
    );
    assert!(
        text.contains("  estimate  this greenbench process alone"),
        "{text}"
    );
    assert!(
        text.contains("quality: how a sweep labels the energy"),
        "{text}"
    );
}

#[test]
fn watts_per_core_beyond_what_a_core_can_draw_is_refused_with_the_range() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cfg = common::write_config(
        dir.path(),
        "w",
        &common::digits_config("w", &["mlp-small"], &[8], 1, ""),
    );
    for w in ["1e12", "0", "-3", "51"] {
        let o = run(greenbench().args(["meters", "--watts-per-core", w]));
        assert_eq!(o.status.code(), Some(2), "meters --watts-per-core {w}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("above 0 and at most 50"), "{w}: {err}");
        let o = run(greenbench()
            .arg("sweep")
            .arg(&cfg)
            .args(["--dry-run", "--watts-per-core", w]));
        assert_eq!(o.status.code(), Some(2), "sweep --watts-per-core {w}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("no CPU draws more"), "{w}: {err}");
    }
    let o = run(greenbench().args(["meters", "--json", "--watts-per-core", "50"]));
    assert!(o.status.success(), "50 W per core is allowed");
}

#[test]
fn meters_says_which_calibration_applies_and_where_it_looked() {
    let dir = tempfile::tempdir().expect("temp dir");
    let calibrations = dir.path().join("calibration");
    let out = run(greenbench()
        .env("GREENBENCH_CALIBRATION_DIR", &calibrations)
        .args(["meters", "--powercap-root"])
        .arg(dir.path().join("no-powercap")));
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("calibration: "))
        .unwrap_or_else(|| panic!("no calibration line:\n{text}"));
    // No file was written for this CPU: the line says so, where it looked, and what to do.
    if line.starts_with("calibration: none for") {
        assert!(
            line.contains(&calibrations.display().to_string())
                && line.contains("greenbench calibrate"),
            "{line}"
        );
    } else {
        assert!(line.contains("names no model"), "{line}");
    }
}
