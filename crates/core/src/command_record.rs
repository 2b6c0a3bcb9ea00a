//! What a record keeps of an external command (a `[workload]` run or `greenbench exec`): how it
//! ended, how long it ran, the CPU time of its process tree and the energy of the whole command,
//! whatever phases it reported.

use serde::{Deserialize, Serialize};

use crate::energy::ComponentEnergy;

/// The external command of a run, as it ran.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CommandRecord {
    /// Program and arguments as started.
    pub argv: Vec<String>,
    /// Exit code, when it exited (absent when a signal ended it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// The signal that ended it, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
    /// Wall seconds from start to exit.
    pub duration_s: f64,
    /// CPU seconds (user + system) of the command's process tree, when readable.
    pub cpu_s: Option<f64>,
    /// Raw energy of the whole command, start to exit (the phases it reported are parts of it).
    pub energy: ComponentEnergy,
    /// Training samples per epoch, when the command reported them (the record's
    /// `train_samples`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_samples: Option<u64>,
    /// Whether it reported its phases (epochs, inference) in the line protocol; when not,
    /// `train.energy` is the whole command's and its phases are missing.
    pub phases_reported: bool,
    /// What did not go as it should: protocol lines that could not be read, processes the
    /// command left running, phases opened and never closed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}
