//! The [`EnergySource`] trait and the fixed-size [`Counters`] a source returns (no allocation per
//! read, so the sampler can read at 10 Hz for free).

use greenbench_core::{Component, EnergyReading, Joules, Quality};

use crate::error::Result;

/// Index of a component in the fixed arrays of this crate (`Component::ALL` order).
pub fn slot(c: Component) -> usize {
    match c {
        Component::Cpu => 0,
        Component::Dram => 1,
        Component::Gpu => 2,
    }
}

/// One read of a source: cumulative joules per component since the source was opened (`None` for
/// a component the source does not cover), and instantaneous extras where the source has them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counters {
    /// Cumulative joules, indexed by [`slot`].
    pub joules: [Option<f64>; 3],
    /// Cumulative joules at the low end of an estimate's range (5th percentile), by [`slot`].
    pub low_j: [Option<f64>; 3],
    /// Cumulative joules at the high end of an estimate's range (95th percentile), by [`slot`].
    pub high_j: [Option<f64>; 3],
    /// Cumulative joules an estimate's model charges at zero load, by [`slot`].
    pub zero_load_j: [Option<f64>; 3],
    /// Instantaneous power in watts where the source reads one (NVML power sample), by [`slot`].
    pub power_w: [Option<f64>; 3],
    /// GPU utilisation in percent, if this source reads one.
    pub gpu_util: Option<f64>,
    /// GPU memory used in bytes, if this source reads it.
    pub gpu_mem_used: Option<u64>,
}

impl Counters {
    /// Cumulative joules of one component.
    pub fn get(&self, c: Component) -> Option<f64> {
        self.joules[slot(c)]
    }

    /// Converts to the core [`EnergyReading`] (allocates; not for the sampler's hot path).
    pub fn to_reading(&self, quality: Quality) -> EnergyReading {
        let mut r = EnergyReading::default();
        for c in Component::ALL {
            if let Some(j) = self.get(c) {
                r.joules.insert(c, Joules(j));
                r.quality.insert(c, quality);
            }
        }
        r
    }
}

/// A source of cumulative energy per component (RAPL, NVML, estimate, replay).
///
/// `read` must be cheap and allocation-free on success: the sampler calls it at 10 Hz, and these
/// frequent reads are what let RAPL account for several counter wraps within one window.
pub trait EnergySource: Send {
    /// Short name: "rapl", "nvml", "estimate", "replay".
    fn name(&self) -> &'static str;
    /// Components this source meters.
    fn components(&self) -> &[Component];
    /// Quality of every value this source gives.
    fn quality(&self) -> Quality;
    /// Human basis, e.g. "RAPL powercap, 2 packages + dram" or "CPU time × 10.0 W/core (…)".
    fn basis(&self) -> String;
    /// Reads the cumulative counters now. A failure makes windows spanning it missing, never 0.
    fn read(&mut self) -> Result<Counters>;

    /// Resolution of a measured counter in joules (one step of it): a window's value is exact
    /// to ± this, its range. `None` where the source states no range this way (an estimate
    /// gives its own in [`Counters`]).
    fn resolution_j(&self) -> Option<f64> {
        None
    }

    /// Convenience: a read as the core [`EnergyReading`] type.
    fn reading(&mut self) -> Result<EnergyReading> {
        let q = self.quality();
        self.read().map(|c| c.to_reading(q))
    }
}
