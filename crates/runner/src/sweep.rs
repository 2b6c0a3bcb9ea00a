//! The parent side of a sweep: pick the runs to do, run each in its worker process
//! (`worker_process.rs`), add net energy, flags and carbon, write the record, repeat. One bad run
//! never stops the sweep.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::PathBuf;

use greenbench_core::energy::ComponentPower;
use greenbench_core::grid::GridIntensity;
use greenbench_core::record::{Flag, HostInfo, RunRecord, RunStatus};
use greenbench_core::search::{keep_count, next_rung, promote, unranked, Candidate};
use greenbench_core::{
    BoxError, Catalog, ComponentEnergy, PowerCap, RunSpec, Seconds, Strategy, SweepConfig,
};

use crate::budget::{refusal, Spent};
use crate::error::{io, RunnerError};
use crate::folder::{check_output_folder, FolderContents, CHECKPOINTS};
use crate::lock::FolderLock;
use crate::manifest::Manifest;
use crate::progress::{say, Progress, ProgressMode};
use crate::records::{attempts_before, RecordsWriter};
use crate::shard::Shard;
use crate::worker_process::{base_record, run_one};

/// How to run a sweep.
pub struct SweepOptions {
    /// Output folder (`results/<name>/` or `--out`, plus `shard-i-of-n/` when sharded).
    pub out: PathBuf,
    /// Run again the runs recorded as `crashed`, `failed` or `timeout` (the new record replaces
    /// the old one and keeps its reason in `attempts`).
    pub retry_failed: bool,
    /// Run only one shard.
    pub shard: Option<Shard>,
    /// Progress display.
    pub progress: ProgressMode,
    /// Program and leading arguments that start a worker (`[greenbench, worker]`).
    pub worker_command: Vec<OsString>,
    /// Extra environment for workers.
    pub worker_env: Vec<(String, String)>,
    /// Meter settings passed to workers, opaque here; kept in the manifest, and a continuation
    /// with other settings is refused.
    pub meter: serde_json::Value,
    /// Meter status for the manifest (each source: available, quality, reason).
    pub meter_status: serde_json::Value,
    /// Datasets folder.
    pub datasets_root: PathBuf,
    /// Sampler frequency in Hz (0 = no trace).
    pub sampler_hz: f64,
    /// The machine, for records and the manifest.
    pub host: HostInfo,
    /// What the config names, for the model family of runs that fail before their worker says.
    pub catalog: Box<dyn Catalog>,
}

/// Outcome of a sweep.
#[derive(Debug, Clone, Default)]
pub struct SweepSummary {
    /// Runs of this sweep (or shard).
    pub total: usize,
    /// Runs not run now because a record existed.
    pub skipped: usize,
    /// Runs done now that ended ok.
    pub ok: usize,
    /// Runs done now that did not end ok.
    pub not_ok: usize,
    /// Every record of this sweep (or shard) in the folder after the sweep, by status.
    pub by_status: HashMap<RunStatus, usize>,
    /// Recorded runs that `--retry-failed` would run again (crashed, failed, timeout).
    pub retryable: usize,
    /// The folder written.
    pub out: PathBuf,
}

impl SweepSummary {
    /// Whether every run of this sweep (or shard) has an `ok` record.
    pub fn all_ok(&self) -> bool {
        self.by_status.get(&RunStatus::Ok).copied().unwrap_or(0) == self.total
    }

