//! Time `write_report` on 10 000 synthetic records. Ignored by default; run in release:
//! `cargo test --release -p greenbench-analysis --test scale -- --ignored --nocapture`.
//! No timing assertion: the time is printed.

mod common;

use std::time::Instant;

use common::{sweep, write_sweep, Shape};
use greenbench_analysis::{write_report, ReportOptions};

#[test]
#[ignore = "timing run; use --release -- --ignored --nocapture"]
fn report_on_10000_records() {
    // 20 models × 10 batch sizes × 50 repeats = 10 000 runs of 10 epochs each.
    let shape = Shape {
        models: 20,
        batch_sizes: vec![4, 8, 16, 32, 64, 96, 128, 160, 192, 256],
        repeats: 50,
        epochs: 10,
        ..Shape::default()
    };
    let records = sweep(&shape);
    assert_eq!(records.len(), 10_000);
    let dir = tempfile::tempdir().unwrap();
    write_sweep(dir.path(), &records, Some("name = \"scale\"\n"));
    let size = std::fs::metadata(dir.path().join("runs.jsonl"))
        .unwrap()
        .len();
    let t = Instant::now();
    let s = write_report(dir.path(), &ReportOptions::default()).unwrap();
    let with_figures = t.elapsed();
    let t = Instant::now();
    write_report(
        dir.path(),
        &ReportOptions {
            figures: false,
            ..Default::default()
        },
    )
    .unwrap();
    let text_only = t.elapsed();
    assert_eq!(s.runs_ok, 10_000);
    assert!(
        s.figures.iter().all(|f| f.skipped.is_none()),
        "{:?}",
        s.figures
    );
    println!(
        "10 000 records ({:.1} MB runs.jsonl): report with figures {:.2} s, without figures {:.2} s",
        size as f64 / 1e6,
        with_figures.as_secs_f64(),
        text_only.as_secs_f64()
    );
}
