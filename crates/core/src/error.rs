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
    #[error("{what} {}: {source}", path.display())]
    Io {
        /// What was being done ("reading config", …).
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
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
