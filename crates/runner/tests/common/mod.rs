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
        catalog: Box::new(greenbench_core::catalog::AcceptAll),
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
