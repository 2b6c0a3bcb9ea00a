//! `greenbench validate` with a synthetic wall log built from known traces: the error it reports
//! is the one built in.

mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use common::{sweep, write_sweep, Shape};
use greenbench_analysis::{validate, write_validation, ValidateOptions};

/// Wall idle, W.
const IDLE: f64 = 40.0;
/// Unix seconds at which the wall log starts.
const T0: f64 = 1_800_000_000.0;

fn rfc3339(t: f64) -> String {
    let ns = (t * 1e9).round() as i64;
    chrono::DateTime::from_timestamp_nanos(ns).to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// A trace: `rows` rows 0.1 s apart whose cpu + dram power varies.
fn trace_rows(seed: usize, rows: usize) -> Vec<(f64, f64, f64)> {
    (1..=rows)
        .map(|i| {
            let t = i as f64 * 0.1;
            let cpu = 20.0 + ((i * 7 + seed * 3) % 11) as f64;
            let dram = 2.0 + (i % 3) as f64 * 0.5;
            (t, cpu, dram)
        })
        .collect()
}

struct Built {
    dir: tempfile::TempDir,
    wall: PathBuf,
    /// The error built in per run (greenbench ÷ wall net − 1).
    errors: Vec<f64>,
    ids: Vec<String>,
}

/// A sweep of three runs with traces, and a wall log in which each run's wall net power is its
/// greenbench net power ÷ (1 + error): idle rows before, between and after the runs.
fn build(rfc_times: bool) -> Built {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("traces")).unwrap();
    let shape = Shape {
        models: 3,
        batch_sizes: vec![32],
        repeats: 1,
        ..Shape::default()
    };
    let mut records = sweep(&shape);
    let errors = [0.10, -0.05, 0.0];
    let mut wall: Vec<(f64, f64)> = Vec::new();
    // 20 s of idle, one row a second.
    for k in 0..=20 {
        wall.push((T0 + k as f64, IDLE));
    }
    let mut clock = T0 + 20.0;
    for (i, r) in records.iter_mut().enumerate() {
        // The worker starts 2 s before its trace (loading, warm-up) at 60 W.
        let started = clock + 1.0;
        let window_start = started + 2.0;
        wall.push((started, IDLE));
        wall.push((window_start, 60.0));
        let rows = trace_rows(i, 40 + 10 * i);
        let train = r.train.as_ref().unwrap();
        let gb_idle =
            (train.energy.total_j.unwrap() - train.net_energy.total_j.unwrap()) / train.duration_s;
        let mut csv = String::from("t_s,cpu_w,dram_w,gpu_w,gpu_util,cpu_util\n");
        for &(t, cpu, dram) in &rows {
            writeln!(csv, "{t:.3},{cpu:.3},{dram:.3},,,50.0").unwrap();
            let gb_net_w = cpu + dram - gb_idle;
            wall.push((window_start + t, IDLE + gb_net_w / (1.0 + errors[i])));
        }
        std::fs::write(
            dir.path().join("traces").join(format!("{}.csv", r.run_id)),
            csv,
        )
        .unwrap();
        let end = window_start + rows.last().unwrap().0;
        r.started_at = rfc3339(started);
        r.finished_at = rfc3339(end);
        clock = end.ceil() + 1.0;
        wall.push((clock, IDLE));
    }
    wall.push((clock + 5.0, IDLE));
    let mut text = String::from("timestamp,watts\n");
    for (t, w) in &wall {
        if rfc_times {
            writeln!(text, "{},{w}", rfc3339(*t)).unwrap();
        } else {
            writeln!(text, "{t:.3},{w}").unwrap();
        }
    }
    let wall_path = dir.path().join("wall.csv");
    std::fs::write(&wall_path, text).unwrap();
    write_sweep(dir.path(), &records, None);
    let ids = records.iter().map(|r| r.run_id.clone()).collect();
    Built {
        dir,
        wall: wall_path,
        errors: errors.to_vec(),
        ids,
    }
}

fn opts(wall: &Path) -> ValidateOptions {
    ValidateOptions {
        wall: wall.to_path_buf(),
        idle_w: None,
        offset_s: 0.0,
    }
}

