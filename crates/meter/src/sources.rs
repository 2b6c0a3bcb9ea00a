//! Every energy source greenbench knows, in one table: [`Meter::auto`](crate::Meter::auto) opens
//! them in this order, [`probe_for`](crate::probe_for) reports each (available or why not) and
//! [`reading_scope`](crate::probe::reading_scope) says what each one's reading covers. Adding a
//! source is its own file plus one entry here.

use greenbench_core::Quality;

use crate::error::Result;
use crate::estimate::EstimateSource;
use crate::nvml::NvmlSource;
use crate::options::MeterOptions;
use crate::rapl::RaplSource;
use crate::source::EnergySource;

/// One energy source: how to open it and what to say about it.
pub struct SourceDef {
    /// Name in `greenbench meters`, in records and in [`Meter::unavailable`](crate::Meter::unavailable).
    pub name: &'static str,
    /// Quality of its values (shown even when it is unavailable).
    pub quality: Quality,
    /// Opens it with the meter's options; the error says why it is unavailable here and how to
    /// fix it.
    pub open: fn(&MeterOptions) -> Result<Box<dyn EnergySource>>,
    /// Whether [`Meter::auto`](crate::Meter::auto) fails when it cannot be opened (its only
    /// failure is an invalid option) instead of listing it as unavailable.
    pub required: bool,
    /// What its power reading covers, for the note under the `greenbench meters` table
    /// (continuation lines indented to follow the source name).
    pub reading_scope: &'static str,
}

/// The sources, in the order they are opened and listed; per component the meter takes the first
/// measured one that covers it, else the first estimated one.
pub const SOURCES: &[SourceDef] = &[
    SourceDef {
        name: "rapl",
        quality: Quality::Measured,
        open: |o| Ok(Box::new(RaplSource::open(&o.powercap_root)?)),
        required: false,
        reading_scope: "the CPU package(s) and DRAM of the whole machine, every process on it",
    },
    SourceDef {
        name: "nvml",
        quality: Quality::Measured,
        open: |o| Ok(Box::new(NvmlSource::open(o.gpu_index)?)),
        required: false,
        reading_scope: "the whole GPU, every process on it",
    },
    SourceDef {
        name: "estimate",
        quality: Quality::Estimated,
        open: |o| Ok(Box::new(EstimateSource::new(o.watts_per_core)?)),
        required: true,
        reading_scope: "this greenbench process alone, which only waits while it reads: the load curve\n            \
             at its utilisation × its vCPUs + DRAM W/GB × its memory, so it is about the model's\n            \
             zero-load power; in a sweep the estimate covers each run's worker process instead",
    },
];

/// The table entry named `name`.
pub fn find(name: &str) -> Option<&'static SourceDef> {
    SOURCES.iter().find(|d| d.name == name)
}
