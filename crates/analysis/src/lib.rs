//! greenbench-analysis: reads sweep records (from any machine) and turns them into statistics,
//! predictions, carbon figures, exports, figures and a report.
//!
//! Entry points:
//! - [`write_report`] (`greenbench report DIR`): every table, figure and export of a results
//!   folder, with [`ReportOptions`] in and a [`ReportSummary`] out;
//! - [`predict`] (`greenbench predict DIR …`): energy and duration of a configuration not run,
//!   as a [`Prediction`];
//! - [`write_validation`] / [`validate`] (`greenbench validate DIR --wall-log …`): a sweep's
//!   energy against a wall meter's log;
//! - [`Sweep::load`]: the records and manifest of a folder, and [`EnergyBasis`], the energy
//!   (net or raw) its statistics use;
//! - [`svg_layout`] and [`layout_problems`]: clipped or overlapping text in a drawn figure;
//! - the way the report writes a number ([`format_sig`], [`format_energy`],
//!   [`format_duration`], [`percent`]) and reads a figure width ([`parse_width`],
//!   [`figure_width_px`]).
//!
//! Only records with status `ok` enter statistics. Every module is private.

mod carbon;
mod context;
mod correlation;
mod data;
mod error;
mod estimator;
mod export;
mod figures;
mod flagged;
mod groups;
mod no_validation;
mod numbers;
mod pareto;
mod predict;
mod ranges_section;
mod repeats_section;
mod report;
mod resample;
mod ridge;
mod search;
mod search_section;
mod stats;
mod table;
mod validate;

#[cfg(test)]
#[path = "../tests/common/mod.rs"]
mod test_common;

pub use carbon::{CarbonError, CarbonSettings};
pub use data::{EnergyBasis, Sweep};
pub use error::AnalysisError;
pub use figures::{
    layout_problems, parse_width, svg_layout, width_px as figure_width_px, FigureError,
    FigureOutcome, LayoutProblem, SvgLayout,
};
pub use numbers::{duration as format_duration, energy as format_energy, sig as format_sig};
pub use predict::{
    predict, Basis as PredictionBasis, Interval as PredictionInterval, Method as PredictionMethod,
    Prediction,
};
pub use report::{write_report, ReportOptions, ReportSummary};
pub use validate::{
    percent, validate, write_validation, ValidateOptions, Validation, ValidationError,
};
