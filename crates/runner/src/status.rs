//! Where a sweep folder stands, read from its files alone (manifest, `runs.jsonl`, the lock, the
//! traces, the idle marker of a sweep measuring idle power): what `greenbench status` prints, from another terminal while the sweep runs or the
//! next morning. Nothing here writes to the folder or takes its lock.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use chrono::{DateTime, Utc};
use greenbench_core::RunRecord;
use greenbench_core::{Catalog, Quality, RunSpec, SweepConfig};
use serde::Serialize;

use crate::budget::Forecast;
use crate::error::RunnerError;
use crate::idle_marker::IdleMarker;
use crate::lock::current_holder;
use crate::progress::describe;
use crate::records::recorded;
use crate::rungs::{brackets, configuration_energy_j, next_rung_runs, planned_runs};
use greenbench_core::Manifest;
use greenbench_core::{Interference, INTERFERENCE_FIELD as INTERFERENCE};

/// A trace line older than this is not "live power" any more.
const LIVE_POWER_MAX_AGE_S: f64 = 10.0;

/// Where a sweep folder stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweepStatus {
    /// The sweep folder, as given on the command line.
    pub folder: String,
    /// Sweep name from the manifest.
    pub sweep: String,
    /// Runs of the sweep's grid (this shard's, for a shard folder).
    pub runs_total: usize,
    /// Runs with a record, by status (`ok`, `diverged`, `crashed`, `timeout`, `failed`).
    pub recorded: BTreeMap<String, usize>,
    /// The run in progress, when a sweep holds the folder.
    pub running: Option<RunningRun>,
    /// The idle measurement in progress, when the sweep that holds the folder is measuring idle
    /// power (its baseline before the first run, or again after the last).
    pub idle_measurement: Option<IdleMeasurement>,
    /// Runs neither recorded nor running (including `undecided` ones).
    pub remaining: usize,
    /// Runs of a halving search's later rungs that are not decided yet (the rung before is not
    /// finished): counted in `remaining`, not in the ETA.
    pub undecided: usize,
    /// The process that holds the folder (a sweep in progress), as its lock file names it.
    pub held_by: Option<String>,
    /// Seconds since the holding sweep started (or, when none holds it, from the manifest's
    /// creation to its last update).
    pub elapsed_s: Option<f64>,
    /// Predicted seconds until the last run ends: the planner's estimate of every run left,
    /// scaled by how the finished runs compared with their own estimates.
    pub eta_s: Option<f64>,
    /// Training plus inference energy of the recorded runs, joules.
    pub energy_j: f64,
    /// Weakest quality among those energies (`estimated` where CPU time × watts stood in).
    pub energy_quality: Option<Quality>,
    /// Recorded runs without an energy figure (missing windows): not in `energy_j`.
    pub energy_missing_runs: usize,
    /// Emissions of the recorded runs, grams CO₂e (`None` when no run has a figure).
    pub co2_g: Option<f64>,
    /// The best configuration so far by validation accuracy (never test accuracy).
    pub best: Option<BestRun>,
    /// Recorded runs flagged `interference` (others used more than the threshold of the machine
    /// during them): run id and the flag's reason, in the order they finished.
    pub interference: Vec<(String, String)>,
    /// The reason of the idle baseline's `interference` flag, when it has one.
    pub idle_interference: Option<String>,
}

/// The run a sweep is executing now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunningRun {
    /// Its run id (12 hex digits), as its record will carry it.
    pub run_id: String,
    /// Model, batch size, lr, optimizer, epochs.
    pub describe: String,
    /// Seconds its trace covers so far (metering began after warm-up).
    pub metered_s: Option<f64>,
    /// Power of the last trace sample, watts (all metered components).
    pub power_w: Option<f64>,
    /// Age of that sample, seconds.
    pub power_age_s: Option<f64>,
    /// What else the machine has done since the run started (the sweep updates it every few
    /// seconds); `None` before the first figure or where it cannot be measured.
    pub interference: Option<Interference>,
}

