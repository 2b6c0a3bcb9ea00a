//! Merging shard folders (`greenbench sweep --shard i/n`) into one sweep folder.
//!
//! All inputs must come from the same config (equal manifest fingerprints). A shard folder with
//! no manifest is accepted only when its shard owns no run of the sweep (more shards than runs),
//! it holds no records and it lies beside a shard folder of the same count that has a manifest;
//! it is reported as a shard that had no runs. Records are
//! de-duplicated by run id (an `ok` record wins over one that is not; otherwise the first, inputs
//! taken in the order given) and
//! written in the sweep's expanded order; traces and logs are copied; the merged `manifest.json`
//! keeps the fields of a sweep manifest (so `report` reads its config for carbon) plus each
//! shard's host, idle baseline and meters. Runs with no record are reported with the shard that
//! owned them (position mod n), so the right shard can be resumed.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use greenbench_core::io_error as io;
use greenbench_core::read_record_lines;
use greenbench_core::{CoreError, RunSpec, SweepConfig};

use crate::RunnerError;
use greenbench_core::Manifest;
use greenbench_core::Shard;

pub use crate::merge_types::{
    EmptyShard, HostEntry, MergeError, MergeInfo, MergeReport, MergedManifest, MissingRun,
    ShardEntry,
};

/// An input folder that holds a manifest.
struct Input {
    dir: PathBuf,
    manifest: Manifest,
}

/// Merges `inputs` (shard folders of one sweep) into `out`.
///
/// Refuses mixed configs, an `out` that is one of the inputs, an `out` that holds another sweep
/// or the records of a sweep run there directly, and an `out` that already holds results unless
/// `force` (then they are replaced by this merge). Holds `out`'s lock while it works. A partial
/// set of shards is merged; the report lists the missing runs.
pub fn merge(out: &Path, inputs: &[PathBuf], force: bool) -> Result<MergeReport, MergeError> {
    if inputs.is_empty() {
        return Err(MergeError::NoInputs);
    }
    check_out_not_input(out, inputs)?;
    std::fs::create_dir_all(out).map_err(io("creating", out))?;
    let _lock = crate::lock::FolderLock::acquire(out, "merge")?;
    let (shards_in, empty_shards) = read_inputs(inputs)?;
    let first = &shards_in[0];
    check_output(out, &first.manifest)?;
    if !force {
        check_empty(out)?;
    }
    let specs = expanded_runs(first)?;
    let picked = pick_records(&shards_in, &specs)?;
    let (missing, absent_shards) = missing_runs(&shards_in, &empty_shards, &specs, &picked.kept);
    write_records(out, &picked.kept)?;
    let files_copied = copy_files(out, &shards_in, &picked.kept, &specs)?;
    write_manifest(out, &shards_in, &empty_shards, &picked, &missing)?;
    Ok(MergeReport {
        out: out.to_path_buf(),
        sweep: first.manifest.sweep.clone(),
        config_path: first.manifest.config_path.clone(),
        total_runs: specs.len(),
        runs_present: picked.kept.len(),
        duplicates_dropped: picked.duplicates,
        foreign_dropped: picked.foreign,
        non_terminal_dropped: picked.non_terminal,
        files_copied,
        missing,
        empty_shards,
        absent_shards,
        shards: picked.entries,
    })
}

/// Reads every input's manifest; all must be of the config of the first input that has one.
/// Inputs without a manifest must be shard folders that had no runs ([`empty_shard`]).
fn read_inputs(inputs: &[PathBuf]) -> Result<(Vec<Input>, Vec<EmptyShard>), MergeError> {
    let mut shards_in: Vec<Input> = Vec::with_capacity(inputs.len());
    let mut bare: Vec<&PathBuf> = Vec::new();
    for dir in inputs {
        let Some(manifest) =
            Manifest::read(&dir.join("manifest.json")).map_err(RunnerError::from)?
        else {
            bare.push(dir);
            continue;
        };
        if let Some(first) = shards_in.first() {
            if manifest.fingerprint != first.manifest.fingerprint {
                return Err(MergeError::MixedConfigs {
                    folder: dir.to_path_buf(),
                    reference: first.dir.clone(),
                    differences: differences(&first.manifest, &manifest),
                });
            }
        }
        shards_in.push(Input {
            dir: dir.to_path_buf(),
            manifest,
        });
    }
    if shards_in.is_empty() {
        return Err(MergeError::NotASweep {
            dir: inputs[0].clone(),
        });
    }
    let empty = bare
        .into_iter()
        .map(|dir| empty_shard(dir, &shards_in))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((shards_in, empty))
}