    /// `4 ok, 1 crashed` over every record of the sweep in the folder.
    pub fn status_counts(&self) -> String {
        if self.by_status.is_empty() {
            return "no records".into();
        }
        let mut counts: Vec<(&str, usize)> =
            self.by_status.iter().map(|(s, n)| (s.name(), *n)).collect();
        counts.sort_unstable();
        counts
            .iter()
            .map(|(s, n)| format!("{n} {s}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The runs this invocation owns, with their position in the full expanded order.
pub fn owned_runs(cfg: &SweepConfig, shard: Option<Shard>) -> Vec<(usize, RunSpec)> {
    cfg.expand()
        .into_iter()
        .enumerate()
        .filter(|(p, _)| shard.is_none_or(|s| s.owns(*p)))
        .collect()
}

/// Runs a sweep into `opts.out`, whose lock the caller holds. A folder that already holds runs
/// of this config is continued: runs without a record are run (and, with `retry_failed`, runs
/// recorded as crashed, failed or timeout). `idle` measures the idle baseline (mean power per
/// component over the given seconds) before the first run of a new folder, and again after the
/// last run to show drift.
///
/// A halving search then runs its later rungs, each decided from the records of the one before
/// (so `--resume` makes the same decisions); with a `[search] budget`, a run whose upper
/// prediction does not fit what is left is recorded as `skipped` instead of started.
pub fn run_sweep(
    cfg: &SweepConfig,
    opts: &SweepOptions,
    lock: &FolderLock,
    idle: &mut dyn FnMut(f64) -> Result<ComponentPower, BoxError>,
    mut power: Option<&mut dyn PowerCap>,
) -> Result<SweepSummary, RunnerError> {
    let out = &opts.out;
    let FolderContents {
        manifest: previous,
        records: before,
    } = prepare_folder(cfg, opts, lock)?;
    let runs: Vec<RunSpec> = owned_runs(cfg, opts.shard)
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    let planned = planned_runs(cfg, &runs);
    let mut summary = SweepSummary {
        total: planned,
        out: out.clone(),
        ..Default::default()
    };
    let mut rerun = 0;
    let mut records = before.clone();
    let mut session: Option<Session> = None;
    let mut previous = previous;
    for mut stage in brackets(cfg, runs) {
        loop {
            for spec in runs_to_do(&stage, &before, opts.retry_failed) {
                if session.is_none() {
                    let s = Session::start(cfg, opts, previous.take(), idle, planned, &records)?;
                    session = Some(s);
                }
                let Some(s) = session.as_mut() else { break };
                let earlier = before.get(&spec.run_id());
                rerun += usize::from(earlier.is_some());
                let rec = s.run(cfg, opts, spec, &mut power, &records, earlier)?;
                if rec.status == RunStatus::Ok {
                    summary.ok += 1;
                } else {
                    summary.not_ok += 1;
                }
                records.insert(rec.run_id.clone(), rec);
            }
            match rung_decision(cfg, &stage, &records) {
                Some(d) if !d.next.is_empty() => {
                    tell_decision(cfg, &d, session.as_ref());
                    prune_checkpoints(out, &stage, &d.next);
                    stage = d.next;
                }
                Some(d) => {
                    tell_decision(cfg, &d, session.as_ref());
                    break;
                }
                None => break,
            }
        }
    }
    if let Some(s) = session {
        s.progress.finish();
        let mut manifest = s.manifest;
        remeasure_idle(cfg, opts, &mut manifest, idle, &s.progress)?;
        // The records file may have been replaced since the last record (an editor, rsync):
        // mend it now, and fail rather than report success with records it does not hold.
        let mut writer = s.writer;
        writer.follow_path()?;
    }
    count_records(&mut summary, &records);
    summary.skipped = before.len() - rerun;
    Ok(summary)
}

/// Says what a rung's decision left out and why, where a user would otherwise not know: runs an
/// energy-weighing objective could not rank, and retried runs that came after the decision.
fn tell_decision(cfg: &SweepConfig, d: &RungDecision, session: Option<&Session>) {
    let mut lines = Vec::new();
    if !d.unranked.is_empty() {
        lines.push(format!(
            "search: run(s) {} ended ok but have no training-energy figure (see their records), so the \
             objective `{}` cannot rank them; they were not promoted",
            d.unranked.join(", "),
            cfg.search.objective.name()
        ));
    }
    if !d.after_decision.is_empty() {
        lines.push(format!(
            "search: run(s) {} were recorded after their rung was decided and its promoted runs had \
             started; the decision stands, and they keep their place in that rung unpromoted",
            d.after_decision.join(", ")
        ));
    }
    for l in lines {
        match session {
            Some(s) => s.progress.println(&l),
            None => say(&l),
        }
    }
}

/// Checks that the caller holds `opts.out`'s lock, that the sweep can run as asked (a halving
/// search is not sharded) and that the folder holds nothing of another config; makes its
/// sub-folders and returns what it already holds.
fn prepare_folder(
    cfg: &SweepConfig,
    opts: &SweepOptions,
    lock: &FolderLock,
) -> Result<FolderContents, RunnerError> {
    let out = &opts.out;
    if lock.dir() != out.as_path() {
        return Err(RunnerError::Protocol(format!(
            "internal: the sweep into {} holds the lock of {}",
            out.display(),
            lock.dir().display()
        )));
    }
    let halving = cfg.search.strategy == Strategy::Halving;
    if halving && opts.shard.is_some() {
        return Err(RunnerError::OutputFolder(
            "a halving search decides each rung from every run of the rung before, so it cannot be split with --shard \
             (a shard would promote from its own runs only). Run it unsharded on one machine, or shard a grid or random search"
                .into(),
        ));
    }
    let contents = check_output_folder(cfg, out, &opts.meter)?;
    let mut subs = vec!["traces", "logs"];
    if halving {
        subs.push(CHECKPOINTS);
    }
    for sub in subs {
        std::fs::create_dir_all(out.join(sub)).map_err(io("creating", &out.join(sub)))?;
    }
    Ok(contents)
}

/// Deletes the checkpoints of `stage`'s runs that `next` does not continue: no later rung can
/// use them (a ResNet's is 45 MB). Those of the last rung stay, as the search's trained models.
fn prune_checkpoints(out: &std::path::Path, stage: &[RunSpec], next: &[RunSpec]) {
    let kept: Vec<&str> = next
        .iter()
        .filter_map(|s| s.continues.as_ref().map(|c| c.run_id.as_str()))
        .collect();
    for spec in stage {
        let id = spec.run_id();
        if !kept.contains(&id.as_str()) {
            let path = out.join(CHECKPOINTS).join(format!("{id}.safetensors"));
            if let Err(e) = std::fs::remove_file(&path) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    say(&format!(
                        "could not delete the unused checkpoint {}: {e}",
                        path.display()
                    ));
                }
            }
        }
    }
}

/// The first-stage runs of each bracket, in bracket order: for a halving search the runs that
/// start at each rung's epochs (bracket 0 at `min_epochs`), otherwise all runs as one group.
pub fn brackets(cfg: &SweepConfig, first_stage: Vec<RunSpec>) -> Vec<Vec<RunSpec>> {
    if cfg.search.strategy != Strategy::Halving {
        return vec![first_stage];
    }
    let rungs = cfg.search.rung_epochs();
    rungs
        .iter()
        .take(cfg.search.bracket_count())
        .map(|&e| {
            first_stage
                .iter()
                .filter(|s| s.epochs == e)
                .cloned()
                .collect::<Vec<_>>()
        })
        .filter(|b| !b.is_empty())
        .collect()
}

/// Runs a search plans: every run of the first stage, and for a halving search each later
/// rung's share of every bracket (the best `1/eta` of the rung before, at least one); other
/// strategies have no rungs past the first.
pub fn planned_runs(cfg: &SweepConfig, first_stage: &[RunSpec]) -> usize {
    let rungs = cfg.search.rung_epochs();
    brackets(cfg, first_stage.to_vec())
        .iter()
        .map(|b| {
            let start = b.first().map_or(0, |s| s.epochs);
            let later = rungs.iter().filter(|&&e| e > start).count();
            let (mut n, mut total) = (b.len(), b.len());
            for _ in 0..later {
                n = keep_count(n, cfg.search.eta);
                total += n;
            }
            total
        })
        .sum()
}

/// The runs of the rung after `prev`'s in a halving search: the best of `prev` by the objective
/// on validation accuracy, each continued from its checkpoint to the next rung's epochs. `None`
/// when `prev` is the last rung, or while a run of it has no record (the sweep was stopped), so
/// nothing is decided on part of a rung. See [`rung_decision`].
pub fn next_rung_runs(
    cfg: &SweepConfig,
    prev: &[RunSpec],
    records: &HashMap<String, RunRecord>,
) -> Option<Vec<RunSpec>> {
    rung_decision(cfg, prev, records).map(|d| d.next)
}

/// A halving search's decision on one rung, and what a user should be told about it.
#[derive(Debug, Clone, PartialEq)]
pub struct RungDecision {
    /// The promoted runs, continued to the next rung's epochs.
    pub next: Vec<RunSpec>,
    /// Runs of the rung that ended ok but that an energy-weighing objective could not rank,
    /// because their training energy has no figure: (run id, what the search did).
    pub unranked: Vec<String>,
    /// Runs of the rung recorded after the decision was taken and acted on (retried with
    /// `--retry-failed`): they keep their place in the rung but do not change the decision.
    pub after_decision: Vec<String>,
}

/// Decides the rung after `prev`'s (see [`next_rung_runs`]). A decision is taken once: when runs
/// of the next rung are already recorded, it is taken again from the records as they stood when
/// the first of those runs started, so a run retried afterwards (`--retry-failed`) takes its
/// place in its rung without promoting a second set of runs over the first.
pub fn rung_decision(
    cfg: &SweepConfig,
    prev: &[RunSpec],
    records: &HashMap<String, RunRecord>,
) -> Option<RungDecision> {
    // Other strategies have no rungs, so there is no next one.
    let current = prev.first()?.epochs;
    let epochs = cfg
        .search
        .rung_epochs()
        .into_iter()
        .find(|&e| e > current)?;
    let ids: Vec<String> = prev.iter().map(RunSpec::run_id).collect();
    let taken_at = decided_at(&ids, records);
    let mut cands = Vec::new();
    let mut specs = Vec::new();
    let mut after_decision = Vec::new();
    for (spec, id) in prev.iter().zip(&ids) {
        let rec = records.get(id)?;
        let val = rec.train.as_ref().and_then(|t| t.val_acc);
        let (RunStatus::Ok, Some(val_acc)) = (rec.status, val) else {
            continue;
        };
        if taken_at.is_some_and(|t| finished_at(rec).is_some_and(|f| f > t)) {
            after_decision.push(id.clone());
            continue;
        }
        cands.push(Candidate {
            run_id: id.clone(),
            val_acc,
            energy_j: configuration_energy_j(rec, records),
        });
        specs.push(spec);
    }
    let keep = keep_count(prev.len(), cfg.search.eta);
    let chosen = promote(&cands, keep, cfg.search.objective);
    let unranked = unranked(&cands, cfg.search.objective)
        .into_iter()
        .map(|i| cands[i].run_id.clone())
        .collect();
    Some(RungDecision {
        next: chosen
            .into_iter()
            .map(|i| next_rung(specs[i], &cands[i].run_id, epochs))
            .collect(),
        unranked,
        after_decision,
    })
}

/// When the rung of `ids` was decided: the start of the first recorded run that continues one
/// of them (`None` while none is recorded).
fn decided_at(
    ids: &[String],
    records: &HashMap<String, RunRecord>,
) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    records
        .values()
        .filter(|r| {
            r.spec
                .continues
                .as_ref()
                .is_some_and(|c| ids.contains(&c.run_id))
        })
        .filter_map(|r| chrono::DateTime::parse_from_rfc3339(&r.started_at).ok())
        .min()
}

fn finished_at(rec: &RunRecord) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    chrono::DateTime::parse_from_rfc3339(&rec.finished_at).ok()
}

