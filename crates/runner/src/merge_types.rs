//! What a merge of shard folders reports and writes: its errors, each input shard's counts, the
//! machines, the runs no shard holds, and the merged manifest (`merge.rs` does the merging).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use greenbench_core::HostInfo;
use greenbench_core::{ComponentPower, Manifest, RunSpec, Shard};

use crate::RunnerError;

/// Why a merge was refused or failed.
#[derive(Debug, Error)]
pub enum MergeError {
    /// No input folders were given.
    #[error("no shard folders to merge: give at least one, e.g. `greenbench merge results/NAME results/NAME/shard-*`")]
    NoInputs,
    /// A file or folder could not be read or written.
    #[error(transparent)]
    Io(#[from] greenbench_core::IoError),
    /// An input folder has no `manifest.json`.
    #[error("{}: no manifest.json, so this is not a sweep folder; pass the shard folders that `greenbench sweep --shard i/n` wrote (results/NAME/shard-i-of-n)", dir.display())]
    NotASweep {
        /// The folder.
        dir: PathBuf,
    },
    /// An input folder named as a shard has no `manifest.json` and is not a shard of this sweep
    /// that had no runs.
    #[error("{}: no manifest.json, and {reason}", dir.display())]
    NotAnEmptyShard {
        /// The folder.
        dir: PathBuf,
        /// Why it is not taken as a shard with no runs, and what to do.
        reason: String,
    },
    /// A manifest could not be read.
    #[error(transparent)]
    Manifest(#[from] RunnerError),
    /// An input comes from another config than the first input.
    #[error("{} comes from another config than {}: {differences}. Merge only the shard folders of one sweep.", folder.display(), reference.display())]
    MixedConfigs {
        /// The differing folder.
        folder: PathBuf,
        /// The first input, the reference.
        reference: PathBuf,
        /// What differs (sweep name, config path, run count, runs).
        differences: String,
    },
    /// The config text kept in a manifest does not parse or does not expand to its fingerprint.
    #[error("{}: {message}", manifest.display())]
    Config {
        /// The manifest.json whose config is at fault.
        manifest: PathBuf,
        /// What is wrong and what to do.
        message: String,
    },
    /// A record line is not a valid record.
    #[error("{}:{line}: not a valid greenbench record: {message}. Fix or delete that line, then merge again.", path.display())]
    Record {
        /// The runs.jsonl file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The output folder may not receive this merge.
    #[error("{0}")]
    Output(String),
}

/// One input folder as listed in the merged manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardEntry {
    /// The folder merged.
    pub folder: String,
    /// The shard it holds (`None` for an unsharded sweep folder).
    #[serde(default)]
    pub shard: Option<Shard>,
    /// The machine it ran on.
    pub host: HostInfo,
    /// Its idle baseline.
    pub idle_power_w: ComponentPower,
    /// Length of its idle measurement in seconds.
    pub idle_seconds: f64,
    /// Its energy sources: availability, quality and reason.
    pub meters: serde_json::Value,
    /// Records (lines) its `runs.jsonl` holds: `runs_kept + duplicates_dropped + superseded +
    /// foreign_dropped + non_terminal_dropped`.
    #[serde(default)]
    pub records: usize,
    /// Records kept from this folder.
    pub runs_kept: usize,
    /// Records of this folder dropped because a record of the same run as good (`ok`, or both
    /// not `ok`) was already kept, from an earlier folder or earlier in this one.
    pub duplicates_dropped: usize,
    /// Records of this folder that were kept at first, then replaced by an `ok` record of the
    /// same run read later (they were not `ok`).
    #[serde(default)]
    pub superseded: usize,
    /// Records whose run id is not a run of the config.
    #[serde(default)]
    pub foreign_dropped: usize,
    /// Records without a terminal status.
    #[serde(default)]
    pub non_terminal_dropped: usize,
    /// When the folder was created (RFC 3339).
    pub created_at: String,
    /// The latest (re)start of the folder (RFC 3339).
    pub updated_at: String,
}

/// A machine that ran part of the sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostEntry {
    /// The machine.
    pub host: HostInfo,
    /// The folders (shards) that ran on it, as listed in `shards`.
    pub folders: Vec<String>,
}

/// Facts about the merge itself, kept in the merged manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MergeInfo {
    /// RFC 3339 time of the merge.
    pub merged_at: String,
    /// Runs of the sweep with a record.
    pub runs_present: usize,
    /// Run ids of the sweep with no record.
    pub missing: Vec<String>,
    /// Duplicate records dropped (the shards' `duplicates_dropped` plus `superseded`).
    pub duplicates_dropped: usize,
    /// Shard folders given without a manifest because their shard owns no run of the sweep.
    #[serde(default)]
    pub empty_shards: Vec<String>,
}

/// `manifest.json` of a merged folder: a sweep manifest (readable as [`Manifest`]; `host`,
/// `meters` and `idle_power_w` are the first input's) plus every shard's own metadata.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MergedManifest {
    /// The sweep manifest fields.
    #[serde(flatten)]
    pub base: Manifest,
    /// The merge.
    pub merged: MergeInfo,
    /// Each input folder: shard, host, idle baseline, meters.
    pub shards: Vec<ShardEntry>,
    /// Each distinct machine and the folders that ran on it.
    pub hosts: Vec<HostEntry>,
}

/// A run of the sweep that no input folder holds a record of.
#[derive(Debug, Clone, PartialEq)]
pub struct MissingRun {
    /// Position in the sweep's expanded order.
    pub position: usize,
    /// Its run id (12 hex digits of the spec's SHA-256).
    pub run_id: String,
    /// The run spec.
    pub spec: RunSpec,
    /// The shard that owned it, one per shard count among the inputs (position mod n).
    pub owners: Vec<Shard>,
}

/// A shard folder given to merge that holds no manifest and no records because its shard owns
/// no run of the sweep (the sweep has fewer runs than shards).
#[derive(Debug, Clone, PartialEq)]
pub struct EmptyShard {
    /// The folder, as given.
    pub folder: PathBuf,
    /// Its shard.
    pub shard: Shard,
}

/// What a merge did.
#[derive(Debug, Clone)]
pub struct MergeReport {
    /// The folder written.
    pub out: PathBuf,
    /// Sweep name.
    pub sweep: String,
    /// Config path as recorded by the shards.
    pub config_path: String,
    /// Runs of the whole sweep.
    pub total_runs: usize,
    /// Records written (one per run id present).
    pub runs_present: usize,
    /// Duplicate records dropped (same run id as a record kept earlier).
    pub duplicates_dropped: usize,
    /// Records whose run id is not a run of the config (dropped).
    pub foreign_dropped: usize,
    /// Records that were not terminal (dropped).
    pub non_terminal_dropped: usize,
    /// Trace and log files copied.
    pub files_copied: usize,
    /// Runs without a record, in expanded order.
    pub missing: Vec<MissingRun>,
    /// Shard folders that had no runs (their shard owns none) and hold no manifest.
    pub empty_shards: Vec<EmptyShard>,
    /// Shards (per shard count among the inputs) that own runs and for which no folder was given.
    pub absent_shards: Vec<Shard>,
    /// Each input.
    pub shards: Vec<ShardEntry>,
}

impl MergeReport {
    /// Whether every run of the sweep has a record.
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty()
    }
}
