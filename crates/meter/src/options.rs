//! Where to look for meters: the options every source is opened with.

use std::path::PathBuf;

use crate::rapl::DEFAULT_POWERCAP_ROOT;

/// Where to look for meters. Used by `Meter::auto` and the probe.
#[derive(Debug, Clone, PartialEq)]
pub struct MeterOptions {
    /// Powercap root, normally `/sys/class/powercap` (a fake tree in tests).
    pub powercap_root: PathBuf,
    /// NVML index of the GPU to meter.
    pub gpu_index: u32,
    /// Watts per vCPU at full load for the CPU estimate; `None` = the power model
    /// ([`crate::power_model::CpuPowerModel`]).
    pub watts_per_core: Option<f64>,
}

/// The probe takes the same options as the meter.
pub type ProbeOptions = MeterOptions;

impl Default for MeterOptions {
    fn default() -> Self {
        MeterOptions {
            powercap_root: PathBuf::from(DEFAULT_POWERCAP_ROOT),
            gpu_index: 0,
            watts_per_core: None,
        }
    }
}