/// Training energy spent on a configuration up to and including `rec`: its own and that of the
/// runs it continues, joules; `None` when one of them has no figure.
pub fn configuration_energy_j(
    rec: &RunRecord,
    records: &HashMap<String, RunRecord>,
) -> Option<f64> {
    let mut total = rec.train.as_ref()?.energy.total_j?;
    let mut from = rec.spec.continues.as_ref();
    while let Some(c) = from {
        let earlier = records.get(&c.run_id)?;
        total += earlier.train.as_ref()?.energy.total_j?;
        from = earlier.spec.continues.as_ref();
    }
    Some(total)
}

/// What a sweep holds once it has a run to do: its manifest (idle baseline measured), the
/// records file, the progress display and the grid intensity.
struct Session {
    manifest: Manifest,
    writer: RecordsWriter,
    progress: Progress,
    grid: GridIntensity,
}

impl Session {
    fn start(
        cfg: &SweepConfig,
        opts: &SweepOptions,
        previous: Option<Manifest>,
        idle: &mut dyn FnMut(f64) -> Result<ComponentPower, BoxError>,
        planned: usize,
        records: &HashMap<String, RunRecord>,
    ) -> Result<Session, RunnerError> {
        let grid = grid_intensity(cfg, &opts.out)?;
        let manifest = start_manifest(cfg, opts, previous, idle)?;
        let writer = RecordsWriter::open(&opts.out.join("runs.jsonl"))?;
        let done = records
            .values()
            .filter(|r| !to_redo(r, opts.retry_failed))
            .count()
            .min(planned);
        let todo = (planned - done).max(1);
        let progress = Progress::new(opts.progress, todo);
        if !records.is_empty() {
            progress.println(&format!(
                "continuing: {done} of {planned} runs already recorded, {todo} to do"
            ));
        }
        Ok(Session {
            manifest,
            writer,
            progress,
            grid,
        })
    }

