//! A halving search decides each rung from what its records say, and only once: a run whose
//! energy window is missing still competes on accuracy, and a run retried after its rung was
//! decided takes its place without a second set of promotions. Workers are shell scripts that
//! report a fixed validation accuracy and energy per learning rate.

mod common;

use std::path::Path;

use common::{finished_event, lock, no_idle, shell_options};
use greenbench_core::{read_records, RunRecord, RunStatus};
use greenbench_core::{Quality, SweepConfig};
use greenbench_runner::run_sweep;

/// The `finished` event of a run with validation accuracy `val` and `energy` joules of
/// measured training energy (`None`: the window was rejected, energy missing).
fn finished(val: f64, energy: Option<f64>) -> String {
    finished_event(energy, Quality::Measured, 0.05, Some(val))
}

/// A worker answering per learning rate: `(lr as written in the request, event line)`; a run
/// whose lr has `crash_if` as an existing file exits 1 instead.
fn worker(cases: &[(&str, String)], crash_lr: &str, crash_if: &Path) -> String {
    let mut s = String::from("req=$(cat); case \"$req\" in ");
    for (lr, event) in cases {
        let crash = if *lr == crash_lr {
            format!("[ -e '{}' ] && exit 1; ", crash_if.display())
        } else {
            String::new()
        };
        s.push_str(&format!("*'\"lr\":{lr},'*) {crash}echo '{event}';; "));
    }
    s.push_str("esac");
    s
}

fn config(dir: &Path, objective: &str) -> SweepConfig {
    let text = format!(
        "name = \"hv\"\ndataset = \"digits\"\nidle_seconds = 0\n[grid]\nmodel = \"mlp-small\"\nbatch_size = 32\nlr = [0.01, 0.02, 0.05, 0.1]\n[search]\nstrategy = \"halving\"\neta = 2\nmin_epochs = 1\nmax_epochs = 2\nobjective = \"{objective}\"\n"
    );
    SweepConfig::parse(&text, &dir.join("hv.toml")).unwrap()
}

/// The learning rates whose runs rung 1 continues.
fn promoted_lrs(recs: &[RunRecord]) -> Vec<f64> {
    let mut lrs: Vec<f64> = recs
        .iter()
        .filter(|r| r.spec.continues.is_some())
        .map(|r| r.spec.lr)
        .collect();
    lrs.sort_by(f64::total_cmp);
    lrs
}

/// The records of a halving search under `objective` whose best run by validation accuracy
/// (lr 0.05) has its training-energy window missing.
fn search_with_a_missing_energy(objective: &str) -> Vec<RunRecord> {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), objective);
    let out = dir.path().join("out");
    let cases = [
        ("0.01", finished(0.70, Some(3.0))),
        ("0.02", finished(0.80, Some(5.0))),
        ("0.05", finished(0.89, None)),
        ("0.1", finished(0.85, Some(10.0))),
    ];
    let opts = shell_options(&out, &worker(&cases, "", Path::new("/nonexistent")));
    let l = lock(&out);
    run_sweep(&cfg, &opts, &l, &mut no_idle, None).unwrap();
    read_records(&out.join("runs.jsonl")).unwrap()
}

#[test]
fn under_accuracy_a_run_without_energy_is_promoted_on_its_accuracy() {
    let recs = search_with_a_missing_energy("accuracy");
    assert_eq!(recs.len(), 6);
    assert_eq!(promoted_lrs(&recs), [0.05, 0.1]);
}

#[test]
fn under_an_energy_objective_a_run_without_energy_is_left_out_not_others() {
    let recs = search_with_a_missing_energy("accuracy_per_joule");
    // 0.70/3 and 0.80/5 are the best accuracy per joule; 0.05 cannot be ranked.
    assert_eq!(promoted_lrs(&recs), [0.01, 0.02]);
}

#[test]
fn a_run_retried_after_its_rung_was_decided_does_not_promote_a_second_set() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "accuracy");
    let out = dir.path().join("out");
    let crash = dir.path().join("crash-lr-0.02");
    std::fs::write(&crash, "").unwrap();
    let cases = [
        ("0.01", finished(0.70, Some(3.0))),
        // Crashes the first time; retried, it would be the best of the rung.
        ("0.02", finished(0.95, Some(5.0))),
        ("0.05", finished(0.89, Some(7.0))),
        ("0.1", finished(0.85, Some(10.0))),
    ];
    let mut opts = shell_options(&out, &worker(&cases, "0.02", &crash));
    let l = lock(&out);
    let first = run_sweep(&cfg, &opts, &l, &mut no_idle, None).unwrap();
    assert_eq!((first.total, first.retryable), (6, 1));
    let recs = read_records(&out.join("runs.jsonl")).unwrap();
    assert_eq!(promoted_lrs(&recs), [0.05, 0.1]);

    std::fs::remove_file(&crash).unwrap();
    opts.retry_failed = true;
    let again = run_sweep(&cfg, &opts, &l, &mut no_idle, None).unwrap();
    let recs = read_records(&out.join("runs.jsonl")).unwrap();
    // The retried run is recorded ok in its own rung; the decision taken stands.
    assert_eq!(recs.len(), 6, "{:#?}", promoted_lrs(&recs));
    assert!(recs.iter().all(|r| r.status == RunStatus::Ok));
    assert_eq!(promoted_lrs(&recs), [0.05, 0.1]);
    assert!(again.all_ok(), "{:?}", again.by_status);
    assert_eq!(again.total, 6);
}
