//! The interfaces between the crates that run a sweep and the crate that meters energy: a
//! worker measures its phases through [`PhaseMeter`], a sweep sets GPU power limits through
//! [`PowerCap`]. `greenbench-meter` implements both; the runner and the worker name no energy
//! source.

use std::collections::BTreeMap;
use std::path::Path;

use crate::device::DeviceName;
use crate::energy::ComponentEnergy;
use crate::error::BoxError;

/// Utilisation means from a power trace.
#[derive(Debug, Clone, Copy, Default)]
pub struct TraceStats {
    /// Mean CPU utilisation of the worker process (0..100 % of all cores).
    pub cpu_util_mean: Option<f64>,
    /// Mean GPU utilisation (0..100 %).
    pub gpu_util_mean: Option<f64>,
}

/// What a worker needs from the energy meter.
pub trait PhaseMeter {
    /// Opens a measurement window (the worker synchronizes the device just before).
    fn begin(&mut self) -> Result<(), BoxError>;
    /// Closes the window opened by `begin` and returns its energy per component; a component
    /// whose source failed is missing (`None`), never 0.
    fn end(&mut self) -> ComponentEnergy;
    /// Starts the background power trace (`traces/<run_id>.csv`).
    fn start_trace(&mut self, path: &Path, hz: f64) -> Result<(), BoxError>;
    /// Stops the trace and returns utilisation means.
    fn stop_trace(&mut self) -> TraceStats;
    /// Average total power in watts since the previous call, for the progress bar.
    fn live_watts(&mut self) -> Option<f64>;
    /// Which source meters which component (`cpu` → `estimate: …`).
    fn sources(&self) -> BTreeMap<String, String>;
    /// GPU name, when one is metered.
    fn gpu_name(&self) -> Option<String> {
        None
    }
}

/// Sets and restores GPU power limits for runs with `power_limit_w`.
pub trait PowerCap {
    /// Sets the power limit of `device` to `watts` (an error for the CPU, which has none to set).
    fn apply(&mut self, device: DeviceName, watts: f64) -> Result<(), BoxError>;
    /// Puts back the limits that were there before the last `apply`.
    fn restore(&mut self) -> Result<(), BoxError>;
}