    /// Grams CO₂e per joule at the grid intensity of now (× PUE), for a carbon budget's
    /// prediction before any record has emissions.
    fn prior_g_per_j(&self, cfg: &SweepConfig) -> Option<f64> {
        let now = chrono::Utc::now().to_rfc3339();
        let g_per_kwh = self.grid.for_window(&now, &now).ok()?;
        Some(g_per_kwh * cfg.carbon.pue / 3.6e6)
    }

    /// Runs `spec` (or records it as skipped by the budget) and writes its record.
    fn run(
        &mut self,
        cfg: &SweepConfig,
        opts: &SweepOptions,
        spec: &RunSpec,
        power: &mut Option<&mut dyn PowerCap>,
        records: &HashMap<String, RunRecord>,
        earlier: Option<&RunRecord>,
    ) -> Result<RunRecord, RunnerError> {
        if crate::interrupt::is_requested() {
            self.progress.finish();
            return Err(RunnerError::Interrupted);
        }
        let idle_w = self.manifest.idle_power_w.clone();
        let budget = &cfg.search.budget;
        let refused = budget
            .is_set()
            .then(|| {
                let spent = Spent::of(records.values(), &*opts.catalog)
                    .or_prior(opts.catalog.run_watts(spec), self.prior_g_per_j(cfg));
                refusal(budget, &spent, opts.catalog.run_seconds(spec))
            })
            .flatten();
        let mut rec = match refused {
            Some(why) => {
                let mut rec = base_record(cfg, opts, spec, &idle_w);
                rec.status = RunStatus::Skipped;
                rec.error = Some(why);
                rec
            }
            None => match capped_run(cfg, opts, spec, &idle_w, &mut self.progress, power) {
                Ok(r) => r,
                Err(e) => {
                    self.progress.finish();
                    return Err(e);
                }
            },
        };
        if rec.train.is_some() || rec.inference.is_some() {
            add_net_and_carbon(&mut rec, &idle_w, &self.grid, cfg.carbon.pue);
        }
        write_record(&mut self.writer, &mut rec, earlier)?;
        self.progress.run_finished(&rec);
        Ok(rec)
    }
}

