//! A sweep with a `[search] budget` stops before it overshoots: each run starts only if its upper
//! prediction fits what is left, the others are recorded as skipped with the reason, and a
//! resumed sweep keeps those decisions. Workers are shell scripts that report fixed energies.

mod common;

use common::{finished_event, lock, no_idle, shell_options, Predicting};

use greenbench_core::{read_records, RunStatus};
use greenbench_core::{Quality, SweepConfig};
use greenbench_runner::{run_sweep, SweepOptions};

/// A worker that takes about 0.2 s and reports `cpu_j` joules of measured training energy.
fn worker(cpu_j: f64) -> String {
    let event = finished_event(Some(cpu_j), Quality::Measured, 0.2, None);
    format!("cat >/dev/null; sleep 0.2; echo '{event}'")
}

#[test]
fn the_budget_is_never_overshot_and_refused_runs_say_why() {
    let dir = tempfile::tempdir().unwrap();
    // 330 J: after one run of 100 J the next run's upper prediction (1.5 × the mean 100 J,
    // however long the runs take) fits the 230 J left; after two it does not fit the 130 J left.
    let text = format!(
        "name = \"b\"\ndataset = \"digits\"\nidle_seconds = 0\n[grid]\nmodel = \"mlp-small\"\nbatch_size = [8, 16, 32, 64, 128, 256]\n[search]\nbudget = {{ energy_kwh = {} }}\n",
        330.0 / 3.6e6
    );
    let cfg = SweepConfig::parse(&text, &dir.path().join("b.toml")).unwrap();
    let out = dir.path().join("out");
    let opts = SweepOptions {
        catalog: Box::new(Predicting {
            seconds: 0.2,
            watts: None,
        }),
        ..shell_options(&out, &worker(100.0))
    };
    let l = lock(&out);
    let summary = run_sweep(&cfg, &opts, &l, &mut no_idle, None).unwrap();
    let recs = read_records(&out.join("runs.jsonl")).unwrap();
    let statuses: Vec<RunStatus> = recs.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [
            RunStatus::Ok,
            RunStatus::Ok,
            RunStatus::Skipped,
            RunStatus::Skipped,
            RunStatus::Skipped,
            RunStatus::Skipped
        ]
    );
    let spent: f64 = recs
        .iter()
        .filter_map(|r| r.train.as_ref()?.energy.total_j)
        .sum();
    assert!(spent <= 330.0, "spent {spent} J of 330 J");
    for r in &recs[2..] {
        let why = r.error.as_deref().unwrap();
        assert!(
            why.starts_with("budget: energy_kwh would be exceeded"),
            "{why}"
        );
        assert!(r.train.is_none() && r.inference.is_none());
    }
    assert_eq!(summary.by_status.get(&RunStatus::Skipped), Some(&4));
    assert!(!summary.all_ok());
    // Continued with the same budget: the skipped runs are not done, so they are decided
    // again, and skipped again (one record each, the ok runs untouched).
    let again = run_sweep(&cfg, &opts, &l, &mut no_idle, None).unwrap();
    assert_eq!((again.ok, again.not_ok, again.skipped), (0, 4, 2));
    let after = read_records(&out.join("runs.jsonl")).unwrap();
    assert_eq!(after.len(), 6);
    assert_eq!(&after[..2], &recs[..2]);
    assert!(after[2..]
        .iter()
        .all(|r| r.status == RunStatus::Skipped && r.attempts.is_empty()));
}

