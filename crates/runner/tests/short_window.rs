//! A phase shorter than the meter resolves (fewer than ten samples at the sampler's rate, or ten
//! updates of its counter) is flagged with that reason instead of being published as exact; a
//! long enough one is not. The worker is a shell script reporting fixed figures.

mod common;

use common::{lock, no_idle, shell_options};
use greenbench_core::{read_records, InferenceRecord, TrainRecord};
use greenbench_core::{Component, ComponentEnergy, Joules, Quality, RunRecord, SweepConfig};
use greenbench_core::{Outcome, WorkerEvent, WorkerResult};
use greenbench_runner::run_sweep;

/// A finished event: training of `train_s` seconds and inference of `inference_s`, metered by
/// RAPL.
fn event(train_s: f64, inference_s: f64) -> String {
    let energy = |j: f64| {
        let mut parts = std::collections::BTreeMap::new();
        parts.insert(Component::Cpu, (Some(Joules(j)), Quality::Measured));
        ComponentEnergy::from_parts(&parts)
    };
    let result = WorkerResult {
        status: Outcome::Ok,
        train: Some(TrainRecord {
            duration_s: train_s,
            energy: energy(10.0 * train_s),
            ..Default::default()
        }),
        inference: Some(InferenceRecord {
            samples: Some(100),
            duration_s: inference_s,
            energy: energy(10.0 * inference_s),
            ..Default::default()
        }),
        meters: [(
            "cpu".to_string(),
            "rapl (measured): RAPL powercap, 1 package".to_string(),
        )]
        .into_iter()
        .collect(),
        ..Default::default()
    };
    serde_json::to_string(&WorkerEvent::Finished(Box::new(result))).unwrap()
}

fn run(train_s: f64, inference_s: f64, sampler_hz: f64) -> RunRecord {
    let dir = tempfile::tempdir().unwrap();
    let text = "name = \"w\"\ndataset = \"digits\"\nidle_seconds = 0\n[grid]\nmodel = \"mlp-small\"\nbatch_size = 8\n";
    let cfg = SweepConfig::parse(text, &dir.path().join("w.toml")).unwrap();
    let out = dir.path().join("out");
    let worker = format!("cat >/dev/null; echo '{}'", event(train_s, inference_s));
    let mut opts = shell_options(&out, &worker);
    opts.sampler_hz = sampler_hz;
    let l = lock(&out);
    run_sweep(&cfg, &opts, &l, &mut no_idle, None).unwrap();
    read_records(&out.join("runs.jsonl")).unwrap().remove(0)
}

#[test]
fn an_inference_of_a_few_sampler_ticks_is_flagged_and_a_long_training_is_not() {
    let r = run(30.0, 0.25, 10.0);
    let f = r
        .flags
        .iter()
        .find(|f| f.field == "inference.window")
        .unwrap_or_else(|| panic!("not flagged: {:?}", r.flags));
    assert!(
        f.reason.contains(
            "0.250 s is shorter than the meter resolves (1.000 s: 10 samples of the 10 Hz sampler)"
        ),
        "{}",
        f.reason
    );
    assert!(!r.is_flagged("train.window"), "{:?}", r.flags);
    // The energy stays in the record, flagged, not dropped.
    assert_eq!(r.inference.as_ref().unwrap().energy.total_j, Some(2.5));
}

#[test]
fn without_a_sampler_only_a_window_under_ten_counter_updates_is_flagged() {
    // RAPL updates about every millisecond: 5 ms is five updates, 50 ms is fifty.
    let r = run(0.005, 0.05, 0.0);
    assert!(r.is_flagged("train.window"), "{:?}", r.flags);
    assert!(!r.is_flagged("inference.window"), "{:?}", r.flags);
}
