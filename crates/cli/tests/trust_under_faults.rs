//! A hostile user's session through the binary: two sweeps into one folder, Ctrl-C to the whole
//! process group, a retry after a failure, a record without its last newline, closed pipes, and
//! numbers no config should accept. Nothing a user ran may be lost or published wrong.

mod common;

use common::*;
use greenbench_core::RunStatus;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Stdio;
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

fn lines(path: &Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |t| t.lines().count())
}

#[test]
fn a_second_writer_into_a_running_sweeps_folder_fails_at_once_naming_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        "busy",
        &digits_config("busy", &["mlp-small"], &[64], 1, ""),
    );
    let out = dir.path().join("out");
    let mut first = sweep_into(&cfg, &out)
        .arg("--quiet")
        .env("GREENBENCH_INJECT_FAULT", "hang:mlp-small")
        .spawn()
        .unwrap();
    let lock = out.join(".greenbench.lock");
    wait_for("the first sweep's lock", || {
        std::fs::read_to_string(&lock).is_ok_and(|t| t.contains("pid"))
    });
    let holder = format!("pid {}", first.id());
    for extra in [None, Some("--resume")] {
        let t0 = Instant::now();
        let mut c = sweep_into(&cfg, &out);
        if let Some(x) = extra {
            c.arg(x);
        }
        let o = run(&mut c);
        assert!(t0.elapsed() < Duration::from_secs(10), "fails at once");
        assert_eq!(o.status.code(), Some(1));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("is in use by greenbench sweep"), "{err}");
        assert!(err.contains(&holder), "{err}");
    }
    let o = run(greenbench().arg("merge").arg(&out).arg(dir.path()));
    assert!(!o.status.success());
    let _ = first.kill();
    let _ = first.wait();
    // The lock dies with its holder: the folder is usable again.
    let o = run(&mut sweep_into(&cfg, &out));
    assert!(o.status.success());
    assert_eq!(records(&out).len(), 1);
}

#[test]
fn ctrl_c_to_the_process_group_records_nothing_for_the_stopped_run_and_it_runs_again() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        "stop",
        &digits_config("stop", &["mlp-small", "mlp-32"], &[64], 1, ""),
    );
    let out = dir.path().join("out");
    let child = sweep_into(&cfg, &out)
        .env("GREENBENCH_INJECT_FAULT", "hang:mlp-32")
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap();
    let pgid = child.id() as i32;
    wait_for("the first run's record", || {
        lines(&out.join("runs.jsonl")) == 1
    });
    // The second run's worker is up once its log exists; give it time to reach its hang.
    std::thread::sleep(Duration::from_millis(800));
    // SAFETY: signals the process group of the sweep this test started.
    unsafe {
        libc::kill(-pgid, libc::SIGINT);
    }
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    let recs = records(&out);
    assert_eq!(recs.len(), 1, "the stopped run is not recorded: {recs:?}");
    assert_eq!(recs[0].spec.model, "mlp-small");
    assert_eq!(recs[0].status, RunStatus::Ok);

    let o = run(&mut sweep_into(&cfg, &out));
    assert!(o.status.success());
    let recs = records(&out);
    assert_eq!(recs.len(), 2);
    assert!(recs.iter().all(|r| r.status == RunStatus::Ok));
}

#[test]
fn retry_failed_reruns_a_crashed_run_once_fixed_and_keeps_the_old_reason() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        "retry",
        // Never flagged for interference (tests run side by side): `--retry-failed` would
        // measure a flagged ok run again too, and this test counts the crashed one alone.
        &digits_config(
            "retry",
            &["mlp-small", "mlp-32"],
            &[64],
            1,
            "interference_threshold = 1.0",
        ),
    );
    let out = dir.path().join("out");
    let o = run(sweep_into(&cfg, &out).env("GREENBENCH_INJECT_FAULT", "panic:mlp-32"));
    assert_eq!(o.status.code(), Some(3));

    // The fault is gone; a plain rerun keeps the failure and says how to retry.
    let o = run(&mut sweep_into(&cfg, &out));
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("1 crashed, 1 ok"), "{err}");
    assert!(err.contains("--retry-failed"), "{err}");

    let o = run(sweep_into(&cfg, &out).arg("--retry-failed"));
    assert_eq!(o.status.code(), Some(0));
    // The counters count the one run left to do, not the records already there.
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("continuing: 1 of 2 runs already recorded, 1 to do"),
        "{err}"
    );
    assert!(err.contains("[1/1] ok"), "{err}");
    let recs = records(&out);
    assert_eq!(recs.len(), 2, "run ids stay unique");
    let retried = recs.iter().find(|r| r.spec.model == "mlp-32").unwrap();
    assert_eq!(retried.status, RunStatus::Ok);
    assert_eq!(retried.attempts.len(), 1);
    assert!(retried.attempts[0]
        .error
        .as_deref()
        .unwrap()
        .contains("injected panic"));
}

