//! `greenbench meters` through the binary: a header row, a power column with units, and a note on
//! what each column means and what each reading covered.

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
