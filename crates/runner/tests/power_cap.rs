//! Power limits are applied before each capped run and restored after it, also when the worker
//! crashes; a refused limit is recorded as a failed run. Workers here are small shell scripts,
//! so this exercises the parent alone.

use std::path::Path;
use std::sync::{Arc, Mutex};

use greenbench_core::{read_records, RunStatus};
use greenbench_core::{ComponentPower, SweepConfig};
mod common;

use common::{lock, shell_options};
use greenbench_core::PowerCap;
use greenbench_runner::{run_sweep, SweepOptions};

#[derive(Clone, Default)]
struct FakeCap {
    log: Arc<Mutex<Vec<String>>>,
    refuse_above: Option<f64>,
}

impl PowerCap for FakeCap {
    fn apply(
        &mut self,
        device: greenbench_core::DeviceName,
        watts: f64,
    ) -> Result<(), greenbench_core::BoxError> {
        if self.refuse_above.is_some_and(|m| watts > m) {
            return Err("permission denied; run as root".into());
        }
        self.log
            .lock()
            .unwrap()
            .push(format!("apply {device} {watts}"));
        Ok(())
    }
    fn restore(&mut self) -> Result<(), greenbench_core::BoxError> {
        self.log.lock().unwrap().push("restore".into());
        Ok(())
    }
}

fn config(dir: &Path) -> SweepConfig {
    let text = "name = \"cap\"\ndataset = \"digits\"\ndevice = \"cuda:0\"\nidle_seconds = 0\n[grid]\nmodel = \"mlp-small\"\nbatch_size = 8\npower_limit_w = [100.0, 150.0]\n";
    SweepConfig::parse(text, &dir.join("cap.toml")).unwrap()
}

fn options(out: &Path, worker: &str) -> SweepOptions {
    shell_options(out, worker)
}

#[test]
fn limits_are_restored_after_each_run_even_when_the_worker_crashes() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let out = dir.path().join("out");
    let mut cap = FakeCap::default();
    let mut idle = |_s: f64| Ok(ComponentPower::default());
    let s = run_sweep(
        &cfg,
        &options(&out, "cat >/dev/null; kill -9 $$"),
        &lock(&out),
        &mut idle,
        Some(&mut cap),
    )
    .unwrap();
    assert_eq!(s.not_ok, 2);
    assert_eq!(
        *cap.log.lock().unwrap(),
        vec!["apply cuda:0 100", "restore", "apply cuda:0 150", "restore"]
    );
    let recs = read_records(&out.join("runs.jsonl")).unwrap();
    assert!(recs.iter().all(|r| r.status == RunStatus::Crashed));
    assert!(
        recs[0].error.as_deref().unwrap().contains("signal 9"),
        "{:?}",
        recs[0].error
    );
    assert_eq!(recs[1].spec.power_limit_w, Some(150.0));
}

#[test]
fn a_refused_limit_is_a_failed_run_and_the_sweep_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let out = dir.path().join("out");
    let mut cap = FakeCap {
        refuse_above: Some(120.0),
        ..Default::default()
    };
    let mut idle = |_s: f64| Ok(ComponentPower::default());
    run_sweep(
        &cfg,
        &options(&out, "cat >/dev/null; exit 3"),
        &lock(&out),
        &mut idle,
        Some(&mut cap),
    )
    .unwrap();
    let recs = read_records(&out.join("runs.jsonl")).unwrap();
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0].status, RunStatus::Crashed);
    assert!(recs[0]
        .error
        .as_deref()
        .unwrap()
        .contains("exited with code 3"));
    assert_eq!(recs[1].status, RunStatus::Failed);
    assert!(recs[1]
        .error
        .as_deref()
        .unwrap()
        .contains("could not set the power limit to 150 W: permission denied"));
    assert_eq!(
        *cap.log.lock().unwrap(),
        vec!["apply cuda:0 100", "restore"]
    );
}

#[test]
fn a_worker_that_reports_finished_is_recorded_ok() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let out = dir.path().join("out");
    let event = r#"{"event":"finished","status":"ok","meters":{"cpu":"fake"}}"#;
    let worker = format!("cat >/dev/null; echo 'not an event'; echo '{event}'");
    let mut cap = FakeCap::default();
    let mut idle = |_s: f64| Ok(ComponentPower::default());
    let s = run_sweep(
        &cfg,
        &options(&out, &worker),
        &lock(&out),
        &mut idle,
        Some(&mut cap),
    )
    .unwrap();
    assert_eq!(s.ok, 2);
    let recs = read_records(&out.join("runs.jsonl")).unwrap();
    assert_eq!(recs[0].meters.get("cpu").map(String::as_str), Some("fake"));
}