#[test]
fn the_built_in_error_is_recovered_per_run_and_overall() {
    for rfc in [false, true] {
        let b = build(rfc);
        let v = validate(b.dir.path(), &opts(&b.wall)).unwrap();
        assert!((v.idle.watts - IDLE).abs() < 1e-9, "{:?}", v.idle);
        assert!(v.skipped.is_empty(), "{:?}", v.skipped);
        assert_eq!(v.runs.len(), 3);
        for (r, (want, id)) in v.runs.iter().zip(b.errors.iter().zip(&b.ids)) {
            assert_eq!(&r.run_id, id);
            let got = r.error().unwrap();
            assert!(
                (got - want).abs() < 1e-6,
                "{id} (rfc3339 {rfc}): error {got}, built {want}"
            );
            assert!(r.net && (r.greenbench_idle_w - 5.0).abs() < 1e-9, "{r:?}");
            assert_eq!(r.trace_coverage, 1.0);
        }
        // Overall: Σ greenbench ÷ Σ wall net − 1.
        let gb: f64 = v.runs.iter().map(|r| r.greenbench_j).sum();
        let wall: f64 = v
            .runs
            .iter()
            .zip(&b.errors)
            .map(|(r, e)| r.greenbench_j / (1.0 + e))
            .sum();
        assert!((v.overall_error().unwrap() - (gb / wall - 1.0)).abs() < 1e-6);
    }
}

#[test]
fn validation_md_and_the_figure_are_written() {
    let b = build(false);
    write_validation(b.dir.path(), &opts(&b.wall)).unwrap();
    let md = std::fs::read_to_string(b.dir.path().join("validation.md")).unwrap();
    assert!(md.contains("+10.00 %") && md.contains("-5.00 %"), "{md}");
    assert!(md.contains("wall idle 40.00 W"), "{md}");
    assert!(md.contains("**Overall: error"), "{md}");
    assert!(md.contains("](validation.svg)"), "{md}");
    let svg = std::fs::read_to_string(b.dir.path().join("validation.svg")).unwrap();
    assert!(svg.contains("runs (n = 3)"), "figure legend missing");
}

#[test]
fn an_offset_clock_and_a_log_without_idle_are_explained() {
    let b = build(false);
    // The wall meter's clock runs 30 s behind: without --offset no window is covered.
    let text = std::fs::read_to_string(&b.wall).unwrap();
    let mut shifted = String::from("timestamp,watts\n");
    for line in text.lines().skip(1) {
        let (t, w) = line.split_once(',').unwrap();
        let t: f64 = t.parse().unwrap();
        writeln!(shifted, "{:.3},{w}", t - 30.0).unwrap();
    }
    std::fs::write(&b.wall, shifted).unwrap();
    let v = validate(b.dir.path(), &opts(&b.wall)).unwrap();
    assert!(v.runs.len() < 3);
    let why = &v.skipped[0].1;
    assert!(
        why.contains("does not cover") && why.contains("--offset"),
        "{why}"
    );
    let o = ValidateOptions {
        offset_s: 30.0,
        ..opts(&b.wall)
    };
    let v = validate(b.dir.path(), &o).unwrap();
    assert_eq!(v.runs.len(), 3);
    assert!((v.runs[0].error().unwrap() - 0.10).abs() < 1e-6);

    // A log that starts after the first run: no idle unless given.
    let late = b.dir.path().join("late.csv");
    std::fs::write(
        &late,
        format!("t,w\n{},50\n{},50\n", T0 + 1e6, T0 + 1e6 + 1.0),
    )
    .unwrap();
    let e = validate(b.dir.path(), &opts(&late))
        .unwrap_err()
        .to_string();
    assert!(e.contains("late.csv") && e.contains("--idle-w"), "{e}");
    let o = ValidateOptions {
        idle_w: Some(40.0),
        ..opts(&late)
    };
    let e = write_validation(b.dir.path(), &o).unwrap_err().to_string();
    assert!(e.contains("no run") && e.contains("does not cover"), "{e}");
}
