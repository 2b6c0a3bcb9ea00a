//! greenbench-runner: the parent side of a sweep. It expands the grid, holds the folder's lock,
//! spawns one worker process per run (so a panic, abort or OOM costs one run, not the night),
//! turns the worker's JSON-line events into a record, and appends it to `runs.jsonl` (one line
//! per run id, fsynced) before the next run; a folder holding runs of the same config is
//! continued. It also shards and merges sweeps. What runs inside a worker is
//! `greenbench-worker`; this crate depends on `greenbench-core` alone (no candle).

mod accounting;
mod baseline;
pub mod budget;
pub mod error;
pub mod folder;
pub mod host;
pub mod idle_marker;
pub mod interrupt;
pub mod lock;
pub mod manifest;
pub mod merge;
pub mod progress;
pub mod records;
mod rungs;
pub mod shard;
pub mod slurm;
pub mod status;
pub mod sweep;
mod worker_process;

pub use error::RunnerError;
pub use lock::FolderLock;
pub use manifest::Manifest;
pub use progress::ProgressMode;
pub use shard::Shard;
pub use sweep::{run_sweep, SweepOptions, SweepSummary};
