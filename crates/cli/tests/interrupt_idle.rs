//! Ctrl-C and SIGTERM while a sweep measures idle power, through the binary: the sweep stops
//! within a second (not when the window ends), exits 130, and writes no idle figure it did not
//! measure.

mod common;

use common::*;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// Waits until `cond` holds (or panics after 60 s).
fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !cond() {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One quick digits run after an idle window of `idle_seconds`.
fn config(dir: &Path, name: &str, idle_seconds: u32) -> std::path::PathBuf {
    let text = format!(
        "name = \"{name}\"\ndataset = \"digits\"\nthreads = 1\nepochs = 1\nwarmup_batches = 2\nidle_seconds = {idle_seconds}\n[grid]\nmodel = \"mlp-small\"\nbatch_size = 64\nlr = 0.05\n"
    );
    write_config(dir, name, &text)
}

/// Sends `sig` to the process group of `child` (started with `process_group(0)`), and returns
/// its exit code, stderr and how long it took to exit after the signal.
fn signal_group(child: Child, sig: libc::c_int) -> (Option<i32>, String, Duration) {
    let t0 = Instant::now();
    // SAFETY: signals the process group of a sweep this test started.
    unsafe {
        libc::kill(-(child.id() as i32), sig);
    }
    let o = child.wait_with_output().unwrap();
    let took = t0.elapsed();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    eprintln!("--- stderr\n{err}");
    (o.status.code(), err, took)
}

#[test]
fn sigterm_during_the_idle_baseline_exits_130_at_once_and_writes_no_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "idle20", 20);
    let out = dir.path().join("out");
    let child = sweep_into(&cfg, &out)
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap();
    // The lock comes just before the signal handlers and the 20 s baseline; then 1 s into it.
    wait_for("the sweep's lock", || out.join(".greenbench.lock").exists());
    std::thread::sleep(Duration::from_secs(1));
    let (code, err, took) = signal_group(child, libc::SIGTERM);
    assert_eq!(code, Some(130), "{err}");
    assert!(
        took < Duration::from_secs(3),
        "SIGTERM 1 s into a 20 s idle baseline took {took:?} to stop the sweep"
    );
    assert!(
        err.contains("interrupted while measuring the idle baseline"),
        "{err}"
    );
    assert!(
        !out.join("manifest.json").exists(),
        "a baseline cut short is not written as if measured"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("runs.jsonl")).unwrap_or_default(),
        ""
    );
    assert!(
        !out.join(".idle-measurement.json").exists(),
        "marker removed"
    );
}

#[test]
fn sigint_during_the_idle_measurement_after_the_last_run_exits_130_and_keeps_no_end_figure() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "idle5", 5);
    let out = dir.path().join("out");
    let child = sweep_into(&cfg, &out)
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap();
    // The only run's record is written just before the second 5 s idle measurement starts.
    wait_for("the run's record", || {
        std::fs::read_to_string(out.join("runs.jsonl")).is_ok_and(|t| t.lines().count() == 1)
    });
    std::thread::sleep(Duration::from_millis(500));
    let (code, err, took) = signal_group(child, libc::SIGINT);
    assert_eq!(code, Some(130), "{err}");
    assert!(took < Duration::from_secs(3), "took {took:?} to stop");
    assert!(err.contains("interrupted after the last run"), "{err}");
    assert_eq!(records(&out).len(), 1, "the finished run stays recorded");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    // The baseline before the sweep stays written (its figures are null where every
    // component is estimated: an estimate gives no idle baseline).
    assert!(manifest["idle_power_w"].is_object(), "{manifest}");
    assert!(
        manifest["idle_power_end_w"].is_null(),
        "an end measurement cut short is not written: {manifest}"
    );
}
