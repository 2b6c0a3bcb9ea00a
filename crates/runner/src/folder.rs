//! Whether a folder may receive a sweep: the paths it needs are of the right kind, and whatever
//! it already holds belongs to this very sweep, run with the same meter settings.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use greenbench_core::RunRecord;
use greenbench_core::SweepConfig;

use crate::error::RunnerError;
use crate::records::recorded;
use greenbench_core::Manifest;

/// Sub-folder of a halving search's training checkpoints (one safetensors file per run).
pub const CHECKPOINTS: &str = "checkpoints";

/// Checks that `out`, `out/traces`, `out/logs`, `out/checkpoints` are folders (or absent) and `out/runs.jsonl`,
/// `out/manifest.json` are files, not symbolic links (or absent), with a message that names the
/// path and the fix.
pub fn check_paths(out: &Path) -> Result<(), RunnerError> {
    let wrong = |path: &Path, want: &str| {
        RunnerError::OutputFolder(format!(
            "{} is not a {want}; the sweep folder needs it to be one. Move it away, or choose another folder with --out",
            path.display()
        ))
    };
    if out.exists() && !out.is_dir() {
        return Err(RunnerError::OutputFolder(format!(
            "--out {} is a file, not a folder; give a folder (it is created if absent)",
            out.display()
        )));
    }
    for sub in ["traces", "logs", CHECKPOINTS] {
        let p = out.join(sub);
        if p.exists() && !p.is_dir() {
            return Err(wrong(&p, "folder"));
        }
    }
    for file in ["runs.jsonl", "manifest.json"] {
        let p = out.join(file);
        crate::records::refuse_symlink(&p)?;
        if p.exists() && !p.is_file() {
            return Err(wrong(&p, "file"));
        }
    }
    Ok(())
}

/// What a sweep folder already holds: its manifest, if any, and the record of each run id.
pub struct FolderContents {
    /// `manifest.json`, if present.
    pub manifest: Option<Manifest>,
    /// Run id → its record in `runs.jsonl` (see [`recorded`]).
    pub records: HashMap<String, RunRecord>,
}

/// Checks that `out` may receive this sweep: empty, or holding only this config's runs (by the
/// manifest's fingerprint when there is one, and by every record's run id in any case), measured
/// with the same meter settings. Returns what the folder holds.
pub fn check_output_folder(
    cfg: &SweepConfig,
    out: &Path,
    meter_settings: &serde_json::Value,
) -> Result<FolderContents, RunnerError> {
    check_paths(out)?;
    let manifest = Manifest::read(&out.join("manifest.json"))?;
    if let Some(m) = &manifest {
        if m.fingerprint != cfg.fingerprint() {
            return Err(RunnerError::OutputFolder(format!(
                "{} holds results of another configuration (sweep `{}` from {}, {} runs); \
                 this config expands to different runs. Choose another folder with --out, or rename the sweep.",
                out.display(),
                m.sweep,
                m.config_path,
                m.total_runs
            )));
        }
        if let Some(before) = &m.meter_settings {
            let diff = setting_differences(before, meter_settings);
            if !diff.is_empty() {
                return Err(RunnerError::OutputFolder(format!(
                    "{} was measured with other meter settings ({}); energies of both would not compare. \
                     Continue with the same flags, or write to another folder with --out",
                    out.display(),
                    diff.join(", ")
                )));
            }
        }
    }
    let ids: HashSet<String> = cfg.expand().iter().map(|s| s.run_id()).collect();
    let records = recorded(&out.join("runs.jsonl"))?;
    let foreign: Vec<&str> = records
        .values()
        .filter(|r| {
            r.sweep != cfg.name || r.spec.run_id() != r.run_id || !cfg.is_run_of(&r.spec, &ids)
        })
        .map(|r| r.run_id.as_str())
        .collect();
    if let Some(first) = foreign.first() {
        return Err(RunnerError::OutputFolder(format!(
            "{} holds {} record(s) that are not runs of this config (e.g. run {first}); \
             its results would mix two sweeps. Choose another folder with --out",
            out.join("runs.jsonl").display(),
            foreign.len()
        )));
    }
    Ok(FolderContents { manifest, records })
}

/// `key: before → now` for each meter setting that differs.
fn setting_differences(before: &serde_json::Value, now: &serde_json::Value) -> Vec<String> {
    let (Some(b), Some(n)) = (before.as_object(), now.as_object()) else {
        return if before == now {
            Vec::new()
        } else {
            vec![format!("{before} → {now}")]
        };
    };
    let mut keys: Vec<&String> = b.keys().chain(n.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| b.get(*k) != n.get(*k))
        .map(|k| {
            let show = |v: Option<&serde_json::Value>| v.map_or("unset".into(), |v| v.to_string());
            format!("{k}: {} before, {} now", show(b.get(k)), show(n.get(k)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn differing_meter_settings_are_named() {
        let a = json!({"watts_per_core": null, "sampler_hz": 10.0});
        let b = json!({"watts_per_core": 20.0, "sampler_hz": 10.0});
        assert!(setting_differences(&a, &a).is_empty());
        let d = setting_differences(&a, &b);
        assert_eq!(d, ["watts_per_core: null before, 20.0 now"]);
    }

    #[test]
    fn files_and_folders_in_the_wrong_place_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("afile");
        std::fs::write(&file, "x").unwrap();
        let e = check_paths(&file).unwrap_err().to_string();
        assert!(e.contains("is a file, not a folder"), "{e}");

        let out = dir.path().join("out");
        std::fs::create_dir_all(out.join("runs.jsonl")).unwrap();
        let e = check_paths(&out).unwrap_err().to_string();
        assert!(e.contains("runs.jsonl is not a file"), "{e}");

        let out = dir.path().join("out2");
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(out.join("traces"), "x").unwrap();
        let e = check_paths(&out).unwrap_err().to_string();
        assert!(e.contains("traces is not a folder"), "{e}");
    }

    #[test]
    fn symlinked_records_and_manifest_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target.jsonl");
        std::fs::write(&target, "").unwrap();
        for file in ["runs.jsonl", "manifest.json"] {
            let out = dir.path().join(format!("out-{file}"));
            std::fs::create_dir_all(&out).unwrap();
            std::os::unix::fs::symlink(&target, out.join(file)).unwrap();
            let e = check_paths(&out).unwrap_err().to_string();
            assert!(e.contains(&format!("{file} is a symbolic link")), "{e}");
            assert!(e.contains("link the whole sweep folder"), "{e}");
        }
    }
}