/// An idle measurement in progress.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IdleMeasurement {
    /// `true` for the baseline of a new folder (no run has started; `manifest.json` is written
    /// once it is measured), `false` for the measurement after the last run (baseline drift).
    pub baseline: bool,
    /// Its length, seconds.
    pub seconds: f64,
    /// Seconds of it gone by.
    pub elapsed_s: Option<f64>,
}

/// The best recorded configuration by validation accuracy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BestRun {
    /// Its run id (12 hex digits), as in runs.jsonl.
    pub run_id: String,
    /// Model, batch size, lr, optimizer, epochs.
    pub describe: String,
    /// Validation accuracy after the last epoch (0..1).
    pub val_acc: f64,
    /// Test accuracy measured at the end (0..1): shown, never used to choose.
    pub test_acc: Option<f64>,
    /// Test images that accuracy was measured on, when a `test_subset` was set.
    pub test_subset: Option<usize>,
    /// Training energy of the configuration, joules: its own and, in a halving search, that of
    /// every earlier rung it was continued from (as reports count it).
    pub train_energy_j: Option<f64>,
}

/// Reads the status of `dir` at `now`. `catalog` predicts a run's wall seconds (the sweep
/// planner's, [`Catalog::run_seconds`]), used for the ETA only.
pub fn sweep_status(
    dir: &Path,
    now: DateTime<Utc>,
    catalog: &dyn Catalog,
) -> Result<SweepStatus, RunnerError> {
    let manifest_path = dir.join("manifest.json");
    let held_by = current_holder(dir);
    let marker = held_by
        .as_deref()
        .and_then(|h| IdleMarker::of_holder(dir, h));
    let manifest = Manifest::read(&manifest_path)?;
    let (sweep, config, shard) = match (&manifest, &marker) {
        (Some(m), _) => (m.sweep.clone(), m.config.clone(), m.shard),
        (None, Some(i)) => (i.sweep.clone(), i.config.clone(), i.shard),
        (None, None) => return Err(no_manifest(dir, held_by.as_deref())),
    };
    let idle_measurement = marker.map(|m| IdleMeasurement {
        baseline: manifest.is_none(),
        seconds: m.seconds,
        elapsed_s: m.elapsed_s(now),
    });
    let cfg = SweepConfig::parse(&config, &manifest_path)?;
    let first: Vec<RunSpec> = cfg
        .expand()
        .into_iter()
        .enumerate()
        .filter(|(i, _)| shard.as_ref().is_none_or(|s| s.owns(*i)))
        .map(|(_, s)| s)
        .collect();
    let first_ids: HashSet<String> = first.iter().map(RunSpec::run_id).collect();
    let by_id: HashMap<String, RunRecord> = recorded(&dir.join("runs.jsonl"))?
        .into_iter()
        .filter(|(_, r)| cfg.is_run_of(&r.spec, &first_ids))
        .collect();
    let planned = planned_runs(&cfg, &first);
    let specs = known_runs(&cfg, first, &by_id);
    let mut records: Vec<RunRecord> = by_id.values().cloned().collect();
    records.sort_by(|a, b| a.finished_at.cmp(&b.finished_at));
    let running = held_by
        .as_ref()
        .and_then(|_| running_run(dir, &specs, &records, now));
    let mut recorded = BTreeMap::new();
    for r in &records {
        *recorded.entry(r.status.name().to_string()).or_insert(0) += 1;
    }
    let left: Vec<&RunSpec> = specs
        .iter()
        .filter(|(id, _)| records.iter().all(|r| &r.run_id != *id))
        .map(|(_, s)| s)
        .collect();
    let undecided = planned.saturating_sub(specs.len());
    let (energy_j, energy_quality, energy_missing_runs) = energy_so_far(&records);
    let co2: Vec<f64> = records.iter().filter_map(RunRecord::co2_g).collect();
    let baseline_left_s = idle_measurement
        .as_ref()
        .filter(|i| i.baseline)
        .map_or(0.0, |i| (i.seconds - i.elapsed_s.unwrap_or(0.0)).max(0.0));
    Ok(SweepStatus {
        folder: dir.display().to_string(),
        sweep,
        runs_total: planned,
        remaining: (left.len() + undecided).saturating_sub(usize::from(running.is_some())),
        undecided,
        elapsed_s: elapsed(&records, held_by.as_deref(), now),
        eta_s: eta(&records, &left, running.as_ref(), catalog).map(|s| s + baseline_left_s),
        recorded,
        running,
        idle_measurement,
        held_by,
        energy_j,
        energy_quality,
        energy_missing_runs,
        co2_g: (!co2.is_empty()).then(|| co2.iter().sum()),
        best: best_by_validation(&records, &by_id),
        interference: records
            .iter()
            .filter_map(|r| {
                let f = r.flag(INTERFERENCE)?;
                Some((r.run_id.clone(), f.reason.clone()))
            })
            .collect(),
        idle_interference: manifest.as_ref().and_then(|m| {
            m.idle_flags
                .iter()
                .find(|f| f.field == INTERFERENCE)
                .map(|f| f.reason.clone())
        }),
    })
}

