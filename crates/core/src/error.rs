//! Error types of the core crate.

use std::path::PathBuf;
use thiserror::Error;

/// The error of an interface another crate implements ([`crate::Catalog`],
/// [`crate::PhaseMeter`], [`crate::PowerCap`]): any error, its causes kept for the message.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A sweep configuration error, located in its file.
///
/// Displayed as `FILE:LINE:COLUMN: field `FIELD`: MESSAGE` followed by a hint when there is one.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("{}:{line}:{column}: field `{field}`: {message}{}", file.display(), hint.as_ref().map(|h| format!("\n  hint: {h}")).unwrap_or_default())]
pub struct ConfigError {
    /// The configuration file.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// Dotted field path, e.g. `grid.batch_size`.
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// What to do about it (accepted values, a command to run).
    pub hint: Option<String>,
}

/// A file or folder could not be read or written: what was being done, on which path, and the
/// operating system's error. The one I/O error of every greenbench crate (each wraps it in its
/// own error enum).
#[derive(Debug, Error)]
#[error("{what} {}: {source}", path.display())]
pub struct IoError {
    /// What was being done ("reading sweep config", "writing record", …).
    pub what: &'static str,
    /// The file or folder.
    pub path: PathBuf,
    /// The operating system's error.
    #[source]
    pub source: std::io::Error,
}

/// For `map_err`: the OS error of doing `what` on `path` as an [`IoError`] (each crate's error
/// converts it with `?`).
pub fn io(what: &'static str, path: &std::path::Path) -> impl FnOnce(std::io::Error) -> IoError {
    let path = path.to_path_buf();
    move |source| IoError { what, path, source }
}

/// Errors of the core crate other than configuration errors.
#[derive(Debug, Error)]
pub enum CoreError {
    /// A located configuration error.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Several configuration errors, all reported at once.
    #[error("{} errors in the configuration:\n{}", .0.len(), .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    ConfigMany(Vec<ConfigError>),
    /// A file could not be read or written.
    #[error(transparent)]
    Io(#[from] IoError),
    /// A manifest.json could not be parsed.
    #[error("{}: not a greenbench manifest: {message}", path.display())]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// What serde said (the field and what it expected).
        message: String,
    },
    /// A record line could not be parsed.
    #[error("{}:{line}: not a valid greenbench record: {message}", path.display())]
    Record {
        /// The runs.jsonl file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What serde said.
        message: String,
    },
}

/// Why one line of `runs.jsonl` is not a record this greenbench reads.
#[derive(Debug, Error)]
pub enum RecordError {
    /// Not JSON, or JSON that is not a record (serde's message names the field).
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// Written with another record schema.
    #[error(
        "schema_version {found}, this greenbench reads version {}",
        crate::SCHEMA_VERSION
    )]
    SchemaVersion {
        /// The line's `schema_version`.
        found: u64,
    },
    /// The line has no `schema_version` field.
    #[error("no schema_version field")]
    NoSchemaVersion,
}
