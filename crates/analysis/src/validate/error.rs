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