/// The grid intensity of `[carbon]`; an hourly `intensity_csv` is copied into the sweep folder,
/// so that `report` finds the series the records were charged at.
fn grid_intensity(cfg: &SweepConfig, out: &std::path::Path) -> Result<GridIntensity, RunnerError> {
    let grid = GridIntensity::of(&cfg.carbon, &cfg.path)
        .map_err(|e| RunnerError::Carbon(e.to_string()))?;
    if let Some(rel) = &cfg.carbon.intensity_csv {
        let from = cfg
            .path
            .parent()
            .unwrap_or(std::path::Path::new("."))
            .join(rel);
        if let Some(name) = from.file_name() {
            let to = out.join(name);
            if to != from {
                std::fs::copy(&from, &to).map_err(io("copying the intensity_csv into", &to))?;
            }
        }
    }
    Ok(grid)
}

/// The runs without a record, those a budget skipped (not done yet: a later sweep with room in
/// its budget runs them) and, with `retry_failed`, those recorded as crashed, failed or timeout,
/// in the sweep's order.
fn runs_to_do<'a>(
    runs: &'a [RunSpec],
    recorded: &HashMap<String, RunRecord>,
    retry_failed: bool,
) -> Vec<&'a RunSpec> {
    runs.iter()
        .filter(|s| {
            recorded
                .get(&s.run_id())
                .is_none_or(|r| to_redo(r, retry_failed))
        })
        .collect()
}

