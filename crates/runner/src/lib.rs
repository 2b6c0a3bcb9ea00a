//! greenbench-runner: the parent side of a sweep. It expands the grid, holds the folder's lock,
//! spawns one worker process per run (so a panic, abort or OOM costs one run, not the night),
//! turns the worker's JSON-line events into a record, and appends it to `runs.jsonl` (one line
//! per run id, fsynced) before the next run; a folder holding runs of the same config is
//! continued. It also shards and merges sweeps. What runs inside a worker is
//! `greenbench-worker`; this crate depends on `greenbench-core` alone (no candle).

mod accounting;
mod baseline;
mod budget;
mod error;
mod folder;
mod host;
mod idle_marker;
mod interference;
pub mod interrupt;
mod lock;
mod manifest;
mod merge;
mod merge_types;
mod options;
mod progress;
mod record_builder;
mod records;
mod rungs;
mod slurm;
mod status;
mod sweep;
mod worker_process;

pub use accounting::add_net_and_carbon;
pub use baseline::worker_env;
pub use budget::{refusal, Forecast, UPPER_FACTOR};
pub use error::RunnerError;
pub use folder::{check_paths, CHECKPOINTS};
pub use greenbench_core::{Manifest, Shard};
pub use host::{host_info, hostname};
pub use idle_marker::{IdleMarker, ShownMarker, IDLE_MARKER};
pub use lock::{current_holder, FolderLock, LOCK_FILE};
pub use manifest::write_manifest;
pub use merge::{
    merge, EmptyShard, HostEntry, MergeError, MergeInfo, MergeReport, MergedManifest, MissingRun,
    ShardEntry,
};
pub use options::SweepOptions;
pub use progress::{describe, say, summary_line, Progress, ProgressMode};
pub use records::{attempts_before, recorded, write_atomic, RecordsWriter};
pub use rungs::{
    brackets, configuration_energy_j, next_rung_runs, planned_runs, rung_decision, RungDecision,
};
pub use slurm::{sh_quote, SlurmJob};
pub use status::{sweep_status, BestRun, IdleMeasurement, RunningRun, SweepStatus};
pub use sweep::{owned_runs, retries_interfered, run_sweep, SweepSummary};
