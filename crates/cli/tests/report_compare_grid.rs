//! `greenbench report DIR --compare-grid GRIDDIR` on the committed digits halving search and
//! the same configurations run as a full grid (`crates/analysis/tests/data/`).

mod common;

use std::path::{Path, PathBuf};

use common::{greenbench, run};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../analysis/tests/data")
        .join(name)
}

/// A copy of a committed sweep folder (the report writes into it).
fn copy(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for f in ["runs.jsonl", "manifest.json"] {
        std::fs::copy(data(name).join(f), dir.path().join(f)).unwrap();
    }
    dir
}

#[test]
fn compare_grid_flag_puts_the_measured_grid_in_the_search_section() {
    let dir = copy("search-digits");
    let grid = copy("grid-digits");
    let o = run(greenbench()
        .arg("report")
        .arg(dir.path())
        .arg("--no-figures")
        .arg("--compare-grid")
        .arg(grid.path()));
    assert!(o.status.success());
    let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    assert!(md.contains("## Search"), "{md}");
    assert!(
        md.contains(&format!(
            "Full grid, **measured** in `{}`",
            grid.path().display()
        )),
        "{md}"
    );
    assert!(md.contains("| training | "), "{md}");
    assert!(
        md.contains("percentage points** of the grid's best"),
        "{md}"
    );

    // Without the flag the grid is predicted; a folder that is not a sweep, or a sweep that is
    // not a search, is an error that names the flag.
    let o = run(greenbench()
        .arg("report")
        .arg(dir.path())
        .arg("--no-figures"));
    assert!(o.status.success());
    let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    assert!(
        md.contains("Full grid, **predicted** (not measured)"),
        "{md}"
    );
    let empty = tempfile::tempdir().unwrap();
    let o = run(greenbench()
        .arg("report")
        .arg(dir.path())
        .arg("--compare-grid")
        .arg(empty.path()));
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("no runs.jsonl here"));
    let o = run(greenbench()
        .arg("report")
        .arg(grid.path())
        .arg("--compare-grid")
        .arg(dir.path()));
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--compare-grid"));
    assert!(String::from_utf8_lossy(&o.stderr).contains("is not a search"));
}