/// Whether a recorded run is run again: skipped by a budget, or retryable under `retry_failed`.
fn to_redo(rec: &RunRecord, retry_failed: bool) -> bool {
    rec.status == RunStatus::Skipped || (retry_failed && rec.status.is_retryable())
}

/// Appends a new run's record, or replaces an earlier attempt's (keeping its outcome in
/// `attempts`), so `runs.jsonl` holds one line per run id.
fn write_record(
    writer: &mut RecordsWriter,
    rec: &mut RunRecord,
    earlier: Option<&RunRecord>,
) -> Result<(), RunnerError> {
    match earlier {
        Some(old) => {
            rec.attempts = if old.status == RunStatus::Skipped && rec.status == RunStatus::Skipped {
                // Skipped again by the budget: one skip is worth keeping, not one per sweep.
                old.attempts.clone()
            } else {
                attempts_before(old)
            };
            writer.replace(rec)
        }
        None => writer.append(rec),
    }
}

/// Counts the sweep's records by status into the summary.
fn count_records(summary: &mut SweepSummary, records: &HashMap<String, RunRecord>) {
    for r in records.values() {
        *summary.by_status.entry(r.status).or_default() += 1;
        if r.status.is_retryable() {
            summary.retryable += 1;
        }
    }
}

/// Measures the idle baseline of a new folder (a continued one keeps its own), writes the
/// manifest and returns it.
fn start_manifest(
    cfg: &SweepConfig,
    opts: &SweepOptions,
    previous: Option<Manifest>,
    idle: &mut dyn FnMut(f64) -> Result<ComponentPower, BoxError>,
) -> Result<Manifest, RunnerError> {
    let now = chrono::Utc::now().to_rfc3339();
    let (idle_power, idle_seconds) = match &previous {
        Some(m) => (m.idle_power_w.clone(), m.idle_seconds),
        None => {
            let secs = cfg.idle_seconds.value;
            if secs > 0.0 && opts.progress == ProgressMode::Auto {
                say(&format!(
                    "measuring idle power for {secs} s (keep the machine otherwise quiet)…"
                ));
            }
            (
                idle(secs).map_err(|e| RunnerError::Idle(e.to_string()))?,
                secs,
            )
        }
    };
    let manifest = Manifest {
        greenbench_version: env!("CARGO_PKG_VERSION").into(),
        sweep: cfg.name.clone(),
        config_path: cfg.path.display().to_string(),
        config: cfg.text.clone(),
        fingerprint: cfg.fingerprint(),
        total_runs: cfg.expand().len(),
        shard: opts.shard,
        host: opts.host.clone(),
        meters: opts.meter_status.clone(),
        idle_power_w: idle_power,
        idle_seconds,
        idle_power_end_w: None,
        meter_settings: Some(opts.meter.clone()),
        environment: worker_environment(opts),
        created_at: previous
            .as_ref()
            .map_or(now.clone(), |m| m.created_at.clone()),
        updated_at: now,
    };
    manifest.write(&opts.out.join("manifest.json"))?;
    Ok(manifest)
}

