//! SIGKILL a running sweep at several random points, resume, and find every expanded run exactly
//! once in runs.jsonl, with no duplicate and no corrupt line.

mod common;

use common::*;
use std::collections::HashSet;
use std::time::Duration;

/// A tiny deterministic PRNG for the kill times (the test must be reproducible).
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[test]
fn sigkill_at_random_points_then_resume_runs_each_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let text = digits_config(
        "killme",
        &["mlp-small", "mlp-64", "mlp-32x32"],
        &[16, 64],
        2,
        "repeats = 2",
    );
    let cfg = write_config(dir.path(), "killme", &text);
    let out = dir.path().join("out");

    let o = run(greenbench()
        .arg("sweep")
        .arg(&cfg)
        .arg("--dry-run")
        .arg("--json"));
    let planned: HashSet<String> = serde_json::from_slice::<serde_json::Value>(&o.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(planned.len(), 12);

    let mut seed = 42u64;
    for _ in 0..6 {
        let mut child = greenbench()
            .arg("sweep")
            .arg(&cfg)
            .arg("--out")
            .arg(&out)
            .arg("--resume")
            .arg("--quiet")
            .spawn()
            .unwrap();
        let wait_ms = 100 + next(&mut seed) % 1500;
        std::thread::sleep(Duration::from_millis(wait_ms));
        // SIGKILL: no chance to clean up; the worker dies with its parent (PR_SET_PDEATHSIG).
        let _ = child.kill();
        let _ = child.wait();
    }
    let o = run(greenbench()
        .arg("sweep")
        .arg(&cfg)
        .arg("--out")
        .arg(&out)
        .arg("--resume")
        .arg("--quiet"));
    assert!(o.status.success());

    let text = std::fs::read_to_string(out.join("runs.jsonl")).unwrap();
    assert!(text.ends_with('\n'), "no partial line at the end");
    let mut ids = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let rec = greenbench_core::parse_record(line)
            .unwrap_or_else(|e| panic!("line {} is corrupt: {e}\n{line}", n + 1));
        assert_eq!(
            rec.status,
            greenbench_core::RunStatus::Ok,
            "{:?}",
            rec.error
        );
        ids.push(rec.run_id);
    }
    let unique: HashSet<String> = ids.iter().cloned().collect();
    assert_eq!(unique.len(), ids.len(), "duplicate run ids: {ids:?}");
    assert_eq!(unique, planned, "every expanded run exactly once");
}