#[test]
fn a_whole_last_record_without_its_newline_is_kept_by_sweep_and_report() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        "nl",
        &digits_config("nl", &["mlp-small", "mlp-32"], &[64], 1, ""),
    );
    let out = dir.path().join("out");
    assert!(run(&mut sweep_into(&cfg, &out)).status.success());
    let runs = out.join("runs.jsonl");
    let text = std::fs::read_to_string(&runs).unwrap();
    std::fs::write(&runs, text.trim_end()).unwrap();
    let o = run(&mut sweep_into(&cfg, &out));
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("nothing to do"));
    assert_eq!(lines(&runs), 2);
    let o = run(greenbench().arg("report").arg(&out).arg("--no-figures"));
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("2 records (2 ok)"));
}

#[test]
fn closed_pipes_neither_panic_nor_stop_a_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        "pipe",
        &digits_config("pipe", &["mlp-small", "mlp-32"], &[32, 64], 1, ""),
    );
    let out = dir.path().join("out");
    let bin = bin();
    let sh = |cmd: String| {
        let o = std::process::Command::new("sh")
            .arg("-c")
            .arg(cmd)
            .env("GREENBENCH_DATASETS", datasets())
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    for c in ["models", "datasets"] {
        let err = sh(format!("{} {c} | head -1", bin.display()));
        assert!(!err.contains("panicked"), "{c}: {err}");
    }
    let err = sh(format!(
        "{} sweep {} --dry-run | head -1",
        bin.display(),
        cfg.display()
    ));
    assert!(!err.contains("panicked"), "{err}");
    let err = sh(format!(
        "{} sweep {} --out {} --json | head -2",
        bin.display(),
        cfg.display(),
        out.display()
    ));
    assert!(!err.contains("panicked"), "{err}");
    // The sweep kept running after its reader went away: every run is recorded.
    assert_eq!(records(&out).len(), 4);
}

#[test]
fn quiet_prints_nothing_and_the_exit_code_tells() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        "q",
        &digits_config("q", &["mlp-small"], &[64], 1, ""),
    );
    let o = run(sweep_into(&cfg, &dir.path().join("out")).arg("-q"));
    assert!(o.status.success());
    assert!(o.stdout.is_empty() && o.stderr.is_empty());
    let o = run(sweep_into(&cfg, &dir.path().join("out2"))
        .arg("-q")
        .env("GREENBENCH_INJECT_FAULT", "panic:mlp-small"));
    assert_eq!(o.status.code(), Some(3));
    assert!(o.stdout.is_empty() && o.stderr.is_empty());
}

#[test]
fn impossible_numbers_and_wrong_paths_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let check = |name: &str, extra: &str, batch: usize, model: &str, want: &str| {
        let cfg = write_config(
            dir.path(),
            name,
            &digits_config(name, &[model], &[batch], 1, extra),
        );
        let o = run(greenbench().arg("sweep").arg(&cfg).arg("--dry-run"));
        assert_eq!(o.status.code(), Some(1), "{name}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(want), "{name}: {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
    };
    check(
        "t1",
        "run_timeout = 1e300",
        8,
        "mlp-small",
        "run_timeout 1e300 is above",
    );
    check("t2", "run_timeout = 1e19", 8, "mlp-small", "run_timeout");
    check(
        "r",
        "repeats = 10000000000",
        8,
        "mlp-small",
        "repeats 1e10 is above",
    );
    check(
        "b",
        "",
        100000,
        "mlp-small",
        "batch_size 100000 is larger than the 1294 training samples of `digits` (after the validation split)",
    );
    check(
        "w",
        "",
        8,
        "mlp-65537",
        "hidden width 65537 is above the limit of 65536",
    );

    let cfg = write_config(
        dir.path(),
        "ok",
        &digits_config("ok", &["mlp-small"], &[8], 1, ""),
    );
    for hz in ["nan", "-1"] {
        let o = run(greenbench()
            .arg("sweep")
            .arg(&cfg)
            .arg("--sampler-hz")
            .arg(hz));
        assert!(!o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("give 0 (no power trace) to 1000 Hz"),
            "{hz}: {err}"
        );
    }
    let afile = dir.path().join("afile");
    std::fs::write(&afile, "x").unwrap();
    let o = run(&mut sweep_into(&cfg, &afile));
    assert!(String::from_utf8_lossy(&o.stderr).contains("is a file, not a folder"));
    let out = dir.path().join("out");
    std::fs::create_dir_all(out.join("runs.jsonl")).unwrap();
    let o = run(&mut sweep_into(&cfg, &out));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("runs.jsonl is not a file"), "{err}");
}
