//! A sweep whose `runs.jsonl` is replaced under it (a copy moved over it, as an editor, rsync or a
//! checkout does) still leaves every record it reports in the visible file; a symlinked
//! `runs.jsonl` is refused before anything runs. Workers are small shell scripts.

mod common;

use common::{lock, no_idle, shell_options};
use std::path::Path;

use greenbench_core::{read_records, RunStatus};
use greenbench_core::{ComponentPower, SweepConfig};
use greenbench_core::{WorkerEvent, WorkerResult};
use greenbench_runner::run_sweep;

fn config(dir: &Path, name: &str, batch: &str) -> SweepConfig {
    let text = format!(
        "name = \"{name}\"\ndataset = \"digits\"\nidle_seconds = 1\n[grid]\nmodel = \"mlp-small\"\nbatch_size = {batch}\n"
    );
    SweepConfig::parse(&text, &dir.join(format!("{name}.toml"))).unwrap()
}

/// Shell text that reports a finished, ok run.
fn finish() -> String {
    let result = WorkerResult {
        status: greenbench_core::Outcome::Ok,
        ..Default::default()
    };
    let event = serde_json::to_string(&WorkerEvent::Finished(Box::new(result))).unwrap();
    format!("cat >/dev/null; echo '{event}'")
}

/// A worker that counts its runs in `counter` and runs `on_run[k]` (shell) on run k+1.
fn worker(counter: &Path, on_run: &[&str]) -> String {
    let mut s = format!(
        "n=$(cat '{c}' 2>/dev/null || echo 0); n=$((n+1)); echo $n > '{c}'; ",
        c = counter.display()
    );
    for (k, cmd) in on_run.iter().enumerate() {
        if !cmd.is_empty() {
            s.push_str(&format!("if [ $n = {} ]; then {cmd}; fi; ", k + 1));
        }
    }
    s + &finish()
}

/// Each run id of the sweep exactly once in `out/runs.jsonl`.
fn assert_every_run_once(cfg: &SweepConfig, out: &Path) {
    let mut got: Vec<String> = read_records(&out.join("runs.jsonl"))
        .unwrap()
        .into_iter()
        .map(|r| r.run_id)
        .collect();
    got.sort();
    let mut want: Vec<String> = cfg.expand().iter().map(|s| s.run_id()).collect();
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn a_records_file_replaced_during_the_sweep_still_holds_every_run_once() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "moved", "[8, 16, 32, 64, 128, 256]");
    let out = dir.path().join("out");
    let runs = out.join("runs.jsonl");
    let copy = dir.path().join("runs.copy");
    // Run 2 takes a copy (it holds run 1's record); run 4 moves it over the file.
    let cp = format!("cp '{}' '{}'", runs.display(), copy.display());
    let mv = format!("mv '{}' '{}'", copy.display(), runs.display());
    let w = worker(&dir.path().join("n"), &["", &cp, "", &mv]);
    let s = run_sweep(
        &cfg,
        &shell_options(&out, &w),
        &lock(&out),
        &mut no_idle,
        None,
    )
    .unwrap();
    assert_eq!(s.ok, 6);
    assert!(s.all_ok());
    assert_every_run_once(&cfg, &out);

    // A resume has nothing left to run.
    let s = run_sweep(
        &cfg,
        &shell_options(&out, "exit 9"),
        &lock(&out),
        &mut no_idle,
        None,
    )
    .unwrap();
    assert_eq!((s.ok, s.not_ok, s.skipped), (0, 0, 6));
}

#[test]
fn a_records_file_replaced_after_the_last_run_is_mended_before_the_sweep_returns() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "late", "[8, 16, 32]");
    let out = dir.path().join("out");
    let runs = out.join("runs.jsonl");
    let copy = dir.path().join("runs.copy");
    let cp = format!("cp '{}' '{}'", runs.display(), copy.display());
    let w = worker(&dir.path().join("n"), &["", &cp]);
    // The idle measurement after the last run is when the copy is moved over the file.
    let mut calls = 0;
    let mut idle = |_s: f64| -> Result<ComponentPower, greenbench_core::BoxError> {
        calls += 1;
        if calls == 2 {
            std::fs::rename(&copy, &runs)?;
        }
        Ok(ComponentPower::default())
    };
    let s = run_sweep(&cfg, &shell_options(&out, &w), &lock(&out), &mut idle, None).unwrap();
    assert_eq!(calls, 2, "idle measured before and after");
    assert_eq!(s.ok, 3);
    assert_every_run_once(&cfg, &out);
}

#[cfg(unix)]
#[test]
fn a_symlinked_records_file_is_refused_before_a_retry_and_its_target_kept() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "linked", "[8, 16]");
    let out = dir.path().join("out");
    let s = run_sweep(
        &cfg,
        &shell_options(&out, "cat >/dev/null; exit 3"),
        &lock(&out),
        &mut no_idle,
        None,
    )
    .unwrap();
    assert_eq!(s.not_ok, 2);
    let runs = out.join("runs.jsonl");
    let target = dir.path().join("elsewhere.jsonl");
    std::fs::rename(&runs, &target).unwrap();
    std::os::unix::fs::symlink(&target, &runs).unwrap();

    let mut opts = shell_options(&out, &finish());
    opts.retry_failed = true;
    let e = run_sweep(&cfg, &opts, &lock(&out), &mut no_idle, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains(&runs.display().to_string()), "{e}");
    assert!(e.contains("symbolic link"), "{e}");
    assert!(std::fs::symlink_metadata(&runs)
        .unwrap()
        .file_type()
        .is_symlink());
    let kept = read_records(&target).unwrap();
    assert_eq!(kept.len(), 2);
    assert!(kept.iter().all(|r| r.status == RunStatus::Crashed));
}
