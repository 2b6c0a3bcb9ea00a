//! What a sweep folder may receive and keep: retries replace a failed record (keeping its reason),
//! a folder of another config or other meter settings is refused, a complete folder is left
//! alone, and a net energy below zero is flagged. Workers are small shell scripts, so this
//! exercises the parent alone.

mod common;

use common::{lock, no_idle, shell_options};
use std::path::Path;

use greenbench_core::{read_records, RunStatus, TrainRecord};
use greenbench_core::{ComponentEnergy, ComponentPower, Quality, SweepConfig};
use greenbench_core::{WorkerEvent, WorkerResult};
use greenbench_runner::{run_sweep, SweepOptions};

fn config(dir: &Path, name: &str, batch: &str) -> SweepConfig {
    let text = format!(
        "name = \"{name}\"\ndataset = \"digits\"\nidle_seconds = 1\n[grid]\nmodel = \"mlp-small\"\nbatch_size = {batch}\n"
    );
    SweepConfig::parse(&text, &dir.join(format!("{name}.toml"))).unwrap()
}

fn options(out: &Path, worker: &str, meter: serde_json::Value) -> SweepOptions {
    SweepOptions {
        meter,
        ..shell_options(out, worker)
    }
}

/// A worker script that reports a finished run with `cpu_j` joules of training over 1 s.
fn finishing_worker(cpu_j: f64) -> String {
    let mut parts = std::collections::BTreeMap::new();
    parts.insert(
        greenbench_core::Component::Cpu,
        (Some(greenbench_core::Joules(cpu_j)), Quality::Measured),
    );
    let result = WorkerResult {
        status: greenbench_core::Outcome::Ok,
        train: Some(TrainRecord {
            duration_s: 1.0,
            energy: ComponentEnergy::from_parts(&parts),
            ..Default::default()
        }),
        ..Default::default()
    };
    let event = serde_json::to_string(&WorkerEvent::Finished(Box::new(result))).unwrap();
    format!("cat >/dev/null; echo '{event}'")
}

#[test]
fn retry_failed_replaces_the_failed_record_and_keeps_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "retry", "[8, 16]");
    let out = dir.path().join("out");
    let meter = serde_json::json!({"watts_per_core": null});

    let s = run_sweep(
        &cfg,
        &options(&out, "cat >/dev/null; exit 3", meter.clone()),
        &lock(&out),
        &mut no_idle,
        None,
    )
    .unwrap();
    assert_eq!((s.ok, s.not_ok), (0, 2));
    assert!(!s.all_ok());

    // Without --retry-failed the failed runs are kept, and the summary says so.
    let s = run_sweep(
        &cfg,
        &options(&out, &finishing_worker(5.0), meter.clone()),
        &lock(&out),
        &mut no_idle,
        None,
    )
    .unwrap();
    assert_eq!((s.ok, s.not_ok, s.skipped, s.retryable), (0, 0, 2, 2));
    assert_eq!(s.status_counts(), "2 crashed");

    let mut opts = options(&out, &finishing_worker(5.0), meter);
    opts.retry_failed = true;
    let s = run_sweep(&cfg, &opts, &lock(&out), &mut no_idle, None).unwrap();
    assert_eq!((s.ok, s.skipped, s.retryable), (2, 0, 0));
    assert!(s.all_ok());
    let recs = read_records(&out.join("runs.jsonl")).unwrap();
    assert_eq!(recs.len(), 2, "one line per run id");
    for r in &recs {
        assert_eq!(r.status, RunStatus::Ok);
        assert_eq!(r.attempts.len(), 1);
        assert_eq!(r.attempts[0].status, RunStatus::Crashed);
        assert!(
            r.attempts[0]
                .error
                .as_deref()
                .unwrap()
                .contains("exited with code 3"),
            "{:?}",
            r.attempts
        );
    }
}

#[test]
fn records_of_another_config_are_refused_even_without_a_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let meter = serde_json::Value::Null;
    let a = config(dir.path(), "mix", "8");
    run_sweep(
        &a,
        &options(&out, &finishing_worker(5.0), meter.clone()),
        &lock(&out),
        &mut no_idle,
        None,
    )
    .unwrap();
    std::fs::remove_file(out.join("manifest.json")).unwrap();
    let b = config(dir.path(), "mix", "[16, 32]");
    let e = run_sweep(
        &b,
        &options(&out, &finishing_worker(5.0), meter),
        &lock(&out),
        &mut no_idle,
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("not runs of this config"), "{e}");
    assert_eq!(read_records(&out.join("runs.jsonl")).unwrap().len(), 1);
}

#[test]
fn other_meter_settings_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let cfg = config(dir.path(), "meters", "[8, 16]");
    run_sweep(
        &cfg,
        &options(
            &out,
            "cat >/dev/null; exit 3",
            serde_json::json!({"watts_per_core": null}),
        ),
        &lock(&out),
        &mut no_idle,
        None,
    )
    .unwrap();
    let mut opts = options(
        &out,
        &finishing_worker(5.0),
        serde_json::json!({"watts_per_core": 20.0}),
    );
    opts.retry_failed = true;
    let e = run_sweep(&cfg, &opts, &lock(&out), &mut no_idle, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("watts_per_core: null before, 20.0 now"), "{e}");
}

#[test]
fn net_energy_below_zero_is_flagged_and_idle_is_measured_again_at_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let cfg = config(dir.path(), "neg", "8");
    let mut calls = 0;
    let mut idle = |_s: f64| {
        calls += 1;
        Ok(ComponentPower {
            cpu_w: Some(100.0),
            total_w: Some(100.0),
            ..Default::default()
        })
    };
    run_sweep(
        &cfg,
        &options(&out, &finishing_worker(2.0), serde_json::Value::Null),
        &lock(&out),
        &mut idle,
        None,
    )
    .unwrap();
    assert_eq!(calls, 2, "before the first run and after the last");
    let recs = read_records(&out.join("runs.jsonl")).unwrap();
    let r = &recs[0];
    assert_eq!(r.train.as_ref().unwrap().net_energy.total_j, Some(-98.0));
    assert!(r.is_flagged("train.net_energy"), "{:?}", r.flags);
    assert!(r.flags[0].reason.contains("idle 100.00 W > run 2.00 W"));
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["idle_power_end_w"]["cpu_w"], 100.0);
}

#[test]
fn carbon_is_charged_at_the_configs_country_intensity_and_recorded_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let text = "name = \"fr\"\ndataset = \"digits\"\nidle_seconds = 0\ncarbon = { country = \"FR\", pue = 1.5 }\n[grid]\nmodel = \"mlp-small\"\nbatch_size = 8\n";
    let cfg = SweepConfig::parse(text, &dir.path().join("fr.toml")).unwrap();
    run_sweep(
        &cfg,
        &options(&out, &finishing_worker(3.6e6), serde_json::Value::Null),
        &lock(&out),
        &mut no_idle,
        None,
    )
    .unwrap();
    let r = &read_records(&out.join("runs.jsonl")).unwrap()[0];
    let fr = greenbench_core::country_intensity("FR").unwrap().g_per_kwh;
    assert_eq!(r.carbon_g.intensity_g_per_kwh, Some(fr));
    // 1 kWh at FR's intensity and PUE 1.5.
    let g = r.carbon_g.train.unwrap();
    assert!((g - fr * 1.5).abs() < 1e-6, "{g}");
}
