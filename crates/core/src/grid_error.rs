//! Why a grid-intensity series or window cannot be used (kept beside `grid.rs`, which raises
//! them, so the crate's error module needs nothing from the grid).

use thiserror::Error;

use chrono::{DateTime, Utc};

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
    #[error("timestamp {} is not after the line before ({}); sort the file by time without duplicates", show(*at), show(*before))]
    NotAfter {
        /// This row's time, seconds since the Unix epoch.
        at: i64,
        /// The previous row's time.
        before: i64,
    },
}

/// Why a grid-intensity series could not be read or averaged over a run's window.
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
    #[error("the window {} – {} is not inside the series' period {} – {}", show(*start), show(*end), show(*first), show(*last))]
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
    /// A run's `started_at` or `finished_at` is not a timestamp.
    #[error("bad run time `{time}`")]
    BadRunTime {
        /// The time as recorded.
        time: String,
    },
}

/// A time as RFC 3339 in UTC, for messages (the raw number when out of range).
pub(crate) fn show(t: i64) -> String {
    DateTime::<Utc>::from_timestamp(t, 0).map_or_else(|| t.to_string(), |d| d.to_rfc3339())
}
