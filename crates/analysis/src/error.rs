//! Errors of the analysis crate. Each names the file concerned and, where it helps, what to do.

use std::path::PathBuf;
use thiserror::Error;

/// Why an analysis step failed.
#[derive(Debug, Error)]
pub enum AnalysisError {
    /// `runs.jsonl` could not be read or a line is malformed (the core error names file and line).
    #[error(
        "{0}\n  hint: fix or delete that line; `greenbench sweep --resume` rewrites missing runs"
    )]
    Records(#[from] greenbench_core::CoreError),
    /// The sweep folder has no `runs.jsonl`.
    #[error("{}: no runs.jsonl here; run `greenbench sweep CONFIG` first or pass the sweep folder (results/<name>)", dir.display())]
    NoRecords {
        /// The folder that was given.
        dir: PathBuf,
    },
    /// A file could not be read or written.
    #[error(transparent)]
    Io(#[from] greenbench_core::IoError),
    /// `manifest.json` is malformed.
    #[error("{}: {message}\n  hint: the runner writes this file; restore it or delete it to use the default carbon settings (475 g/kWh, PUE 1.0)", path.display())]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A CSV export failed.
    #[error("writing {}: {message}", path.display())]
    Csv {
        /// The CSV file.
        path: PathBuf,
        /// What the csv writer said.
        message: String,
    },
    /// A figure could not be drawn or written.
    #[error("drawing {}: {message}", path.display())]
    Figure {
        /// The figure file.
        path: PathBuf,
        /// What plotters said.
        message: String,
    },
    /// Not enough usable records for what was asked.
    #[error("{0}")]
    Insufficient(String),
}

impl AnalysisError {
    /// An I/O error on `path` while doing `what`.
    pub fn io(what: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        AnalysisError::Io(greenbench_core::IoError {
            what,
            path: path.into(),
            source,
        })
    }
}