/// Accepts `dir`, which has no manifest, as a shard of this sweep that had no runs: it is named
/// `shard-i-of-n`, shard i/n owns no run of the sweep, a folder of n shards of the sweep (with a
/// manifest) lies beside it, and it holds no records. Anything else is refused, saying why.
fn empty_shard(dir: &Path, shards_in: &[Input]) -> Result<EmptyShard, MergeError> {
    let refuse = |reason: String| MergeError::NotAnEmptyShard {
        dir: dir.to_path_buf(),
        reason,
    };
    let canonical = dir.canonicalize().ok();
    let name = canonical
        .as_deref()
        .and_then(|c| c.file_name())
        .and_then(|n| n.to_str());
    let Some(shard) = name.and_then(Shard::from_folder_name) else {
        return Err(MergeError::NotASweep {
            dir: dir.to_path_buf(),
        });
    };
    let total = shards_in[0].manifest.total_runs;
    if !shard.owns_none_of(total) {
        return Err(refuse(format!(
            "shard {shard} owns runs of this sweep (from run #{} of {total} on), so it has not run yet \
             or stopped before writing its manifest. Resume it (greenbench sweep CONFIG --shard {shard} \
             --out <the folder above it> --resume), or leave it out of the merge",
            shard.index
        )));
    }
    let parent = canonical.as_deref().and_then(Path::parent);
    let beside = shards_in.iter().any(|i| {
        i.manifest.shard.is_some_and(|s| s.count == shard.count)
            && i.dir.canonicalize().ok().as_deref().and_then(Path::parent) == parent
    });
    if !beside {
        return Err(refuse(format!(
            "it is not beside a shard folder of {} shards of this sweep (with a manifest), so nothing \
             says it belongs to this sweep. Leave it out of the merge, or pass the sweep's shard \
             folders from the folder that holds it",
            shard.count
        )));
    }
    let runs = dir.join("runs.jsonl");
    let holds_records = match std::fs::read(&runs) {
        Ok(bytes) => bytes.iter().any(|b| !b.is_ascii_whitespace()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(io("reading", &runs)(e).into()),
    };
    if holds_records {
        return Err(refuse(format!(
            "it holds records ({}) although shard {shard} owns no run of this sweep's {total}: it is \
             not a shard of this sweep that had no runs. Leave it out of the merge",
            runs.display()
        )));
    }
    Ok(EmptyShard {
        folder: dir.to_path_buf(),
        shard,
    })
}

/// Every run of the sweep, from the config text kept in the first input's manifest (which must
/// still expand to the manifest's fingerprint).
fn expanded_runs(first: &Input) -> Result<Vec<RunSpec>, MergeError> {
    let manifest_path = first.dir.join("manifest.json");
    let cfg = SweepConfig::parse(
        &first.manifest.config,
        Path::new(&first.manifest.config_path),
    )
    .map_err(|e| MergeError::Config {
        manifest: manifest_path.clone(),
        message: format!(
            "the config text kept in field `config` does not parse with this greenbench ({e}); \
                 merge with the greenbench version that ran the sweep ({})",
            first.manifest.greenbench_version
        ),
    })?;
    if cfg.fingerprint() != first.manifest.fingerprint {
        return Err(MergeError::Config {
            manifest: manifest_path,
            message: format!(
                "the config text kept in field `config` expands to other run ids than the manifest's \
                 fingerprint; the sweep was run by greenbench {} — merge with that version",
                first.manifest.greenbench_version
            ),
        });
    }
    Ok(cfg.expand())
}

/// The records a merge keeps, and what it dropped.
struct Picked {
    /// Position in the sweep → (the record's line, index of its input, whether it is ok).
    kept: BTreeMap<usize, (String, usize, bool)>,
    /// Each input, as listed in the merged manifest.
    entries: Vec<ShardEntry>,
    /// Records dropped because their run id was kept from another record.
    duplicates: usize,
    /// Records whose run id is not a run of the config.
    foreign: usize,
    /// Records that were not terminal.
    non_terminal: usize,
}

/// What became of one input's records.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    records: usize,
    kept: usize,
    duplicates: usize,
    superseded: usize,
    foreign: usize,
    non_terminal: usize,
}

