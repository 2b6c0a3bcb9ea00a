//! Helpers for the runner's tests, whose workers are small shell scripts: the parent alone is
//! exercised.
#![allow(dead_code)]

use std::path::Path;

use greenbench_core::HostInfo;
use greenbench_runner::{FolderLock, ProgressMode, SweepOptions};

/// Options for a quiet sweep into `out` whose workers run `sh -c WORKER`.
pub fn shell_options(out: &Path, worker: &str) -> SweepOptions {
    SweepOptions {
        out: out.to_path_buf(),
        retry_failed: false,
        shard: None,
        progress: ProgressMode::Quiet,
        worker_command: vec!["sh".into(), "-c".into(), worker.into()],
        worker_env: Vec::new(),
        meter: serde_json::Value::Null,
        meter_status: serde_json::Value::Null,
        datasets_root: out.to_path_buf(),
        sampler_hz: 0.0,
        host: HostInfo::default(),
        catalog: Box::new(greenbench_core::AcceptAll),
        // No `stat` there: the interference of a run is missing, so that what other processes
        // on a shared test machine do never flags a test's runs (tests/interference.rs reads a
        // real or replayed /proc on purpose).
        proc_root: out.join("no-proc"),
    }
}

/// Creates the sweep folder and takes its lock, as the binary does before a sweep. Tries for a
/// few seconds: tests of one binary run in parallel threads, and a worker forked by another
/// thread holds a copy of every open descriptor (this lock's too) until its `exec` closes it.
pub fn lock(out: &Path) -> FolderLock {
    std::fs::create_dir_all(out).unwrap();
    let t0 = std::time::Instant::now();
    loop {
        match FolderLock::acquire(out, "sweep") {
            Ok(l) => return l,
            Err(e) if t0.elapsed() > std::time::Duration::from_secs(5) => panic!("{e}"),
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(10)),
        }
    }
}

/// The `finished` event of an ok run whose training took `seconds` and spent `cpu_j` joules of
/// CPU energy of `quality` (`None`: the window has no figure), with validation accuracy `val`.
pub fn finished_event(
    cpu_j: Option<f64>,
    quality: greenbench_core::Quality,
    seconds: f64,
    val: Option<f64>,
) -> String {
    use greenbench_core::TrainRecord;
    use greenbench_core::{Outcome, WorkerEvent, WorkerResult};
    let mut parts = std::collections::BTreeMap::new();
    parts.insert(
        greenbench_core::Component::Cpu,
        (cpu_j.map(greenbench_core::Joules), quality),
    );
    let result = WorkerResult {
        status: Outcome::Ok,
        train: Some(TrainRecord {
            duration_s: seconds,
            energy: greenbench_core::ComponentEnergy::from_parts(&parts),
            val_acc: val,
            validation_samples: val.map(|_| 100),
            ..Default::default()
        }),
        ..Default::default()
    };
    serde_json::to_string(&WorkerEvent::Finished(Box::new(result))).unwrap()
}

/// Accepts everything and predicts every run to take `seconds` (at `watts`, when given: the
/// meter's own figure for the machine).
pub struct Predicting {
    /// Predicted seconds of every run.
    pub seconds: f64,
    /// Predicted power of every run.
    pub watts: Option<f64>,
}

impl greenbench_core::Catalog for Predicting {
    fn models(&self) -> Vec<String> {
        Vec::new()
    }
    fn datasets(&self) -> Vec<String> {
        Vec::new()
    }
    fn check_device(
        &self,
        _device: greenbench_core::DeviceName,
    ) -> Result<(), greenbench_core::BoxError> {
        Ok(())
    }
    fn run_seconds(&self, _spec: &greenbench_core::RunSpec) -> Option<f64> {
        Some(self.seconds)
    }
    fn run_watts(&self, _spec: &greenbench_core::RunSpec) -> Option<f64> {
        self.watts
    }
}

/// A sweep's idle baseline that measures nothing (`idle_seconds = 0`).
pub fn no_idle(_s: f64) -> Result<greenbench_core::ComponentPower, greenbench_core::BoxError> {
    Ok(greenbench_core::ComponentPower::default())
}
