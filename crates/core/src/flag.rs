//! A flag on a figure of a record: which figure, and why it is not published as measured.

use serde::{Deserialize, Serialize};

/// A figure of a record that cannot be true as measured (negative net energy, idle power above
/// the run's power): it stays in the record, flagged, and reports do not publish it silently.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flag {
    /// Which figure, as a dotted path into the record (`train.net_energy`).
    pub field: String,
    /// What is wrong, with the numbers, and what the report uses instead.
    pub reason: String,
}
