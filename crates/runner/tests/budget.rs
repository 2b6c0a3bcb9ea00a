//! A sweep with a `[search] budget` stops before it overshoots: each run starts only if its upper
//! prediction fits what is left, the others are recorded as skipped with the reason, and a
//! resumed sweep keeps those decisions. Workers are shell scripts that report fixed energies.

mod common;

use common::{lock, shell_options};

use greenbench_core::protocol::{WorkerEvent, WorkerResult};
use greenbench_core::record::{read_records, RunStatus, TrainRecord};
use greenbench_core::{
    BoxError, Catalog, ComponentEnergy, ComponentPower, Joules, Quality, RunSpec, SweepConfig,
};
use greenbench_runner::{run_sweep, SweepOptions};

/// Accepts everything and predicts every run to take `seconds`.
struct Predicting {
    seconds: f64,
}

impl Catalog for Predicting {
    fn models(&self) -> Vec<String> {
        Vec::new()
    }
    fn datasets(&self) -> Vec<String> {
        Vec::new()
    }
    fn check_device(&self, _device: greenbench_core::DeviceName) -> Result<(), BoxError> {
        Ok(())
    }
    fn run_seconds(&self, _spec: &RunSpec) -> Option<f64> {
        Some(self.seconds)
    }
}

/// A worker that takes about 0.2 s and reports `cpu_j` joules of measured training energy.
fn worker(cpu_j: f64) -> String {
    let mut parts = std::collections::BTreeMap::new();
    parts.insert(
        greenbench_core::Component::Cpu,
        (Some(Joules(cpu_j)), Quality::Measured),
    );
    let result = WorkerResult {
        status: "ok".into(),
        train: Some(TrainRecord {
            duration_s: 0.2,
            energy: ComponentEnergy::from_parts(&parts),
            ..Default::default()
        }),
        ..Default::default()
    };
    let event = serde_json::to_string(&WorkerEvent::Finished(Box::new(result))).unwrap();
    format!("cat >/dev/null; sleep 0.2; echo '{event}'")
}

fn no_idle(_s: f64) -> Result<ComponentPower, BoxError> {
    Ok(ComponentPower::default())
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
        catalog: Box::new(Predicting { seconds: 0.2 }),
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
    assert_eq!(summary.by_status.get("skipped"), Some(&4));
    assert!(!summary.all_ok());
    // Continued: the skipped runs stay decided; nothing runs again.
    let again = run_sweep(&cfg, &opts, &l, &mut no_idle, None).unwrap();
    assert_eq!((again.ok + again.not_ok, again.skipped), (0, 6));
    assert_eq!(read_records(&out.join("runs.jsonl")).unwrap(), recs);
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
