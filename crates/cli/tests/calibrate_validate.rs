//! `greenbench calibrate` and `greenbench validate` through the binary: calibration refuses a
//! machine without RAPL with what, why and what to do; validation of a committed run against a
//! wall log built from its own trace reports the error built in.

mod common;

use std::fmt::Write as _;
use std::path::Path;

use common::{greenbench, run};

#[test]
fn calibrate_without_rapl_says_what_why_and_what_to_do_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out_file = dir.path().join("cal.toml");
    let out = run(greenbench()
        .args(["calibrate", "--powercap-root"])
        .arg(dir.path().join("no-powercap"))
        .arg("--out")
        .arg(&out_file));
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot calibrate: no "), "{err}");
    assert!(err.contains("why:") && err.contains("RAPL"), "{err}");
    assert!(err.contains("fix:") && err.contains("bare metal"), "{err}");
    assert!(!out_file.exists());
}

fn unix(s: &str) -> f64 {
    let t = chrono::DateTime::parse_from_rfc3339(s).expect("record time");
    t.timestamp() as f64 + f64::from(t.timestamp_subsec_nanos()) * 1e-9
}

#[test]
fn validate_reports_the_error_built_into_a_wall_log() {
    // The first run of the committed search-grid sweep, with its trace.
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../results/search-grid");
    let text = std::fs::read_to_string(src.join("runs.jsonl")).expect("committed records");
    let line = text.lines().next().expect("a record");
    let rec: serde_json::Value = serde_json::from_str(line).expect("record json");
    let id = rec["run_id"].as_str().expect("run id");
    let trace = std::fs::read_to_string(src.join("traces").join(format!("{id}.csv")))
        .expect("committed trace");
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("traces")).expect("traces dir");
    std::fs::write(dir.path().join("runs.jsonl"), format!("{line}\n")).expect("records");
    std::fs::write(dir.path().join("traces").join(format!("{id}.csv")), &trace).expect("trace");

    // Wall: 50 W idle; during the trace, idle + greenbench's net power ÷ 2 (error +100 %).
    let train = &rec["train"];
    let f = |v: &serde_json::Value| v.as_f64().expect("number");
    let gb_idle = (f(&train["energy"]["total_j"]) - f(&train["net_energy"]["total_j"]))
        / f(&train["duration_s"]);
    let rows: Vec<(f64, f64)> = trace
        .lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            let p: f64 = c[1..3].iter().filter_map(|v| v.parse::<f64>().ok()).sum();
            (c[0].parse().expect("t_s"), p)
        })
        .collect();
    let started = unix(rec["started_at"].as_str().expect("started_at"));
    let end = unix(rec["finished_at"].as_str().expect("finished_at"));
    let window_start = end - rows.last().expect("trace rows").0;
    let mut wall = String::from("time,watts\n");
    for k in (1..=10).rev() {
        writeln!(wall, "{:.6},50", started - k as f64).expect("write");
    }
    writeln!(wall, "{started:.6},50").expect("write");
    writeln!(wall, "{window_start:.6},70").expect("write");
    for (t, p) in &rows {
        writeln!(
            wall,
            "{:.6},{}",
            window_start + t,
            50.0 + (p - gb_idle) / 2.0
        )
        .expect("write");
    }
    writeln!(wall, "{:.6},50", end + 2.0).expect("write");
    let wall_path = dir.path().join("wall.csv");
    std::fs::write(&wall_path, wall).expect("wall log");

    let out = run(greenbench()
        .arg("validate")
        .arg(dir.path())
        .arg("--wall")
        .arg(&wall_path));
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("1 run(s) compared, 0 not; overall error +100.00 %"),
        "{stdout}"
    );
    let md = std::fs::read_to_string(dir.path().join("validation.md")).expect("validation.md");
    assert!(md.contains(id) && md.contains("+100.00 %"), "{md}");
    assert!(dir.path().join("validation.svg").is_file());
}
