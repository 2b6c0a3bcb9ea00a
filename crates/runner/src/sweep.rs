//! The parent side of a sweep: pick the runs to do, run each in its worker process
//! (`worker_process.rs`), add net energy, flags and carbon, write the record, repeat. One bad run
//! never stops the sweep.

use std::collections::HashMap;
use std::path::PathBuf;

use greenbench_core::config_dir;
use greenbench_core::ComponentPower;
use greenbench_core::GridIntensity;
use greenbench_core::ResolvedIntensity;
use greenbench_core::{BoxError, PowerCap, RunSpec, Strategy, SweepConfig};
use greenbench_core::{RunRecord, RunStatus, INTERFERENCE_FIELD};

use crate::baseline::{remeasure_idle, start_manifest};
use crate::budget::{refusal, Forecast};
use crate::error::{io, RunnerError};
use crate::folder::{check_output_folder, FolderContents, CHECKPOINTS};
use crate::lock::FolderLock;
use crate::options::SweepOptions;
use crate::progress::{say, Progress};
use crate::record_builder::RecordBuilder;
use crate::records::RecordsWriter;
use crate::rungs::prune_checkpoints;
use crate::rungs::{brackets, planned_runs, rung_decision, RungDecision};
use crate::worker_process::run_one;
use greenbench_core::Manifest;
use greenbench_core::Shard;

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
    /// Recorded `ok` runs flagged `interference` (other processes used the machine during them):
    /// `--retry-failed` measures them again in a sweep without rungs.
    pub interfered: usize,
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
/// recorded as crashed, failed or timeout, and in a sweep without rungs `ok` runs flagged
/// `interference`; see [`Redo`]). `idle` measures the idle baseline (mean power per
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
    let redo = Redo::of(cfg, opts.retry_failed);
    let mut rerun = 0;
    let mut records = before.clone();
    let mut session: Option<Session> = None;
    let mut previous = previous;
    for mut stage in brackets(cfg, runs) {
        loop {
            for spec in runs_to_do(&stage, &before, redo) {
                if session.is_none() {
                    let s =
                        Session::start(cfg, opts, redo, previous.take(), idle, planned, &records)?;
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
        redo: Redo,
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
            .filter(|r| !redo.wants(r))
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
                let spent = Forecast::of(records.values(), &*opts.catalog)
                    .or_prior(opts.catalog.run_watts(spec), self.prior_g_per_j(cfg));
                refusal(budget, &spent, opts.catalog.run_seconds(spec))
            })
            .flatten();
        let builder = match refused {
            Some(why) => {
                RecordBuilder::new(cfg, opts, spec, &idle_w).not_run(RunStatus::Skipped, why)
            }
            None => match capped_run(cfg, opts, spec, &idle_w, &mut self.progress, power) {
                Ok(r) => r,
                Err(e) => {
                    self.progress.finish();
                    return Err(e);
                }
            },
        };
        let rec = builder.finish(&self.grid, cfg.carbon.pue, earlier);
        match earlier {
            Some(_) => self.writer.replace(&rec)?,
            None => self.writer.append(&rec)?,
        }
        self.progress.run_finished(&rec);
        Ok(rec)
    }
}

/// The grid intensity of `[carbon]`, resolved by core; an hourly `intensity_csv` is copied into
/// the sweep folder, so that `report` finds the series the records were charged at.
fn grid_intensity(cfg: &SweepConfig, out: &std::path::Path) -> Result<GridIntensity, RunnerError> {
    let resolved = cfg.carbon.resolve(&[config_dir(&cfg.path)])?;
    if let ResolvedIntensity::Series { path: from, .. } = &resolved.intensity {
        if let Some(name) = from.file_name() {
            let to = out.join(name);
            if to != *from {
                std::fs::copy(from, &to).map_err(io("copying the intensity_csv into", &to))?;
            }
        }
    }
    Ok(resolved.grid())
}

/// The runs without a record, and the recorded ones `redo` wants run again, in the sweep's order.
fn runs_to_do<'a>(
    runs: &'a [RunSpec],
    recorded: &HashMap<String, RunRecord>,
    redo: Redo,
) -> Vec<&'a RunSpec> {
    runs.iter()
        .filter(|s| recorded.get(&s.run_id()).is_none_or(|r| redo.wants(r)))
        .collect()
}

/// Which recorded runs a sweep runs again.
#[derive(Debug, Clone, Copy)]
struct Redo {
    /// `--retry-failed`: runs recorded as crashed, failed or timeout.
    failed: bool,
    /// `--retry-failed` in a sweep without rungs: `ok` runs flagged `interference`, whose time
    /// and energy are not the run's alone. A halving search keeps them: its later rungs were
    /// decided from them, and a new record would take the old one's place after the decision.
    interfered: bool,
}

