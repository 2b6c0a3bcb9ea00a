//! GPU energy through NVML (nvml-wrapper, which loads `libnvidia-ml.so.1` at run time).
//!
//! The device is abstracted by [`GpuDevice`] so that a recorded trace ([`crate::replay`]) can test
//! the integration logic. [`NvmlSource`] uses the total energy counter (mJ, Volta and newer) when
//! the GPU has one, else integrates power samples with the trapezoid rule — in that mode accuracy
//! depends on the sampler reading at 10 Hz during windows.

use std::time::Instant;

use greenbench_core::{Component, Quality};
use nvml_wrapper::error::NvmlError;
use nvml_wrapper::Nvml;

use crate::error::{MeterError, Result};
use crate::source::{slot, Counters, EnergySource};

/// One reading of a GPU.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct GpuSample {
    /// Seconds since an arbitrary origin (monotonic).
    pub t_s: f64,
    /// Board power in watts, if readable.
    pub power_w: Option<f64>,
    /// Total energy counter in millijoules, if the GPU has one.
    pub energy_mj: Option<u64>,
    /// Utilisation in percent.
    pub util: Option<f64>,
    /// Memory used in bytes.
    pub mem_used: Option<u64>,
}

/// A GPU that can be sampled: the real NVML device or a replayed trace.
pub trait GpuDevice: Send {
    /// Source name: "nvml" or "replay".
    fn kind(&self) -> &'static str;
    /// Human description, e.g. "GPU 0 (NVIDIA H200)".
    fn describe(&self) -> String;
    /// Reads the GPU now.
    fn sample(&mut self) -> Result<GpuSample>;
}

/// How energy is obtained from the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GpuEnergyMode {
    /// Hardware total energy counter (mJ).
    Counter,
    /// Trapezoid integration of power samples.
    Trapezoid,
}

/// GPU energy source over any [`GpuDevice`]. Quality: measured.
pub struct NvmlSource {
    dev: Box<dyn GpuDevice>,
    mode: GpuEnergyMode,
    origin_mj: u64,
    last_mj: u64,
    last_t: f64,
    last_p: f64,
    energy_j: f64,
    description: String,
}

impl std::fmt::Debug for NvmlSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NvmlSource")
            .field("mode", &self.mode)
            .field("device", &self.description)
            .finish()
    }
}

impl NvmlSource {
    /// Opens the real GPU `index` through NVML. Errors with "NVML unavailable: <reason>" when the
    /// library or driver is missing; never panics.
    pub fn open(index: u32) -> Result<Self> {
        Self::from_device(Box::new(NvmlDevice::open(index)?))
    }

    /// Wraps a device; the first sample decides counter or trapezoid mode.
    pub fn from_device(mut dev: Box<dyn GpuDevice>) -> Result<Self> {
        let first = dev.sample()?;
        let description = dev.describe();
        let mode = match (first.energy_mj, first.power_w) {
            (Some(_), _) => GpuEnergyMode::Counter,
            (None, Some(_)) => GpuEnergyMode::Trapezoid,
            (None, None) => {
                return Err(MeterError::NvmlUnavailable {
                    reason: format!("{description} reports neither an energy counter nor power; this GPU cannot be metered"),
                })
            }
        };
        let mj = first.energy_mj.unwrap_or(0);
        Ok(NvmlSource {
            dev,
            mode,
            origin_mj: mj,
            last_mj: mj,
            last_t: first.t_s,
            last_p: first.power_w.unwrap_or(0.0),
            energy_j: 0.0,
            description,
        })
    }

    /// Counter or trapezoid.
    pub fn mode(&self) -> GpuEnergyMode {
        self.mode
    }
}

