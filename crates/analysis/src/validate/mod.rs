//! `greenbench validate DIR --wall FILE.csv`: greenbench's energy per run against a wall meter's.
//!
//! * Each run's window is its trace's span (`traces/<run_id>.csv`, seconds since the sampler
//!   started), ending at the record's `finished_at` (the trace stops when the run's inference
//!   ends; the worker's exit after it takes milliseconds). `--offset` shifts the wall log's clock
//!   onto this machine's.
//! * greenbench's energy over the window: the trace's power integrated (each row's watts over the
//!   interval since the previous row, rows without a reading filled with the trace's mean power),
//!   minus greenbench's own idle power × span, that idle being the one the run's record used
//!   (raw − net training energy ÷ training seconds). A record without a net figure is compared raw.
//! * The wall's energy over the window minus the wall's idle × span; the idle is the wall log's
//!   mean power before the first run started (the sweep measures its own idle baseline then), or
//!   `--idle-w`.
//! * Error = greenbench ÷ wall − 1, per run and over all compared runs (sums).

mod error;
mod report;
mod trace;
mod wall_log;

use std::path::{Path, PathBuf};

use greenbench_core::RunRecord;

use crate::data::Sweep;
pub use error::{RunSkip, ValidationError};
pub use report::{percent, write_validation};
pub use trace::Trace;
pub use wall_log::WallLog;

/// What `validate` is given.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidateOptions {
    /// The wall log.
    pub wall: PathBuf,
    /// Wall idle power in watts; `None` = the log's mean before the first run.
    pub idle_w: Option<f64>,
    /// Seconds added to the wall log's timestamps to put them on this machine's clock.
    pub offset_s: f64,
}

/// Where the wall idle came from.
#[derive(Debug, Clone, PartialEq)]
pub struct WallIdle {
    /// Watts.
    pub watts: f64,
    /// How it was found, in words.
    pub how: String,
}

/// One run compared.
#[derive(Debug, Clone, PartialEq)]
pub struct RunComparison {
    /// Run id.
    pub run_id: String,
    /// Model.
    pub model: String,
    /// Window start and end, Unix seconds (this machine's clock).
    pub window: (f64, f64),
    /// greenbench's energy over the window (net of its idle when `net`), J.
    pub greenbench_j: f64,
    /// Whether `greenbench_j` is net of greenbench's idle.
    pub net: bool,
    /// greenbench's idle power subtracted, W.
    pub greenbench_idle_w: f64,
    /// Quality of the run's energy (`measured`, `estimated`, …).
    pub quality: String,
    /// Share of the trace's span with a power reading (0–1).
    pub trace_coverage: f64,
    /// The wall's energy over the window, J.
    pub wall_j: f64,
    /// The wall's energy minus its idle over the window, J.
    pub wall_net_j: f64,
}

impl RunComparison {
    /// Seconds of the window.
    pub fn seconds(&self) -> f64 {
        self.window.1 - self.window.0
    }

    /// greenbench ÷ wall net − 1; `None` when the wall net energy is not above 0.
    pub fn error(&self) -> Option<f64> {
        (self.wall_net_j > 0.0).then(|| self.greenbench_j / self.wall_net_j - 1.0)
    }
}

/// The whole validation.
#[derive(Debug, Clone, PartialEq)]
pub struct Validation {
    /// The sweep folder.
    pub dir: PathBuf,
    /// The wall log.
    pub wall_path: PathBuf,
    /// Rows of the wall log, its span (Unix seconds, shifted) and median interval.
    pub wall_rows: usize,
    /// First and last timestamp of the wall log after the offset.
    pub wall_span: (f64, f64),
    /// Median seconds between wall rows.
    pub wall_interval_s: f64,
    /// Offset applied to the wall log, s.
    pub offset_s: f64,
    /// The wall idle.
    pub idle: WallIdle,
    /// Runs compared, in record order.
    pub runs: Vec<RunComparison>,
    /// Runs not compared: (run id, why).
    pub skipped: Vec<(String, String)>,
}

impl Validation {
    /// Σ greenbench ÷ Σ wall net − 1 over the compared runs.
    pub fn overall_error(&self) -> Option<f64> {
        let gb: f64 = self.runs.iter().map(|r| r.greenbench_j).sum();
        let wall: f64 = self.runs.iter().map(|r| r.wall_net_j).sum();
        (wall > 0.0 && !self.runs.is_empty()).then(|| gb / wall - 1.0)
    }
}

