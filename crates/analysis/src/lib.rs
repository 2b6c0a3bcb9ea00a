//! greenbench-analysis: reads sweep records (from any machine) and turns them into statistics,
//! predictions, carbon figures, exports, figures and a report.
//!
//! Entry points: [`report::write_report`] (`greenbench report DIR`) and [`predict::predict`]
//! (`greenbench predict DIR …`). Only records with status `ok` enter statistics.

pub mod carbon;
pub mod context;
pub mod correlation;
pub mod data;
mod error;
pub mod estimator;
pub mod export;
pub mod figures;
pub mod flagged;
pub mod groups;
pub mod no_validation;
pub mod numbers;
pub mod pareto;
pub mod predict;
pub mod ranges_section;
pub mod repeats_section;
pub mod report;
pub mod resample;
pub mod ridge;
pub mod search;
mod search_section;
pub mod stats;
pub mod table;
pub mod validate;

pub use carbon::{CarbonError, CarbonSettings};
pub use context::ReportContext;
pub use data::{EnergyBasis, Sweep};
pub use error::AnalysisError;
pub use predict::{predict, Prediction};
pub use report::{write_report, ReportOptions, ReportSummary};
