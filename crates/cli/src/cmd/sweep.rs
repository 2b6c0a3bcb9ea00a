//! `greenbench sweep`: validate a config, then run (or list with `--dry-run`) its grid.

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use greenbench_core::PowerCap;
use greenbench_core::{compact_number, human_duration, SweepConfig};
use greenbench_core::{BoxError, ComponentPower};
use greenbench_meter::NvmlCapper;
use greenbench_runner::interrupt;
use greenbench_runner::say;
use greenbench_runner::IdleMarker;
use greenbench_runner::{FolderLock, ProgressMode, RunnerError, Shard, SweepOptions, SweepSummary};

use crate::cmd::worker::MeterSettings;
use greenbench_catalog::ZooCatalog;
use greenbench_catalog::{basis as plan_basis, Planner};

/// Arguments of `greenbench sweep`.
#[derive(clap::Args)]
pub struct SweepArgs {
    /// The sweep config (TOML), e.g. configs/quick.toml.
    config: PathBuf,
    /// Output folder (default: results/<name>/).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Continue a folder of the same config (also the default when the folder holds this
    /// sweep's results): runs already recorded are skipped. Kept for scripts.
    #[arg(long)]
    resume: bool,
    /// Also run again the runs recorded as crashed, failed or timeout (not diverged: that is a
    /// result), and, in a sweep without rungs, the ok runs flagged `interference` (other
    /// processes used the machine during them). The new record replaces the old one and keeps
    /// its reason under `attempts`.
    #[arg(long)]
    retry_failed: bool,
    /// List the expanded runs with run ids and a rough duration estimate; run nothing.
    #[arg(long)]
    dry_run: bool,
    /// Machine-readable output: JSON lines of events (with --dry-run, one JSON array).
    #[arg(long)]
    json: bool,
    /// Override the config's thread count (candle compute threads, RAYON_NUM_THREADS).
    #[arg(long)]
    threads: Option<usize>,
    /// Run only shard i of n (0-based): the runs whose position is ≡ i (mod n).
    #[arg(long)]
    shard: Option<Shard>,
    /// Datasets folder (default: $GREENBENCH_DATASETS or ./datasets).
    #[arg(long, env = "GREENBENCH_DATASETS")]
    datasets: Option<PathBuf>,
    /// Print only errors (the exit code still tells whether every run ended ok).
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    meter: MeterSettings,
}

impl SweepArgs {
    /// The sweep `greenbench exec` runs: `config` into `out`, with the given meter settings.
    pub fn for_exec(config: PathBuf, out: PathBuf, meter: MeterSettings) -> SweepArgs {
        SweepArgs {
            config,
            out: Some(out),
            resume: false,
            retry_failed: false,
            dry_run: false,
            json: false,
            threads: None,
            shard: None,
            datasets: None,
            quiet: false,
            meter,
        }
    }

    /// Whether this is `--dry-run` (lists runs, runs nothing).
    pub fn is_dry_run(&self) -> bool {
        self.dry_run
    }
}

/// Loads and validates a config, applying a thread override.
pub fn load_config(
    path: &std::path::Path,
    threads: Option<usize>,
    catalog: &dyn greenbench_core::Catalog,
) -> anyhow::Result<SweepConfig> {
    let mut cfg = SweepConfig::load(path)?;
    if let Some(t) = threads {
        if t == 0 {
            bail!("--threads must be at least 1");
        }
        cfg.threads.value = vec![t as i64];
    }
    cfg.validate(catalog)?;
    Ok(cfg)
}

/// Exit code of a sweep whose runs did not all end ok (crashed, failed, timeout, diverged).
pub const EXIT_NOT_ALL_OK: u8 = 3;
/// Exit code of a sweep stopped by Ctrl-C or SIGTERM (the run in progress is not recorded).
pub const EXIT_INTERRUPTED: u8 = 130;

/// Runs the command; the exit code says whether every run of the sweep ended ok.
pub fn run(a: SweepArgs) -> anyhow::Result<ExitCode> {
    let datasets = a
        .datasets
        .clone()
        .unwrap_or_else(greenbench_data::default_root);
    let mut zoo = ZooCatalog::new(datasets.clone());
    if a.dry_run {
        // A dry run lists runs even when datasets are not fetched yet.
        zoo = zoo.accepting_absent_datasets();
    }
    let cfg = load_config(&a.config, a.threads, &zoo)?;
    let mut out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results").join(&cfg.name));
    if let Some(s) = a.shard {
        out = out.join(s.folder_name());
    }
    if a.dry_run {
        dry_run(&cfg, a.shard, a.json)?;
        return Ok(ExitCode::SUCCESS);
    }
    greenbench_runner::check_paths(&out)?;
    std::fs::create_dir_all(&out)
        .with_context(|| format!("creating the sweep folder {}", out.display()))?;
    let lock = FolderLock::acquire(&out, "sweep")?;
    let opts = options(&a, out, datasets)?;
    run_locked(&a, &cfg, &opts, &lock)
}