impl EnergySource for NvmlSource {
    fn name(&self) -> &'static str {
        self.dev.kind()
    }
    fn components(&self) -> &[Component] {
        &[Component::Gpu]
    }
    fn quality(&self) -> Quality {
        Quality::Measured
    }
    fn basis(&self) -> String {
        match self.mode {
            GpuEnergyMode::Counter => format!("NVML total energy counter (mJ), {}", self.description),
            GpuEnergyMode::Trapezoid => format!(
                "NVML power samples, trapezoid integration at the sampler's rate (no energy counter), {}",
                self.description
            ),
        }
    }
    /// The total energy counter counts millijoules; power samples integrated by the trapezoid
    /// rule have no counter resolution to state.
    fn resolution_j(&self) -> Option<f64> {
        (self.mode == GpuEnergyMode::Counter).then_some(1e-3)
    }
    fn read(&mut self) -> Result<Counters> {
        let s = self.dev.sample()?;
        let backwards = |what: &str, prev: u64, cur: u64| MeterError::CounterBackwards {
            path: format!("{} {what}", self.description),
            previous: prev,
            current: cur,
            detail: "NVML counters do not wrap".into(),
        };
        match self.mode {
            GpuEnergyMode::Counter => {
                let mj = s.energy_mj.ok_or_else(|| MeterError::Gpu {
                    device: self.description.clone(),
                    detail: "the energy counter stopped answering".into(),
                })?;
                if mj < self.last_mj {
                    return Err(backwards("total energy (mJ)", self.last_mj, mj));
                }
                self.last_mj = mj;
                self.energy_j = (mj - self.origin_mj) as f64 * 1e-3;
            }
            GpuEnergyMode::Trapezoid => {
                let p = s.power_w.ok_or_else(|| MeterError::Gpu {
                    device: self.description.clone(),
                    detail: "the power reading stopped answering".into(),
                })?;
                let dt = s.t_s - self.last_t;
                if dt < 0.0 {
                    return Err(MeterError::Gpu {
                        device: self.description.clone(),
                        detail: format!(
                            "sample time went backwards from {} s to {} s",
                            self.last_t, s.t_s
                        ),
                    });
                }
                self.energy_j += 0.5 * (self.last_p + p) * dt;
                self.last_t = s.t_s;
                self.last_p = p;
            }
        }
        let mut c = Counters::default();
        c.joules[slot(Component::Gpu)] = Some(self.energy_j);
        c.power_w[slot(Component::Gpu)] = s.power_w;
        c.gpu_util = s.util;
        c.gpu_mem_used = s.mem_used;
        Ok(c)
    }
}

/// The real GPU behind NVML.
pub struct NvmlDevice {
    nvml: Nvml,
    index: u32,
    origin: Instant,
    name: String,
}

fn unavailable(e: NvmlError) -> MeterError {
    let hint = match e {
        NvmlError::LibloadingError(_) | NvmlError::FailedToLoadSymbol(_) => {
            "libnvidia-ml.so.1 could not be loaded: install the NVIDIA driver (check `nvidia-smi`)"
        }
        NvmlError::DriverNotLoaded => "the NVIDIA kernel driver is not loaded (check `nvidia-smi`)",
        NvmlError::NoPermission => {
            "no permission to talk to the driver (check /dev/nvidia* permissions)"
        }
        _ => "check the NVIDIA driver with `nvidia-smi`",
    };
    MeterError::NvmlUnavailable {
        reason: format!("{e}; {hint}"),
    }
}

impl NvmlDevice {
    /// Initialises NVML and selects GPU `index`.
    pub fn open(index: u32) -> Result<Self> {
        let nvml = Nvml::init().map_err(unavailable)?;
        let name = {
            let dev = nvml.device_by_index(index).map_err(|e| {
                let count = nvml.device_count().map(|c| c.to_string()).unwrap_or_else(|_| "?".into());
                MeterError::NvmlUnavailable {
                    reason: format!("GPU index {index} not usable ({e}); {count} GPU(s) visible, choose another index"),
                }
            })?;
            dev.name().unwrap_or_else(|_| "unknown GPU".into())
        };
        Ok(NvmlDevice {
            nvml,
            index,
            origin: Instant::now(),
            name,
        })
    }
}

impl GpuDevice for NvmlDevice {
    fn kind(&self) -> &'static str {
        "nvml"
    }
    fn describe(&self) -> String {
        format!("GPU {} ({})", self.index, self.name)
    }
    fn sample(&mut self) -> Result<GpuSample> {
        let index = self.index;
        let err = |call: &'static str, e: NvmlError| MeterError::Nvml {
            call,
            index,
            reason: e.to_string(),
        };
        let dev = self
            .nvml
            .device_by_index(index)
            .map_err(|e| err("device_by_index", e))?;
        let t_s = self.origin.elapsed().as_secs_f64();
        let energy_mj = match dev.total_energy_consumption() {
            Ok(mj) => Some(mj),
            Err(NvmlError::NotSupported) => None,
            Err(e) => return Err(err("total_energy_consumption", e)),
        };
        let power_w = match dev.power_usage() {
            Ok(mw) => Some(f64::from(mw) * 1e-3),
            Err(NvmlError::NotSupported) => None,
            Err(e) => return Err(err("power_usage", e)),
        };
        let util = dev.utilization_rates().ok().map(|u| f64::from(u.gpu));
        let mem_used = dev.memory_info().ok().map(|m| m.used);
        Ok(GpuSample {
            t_s,
            power_w,
            energy_mj,
            util,
            mem_used,
        })
    }
}