/// Whether `--retry-failed` measures again the `ok` runs flagged `interference` in a sweep of
/// `cfg`: yes, unless it is a halving search, whose later rungs were decided from them.
pub fn retries_interfered(cfg: &SweepConfig) -> bool {
    cfg.search.rung_epochs().is_empty()
}

impl Redo {
    fn of(cfg: &SweepConfig, retry_failed: bool) -> Redo {
        Redo {
            failed: retry_failed,
            interfered: retry_failed && retries_interfered(cfg),
        }
    }

    /// Whether `rec` is run again: skipped by a budget (not done yet), or asked for above.
    fn wants(self, rec: &RunRecord) -> bool {
        rec.status == RunStatus::Skipped
            || (self.failed && rec.status.is_retryable())
            || (self.interfered && is_interfered(rec))
    }
}

/// An `ok` run during which other processes used more of the machine than the threshold.
fn is_interfered(rec: &RunRecord) -> bool {
    rec.status == RunStatus::Ok && rec.is_flagged(INTERFERENCE_FIELD)
}

/// Counts the sweep's records by status into the summary.
fn count_records(summary: &mut SweepSummary, records: &HashMap<String, RunRecord>) {
    for r in records.values() {
        *summary.by_status.entry(r.status).or_default() += 1;
        if r.status.is_retryable() {
            summary.retryable += 1;
        }
        if is_interfered(r) {
            summary.interfered += 1;
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
) -> Result<RecordBuilder, RunnerError> {
    let Some(w) = spec.power_limit_w else {
        return run_one(cfg, opts, spec, idle_power, progress);
    };
    let applied = match power.as_deref_mut() {
        Some(p) => p.apply(spec.device, w),
        None => Err("no GPU power-limit control is available to this sweep".into()),
    };
    if let Err(e) = applied {
        let why = format!("could not set the power limit to {w} W: {e}");
        return Ok(RecordBuilder::new(cfg, opts, spec, idle_power).not_run(RunStatus::Failed, why));
    }
    let rec = run_one(cfg, opts, spec, idle_power, progress);
    if let Some(p) = power.as_deref_mut() {
        p.restore()
            .map_err(|e| RunnerError::PowerLimit(e.to_string()))?;
    }
    rec
}

#[cfg(test)]
mod tests {
    use super::*;
    use greenbench_core::Flag;

    fn config(extra: &str) -> SweepConfig {
        let text = format!(
            "name = \"t\"\ndataset = \"d\"\nmodel = \"m\"\nbatch_size = 8\nlr = [0.01, 0.1]\n{extra}"
        );
        SweepConfig::parse(&text, std::path::Path::new("t.toml")).unwrap()
    }

    fn record(cfg: &SweepConfig, status: RunStatus, flag: Option<&str>) -> RunRecord {
        let mut r = RunRecord::new("t", cfg.expand().remove(0));
        r.status = status;
        r.flags.extend(flag.map(|f| Flag {
            field: f.into(),
            reason: "why".into(),
        }));
        r
    }

    #[test]
    fn retry_failed_reruns_interference_flagged_ok_runs_except_in_a_halving_search() {
        let grid = config("");
        let ok_flagged = record(&grid, RunStatus::Ok, Some(INTERFERENCE_FIELD));
        let ok_other_flag = record(&grid, RunStatus::Ok, Some("train.net_energy"));
        let diverged = record(&grid, RunStatus::Diverged, Some(INTERFERENCE_FIELD));
        let crashed = record(&grid, RunStatus::Crashed, None);
        let plain = Redo::of(&grid, false);
        assert!(!plain.wants(&ok_flagged) && !plain.wants(&crashed));
        let retry = Redo::of(&grid, true);
        assert!(retry.wants(&ok_flagged) && retry.wants(&crashed));
        assert!(
            !retry.wants(&ok_other_flag),
            "an impossible figure is not a busy machine"
        );
        assert!(!retry.wants(&diverged), "diverged is a result");

        let halving = config("[search]\nstrategy = \"halving\"\nmin_epochs = 1\nmax_epochs = 2\n");
        let retry = Redo::of(&halving, true);
        assert!(!retry.wants(&record(&halving, RunStatus::Ok, Some(INTERFERENCE_FIELD))));
        assert!(retry.wants(&record(&halving, RunStatus::Crashed, None)));
    }
}
