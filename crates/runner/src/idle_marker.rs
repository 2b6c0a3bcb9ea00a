//! What a sweep says about itself while it measures idle power, when its folder cannot say it
//! yet: before the first run of a new folder there is no `manifest.json` (it is written once the
//! baseline is measured), so `greenbench status` would see no sweep at all. For the length of
//! each idle measurement the sweep keeps [`IDLE_MARKER`] in its folder, naming itself, its lock
//! holder line and its config; `status` believes it only while that same holder holds the lock,
//! so a marker left by a killed sweep is ignored.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{io, RunnerError};
use crate::lock::LOCK_FILE;
use greenbench_core::Shard;

/// Name of the marker file inside a sweep folder, present while the sweep measures idle power.
pub const IDLE_MARKER: &str = ".idle-measurement.json";

/// An idle measurement in progress, as its sweep describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdleMarker {
    /// Sweep name.
    pub sweep: String,
    /// The folder's lock line of the sweep that measures (`greenbench sweep (pid … on host …,
    /// since …)`), to tell it from a marker a killed sweep left.
    pub holder: String,
    /// Length of the measurement, seconds.
    pub seconds: f64,
    /// When it began (RFC 3339).
    pub started_at: String,
    /// Path of the config file as given.
    pub config_path: String,
    /// The config text as given (what the manifest will hold), so that `status` can count the
    /// runs before the manifest exists.
    pub config: String,
    /// The shard this folder runs, if sharded.
    pub shard: Option<Shard>,
}

impl IdleMarker {
    /// A marker for a measurement of `seconds` beginning now, by the sweep that holds `dir`'s
    /// lock (its line is read from the lock file).
    pub fn now(
        dir: &Path,
        sweep: &str,
        seconds: f64,
        config_path: &Path,
        config: &str,
        shard: Option<Shard>,
    ) -> IdleMarker {
        let holder = std::fs::read_to_string(dir.join(LOCK_FILE)).unwrap_or_default();
        IdleMarker {
            sweep: sweep.to_string(),
            holder: holder.trim().to_string(),
            seconds,
            started_at: Utc::now().to_rfc3339(),
            config_path: config_path.display().to_string(),
            config: config.to_string(),
            shard,
        }
    }

    /// Writes the marker into `dir` (whole: a temporary file renamed over it) and returns the
    /// guard that deletes it when the measurement ends, however it ends.
    pub fn show(&self, dir: &Path) -> Result<ShownMarker, RunnerError> {
        let path = dir.join(IDLE_MARKER);
        let tmp = dir.join(format!("{IDLE_MARKER}.tmp"));
        let text = serde_json::to_string(self)
            .map_err(|e| RunnerError::Protocol(format!("writing {}: {e}", path.display())))?;
        std::fs::write(&tmp, text).map_err(io("writing", &tmp))?;
        std::fs::rename(&tmp, &path).map_err(io("renaming into place", &path))?;
        Ok(ShownMarker { path })
    }

    /// The marker in `dir` of the sweep whose lock line is `holder`, if that sweep is measuring
    /// idle power now; `None` when there is none, it cannot be read, or another process wrote it.
    pub fn of_holder(dir: &Path, holder: &str) -> Option<IdleMarker> {
        let text = std::fs::read_to_string(dir.join(IDLE_MARKER)).ok()?;
        let marker: IdleMarker = serde_json::from_str(&text).ok()?;
        (!marker.holder.is_empty() && marker.holder == holder).then_some(marker)
    }

    /// Seconds since the measurement began, at `now` (0 if the clock went back).
    pub fn elapsed_s(&self, now: DateTime<Utc>) -> Option<f64> {
        let since = DateTime::parse_from_rfc3339(&self.started_at).ok()?;
        let ms = (now - since.with_timezone(&Utc)).num_milliseconds();
        Some((ms as f64 / 1000.0).max(0.0))
    }
}

/// A marker on disk; deleted when dropped.
#[derive(Debug)]
pub struct ShownMarker {
    path: PathBuf,
}

impl Drop for ShownMarker {
    fn drop(&mut self) {
        // Nothing to do if it is gone already; a marker left behind is ignored by `status` once
        // its sweep no longer holds the folder.
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lock::FolderLock;

    #[test]
    fn a_marker_names_its_holder_is_read_back_for_it_only_and_goes_with_its_guard() {
        let dir = tempfile::tempdir().unwrap();
        let lock = FolderLock::acquire(dir.path(), "sweep").unwrap();
        let m = IdleMarker::now(
            dir.path(),
            "quick",
            20.0,
            Path::new("q.toml"),
            "x = 1",
            None,
        );
        assert!(m.holder.starts_with("greenbench sweep (pid "), "{m:?}");
        let shown = m.show(dir.path()).unwrap();
        assert_eq!(
            IdleMarker::of_holder(dir.path(), &m.holder),
            Some(m.clone())
        );
        assert_eq!(
            IdleMarker::of_holder(dir.path(), "greenbench sweep (pid 1 on host h, since t)"),
            None,
            "a marker of another holder is not believed"
        );
        assert!(m.elapsed_s(Utc::now()).is_some_and(|s| s < 5.0));
        drop(shown);
        assert!(!dir.path().join(IDLE_MARKER).exists());
        assert_eq!(IdleMarker::of_holder(dir.path(), &m.holder), None);
        drop(lock);
    }
}