/// Unix seconds of an RFC 3339 timestamp (fractions kept).
fn unix_s(s: &str) -> Option<f64> {
    let t = chrono::DateTime::parse_from_rfc3339(s).ok()?;
    Some(t.timestamp() as f64 + f64::from(t.timestamp_subsec_nanos()) * 1e-9)
}

/// greenbench's idle power for a run, as its record used it: (raw − net) ÷ training seconds.
fn record_idle_w(r: &RunRecord) -> Option<f64> {
    let t = r.train.as_ref()?;
    let raw = t.energy.total_j?;
    let net = t.net_energy.total_j?;
    let idle = (raw - net) / t.duration_s;
    (t.duration_s > 0.0 && idle.is_finite()).then_some(idle)
}

/// Compares the sweep in `dir` with the wall log (reads, writes nothing).
pub fn validate(dir: &Path, opts: &ValidateOptions) -> Result<Validation, ValidationError> {
    let sweep = Sweep::load(dir)?;
    let mut wall = WallLog::read(&opts.wall)?;
    if !opts.offset_s.is_finite() {
        return Err(ValidationError::Option {
            name: "--offset",
            problem: format!("{} is not a number of seconds", opts.offset_s),
        });
    }
    for row in &mut wall.rows {
        row.0 += opts.offset_s;
    }
    let (first, last) = wall.span();
    let first_start = sweep
        .records
        .iter()
        .filter_map(|r| unix_s(&r.started_at))
        .fold(f64::INFINITY, f64::min);
    let idle = match opts.idle_w {
        Some(w) if w.is_finite() && w >= 0.0 => WallIdle {
            watts: w,
            how: "given with --idle-w".into(),
        },
        Some(w) => {
            return Err(ValidationError::Option {
                name: "--idle-w",
                problem: format!("{w} is not a power in watts ≥ 0"),
            })
        }
        None => {
            // At least one whole interval of the log must lie before the first run.
            let before = wall.rows.get(1).is_some_and(|r| r.0 <= first_start);
            let energy = before
                .then(|| wall.energy_j(first, first_start))
                .flatten()
                .filter(|_| first_start.is_finite());
            let Some(j) = energy else {
                return Err(ValidationError::NoIdle {
                    wall: opts.wall.clone(),
                    log_start: first,
                    first_run: first_start,
                });
            };
            let s = first_start - first;
            WallIdle {
                watts: j / s,
                how: format!("mean of the wall log over the {s:.0} s before the first run started"),
            }
        }
    };
    let mut runs = Vec::new();
    let mut skipped = Vec::new();
    for r in &sweep.records {
        match compare(dir, r, &wall, idle.watts) {
            Ok(c) => runs.push(c),
            Err(why) => skipped.push((r.run_id.clone(), why.to_string())),
        }
    }
    Ok(Validation {
        dir: dir.to_path_buf(),
        wall_path: opts.wall.clone(),
        wall_rows: wall.rows.len(),
        wall_span: (first, last),
        wall_interval_s: wall.median_interval(),
        offset_s: opts.offset_s,
        idle,
        runs,
        skipped,
    })
}

/// One run against the wall log, or why it cannot be compared.
fn compare(
    dir: &Path,
    r: &RunRecord,
    wall: &WallLog,
    wall_idle_w: f64,
) -> Result<RunComparison, RunSkip> {
    let path = dir.join("traces").join(format!("{}.csv", r.run_id));
    if !path.is_file() {
        return Err(RunSkip::NoTrace);
    }
    let trace = Trace::read(&path)?;
    let end =
        unix_s(&r.finished_at).ok_or_else(|| RunSkip::BadFinishedAt(r.finished_at.clone()))?;
    let span = trace.span_s();
    if span <= 0.0 {
        return Err(RunSkip::EmptyTrace);
    }
    let start = end - span;
    let wall_j = wall
        .energy_j(start, end)
        .ok_or_else(|| RunSkip::NotCovered {
            wall: wall.span(),
            run: (start, end),
        })?;
    let idle = record_idle_w(r);
    let raw = trace.energy_j();
    let quality = r
        .train
        .as_ref()
        .and_then(|t| t.energy.quality)
        .map_or_else(|| "unknown".to_string(), |q| q.to_string());
    Ok(RunComparison {
        run_id: r.run_id.clone(),
        model: r.spec.model.clone(),
        window: (start, end),
        greenbench_j: raw - idle.unwrap_or(0.0) * span,
        net: idle.is_some(),
        greenbench_idle_w: idle.unwrap_or(0.0),
        quality,
        trace_coverage: trace.coverage(),
        wall_j,
        wall_net_j: wall_j - wall_idle_w * span,
    })
}
