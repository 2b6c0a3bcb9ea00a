//! Exports: `runs.csv` (flat, one row per run), `summary.md` (per-model table) and a
//! CodeCarbon-compatible `emissions.csv`, `tables/*.tex` (LaTeX, booktabs + siunitx) and the
//! self-contained `report.html`.

pub mod codecarbon;
pub mod html;
pub mod latex;
pub mod markdown;
pub mod runs_csv;

use std::fs::File;
use std::path::Path;

use crate::AnalysisError;

/// Creates the CSV file `path`, lets `rows` write into it and flushes it; errors name `path`.
pub(crate) fn write_csv(
    path: &Path,
    rows: impl FnOnce(&mut csv::Writer<File>) -> Result<(), csv::Error>,
) -> Result<(), AnalysisError> {
    let err = |e: csv::Error| AnalysisError::Csv {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mut w = csv::Writer::from_path(path).map_err(err)?;
    rows(&mut w).map_err(err)?;
    w.flush().map_err(|e| AnalysisError::io("writing", path, e))
}
