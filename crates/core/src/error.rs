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

/// Why a row of a grid-intensity CSV (`timestamp,g_per_kwh`) cannot be read; shown after the
/// file and line by [`GridError::Row`].
#[derive(Debug, Clone, PartialEq, Error)]
pub enum IntensityRowError {
    /// One column only.
    #[error("expected `timestamp,g_per_kwh`, found `{row}`")]
    OneColumn {
        /// The row, trimmed.
        row: String,
    },
    /// More than two columns.
    #[error("expected two columns `timestamp,g_per_kwh`, found `{row}`")]
    ExtraColumns {
        /// The row, trimmed.
        row: String,
    },
    /// The timestamp does not parse.
    #[error("bad timestamp `{timestamp}` (use RFC 3339 such as 2024-03-01T13:00:00Z, or YYYY-MM-DD HH:MM in UTC)")]
    BadTimestamp {
        /// The timestamp column.
        timestamp: String,
    },
    /// The intensity does not parse.
    #[error("intensity `{value}` is not a number (g CO2-eq per kWh)")]
    NotANumber {
        /// The intensity column.
        value: String,
    },
    /// The intensity is negative, infinite or NaN.
    #[error("intensity {value} g/kWh is negative or not finite")]
    NegativeOrNotFinite {
        /// The intensity column.
        value: String,
    },
    /// The timestamp is not after the previous row's.
    #[error("timestamp {} is not after the line before ({}); sort the file by time without duplicates", crate::grid::show(*at), crate::grid::show(*before))]
    NotAfter {
        /// This row's time, seconds since the Unix epoch.
        at: i64,
        /// The previous row's time.
        before: i64,
    },
}

/// Why grid carbon intensity could not be resolved, read or averaged over a run's window.
#[derive(Debug, Error)]
pub enum GridError {
    /// A row of an intensity CSV is malformed.
    #[error("{file}:{line}: {problem}")]
    Row {
        /// The CSV file, as named to [`crate::grid::IntensitySeries::parse`].
        file: String,
        /// 1-based line.
        line: usize,
        /// What is wrong with it.
        problem: IntensityRowError,
    },
    /// Fewer than two rows: the last row's time span is unknown.
    #[error("{file}: needs at least two rows `timestamp,g_per_kwh` (found {found}), so each row's time span is known")]
    TooFewRows {
        /// The CSV file.
        file: String,
        /// Rows found.
        found: usize,
    },
    /// A window the series does not cover (or that ends before it starts).
    #[error("the window {} – {} is not inside the series' period {} – {}", crate::grid::show(*start), crate::grid::show(*end), crate::grid::show(*first), crate::grid::show(*last))]
    WindowOutside {
        /// Window start, seconds since the Unix epoch.
        start: i64,
        /// Window end.
        end: i64,
        /// The series' first time.
        first: i64,
        /// The end of the series' period.
        last: i64,
    },
    /// `carbon.country` is not in the country table.
    #[error("carbon.country `{code}` is not in the grid-intensity table")]
    UnknownCountry {
        /// The code given.
        code: String,
    },
    /// `carbon.intensity_csv` could not be read.
    #[error("carbon.intensity_csv: cannot read {} ({source})", path.display())]
    ReadCsv {
        /// The CSV file (relative paths resolved against the config's folder).
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A run's `started_at` or `finished_at` is not a timestamp.
    #[error("bad run time `{time}`")]
    BadRunTime {
        /// The time as recorded.
        time: String,
    },
}