/// How the runner runs this sweep: the worker command, its environment, the meters.
fn options(a: &SweepArgs, out: PathBuf, datasets: PathBuf) -> anyhow::Result<SweepOptions> {
    let exe =
        std::env::current_exe().context("finding the greenbench executable to start workers")?;
    let host = greenbench_runner::host_info(crate::CANDLE_VERSION, greenbench_models::simd_width());
    let catalog =
        ZooCatalog::new(datasets.clone()).with_machine_watts(machine_watts(&a.meter, &host));
    Ok(SweepOptions {
        out,
        retry_failed: a.retry_failed,
        shard: a.shard,
        progress: if a.json {
            ProgressMode::Json
        } else if a.quiet {
            ProgressMode::Quiet
        } else {
            ProgressMode::Auto
        },
        worker_command: vec![exe.into_os_string(), "worker".into()],
        worker_env: greenbench_runner::worker_env(),
        meter: serde_json::to_value(&a.meter)?,
        meter_status: a.meter.probe_json(),
        datasets_root: datasets.clone(),
        sampler_hz: a.meter.sampler_hz,
        host,
        catalog: Box::new(catalog),
        proc_root: "/proc".into(),
    })
}

/// The most power the CPU estimate charges this machine at full load — every core busy at the
/// estimate's watts per core, and DRAM at its W/GB over all installed memory — watts. A
/// package's TDP is the table's watts per core × its cores, so this bounds a RAPL reading of a
/// CPU run too. A budget predicts the first run's energy from it, before any run is measured.
fn machine_watts(meter: &MeterSettings, host: &greenbench_core::HostInfo) -> f64 {
    use greenbench_meter::{watts_per_core, DRAM_W_PER_GB};
    let (per_core, _) = watts_per_core(Some(&host.cpu_model), meter.watts_per_core);
    per_core * host.cores.max(1) as f64 + DRAM_W_PER_GB * host.mem_gb
}

/// Runs the sweep in its locked folder: signals handled, a power limit left by a killed sweep
/// restored, then the summary and the exit code.
fn run_locked(
    a: &SweepArgs,
    cfg: &SweepConfig,
    opts: &SweepOptions,
    lock: &FolderLock,
) -> anyhow::Result<ExitCode> {
    let out = &opts.out;
    let mut idle = |secs: f64| measure_idle(&a.meter, cfg, a.shard, out, secs);
    interrupt::install_handlers();
    let mut capper = NvmlCapper::new(out.join("power-limit-restore.json"));
    if let Some(w) = capper.recover(a.meter.gpu_index)? {
        say(&format!(
            "restored the GPU power limit to {w} W (left by an interrupted sweep)"
        ));
    }
    let cap: Option<&mut dyn PowerCap> = if cfg.power_limit_w.value.is_empty() {
        None
    } else {
        Some(&mut capper)
    };
    let estimate = estimate_remaining(cfg, a.shard, out);
    let t0 = std::time::Instant::now();
    let summary = match greenbench_runner::run_sweep(cfg, opts, lock, &mut idle, cap) {
        Err(RunnerError::Interrupted) => {
            say(&format!(
                "interrupted: the run in progress was stopped and not recorded; every finished run is in {}. \
                 Run the same command again to continue.",
                out.join("runs.jsonl").display()
            ));
            return Ok(ExitCode::from(EXIT_INTERRUPTED));
        }
        // The idle baseline was cut short: no manifest, no record was written.
        Err(RunnerError::Idle(_)) if interrupt::is_requested() => {
            say(&format!(
                "interrupted while measuring the idle baseline: nothing was written to {} (no manifest, no run). \
                 Run the same command again to start the sweep.",
                out.display()
            ));
            return Ok(ExitCode::from(EXIT_INTERRUPTED));
        }
        other => other?,
    };
    if interrupt::is_requested() {
        // Every run is recorded; the idle power after the last run was not measured (or cut
        // short) and is left out of the manifest.
        say(&format!(
            "interrupted after the last run: every run is recorded in {}; the idle power after the sweep \
             (idle_power_end_w, for baseline drift) was not measured.",
            out.join("runs.jsonl").display()
        ));
        return Ok(ExitCode::from(EXIT_INTERRUPTED));
    }
    if opts.progress == ProgressMode::Auto {
        let elapsed = t0.elapsed().as_secs_f64();
        say(&summary_text(cfg, &summary, elapsed, estimate));
    }
    Ok(if summary.all_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_NOT_ALL_OK)
    })
}