/// Per run id an ok record wins, else the first terminal one, inputs taken in order.
fn pick_records(shards_in: &[Input], specs: &[RunSpec]) -> Result<Picked, MergeError> {
    let position: HashMap<String, usize> = specs
        .iter()
        .enumerate()
        .map(|(p, s)| (s.run_id(), p))
        .collect();
    let mut kept: BTreeMap<usize, (String, usize, bool)> = BTreeMap::new();
    let mut tally = vec![Tally::default(); shards_in.len()];
    for (k, input) in shards_in.iter().enumerate() {
        for raw in read_lines(&input.dir.join("runs.jsonl"))? {
            tally[k].records += 1;
            let Some(&pos) = position.get(&raw.run_id) else {
                tally[k].foreign += 1;
                continue;
            };
            if !raw.terminal {
                tally[k].non_terminal += 1;
                continue;
            }
            match kept.get(&pos) {
                Some(&(_, _, was_ok)) if was_ok || !raw.ok => tally[k].duplicates += 1,
                Some(&(_, earlier, _)) => {
                    // An ok record replaces the one, not ok, kept before.
                    tally[earlier].kept -= 1;
                    tally[earlier].superseded += 1;
                    tally[k].kept += 1;
                    kept.insert(pos, (raw.line, k, true));
                }
                None => {
                    tally[k].kept += 1;
                    kept.insert(pos, (raw.line, k, raw.ok));
                }
            }
        }
    }
    let sum = |f: fn(&Tally) -> usize| tally.iter().map(f).sum::<usize>();
    Ok(Picked {
        kept,
        entries: shards_in
            .iter()
            .zip(&tally)
            .map(|(input, t)| shard_entry(input, t))
            .collect(),
        duplicates: sum(|t| t.duplicates + t.superseded),
        foreign: sum(|t| t.foreign),
        non_terminal: sum(|t| t.non_terminal),
    })
}

/// An input as the merged manifest lists it.
fn shard_entry(input: &Input, t: &Tally) -> ShardEntry {
    let m = &input.manifest;
    ShardEntry {
        folder: input.dir.display().to_string(),
        shard: m.shard,
        host: m.host.clone(),
        idle_power_w: m.idle_power_w.clone(),
        idle_seconds: m.idle_seconds,
        meters: m.meters.clone(),
        records: t.records,
        runs_kept: t.kept,
        duplicates_dropped: t.duplicates,
        superseded: t.superseded,
        foreign_dropped: t.foreign,
        non_terminal_dropped: t.non_terminal,
        created_at: m.created_at.clone(),
        updated_at: m.updated_at.clone(),
    }
}

/// Runs with no record, each with the shard that owned it (one per shard count among the
/// inputs), and the shards no folder was given for.
fn missing_runs(
    shards_in: &[Input],
    empty: &[EmptyShard],
    specs: &[RunSpec],
    kept: &BTreeMap<usize, (String, usize, bool)>,
) -> (Vec<MissingRun>, Vec<Shard>) {
    let mut counts: Vec<usize> = shards_in
        .iter()
        .filter_map(|i| i.manifest.shard.map(|s| s.count))
        .collect();
    counts.sort_unstable();
    counts.dedup();
    let missing = specs
        .iter()
        .enumerate()
        .filter(|(p, _)| !kept.contains_key(p))
        .map(|(p, s)| MissingRun {
            position: p,
            run_id: s.run_id(),
            spec: s.clone(),
            owners: counts
                .iter()
                .map(|&n| Shard {
                    index: p % n,
                    count: n,
                })
                .collect(),
        })
        .collect();
    let given: Vec<Shard> = shards_in
        .iter()
        .filter_map(|i| i.manifest.shard)
        .chain(empty.iter().map(|e| e.shard))
        .collect();
    let absent = counts
        .iter()
        .flat_map(|&n| (0..n).map(move |index| Shard { index, count: n }))
        .filter(|s| !given.contains(s) && !s.owns_none_of(specs.len()))
        .collect();
    (missing, absent)
}

/// Writes the kept records in the sweep's order (the folders first, the manifest last).
fn write_records(
    out: &Path,
    kept: &BTreeMap<usize, (String, usize, bool)>,
) -> Result<(), MergeError> {
    for sub in ["traces", "logs"] {
        std::fs::create_dir_all(out.join(sub)).map_err(io("creating", &out.join(sub)))?;
    }
    let mut text = String::new();
    for (line, _, _) in kept.values() {
        text.push_str(line.trim_end());
        text.push('\n');
    }
    write_atomic(&out.join("runs.jsonl"), text.as_bytes())
}

