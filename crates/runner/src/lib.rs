//! greenbench-runner: runs a sweep. The parent process expands the grid, spawns one worker
//! process per run (so a panic, abort or OOM costs one run, not the night), turns the worker's
//! JSON-line events into a record, and appends it to `runs.jsonl` (whole line, flushed, fsynced)
//! before the next run. `--resume` skips recorded runs.

pub mod error;
pub mod folder;
pub mod host;
pub mod interrupt;
pub mod lock;
pub mod manifest;
pub mod merge;
pub mod progress;
pub mod protocol;
pub mod records;
pub mod shard;
pub mod sweep;
pub mod worker;

pub use error::RunnerError;
pub use lock::FolderLock;
pub use manifest::Manifest;
pub use progress::ProgressMode;
pub use protocol::{WorkerEvent, WorkerRequest, FAULT_ENV};
pub use shard::Shard;
pub use sweep::{run_sweep, PowerCap, SweepOptions, SweepSummary};
pub use worker::{run_worker, PhaseMeter, TraceStats};
