//! Why `greenbench validate` cannot compare.

use std::path::PathBuf;

use super::wall_log::WallLogError;
use crate::AnalysisError;

/// Why a validation failed.
#[derive(Debug, thiserror::Error)]
pub enum ValidationError {
    /// The sweep folder could not be read.
    #[error(transparent)]
    Sweep(#[from] AnalysisError),
    /// The wall log could not be read.
    #[error(transparent)]
    Wall(#[from] WallLogError),
    /// No wall idle: the log starts after the first run did.
    #[error("wall log {}: no interval before the first run started (log from {log_start:.1}, first run at {first_run:.1}, Unix seconds); start logging before the sweep so its idle can be measured, pass the wall idle with --idle-w WATTS, or set --offset if the meter's clock differs", wall.display())]
    NoIdle {
        /// The log.
        wall: PathBuf,
        /// First timestamp of the log (after the offset).
        log_start: f64,
        /// When the first run started.
        first_run: f64,
    },
    /// An option has a value that cannot be used.
    #[error("{name}: {problem}")]
    Option {
        /// The option.
        name: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// No run could be compared.
    #[error("no run of {} could be compared with the wall log:\n{reasons}", dir.display())]
    NothingCompared {
        /// The sweep folder.
        dir: PathBuf,
        /// One line per run: id and why.
        reasons: String,
    },
}

/// Why one run could not be compared with the wall log (the others still are).
#[derive(Debug, thiserror::Error)]
pub enum RunSkip {
    /// The run has no trace file.
    #[error("no trace (traces/<run_id>.csv): sampled at 0 Hz, or the run never started")]
    NoTrace,
    /// The trace file could not be read.
    #[error(transparent)]
    Trace(#[from] super::trace::TraceError),
    /// The record's end time is not a time.
    #[error("finished_at {0:?} is not an RFC 3339 time")]
    BadFinishedAt(String),
    /// The trace has no rows.
    #[error("the trace has no rows")]
    EmptyTrace,
    /// The wall log does not cover the run's window.
    #[error("the wall log ({:.0}–{:.0}) does not cover the run's window ({:.1}–{:.1}, Unix seconds); log the whole sweep, or set --offset if the meter's clock differs", wall.0, wall.1, run.0, run.1)]
    NotCovered {
        /// First and last time of the wall log (Unix seconds, after the offset).
        wall: (f64, f64),
        /// The run's window (Unix seconds).
        run: (f64, f64),
    },
}
