//! greenbench-meter: energy per component (cpu, dram, gpu) from RAPL, NVML or a labelled estimate.
//!
//! # Entry points
//!
//! ```no_run
//! use greenbench_meter::{Meter, MeterOptions, DEFAULT_INTERVAL};
//! # fn main() -> Result<(), greenbench_meter::MeterError> {
//! let options = MeterOptions::default(); // /sys/class/powercap, GPU 0, W/core from the model table
//! // Runner: best source per component; missing sources are listed, never an error.
//! let meter = Meter::auto(&options)?
//!     .with_sync(Box::new(|| Ok(()))); // e.g. the GPU synchronize, called at both window edges
//! for c in meter.choices() { println!("{} <- {} ({})", c.component, c.source, c.basis); }
//! let idle = meter.idle_baseline(std::time::Duration::from_secs(5), DEFAULT_INTERVAL)?; // ComponentPower
//! let sampler = meter.start_sampler("trace.csv".as_ref(), DEFAULT_INTERVAL)?;
//! let w = meter.begin()?;
//! // … work …
//! let m = w.end()?; // Measurement { duration: Seconds, energy: ComponentEnergy, sources, problems }
//! let net = m.energy.net_of(&idle, m.duration);
//! let summary = sampler.stop()?; // SamplerSummary { samples, mean_gpu_util, mean_cpu_util, … }
//! // CLI `greenbench meters [--json]`:
//! let statuses = greenbench_meter::probe(&options); // Vec<SourceStatus>, serde-serializable
//! print!("{}", greenbench_meter::render_text(&statuses, std::time::Duration::from_secs(1)));
//! # Ok(()) }
//! ```
//!
//! Rules kept everywhere: a value that could not be read is `None`/missing, never 0; every value
//! carries its [`Quality`](greenbench_core::Quality) and estimated ones a basis string.

mod busy_load;
mod calibrate;
mod calibration;
mod cpu_id;
mod error;
mod estimate;
mod idle;
mod live_heap;
mod meter;
mod nvml;
mod nvml_cap;
mod options;
mod power_limit;
mod power_model;
mod probe;
mod process_tree;
mod rapl;
mod reader;
mod replay;
mod run_meter;
mod sampler;
mod source;
mod sources;
mod window;

pub use busy_load::BusyLoad;
pub use calibrate::{open_counter, run_ladder, CpuTimes, LadderPlan, LoadDriver, StepResult};
pub use calibration::{
    default_path as default_calibration_path, status_line as calibration_status, Calibration,
    CalibrationError, CalibrationHeader, CalibrationPoint,
};
pub use cpu_id::CpuId;
pub use error::{MeterError, Result, RAPL_PERMISSION_FIX};
pub use estimate::{
    check_watts_per_core, cpu_model, self_cpu_seconds, vcpus_of, watts_per_core, EstimateSource,
    ProcessTarget, DRAM_W_PER_GB,
};
pub use live_heap::{live_heap_bytes, LiveHeap};
pub use meter::{ComponentChoice, Meter, MeterOptions, ProbeOptions, SyncHook, Unavailable};
pub use nvml::{GpuDevice, GpuEnergyMode, GpuSample, NvmlDevice, NvmlSource};
pub use nvml_cap::NvmlCapper;
pub use power_limit::{NvmlPowerLimit, PowerCapper, PowerLimitControl, POWER_LIMIT_FIX};
pub use power_model::CpuPowerModel;
pub use probe::{probe, probe_for, reading_scope, render_text, SourceStatus};
pub use process_tree::{descendants, descendants_cpu_seconds};
pub use rapl::{RaplSource, DEFAULT_POWERCAP_ROOT};
pub use reader::{FileReader, FsReader};
pub use replay::ReplayDevice;
pub use run_meter::RunMeter;
pub use sampler::{Sampler, SamplerSummary, DEFAULT_INTERVAL, TRACE_HEADER};
pub use source::{slot, Counters, EnergySource};
pub use sources::{SourceDef, SOURCES};
pub use window::{Measurement, Window};