/// Writes the merged manifest: the first input's sweep manifest plus every input, host and the
/// merge itself.
fn write_manifest(
    out: &Path,
    shards_in: &[Input],
    empty: &[EmptyShard],
    picked: &Picked,
    missing: &[MissingRun],
) -> Result<(), MergeError> {
    let now = chrono::Utc::now().to_rfc3339();
    let mut hosts: Vec<HostEntry> = Vec::new();
    for e in &picked.entries {
        match hosts.iter_mut().find(|h| h.host == e.host) {
            Some(h) => h.folders.push(e.folder.clone()),
            None => hosts.push(HostEntry {
                host: e.host.clone(),
                folders: vec![e.folder.clone()],
            }),
        }
    }
    let created_at = shards_in
        .iter()
        .map(|i| i.manifest.created_at.clone())
        .min()
        .unwrap_or_else(|| now.clone());
    let merged = MergedManifest {
        base: Manifest {
            greenbench_version: env!("CARGO_PKG_VERSION").into(),
            shard: None,
            created_at,
            updated_at: now.clone(),
            ..shards_in[0].manifest.clone()
        },
        merged: MergeInfo {
            merged_at: now,
            runs_present: picked.kept.len(),
            missing: missing.iter().map(|m| m.run_id.clone()).collect(),
            duplicates_dropped: picked.duplicates,
            empty_shards: empty
                .iter()
                .map(|e| e.folder.display().to_string())
                .collect(),
        },
        shards: picked.entries.clone(),
        hosts,
    };
    let json = serde_json::to_string_pretty(&merged)
        .map_err(|e| MergeError::Output(format!("serializing the merged manifest: {e}")))?;
    write_atomic(&out.join("manifest.json"), (json + "\n").as_bytes())
}

/// What differs between two manifests, in words.
fn differences(a: &Manifest, b: &Manifest) -> String {
    let mut d = Vec::new();
    if a.sweep != b.sweep {
        d.push(format!("sweep name `{}` instead of `{}`", b.sweep, a.sweep));
    }
    if a.config_path != b.config_path {
        d.push(format!(
            "config path {} instead of {}",
            b.config_path, a.config_path
        ));
    }
    if a.total_runs != b.total_runs {
        d.push(format!("{} runs instead of {}", b.total_runs, a.total_runs));
    }
    if d.is_empty() || (a.sweep == b.sweep && a.total_runs == b.total_runs) {
        d.push(format!(
            "the runs themselves differ{} (e.g. another lr, epochs or model in the config)",
            first_differing_run(a, b)
                .map(|p| format!(" from run #{p} on"))
                .unwrap_or_default()
        ));
    }
    d.join("; ")
}

/// Position of the first differing run id, from the fingerprints (JSON `{name, runs}`).
fn first_differing_run(a: &Manifest, b: &Manifest) -> Option<usize> {
    let ids = |m: &Manifest| -> Option<Vec<String>> {
        let v: serde_json::Value = serde_json::from_str(&m.fingerprint).ok()?;
        serde_json::from_value(v.get("runs")?.clone()).ok()
    };
    let (x, y) = (ids(a)?, ids(b)?);
    (0..x.len().max(y.len())).find(|&i| x.get(i) != y.get(i))
}

/// Refuses an `out` equal to one of the inputs (same folder after resolving links).
fn check_out_not_input(out: &Path, inputs: &[PathBuf]) -> Result<(), MergeError> {
    let Ok(o) = out.canonicalize() else {
        return Ok(()); // out does not exist yet, so it is no input
    };
    for i in inputs {
        if i.canonicalize().is_ok_and(|c| c == o) {
            return Err(MergeError::Output(format!(
                "the output folder {} is also an input; merge into another folder, e.g. the sweep folder above the shards",
                out.display()
            )));
        }
    }
    Ok(())
}