/// Measures idle power again after the last run and keeps it in the manifest beside the
/// baseline, so a drifting baseline (background load that came or went) shows.
fn remeasure_idle(
    cfg: &SweepConfig,
    opts: &SweepOptions,
    manifest: &mut Manifest,
    idle: &mut dyn FnMut(f64) -> Result<ComponentPower, BoxError>,
    progress: &Progress,
) -> Result<(), RunnerError> {
    let secs = cfg.idle_seconds.value;
    if secs <= 0.0 || crate::interrupt::is_requested() {
        return Ok(());
    }
    if opts.progress == ProgressMode::Auto {
        say(&format!(
            "measuring idle power again for {secs} s (baseline drift)…"
        ));
    }
    match idle(secs) {
        Ok(p) => {
            manifest.idle_power_end_w = Some(p);
            manifest.write(&opts.out.join("manifest.json"))
        }
        Err(e) => {
            progress.println(&format!(
                "idle power after the sweep could not be measured: {e}"
            ));
            Ok(())
        }
    }
}

/// Runs one spec under its GPU power limit (when it has one), putting the limit back after.
fn capped_run(
    cfg: &SweepConfig,
    opts: &SweepOptions,
    spec: &RunSpec,
    idle_power: &ComponentPower,
    progress: &mut Progress,
    power: &mut Option<&mut dyn PowerCap>,
) -> Result<RunRecord, RunnerError> {
    let Some(w) = spec.power_limit_w else {
        return run_one(cfg, opts, spec, idle_power, progress);
    };
    let applied = match power.as_deref_mut() {
        Some(p) => p.apply(spec.device, w),
        None => Err("no GPU power-limit control is available to this sweep".into()),
    };
    if let Err(e) = applied {
        let mut rec = base_record(cfg, opts, spec, idle_power);
        rec.status = RunStatus::Failed;
        rec.error = Some(format!("could not set the power limit to {w} W: {e}"));
        return Ok(rec);
    }
    let rec = run_one(cfg, opts, spec, idle_power, progress);
    if let Some(p) = power.as_deref_mut() {
        p.restore()
            .map_err(|e| RunnerError::PowerLimit(e.to_string()))?;
    }
    rec
}

/// Environment for every worker: the GPU order NVML and CUDA agree on, and mimalloc told to keep
/// freed memory for reuse (`MIMALLOC_PURGE_DELAY=-1`) instead of returning it to the OS after
/// 10 ms, which made each training step fault its tensors' pages in again (11 % of a ViT-tiny
/// step in `clear_page`, 5–10 % slower; docs/performance.md). A value the user set is kept.
pub fn worker_env() -> Vec<(String, String)> {
    let mut env = vec![("CUDA_DEVICE_ORDER".to_string(), "PCI_BUS_ID".to_string())];
    const PURGE: &str = "MIMALLOC_PURGE_DELAY";
    let purge = std::env::var(PURGE).unwrap_or_else(|_| "-1".into());
    env.push((PURGE.into(), purge));
    env
}

/// What the workers' computation depends on besides the spec, for the manifest.
fn worker_environment(opts: &SweepOptions) -> std::collections::BTreeMap<String, String> {
    const SPIN: &str = "CANDLE_BARRIER_POOL_SPIN_LIMIT";
    let mut env = std::collections::BTreeMap::new();
    let spin = opts
        .worker_env
        .iter()
        .find(|(k, _)| k == SPIN)
        .map(|(_, v)| v.clone())
        .or_else(|| std::env::var(SPIN).ok())
        .unwrap_or_else(|| "unset (candle's default: idle workers busy-wait)".into());
    env.insert(SPIN.into(), spin);
    env.insert(
        "RAYON_NUM_THREADS".into(),
        "set per run from the spec's `threads`".into(),
    );
    for (k, v) in &opts.worker_env {
        env.entry(k.clone()).or_insert_with(|| v.clone());
    }
    env
}