#[test]
fn runs_skipped_by_a_budget_run_once_the_budget_has_room() {
    let dir = tempfile::tempdir().unwrap();
    let config = |kwh: f64| {
        let text = format!(
            "name = \"b\"\ndataset = \"digits\"\nidle_seconds = 0\n[grid]\nmodel = \"mlp-small\"\nbatch_size = [8, 16, 32, 64]\n[search]\nbudget = {{ energy_kwh = {kwh} }}\n"
        );
        SweepConfig::parse(&text, &dir.path().join("b.toml")).unwrap()
    };
    let out = dir.path().join("out");
    let opts = SweepOptions {
        catalog: Box::new(Predicting {
            seconds: 0.2,
            watts: None,
        }),
        ..shell_options(&out, &worker(100.0))
    };
    let l = lock(&out);
    run_sweep(&config(150.0 / 3.6e6), &opts, &l, &mut no_idle, None).unwrap();
    let skipped = |recs: &[greenbench_core::RunRecord]| {
        recs.iter()
            .filter(|r| r.status == RunStatus::Skipped)
            .count()
    };
    assert_eq!(skipped(&read_records(&out.join("runs.jsonl")).unwrap()), 3);
    // The budget raised: the three skipped runs are runs not yet done, and now run.
    let more = run_sweep(&config(1.0), &opts, &l, &mut no_idle, None).unwrap();
    assert_eq!((more.ok, more.skipped), (3, 1));
    assert!(more.all_ok(), "{:?}", more.by_status);
    let recs = read_records(&out.join("runs.jsonl")).unwrap();
    assert_eq!(recs.len(), 4);
    // Each keeps the reason it was skipped the first time.
    let kept: Vec<_> = recs.iter().filter(|r| !r.attempts.is_empty()).collect();
    assert_eq!(kept.len(), 3);
    assert!(kept
        .iter()
        .all(|r| r.attempts[0].status == RunStatus::Skipped));
}

#[test]
fn an_energy_budget_stops_even_the_first_run_from_the_meters_own_figures() {
    let dir = tempfile::tempdir().unwrap();
    // 1e-12 kWh = 3.6 µJ: no run fits, not even the first, before any record exists.
    let text = "name = \"t\"\ndataset = \"digits\"\nidle_seconds = 0\n[grid]\nmodel = \"mlp-small\"\nbatch_size = [8, 16]\n[search]\nbudget = { energy_kwh = 1e-12 }\n";
    let cfg = SweepConfig::parse(text, &dir.path().join("t.toml")).unwrap();
    let out = dir.path().join("out");
    let opts = SweepOptions {
        catalog: Box::new(Predicting {
            seconds: 0.2,
            watts: Some(20.0),
        }),
        ..shell_options(&out, &worker(21.0))
    };
    let l = lock(&out);
    run_sweep(&cfg, &opts, &l, &mut no_idle, None).unwrap();
    let recs = read_records(&out.join("runs.jsonl")).unwrap();
    assert_eq!(recs.len(), 2);
    for r in &recs {
        assert_eq!(r.status, RunStatus::Skipped, "{:?}", r.error);
        let why = r.error.as_deref().unwrap();
        // 0.2 s × 1.5 × 20 W = 6 J against 3.6 µJ, printed so a reader sees the figure.
        assert!(why.contains("6.0000 J > 3.600e-6 J left"), "{why}");
    }
}

#[test]
fn a_spent_limit_refuses_even_a_run_whose_duration_is_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let text = "name = \"h\"\ndataset = \"digits\"\nidle_seconds = 0\n[grid]\nmodel = \"mlp-small\"\nbatch_size = [8, 16, 32]\n[search]\nbudget = { hours = 0.0001 }\n";
    let cfg = SweepConfig::parse(text, &dir.path().join("h.toml")).unwrap();
    let out = dir.path().join("out");
    // AcceptAll predicts nothing: the first run starts (0.36 s allowed), later ones are refused
    // once the runs' wall time has used the 0.36 s up.
    let worker =
        "cat >/dev/null; sleep 0.4; echo '{\"event\":\"failed\",\"message\":\"x\"}'; exit 2";
    let opts = shell_options(&out, worker);
    let l = lock(&out);
    run_sweep(&cfg, &opts, &l, &mut no_idle, None).unwrap();
    let recs = read_records(&out.join("runs.jsonl")).unwrap();
    assert_eq!(recs.len(), 3);
    assert_ne!(recs[0].status, RunStatus::Skipped);
    for r in &recs[1..] {
        assert_eq!(r.status, RunStatus::Skipped);
        assert!(r
            .error
            .as_deref()
            .unwrap()
            .starts_with("budget: hours is spent"));
    }
}