/// Why a folder without `manifest.json` has no status: no sweep has written it, or (when one
/// holds the folder) it is starting and writes the manifest once its idle baseline is measured.
fn no_manifest(dir: &Path, held_by: Option<&str>) -> RunnerError {
    RunnerError::OutputFolder(match held_by {
        Some(h) => format!(
            "{} has no manifest.json yet: {h} holds it and is starting (checking the folder, then \
             measuring its idle baseline; the manifest is written once that is measured). \
             Ask again in a moment, or watch with --watch",
            dir.display()
        ),
        None => format!(
            "{} has no manifest.json: not a sweep folder, or its sweep has not started yet; \
             give the folder a sweep writes (`greenbench sweep CONFIG --out DIR`)",
            dir.display()
        ),
    })
}

/// Every run of the sweep known so far by run id: the first stage, and for a halving search
/// each later rung decided from the records.
fn known_runs(
    cfg: &SweepConfig,
    first: Vec<RunSpec>,
    records: &HashMap<String, RunRecord>,
) -> HashMap<String, RunSpec> {
    let mut known: HashMap<String, RunSpec> =
        first.iter().map(|s| (s.run_id(), s.clone())).collect();
    for mut stage in brackets(cfg, first) {
        while let Some(next) = next_rung_runs(cfg, &stage, records).filter(|n| !n.is_empty()) {
            known.extend(next.iter().map(|s| (s.run_id(), s.clone())));
            stage = next;
        }
    }
    known
}

/// The trace of the run in progress: the newest trace of a run of this grid with no record.
fn running_run(
    dir: &Path,
    specs: &HashMap<String, RunSpec>,
    records: &[RunRecord],
    now: DateTime<Utc>,
) -> Option<RunningRun> {
    let newest = std::fs::read_dir(dir.join("traces"))
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let id = e.file_name().to_str()?.strip_suffix(".csv")?.to_string();
            let modified = e.metadata().ok()?.modified().ok()?;
            Some((modified, id))
        })
        .filter(|(_, id)| specs.contains_key(id) && records.iter().all(|r| &r.run_id != id))
        .max()?;
    let (modified, run_id) = newest;
    let text = std::fs::read_to_string(dir.join("traces").join(format!("{run_id}.csv"))).ok()?;
    let last = last_sample(&text);
    let age = (now - DateTime::<Utc>::from(modified)).num_milliseconds() as f64 / 1000.0;
    Some(RunningRun {
        describe: describe(&specs[&run_id]),
        interference: crate::interference::live_figure(dir, &run_id),
        run_id,
        metered_s: last.map(|(t, _)| t),
        power_w: last
            .and_then(|(_, w)| w)
            .filter(|_| age <= LIVE_POWER_MAX_AGE_S),
        power_age_s: last.and(Some(age.max(0.0))),
    })
}

/// `(t_s, total watts)` of a trace's last complete line (`t_s,cpu_w,dram_w,gpu_w,…`); the watts
/// are `None` when no power column has a value.
fn last_sample(trace: &str) -> Option<(f64, Option<f64>)> {
    let partial = usize::from(!trace.ends_with('\n'));
    let line = trace
        .lines()
        .rev()
        .skip(partial)
        .find(|l| !l.trim().is_empty())
        .filter(|l| !l.starts_with("t_s"))?;
    let fields: Vec<&str> = line.split(',').collect();
    let t = fields.first()?.parse().ok()?;
    let watts: Vec<f64> = fields
        .iter()
        .skip(1)
        .take(3)
        .filter_map(|f| f.parse().ok())
        .collect();
    Some((t, (!watts.is_empty()).then(|| watts.iter().sum())))
}

