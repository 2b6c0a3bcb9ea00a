//! The external command of one run, as its spec holds it: what a `[workload]` table resolves to
//! for that run (see the config's workload module), and where the command may write protocol
//! lines.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Environment variable greenbench sets for an external command: a file the command may write
/// protocol lines to (instead of, or beside, its stdout).
pub const EVENTS_ENV: &str = "GREENBENCH_EVENTS";

/// The external command of one run, as its spec holds it (part of the run id).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalRun {
    /// Program and arguments, placeholders filled in.
    pub command: Vec<String>,
    /// Environment variables set for the command (besides the inherited ones).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// The run's value on each of the workload's own axes (`[workload.axes]`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub axes: BTreeMap<String, serde_json::Value>,
}
