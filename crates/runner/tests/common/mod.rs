//! Helpers for the runner's tests, whose workers are small shell scripts: the parent alone is
//! exercised.
#![allow(dead_code)]

use std::path::Path;

use greenbench_core::record::HostInfo;
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
    }
}

/// Creates the sweep folder and takes its lock, as the binary does before a sweep.
pub fn lock(out: &Path) -> FolderLock {
    std::fs::create_dir_all(out).unwrap();
    FolderLock::acquire(out, "sweep").unwrap()
}
