//! Errors of the runner.

use std::path::PathBuf;
use thiserror::Error;

use greenbench_core::IoError;

/// What can stop a sweep (a failing run does not: it is recorded and the sweep goes on).
#[derive(Debug, Error)]
pub enum RunnerError {
    /// A file or folder could not be read or written.
    #[error(transparent)]
    Io(#[from] IoError),
    /// The output folder holds results of another configuration, or needs `--resume`.
    #[error("{0}")]
    OutputFolder(String),
    /// A configuration or record problem from core.
    #[error(transparent)]
    Core(#[from] greenbench_core::CoreError),
    /// The worker process could not be started.
    #[error("could not start the worker process `{program}`: {source}")]
    Spawn {
        /// The worker program that could not be started (normally this greenbench binary).
        program: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The grid intensity of `[carbon]` could not be resolved (validation checks it first).
    #[error(transparent)]
    Carbon(#[from] greenbench_core::CarbonError),
    /// The idle baseline could not be measured.
    #[error("idle baseline: {0}")]
    Idle(String),
    /// Another greenbench process holds the folder's lock.
    #[error(
        "{} is in use by {holder}; a second writer would interleave its runs.jsonl. \
         Wait for that process to finish (or stop it), or write to another folder with --out",
        dir.display()
    )]
    Locked {
        /// The folder.
        dir: PathBuf,
        /// Who holds the lock: command, pid, host and since when.
        holder: String,
    },
    /// The sweep was interrupted (Ctrl-C, SIGTERM); finished runs are recorded.
    #[error(
        "interrupted: the run in progress was stopped and not recorded; run the same command again to continue"
    )]
    Interrupted,
    /// A GPU power limit could not be restored: the sweep stops rather than run on a wrong limit.
    #[error("GPU power limit: {0}")]
    PowerLimit(String),
    /// A request or event could not be (de)serialized.
    #[error("{0}")]
    Protocol(String),
}

/// For `map_err`: the OS error of doing `what` on `path` (`?` makes it a [`RunnerError::Io`]).
pub(crate) use greenbench_core::io_error as io;
