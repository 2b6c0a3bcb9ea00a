//! `manifest.json`: what a sweep folder was run with — the config as given, its fingerprint and
//! size, the shard, host, meters, idle baseline, worker environment and versions. The runner
//! writes it; `report`, `status` and `merge` read it through this one type. Every field has a
//! default, so a manifest written by hand (or by an older greenbench) with fields left out still
//! reads; a field of the wrong type is an error naming the file.

use serde::{Deserialize, Serialize};
use std::path::Path;

use crate::energy::ComponentPower;
use crate::error::{CoreError, IoError};
use crate::record::HostInfo;
use crate::shard::Shard;

/// The manifest of a sweep folder.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Manifest {
    /// greenbench version that wrote it.
    pub greenbench_version: String,
    /// Sweep name.
    pub sweep: String,
    /// Path of the config file as given.
    pub config_path: String,
    /// The config text as given (empty where a hand-made manifest leaves it out).
    pub config: String,
    /// Identity of the expanded grid (sweep name + run ids); equal fingerprints = same sweep.
    pub fingerprint: String,
    /// Number of runs of the whole sweep (all shards); 0 where a hand-made manifest leaves it
    /// out (unknown).
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
    /// What else the machine did while the idle baseline was measured (absent in manifests
    /// written before it was measured, or where it could not be).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_interference: Option<crate::interference::Interference>,
    /// Flags of the idle baseline: `interference` when other processes used more than the
    /// config's threshold of the machine during it (its power is then not the machine's idle).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub idle_flags: Vec<crate::record::Flag>,
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
    pub fn read(path: &Path) -> Result<Option<Manifest>, CoreError> {
        if !path.exists() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(path).map_err(|source| IoError {
            what: "reading manifest",
            path: path.to_path_buf(),
            source,
        })?;
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| CoreError::Manifest {
                path: path.to_path_buf(),
                message: e.to_string(),
            })
    }

    /// The config text it was run with, `None` when the manifest holds none.
    pub fn config_text(&self) -> Option<&str> {
        Some(self.config.as_str()).filter(|c| !c.is_empty())
    }

    /// How many runs the folder is expected to hold: its shard's share of `total_runs`, or
    /// `total_runs` for a whole (or merged) sweep; `None` when `total_runs` is unknown (0).
    pub fn expected_runs(&self) -> Option<usize> {
        if self.total_runs == 0 {
            return None;
        }
        match self.shard {
            Some(s) if s.count > 0 => Some((0..self.total_runs).filter(|&p| s.owns(p)).count()),
            Some(_) => None,
            None => Some(self.total_runs),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hand_made_manifest_reads_with_defaults_and_a_wrong_type_names_the_file() {
        let dir = std::env::temp_dir().join(format!("gb-manifest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("manifest.json");
        std::fs::write(
            &p,
            r#"{"config": "name = \"x\"", "total_runs": 5, "shard": {"index": 1, "count": 2}}"#,
        )
        .unwrap();
        let m = Manifest::read(&p).unwrap().unwrap();
        assert_eq!(m.config_text(), Some("name = \"x\""));
        assert_eq!(m.expected_runs(), Some(2));
        std::fs::write(&p, r#"{"total_runs": "five"}"#).unwrap();
        let e = Manifest::read(&p).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("{}: not a greenbench manifest", p.display())),
            "{e}"
        );
        std::fs::write(&p, "{}").unwrap();
        let m = Manifest::read(&p).unwrap().unwrap();
        assert_eq!((m.config_text(), m.expected_runs()), (None, None));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
