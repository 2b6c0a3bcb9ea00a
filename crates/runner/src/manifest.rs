//! `manifest.json`: the config as given, host, meters, idle baseline and version of a sweep folder.

use serde::{Deserialize, Serialize};
use std::path::Path;

use greenbench_core::record::HostInfo;
use greenbench_core::ComponentPower;

use crate::error::{io, RunnerError};
use crate::shard::Shard;

/// The manifest of a sweep folder.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// greenbench version that wrote it.
    pub greenbench_version: String,
    /// Sweep name.
    pub sweep: String,
    /// Path of the config file as given.
    pub config_path: String,
    /// The config text as given.
    pub config: String,
    /// Identity of the expanded grid (sweep name + run ids); equal fingerprints = same sweep.
    pub fingerprint: String,
    /// Number of runs of the whole sweep (all shards).
    pub total_runs: usize,
    /// The shard this folder holds, if sharded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
    /// The machine.
    pub host: HostInfo,
    /// Each energy source: availability, quality and reason.
    pub meters: serde_json::Value,
    /// Idle power per component measured before the sweep.
    pub idle_power_w: ComponentPower,
    /// Length of the idle measurement in seconds.
    pub idle_seconds: f64,
    /// Idle power measured again after the sweep's last run, to show drift of the baseline
    /// (absent until a sweep finishes its runs, or with `idle_seconds = 0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_power_end_w: Option<ComponentPower>,
    /// The meter settings the workers used (powercap root, GPU index, watts per core, sampler
    /// rate). A continuation with other settings is refused: its energies would not compare.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meter_settings: Option<serde_json::Value>,
    /// Environment that changes how workers compute (and so time and estimated energy): candle's
    /// thread-pool spin limit, the per-run thread count, the allocator.
    #[serde(default)]
    pub environment: std::collections::BTreeMap<String, String>,
    /// RFC 3339 time the folder was created.
    pub created_at: String,
    /// RFC 3339 time of the latest (re)start.
    pub updated_at: String,
}

impl Manifest {
    /// Reads a manifest, `None` if the file does not exist.
    pub fn read(path: &Path) -> Result<Option<Manifest>, RunnerError> {
        if !path.exists() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(path).map_err(io("reading manifest", path))?;
        serde_json::from_str(&text).map(Some).map_err(|e| {
            RunnerError::Protocol(format!(
                "{}: not a greenbench manifest: {e}",
                path.display()
            ))
        })
    }

    /// Writes atomically (temp file + rename).
    pub fn write(&self, path: &Path) -> Result<(), RunnerError> {
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| RunnerError::Protocol(format!("serializing manifest: {e}")))?;
        crate::records::write_atomic(path, (text + "\n").as_bytes())
    }
}