/// Joules of training plus inference of every record with a training energy, their weakest
/// quality, and how many records that trained have no energy figure (left out of the sum).
fn energy_so_far(records: &[RunRecord]) -> (f64, Option<Quality>, usize) {
    let (mut sum, mut quality, mut missing) = (0.0, None::<Quality>, 0);
    for r in records {
        let Some(train) = &r.train else { continue };
        let Some((t, i)) = r.raw_energy_j() else {
            missing += 1;
            continue;
        };
        sum += t + i;
        let inference = r.inference.as_ref().map(|i| &i.energy);
        for e in std::iter::once(&train.energy).chain(inference) {
            let q = e.quality.unwrap_or(Quality::Missing);
            quality = Some(quality.map_or(q, |old| old.weakest(q)));
        }
    }
    (sum, quality, missing)
}

/// The record with the highest last-epoch validation accuracy, with its configuration's
/// training energy over every rung it went through (`by_id`: the sweep's records by run id).
fn best_by_validation(
    records: &[RunRecord],
    by_id: &HashMap<String, RunRecord>,
) -> Option<BestRun> {
    records
        .iter()
        .filter_map(|r| Some((r, r.train.as_ref()?.val_acc?)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(r, val_acc)| BestRun {
            run_id: r.run_id.clone(),
            describe: describe(&r.spec),
            val_acc,
            test_acc: r.inference.as_ref().map(|i| i.accuracy),
            test_subset: r.spec.test_subset,
            train_energy_j: configuration_energy_j(r, by_id),
        })
}

/// Seconds since the holder's start (from its lock line), else from the first recorded run's
/// start to the last one's end.
fn elapsed(records: &[RunRecord], holder: Option<&str>, now: DateTime<Utc>) -> Option<f64> {
    let secs = |from: DateTime<Utc>, to: DateTime<Utc>| (to - from).num_milliseconds() as f64 / 1e3;
    let parse = |s: &str| {
        DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    };
    match holder {
        Some(h) => {
            let since = h.rsplit_once("since ")?.1.trim_end_matches(')');
            Some(secs(parse(since)?, now))
        }
        None => {
            let first = records.iter().filter_map(|r| parse(&r.started_at)).min()?;
            let last = records.iter().filter_map(|r| parse(&r.finished_at)).max()?;
            Some(secs(first, last))
        }
    }
}

/// Estimated seconds of the runs left (the running one less what its trace already covers),
/// scaled by the finished runs' actual ÷ estimated wall time (as a budget calibrates it); `None`
/// when a run has no estimate.
fn eta(
    records: &[RunRecord],
    left: &[&RunSpec],
    running: Option<&RunningRun>,
    catalog: &dyn Catalog,
) -> Option<f64> {
    if left.is_empty() {
        return Some(0.0);
    }
    let ratio = Forecast::of(records, catalog).time_ratio;
    let mut total = 0.0;
    for s in left {
        let mut secs = catalog.run_seconds(s)? * ratio;
        if let Some(run) = running.filter(|r| r.run_id == s.run_id()) {
            secs = (secs - run.metered_s.unwrap_or(0.0)).max(0.0);
        }
        total += secs;
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_sample_skips_a_partial_line_and_sums_the_power_columns() {
        let t = "t_s,cpu_w,dram_w,gpu_w,gpu_util,cpu_util\n0.100,9.5,0.5,,,50\n0.200,10.0,1.0,,,51\n0.3";
        assert_eq!(last_sample(t), Some((0.2, Some(11.0))));
        let whole = "t_s,cpu_w,dram_w,gpu_w,gpu_util,cpu_util\n0.100,,,,,\n";
        assert_eq!(last_sample(whole), Some((0.1, None)));
        assert_eq!(last_sample("t_s,cpu_w\n"), None);
    }
}