/// Refuses an `out` holding another sweep, or records that were not written by a merge.
fn check_output(out: &Path, m: &Manifest) -> Result<(), MergeError> {
    let mpath = out.join("manifest.json");
    let has_runs = out.join("runs.jsonl").exists();
    if !mpath.exists() {
        if has_runs {
            return Err(MergeError::Output(format!(
                "{} holds a runs.jsonl but no manifest.json; it may be another sweep's results. \
                 Merge into another folder, or move that file away.",
                out.display()
            )));
        }
        return Ok(());
    }
    let text = std::fs::read_to_string(&mpath).map_err(io("reading", &mpath))?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        MergeError::Output(format!(
            "{} is not a greenbench manifest ({e}); merge into another folder",
            mpath.display()
        ))
    })?;
    let other_fp = v.get("fingerprint").and_then(|f| f.as_str());
    if other_fp != Some(m.fingerprint.as_str()) {
        return Err(MergeError::Output(format!(
            "{} holds another sweep (`{}` from {}); merge into another folder",
            out.display(),
            v.get("sweep").and_then(|s| s.as_str()).unwrap_or("?"),
            v.get("config_path").and_then(|s| s.as_str()).unwrap_or("?"),
        )));
    }
    if v.get("merged").is_none() && has_runs {
        return Err(MergeError::Output(format!(
            "{} holds records of sweep `{}` run there directly (not by a merge); replacing them would lose them. \
             Pass it as an input too and merge into another folder.",
            out.display(),
            m.sweep
        )));
    }
    Ok(())
}

/// Refuses an `out` that already holds results (records or a manifest): a merge replaces them,
/// which only `--force` may do.
fn check_empty(out: &Path) -> Result<(), MergeError> {
    let runs = out.join("runs.jsonl");
    let records = if runs.is_file() {
        read_record_lines(&runs).map(|l| l.len()).unwrap_or(0)
    } else {
        0
    };
    if records > 0 || out.join("manifest.json").exists() {
        return Err(MergeError::Output(format!(
            "{} already holds results ({records} records); a merge would replace them. \
             Merge into an empty folder, or add --force to replace them with this merge \
             (pass every shard folder, or runs only the replaced folder held are lost)",
            out.display()
        )));
    }
    Ok(())
}

/// One line of `runs.jsonl`, kept verbatim.
struct RawRecord {
    line: String,
    run_id: String,
    terminal: bool,
    ok: bool,
}

/// Reads `runs.jsonl` in file order; a missing file is empty, a trailing partial line
/// (interrupted write) is ignored.
fn read_lines(path: &Path) -> Result<Vec<RawRecord>, MergeError> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let lines = read_record_lines(path).map_err(|e| match e {
        CoreError::Record {
            path,
            line,
            message,
        } => MergeError::Record {
            path,
            line,
            message,
        },
        other => MergeError::Manifest(RunnerError::Core(other)),
    })?;
    Ok(lines
        .into_iter()
        .map(|l| RawRecord {
            run_id: l.record.run_id,
            terminal: l.record.status.is_terminal(),
            ok: l.record.status == greenbench_core::RunStatus::Ok,
            line: l.text,
        })
        .collect())
}

fn write_atomic(path: &Path, text: &[u8]) -> Result<(), MergeError> {
    Ok(crate::records::write_atomic(path, text)?)
}

/// Copies `traces/` and `logs/`: for each kept record, its own files from the folder it came
/// from; then any other file, the first input holding a name winning.
fn copy_files(
    out: &Path,
    inputs: &[Input],
    kept: &BTreeMap<usize, (String, usize, bool)>,
    specs: &[RunSpec],
) -> Result<usize, MergeError> {
    let mut written: HashSet<PathBuf> = HashSet::new();
    let mut copy = |from: &Path, to: PathBuf| -> Result<(), MergeError> {
        if written.contains(&to) || !from.is_file() {
            return Ok(());
        }
        std::fs::copy(from, &to).map_err(io("copying", from))?;
        written.insert(to);
        Ok(())
    };
    for (&pos, (_, k, _)) in kept {
        let id = specs[pos].run_id();
        let dir = &inputs[*k].dir;
        for (sub, name) in [
            ("traces", format!("{id}.csv")),
            ("logs", format!("{id}.stderr")),
        ] {
            copy(&dir.join(sub).join(&name), out.join(sub).join(&name))?;
        }
    }
    for input in inputs {
        for sub in ["traces", "logs"] {
            let src = input.dir.join(sub);
            let Ok(entries) = std::fs::read_dir(&src) else {
                continue;
            };
            for entry in entries {
                let entry = entry.map_err(io("listing", &src))?;
                copy(&entry.path(), out.join(sub).join(entry.file_name()))?;
            }
        }
    }
    Ok(written.len())
}
