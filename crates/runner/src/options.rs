//! How to run a sweep: the folder, the worker command and environment, the meters, the
//! catalog; what the loop (`sweep.rs`), the worker process and the baseline read.

use std::ffi::OsString;
use std::path::PathBuf;

use greenbench_core::Catalog;
use greenbench_core::HostInfo;

use crate::progress::ProgressMode;
use greenbench_core::Shard;

/// How to run a sweep.
pub struct SweepOptions {
    /// Output folder (`results/<name>/` or `--out`, plus `shard-i-of-n/` when sharded).
    pub out: PathBuf,
    /// Run again the runs recorded as `crashed`, `failed` or `timeout`, and, in a sweep without
    /// rungs, the `ok` runs flagged `interference` (the new record replaces the old one and keeps
    /// its reason in `attempts`).
    pub retry_failed: bool,
    /// Run only one shard.
    pub shard: Option<Shard>,
    /// Progress display.
    pub progress: ProgressMode,
    /// Program and leading arguments that start a worker (`[greenbench, worker]`).
    pub worker_command: Vec<OsString>,
    /// Extra environment for workers.
    pub worker_env: Vec<(String, String)>,
    /// Meter settings passed to workers, opaque here; kept in the manifest, and a continuation
    /// with other settings is refused.
    pub meter: serde_json::Value,
    /// Meter status for the manifest (each source: available, quality, reason).
    pub meter_status: serde_json::Value,
    /// Datasets folder.
    pub datasets_root: PathBuf,
    /// Sampler frequency in Hz (0 = no trace).
    pub sampler_hz: f64,
    /// The machine, for records and the manifest.
    pub host: HostInfo,
    /// What the config names, for the model family of runs that fail before their worker says.
    pub catalog: Box<dyn Catalog>,
    /// Where the machine's `stat` and `loadavg` are read for interference (`/proc`; tests give a
    /// folder of fake files).
    pub proc_root: PathBuf,
}
