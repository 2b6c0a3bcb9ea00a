//! `greenbench status` against a sweep in progress and after it: the real binary, the committed
//! digits data, a run held in progress by the fault injector's `hang`.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

/// `greenbench status DIR --json`, parsed; `None` while it fails (the folder not written yet).
fn status_json(dir: &Path) -> Option<Value> {
    let o = greenbench()
        .arg("status")
        .arg(dir)
        .arg("--json")
        .output()
        .ok()?;
    o.status
        .success()
        .then(|| serde_json::from_slice(&o.stdout).ok())?
}

fn status_text(dir: &Path) -> String {
    let o = run(greenbench().arg("status").arg(dir));
    assert!(o.status.success());
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn status_follows_a_sweep_in_progress_and_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        "st",
        &digits_config("st", &["mlp-small", "mlp-32"], &[32], 2, "run_timeout = 8"),
    );
    let out = dir.path().join("out");
    let mut sweep = sweep_into(&cfg, &out)
        .arg("-q")
        .env("GREENBENCH_INJECT_FAULT", "hang:mlp-32")
        .spawn()
        .unwrap();
    // Wait until the second run hangs inside its metered training, with a power sample written.
    let deadline = Instant::now() + Duration::from_secs(60);
    let live = loop {
        if let Some(v) = status_json(&out) {
            if v["running"]["describe"]
                .as_str()
                .is_some_and(|d| d.starts_with("mlp-32"))
                && v["running"]["power_w"].is_number()
            {
                break v;
            }
        }
        assert!(Instant::now() < deadline, "no live status within 60 s");
        std::thread::sleep(Duration::from_millis(200));
    };
    let holder = live["held_by"].as_str().unwrap();
    assert!(
        holder.starts_with(&format!("greenbench sweep (pid {}", sweep.id())),
        "{holder}"
    );
    assert_eq!(live["runs_total"], 2);
    assert_eq!(live["recorded"]["ok"], 1);
    assert_eq!(live["remaining"], 0);
    assert!(live["eta_s"].as_f64().is_some_and(|s| s >= 0.0), "{live}");
    assert!(
        live["elapsed_s"].as_f64().is_some_and(|s| s > 0.0),
        "{live}"
    );
    assert!(live["energy_j"].as_f64().is_some_and(|j| j > 0.0), "{live}");
    assert_eq!(live["energy_quality"], "estimated");
    assert!(live["co2_g"].as_f64().is_some_and(|g| g > 0.0), "{live}");
    let best = &live["best"];
    assert!(best["describe"].as_str().unwrap().starts_with("mlp-small"));
    assert!(best["val_acc"].as_f64().is_some_and(|a| a > 0.5), "{best}");
    let text = status_text(&out);
    for want in [
        "in progress",
        "1 running",
        "running: mlp-32",
        " W (",
        "best so far",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }

    // The hung run times out; afterwards the same command reports the finished folder.
    let code = sweep.wait().unwrap().code();
    assert_eq!(code, Some(3), "a run timed out");
    let done = status_json(&out).unwrap();
    assert!(
        done["held_by"].is_null() && done["running"].is_null(),
        "{done}"
    );
    assert_eq!(done["recorded"]["ok"], 1);
    assert_eq!(done["recorded"]["timeout"], 1);
    assert_eq!(
        (done["remaining"].clone(), done["eta_s"].clone()),
        (0.into(), 0.0.into())
    );
    let text = status_text(&out);
    assert!(text.contains("no sweep is running on it"), "{text}");
    assert!(text.contains("(1 ok, 1 timeout)"), "{text}");
}

#[test]
fn status_of_a_folder_that_is_no_sweep_says_what_to_give() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(greenbench().arg("status").arg(dir.path()));
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("has no manifest.json"), "{err}");
    assert!(err.contains("--out DIR"), "{err}");
}

#[test]
fn status_while_a_sweep_measures_its_idle_baseline_says_so_and_watch_keeps_watching() {
    use std::io::BufRead;
    use std::os::unix::process::CommandExt;
    use std::process::Stdio;

    let dir = tempfile::tempdir().unwrap();
    let text = "name = \"quiet\"\ndataset = \"digits\"\nthreads = 1\nepochs = 1\nidle_seconds = 20\n[grid]\nmodel = \"mlp-small\"\nbatch_size = [32, 64]\nlr = 0.05\n";
    let cfg = write_config(dir.path(), "quiet", text);
    let out = dir.path().join("out");
    let sweep = sweep_into(&cfg, &out)
        .arg("-q")
        .process_group(0)
        .spawn()
        .unwrap();
    // Within the 20 s baseline (no manifest.json yet), status answers.
    let deadline = Instant::now() + Duration::from_secs(15);
    let v = loop {
        if let Some(v) = status_json(&out) {
            break v;
        }
        assert!(
            Instant::now() < deadline,
            "status failed for 15 s while the sweep measured its idle baseline"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(!out.join("manifest.json").exists(), "still measuring: {v}");
    assert_eq!(v["sweep"], "quiet", "{v}");
    assert_eq!(v["idle_measurement"]["baseline"], true, "{v}");
    assert_eq!(v["idle_measurement"]["seconds"], 20.0, "{v}");
    assert_eq!(
        (v["runs_total"].clone(), v["remaining"].clone()),
        (2.into(), 2.into())
    );
    let holder = v["held_by"].as_str().unwrap();
    assert!(holder.contains(&format!("pid {}", sweep.id())), "{holder}");
    let text = status_text(&out);
    assert!(text.contains("sweep `quiet`"), "{text}");
    assert!(
        text.contains("measuring its idle baseline") && text.contains("no run has started"),
        "{text}"
    );

    // --watch keeps watching while the sweep holds the folder.
    let mut watch = greenbench()
        .arg("status")
        .arg(&out)
        .args(["--json", "--watch", "0.5"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        watch.try_wait().unwrap().is_none(),
        "--watch exited while the sweep measured its baseline"
    );
    // SAFETY: stops the sweep this test started (its process group).
    unsafe {
        libc::kill(-(sweep.id() as i32), libc::SIGTERM);
    }
    let mut sweep = sweep;
    assert_eq!(sweep.wait().unwrap().code(), Some(130));
    let t0 = Instant::now();
    while watch.try_wait().unwrap().is_none() {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "--watch did not end with the sweep"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let lines: Vec<Value> = std::io::BufReader::new(watch.stdout.take().unwrap())
        .lines()
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect();
    assert!(lines.len() >= 3, "watched {} times", lines.len());
    assert!(lines
        .iter()
        .all(|l| l["idle_measurement"]["baseline"] == true));
}
