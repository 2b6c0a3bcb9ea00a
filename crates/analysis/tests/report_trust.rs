//! A report never publishes what cannot be true: duplicate records are counted once (and said
//! so), a half-finished sweep says how many runs are missing, a net energy below zero makes the
//! report fall back to raw energy with a warning, and a sweep of crashed runs says it has none ok.

mod common;

use common::{crashed, sweep, write_sweep, Shape};
use greenbench_analysis::EnergyBasis;
use greenbench_analysis::{write_report, ReportOptions};
use greenbench_core::Flag;

fn text_only() -> ReportOptions {
    ReportOptions {
        figures: false,
        ..Default::default()
    }
}

#[test]
fn duplicates_are_dropped_and_counted_and_missing_runs_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut records = sweep(&Shape {
        models: 2,
        batch_sizes: vec![16, 64],
        repeats: 1,
        ..Shape::default()
    });
    let n = records.len();
    // The same run written twice, once as a crash: the ok record wins.
    let mut dup = records[0].clone();
    dup.status = greenbench_core::RunStatus::Crashed;
    records.insert(0, dup);
    records.push(records[2].clone());
    write_sweep(dir.path(), &records, None);
    let m = serde_json::json!({"config": "name = \"synthetic\"", "total_runs": n + 3});
    std::fs::write(dir.path().join("manifest.json"), m.to_string()).unwrap();

    let s = write_report(dir.path(), &text_only()).unwrap();
    assert_eq!(s.runs_total, n);
    assert_eq!(s.runs_ok, n);
    assert_eq!(s.duplicates_dropped, 2);
    assert_eq!(s.missing_runs, Some(3));
    let md = std::fs::read_to_string(&s.report).unwrap();
    assert!(md.contains("2 duplicate record(s)"), "{md}");
    assert!(md.contains("**Incomplete sweep:** 3 run(s)"), "{md}");
}

#[test]
fn a_net_energy_below_zero_makes_the_report_use_raw_energy_and_say_why() {
    let dir = tempfile::tempdir().unwrap();
    let mut records = sweep(&Shape::default());
    let bad = &mut records[3];
    let t = bad.train.as_mut().unwrap();
    t.net_energy.total_j = Some(-5.5);
    bad.flags.push(Flag {
        field: "train.net_energy".into(),
        reason: "net energy below zero".into(),
    });
    let bad_id = bad.run_id.clone();
    write_sweep(dir.path(), &records, None);
    let s = write_report(dir.path(), &text_only()).unwrap();
    assert_eq!(s.basis, EnergyBasis::Raw);
    let md = std::fs::read_to_string(&s.report).unwrap();
    assert!(md.contains("**Warning: raw energy"), "{md}");
    assert!(md.contains(&bad_id), "{md}");
    // No negative energy or carbon reaches the exports.
    let csv = std::fs::read_to_string(dir.path().join("emissions.csv")).unwrap();
    assert!(!csv.contains(",-"), "{csv}");
    // runs.csv keeps the record's figures, with the flag beside them.
    let runs = std::fs::read_to_string(dir.path().join("runs.csv")).unwrap();
    let header = runs.lines().next().unwrap();
    assert!(header.split(',').any(|c| c == "flags"), "{header}");
    assert!(
        runs.contains("train.net_energy: net energy below zero"),
        "{runs}"
    );
}

#[test]
fn a_sweep_of_crashed_runs_says_it_has_no_ok_run() {
    let dir = tempfile::tempdir().unwrap();
    write_sweep(dir.path(), &[crashed("resnet18"), crashed("lenet")], None);
    let s = write_report(dir.path(), &text_only()).unwrap();
    let md = std::fs::read_to_string(&s.report).unwrap();
    assert!(!md.contains("at least one ok run"), "{md}");
    assert!(md.contains("there are no ok runs"), "{md}");
}

#[test]
fn energy_flagged_as_impossible_is_left_out_of_the_statistics_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let mut records = sweep(&Shape::default());
    let n = records.len();
    let bad = &mut records[2];
    bad.flags.push(Flag {
        field: "train.energy".into(),
        reason: "average power beyond what this machine can draw over 0.004 s: CPU + DRAM 1.00e12 W > 100 W".into(),
    });
    let bad_id = bad.run_id.clone();
    write_sweep(dir.path(), &records, None);
    let s = write_report(dir.path(), &text_only()).unwrap();
    assert_eq!(
        s.runs_ok,
        n - 1,
        "the flagged run is not published as a result"
    );
    let md = std::fs::read_to_string(&s.report).unwrap();
    let row = md
        .lines()
        .find(|l| l.contains(&bad_id))
        .unwrap_or_else(|| panic!("{bad_id} is listed among the runs left out: {md}"));
    assert!(row.contains("train.energy: average power beyond"), "{row}");
}