/// The sweep's idle measurement: mean power per component over `secs`, given up as soon as
/// Ctrl-C or SIGTERM asks the sweep to stop (an error: a window cut short is no baseline, and
/// nothing is written as if measured). While it lasts, the folder's idle marker tells
/// `greenbench status` that this sweep is measuring idle power.
fn measure_idle(
    meter: &MeterSettings,
    cfg: &SweepConfig,
    shard: Option<Shard>,
    out: &Path,
    secs: f64,
) -> Result<ComponentPower, BoxError> {
    let marker = IdleMarker::now(out, &cfg.name, secs, &cfg.path, &cfg.text, shard);
    let _shown = match marker.show(out) {
        Ok(shown) => Some(shown),
        Err(e) => {
            say(&format!(
                "could not tell `greenbench status` that idle power is being measured: {e}"
            ));
            None
        }
    };
    match meter.idle_baseline(secs, &interrupt::is_requested)? {
        Some(power) => Ok(power),
        None => Err(anyhow::anyhow!(
            "stopped by Ctrl-C or SIGTERM before the {secs} s window ended; no idle power was measured"
        )
        .into()),
    }
}

/// What a finished sweep says: every record of the folder by status, what ran now, what to do
/// next.
fn summary_text(
    cfg: &SweepConfig,
    s: &SweepSummary,
    elapsed_s: f64,
    estimate_s: Option<f64>,
) -> String {
    let folder = s.out.display();
    let ran = s.ok + s.not_ok;
    let mut t = if ran == 0 {
        format!(
            "{folder} already holds {} of the {} runs of sweep `{}` ({}); nothing to do.",
            s.skipped,
            s.total,
            cfg.name,
            s.status_counts()
        )
    } else {
        format!(
            "sweep `{}`: {} runs in {folder}: {} ({ran} run now in {}, {} already recorded).",
            cfg.name,
            s.total,
            s.status_counts(),
            human_duration(elapsed_s),
            s.skipped
        )
    };
    if let Some(e) = estimate_s.filter(|&e| ran > 0 && elapsed_s > 0.0 && e > 0.0) {
        t.push_str(&format!(
            "\nestimated ≈ {} before the sweep (as --dry-run prints), took {}: {:.2}× the estimate.",
            human_duration(e),
            human_duration(elapsed_s),
            elapsed_s / e
        ));
    }
    if s.retryable > 0 {
        t.push_str(&format!(
            "\n{} run(s) did not end ok (reasons in runs.jsonl and logs/); after fixing the cause, \
             run the same command with --retry-failed to run them again.",
            s.retryable
        ));
    }
    if s.interfered > 0 {
        let what = if greenbench_runner::retries_interfered(cfg) {
            "run the same command with --retry-failed on a quiet machine to measure them again"
        } else {
            "a halving search keeps them, since its later rungs were decided from them; \
             `greenbench report --exclude-flagged` leaves them out"
        };
        t.push_str(&format!(
            "\n{} ok run(s) ran while other processes used the machine (flag `interference`: their \
             time and energy are not theirs alone); {what}.",
            s.interfered
        ));
    }
    t.push_str(&format!("\nnext: greenbench report {folder}"));
    t
}

/// The planned duration of the runs of this sweep (or shard) that have no record in `out` yet.
fn estimate_remaining(
    cfg: &SweepConfig,
    shard: Option<Shard>,
    out: &std::path::Path,
) -> Option<f64> {
    let done = greenbench_runner::recorded(&out.join("runs.jsonl")).unwrap_or_default();
    let runs = greenbench_runner::owned_runs(cfg, shard);
    Planner::default().sweep_seconds(
        cfg,
        runs.iter()
            .map(|(_, s)| s)
            .filter(|s| !done.contains_key(&s.run_id())),
    )
}

