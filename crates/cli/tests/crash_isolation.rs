//! A run that panics, aborts, diverges or exceeds its timeout is recorded with the right status,
//! and the other runs of the sweep still finish.

mod common;

use common::*;
use greenbench_core::{RunRecord, RunStatus};
use std::collections::HashMap;

/// Sweeps `models` on digits for `epochs` with `fault` injected into `faulty_model`; returns the
/// exit code and the records.
fn faulty_sweep(
    fault: &str,
    faulty_model: &str,
    models: &[&str],
    epochs: usize,
    extra: &str,
) -> (Option<i32>, Vec<RunRecord>) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        "faults",
        &digits_config("faults", models, &[64], epochs, extra),
    );
    let out = dir.path().join("out");
    let o = run(greenbench()
        .arg("sweep")
        .arg(&cfg)
        .arg("--out")
        .arg(&out)
        .env("GREENBENCH_INJECT_FAULT", format!("{fault}:{faulty_model}")));
    (o.status.code(), records(&out))
}

fn sweep_with_fault(
    fault: &str,
    faulty_model: &str,
    extra: &str,
) -> HashMap<String, (RunStatus, Option<String>)> {
    let (code, recs) = faulty_sweep(fault, faulty_model, &[faulty_model, "mlp-small"], 1, extra);
    // The sweep goes on past the failing run; its exit code says not every run ended ok.
    assert_eq!(code, Some(3), "a failing run does not stop the sweep");
    assert_eq!(recs.len(), 2, "both runs are recorded");
    recs.into_iter()
        .map(|r| (r.spec.model.clone(), (r.status, r.error)))
        .collect()
}

#[test]
fn panic_is_recorded_as_crashed_with_stderr_tail() {
    let r = sweep_with_fault("panic", "mlp-32", "");
    let (status, err) = &r["mlp-32"];
    assert_eq!(*status, RunStatus::Crashed);
    let err = err.as_deref().unwrap();
    assert!(err.contains("exited with code 101"), "{err}");
    assert!(err.contains("injected panic"), "stderr tail is kept: {err}");
    assert_eq!(r["mlp-small"].0, RunStatus::Ok);
}

#[test]
fn abort_is_recorded_as_crashed_with_signal() {
    let r = sweep_with_fault("abort", "mlp-32", "");
    let (status, err) = &r["mlp-32"];
    assert_eq!(*status, RunStatus::Crashed);
    assert!(err.as_deref().unwrap().contains("signal 6"), "{err:?}");
    assert_eq!(r["mlp-small"].0, RunStatus::Ok);
}

#[test]
fn nan_loss_is_recorded_as_diverged() {
    let r = sweep_with_fault("nan", "mlp-32", "");
    let (status, err) = &r["mlp-32"];
    assert_eq!(*status, RunStatus::Diverged);
    assert!(
        err.as_deref().unwrap().contains("loss became NaN"),
        "{err:?}"
    );
    assert_eq!(r["mlp-small"].0, RunStatus::Ok);
}

#[test]
fn a_diverged_run_keeps_the_energy_of_the_batches_it_trained() {
    let (code, recs) = faulty_sweep("nan", "mlp-32", &["mlp-32"], 2, "");
    assert_eq!(code, Some(3));
    assert_eq!(recs[0].status, RunStatus::Diverged);
    // The loss broke at batch 2 of epoch 1: no epoch finished, but two batches were trained,
    // and their energy is in the record (and so in status, report and budget totals).
    let train = recs[0].train.as_ref().expect("a train record");
    assert!(train.epochs.is_empty());
    let partial = train.partial_epoch.as_ref().expect("the partial epoch");
    assert_eq!((partial.epoch, partial.batches), (1, 2));
    let j = train.energy.total_j.expect("energy of the trained batches");
    assert!(j > 0.0 && partial.energy_j == Some(j), "{train:?}");
    assert!(train.final_loss.is_nan());
    assert_eq!(recs[0].raw_energy_j().map(|(t, _)| t), Some(j));
}

#[test]
fn real_divergence_from_a_huge_learning_rate() {
    let dir = tempfile::tempdir().unwrap();
    let text = digits_config("lr", &["mlp-small"], &[32], 2, "").replace("lr = 0.05", "lr = 1e12");
    let cfg = write_config(dir.path(), "lr", &text);
    let out = dir.path().join("out");
    let o = run(greenbench().arg("sweep").arg(&cfg).arg("--out").arg(&out));
    assert_eq!(o.status.code(), Some(3), "a diverged run is not ok");
    let recs = records(&out);
    assert_eq!(recs[0].status, RunStatus::Diverged, "{:?}", recs[0].error);
}

#[test]
fn hang_is_killed_and_recorded_as_timeout() {
    let t0 = std::time::Instant::now();
    let r = sweep_with_fault("hang", "mlp-32", "run_timeout = 2.5");
    let (status, err) = &r["mlp-32"];
    assert_eq!(*status, RunStatus::Timeout);
    assert!(
        err.as_deref().unwrap().contains("run_timeout of 2.5 s"),
        "{err:?}"
    );
    assert_eq!(r["mlp-small"].0, RunStatus::Ok);
    assert!(t0.elapsed().as_secs() < 60);
}