/// Fills net energy (E − P_idle × t), average power and carbon from the raw figures; carbon at
/// the grid intensity of the run's own window (missing, and flagged, when an hourly series does
/// not cover it).
pub fn add_net_and_carbon(
    rec: &mut RunRecord,
    idle: &ComponentPower,
    grid: &GridIntensity,
    pue: f64,
) {
    let intensity = grid.for_window(&rec.started_at, &rec.finished_at);
    let rate = intensity.as_ref().ok().copied();
    let grams = |e: &ComponentEnergy, net: &ComponentEnergy| {
        let j = net.total_j.filter(|j| *j >= 0.0).or(e.total_j)?;
        Some(j / 3.6e6 * rate? * pue)
    };
    rec.carbon_g.intensity_g_per_kwh = rate;
    if let Some(t) = rec.train.as_mut() {
        t.net_energy = t.energy.net_of(idle, Seconds(t.duration_s));
        t.avg_power_w = t.energy.average_power(Seconds(t.duration_s));
        for e in t.epochs.iter_mut() {
            e.net_energy_j = match (e.energy_j, idle.total_w) {
                (Some(j), Some(p)) => Some(j - p * e.duration_s),
                _ => None,
            };
        }
        rec.carbon_g.train = grams(&t.energy, &t.net_energy);
    }
    if let Some(i) = rec.inference.as_mut() {
        i.net_energy = i.energy.net_of(idle, Seconds(i.duration_s));
        i.avg_power_w = i.energy.average_power(Seconds(i.duration_s));
        rec.carbon_g.inference = grams(&i.energy, &i.net_energy);
    }
    rec.flags.retain(|f| f.field != "carbon_g");
    if let Err(why) = intensity {
        rec.flags.push(Flag {
            field: "carbon_g".into(),
            reason: format!(
                "no grid intensity for this run ({why}); carbon is missing. Extend the intensity_csv to cover the run"
            ),
        });
    }
    let mut flags = Vec::new();
    if let Some(t) = &rec.train {
        flags.extend(negative_net("train", &t.net_energy, &t.avg_power_w, idle));
    }
    if let Some(i) = &rec.inference {
        flags.extend(negative_net(
            "inference",
            &i.net_energy,
            &i.avg_power_w,
            idle,
        ));
    }
    rec.flags.retain(|f| !f.field.ends_with(".net_energy"));
    rec.flags.extend(flags);
}

/// A flag when a phase's net energy is below zero in any component: the idle baseline drew more
/// power than the run did, so the baseline was taken under load (or the load changed), and the
/// net figure cannot be true.
fn negative_net(
    phase: &str,
    net: &ComponentEnergy,
    run_power: &ComponentPower,
    idle: &ComponentPower,
) -> Option<Flag> {
    let parts = [
        ("cpu", net.cpu_j, run_power.cpu_w, idle.cpu_w),
        ("dram", net.dram_j, run_power.dram_w, idle.dram_w),
        ("gpu", net.gpu_j, run_power.gpu_w, idle.gpu_w),
        ("total", net.total_j, run_power.total_w, idle.total_w),
    ];
    let bad: Vec<String> = parts
        .iter()
        .filter_map(|&(c, j, run_w, idle_w)| {
            let j = j.filter(|j| *j < 0.0)?;
            Some(format!(
                "{c} {j:.3} J (idle {} W > run {} W)",
                idle_w.map_or("?".into(), |w| format!("{w:.2}")),
                run_w.map_or("?".into(), |w| format!("{w:.2}"))
            ))
        })
        .collect();
    (!bad.is_empty()).then(|| Flag {
        field: format!("{phase}.net_energy"),
        reason: format!(
            "net energy below zero: {}. The idle baseline drew more power than the run, so it was \
             measured under other load; use the raw energy (reports do) and measure the baseline \
             on a quiet machine",
            bad.join(", ")
        ),
    })
}