fn dry_run(cfg: &SweepConfig, shard: Option<Shard>, json: bool) -> anyhow::Result<()> {
    let runs = greenbench_runner::owned_runs(cfg, shard);
    let mut planner = Planner::default();
    let rows: Vec<_> = runs
        .iter()
        .map(|(pos, spec)| (pos, spec, planner.run_seconds(spec)))
        .collect();
    let total = planner.sweep_seconds(cfg, runs.iter().map(|(_, s)| s));
    if json {
        let arr: Vec<serde_json::Value> = rows
            .iter()
            .map(|(pos, s, est)| {
                let mut row = serde_json::json!({
                    "position": pos, "run_id": s.run_id(), "repeat": s.repeat,
                    "estimated_duration_s": est,
                });
                // Every axis of the config, named as the config names it.
                for (axis, value) in greenbench_core::axis_values(s) {
                    row[axis] = value;
                }
                if let Some(w) = &s.workload {
                    row["command"] = serde_json::json!(w.command);
                    for (axis, value) in &w.axes {
                        row[axis.as_str()] = value.clone();
                    }
                }
                row
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&arr)?);
        return Ok(());
    }
    println!(
        "{:>4}  {:<12}  {:<16} {:<16} {:>6} {:>9} {:<12} {:>6} {:<7} {:>4}  {:>10}",
        "#",
        "run_id",
        "model",
        "dataset",
        "batch",
        "lr",
        "optimizer",
        "epochs",
        "device",
        "rep",
        "≈duration"
    );
    for (pos, s, est) in &rows {
        println!(
            "{:>4}  {:<12}  {:<16} {:<16} {:>6} {:>9} {:<12} {:>6} {:<7} {:>4}  {:>10}",
            pos,
            s.run_id(),
            s.model,
            s.dataset,
            s.batch_size,
            compact_number(s.lr),
            s.optimizer,
            s.epochs,
            s.device,
            s.repeat,
            est.map_or("?".into(), human_duration)
        );
        if let Some(w) = &s.workload {
            let axes: Vec<String> = w.axes.iter().map(|(k, v)| format!("{k}={v}")).collect();
            println!("      {} {}", axes.join(" "), w.command.join(" "));
        }
    }
    println!(
        "{} runs{}; estimated total {} (idle baselines included; {})",
        rows.len(),
        shard.map(|s| format!(" in shard {s}")).unwrap_or_default(),
        total.map_or(
            "unknown: a run's duration cannot be estimated (marked ?)".into(),
            |t| { format!("≈ {}", human_duration(t)) }
        ),
        plan_basis()
    );
    println!("{}", order_line(cfg));
    if let Some(line) = search_line(cfg, rows.len()) {
        println!("{line}");
    }
    Ok(())
}

/// The order the listed runs run in, as the config's `order` sets it.
fn order_line(cfg: &SweepConfig) -> String {
    use greenbench_core::RunOrder;
    let how = match cfg.order.value {
        RunOrder::Interleaved => {
            "every configuration once, then the next seed or repeat of every configuration"
        }
        RunOrder::Shuffled => {
            "each round of seeds and repeats in its own random order, drawn from the sweep's seed"
        }
        RunOrder::Grid => "the expansion order, the seeds and repeats of a configuration in a row",
    };
    format!(
        "run order: {} ({how}); the runs are listed in that order",
        cfg.order.value
    )
}

/// What a `[search]` table adds to the listed runs (later rungs, the draw, the budget).
fn search_line(cfg: &SweepConfig, listed: usize) -> Option<String> {
    use greenbench_core::Strategy;
    let s = &cfg.search;
    let mut parts = Vec::new();
    match s.strategy {
        Strategy::Grid => {}
        Strategy::Random => parts.push(format!(
            "random search: these {listed} runs are drawn from the grid (seed {}{})",
            s.seed,
            s.lr_range
                .map(|[a, b]| format!(
                    ", lr log-uniform in [{}, {})",
                    compact_number(a),
                    compact_number(b)
                ))
                .unwrap_or_default()
        )),
        Strategy::Halving => {
            let rungs = s.rung_epochs();
            let first: Vec<_> = cfg.expand();
            let later = greenbench_runner::planned_runs(cfg, &first) - first.len();
            let starts: Vec<String> = rungs
                .iter()
                .take(s.bracket_count())
                .map(usize::to_string)
                .collect();
            parts.push(format!(
                "halving search: these runs start its {} bracket(s) at {} epoch(s); then {later} more run(s) in rungs of {} epochs, \
                 the best 1/{} by objective `{}` on validation accuracy (never test), each continued from its checkpoint (not in the estimate above)",
                starts.len(),
                starts.join(", "),
                rungs.iter().skip(1).map(usize::to_string).collect::<Vec<_>>().join(", "),
                s.eta,
                s.objective.name(),
            ));
        }
    }
    let b = &s.budget;
    if b.is_set() {
        let limits: Vec<String> = [
            b.energy_kwh.map(|v| format!("{v} kWh")),
            b.hours.map(|v| format!("{v} h")),
            b.co2_g.map(|v| format!("{v} g CO₂e")),
        ]
        .into_iter()
        .flatten()
        .collect();
        parts.push(format!(
            "budget: {} — a run whose upper prediction does not fit what is left is recorded as skipped",
            limits.join(", ")
        ));
    }
    (!parts.is_empty()).then(|| parts.join("\n"))
}
