//! Estimated CPU and DRAM energy of a process, for machines without RAPL (virtual machines).
//!
//! * CPU: between two reads, the process's utilisation of the vCPUs it uses (CPU seconds ÷
//!   wall seconds ÷ vCPUs) goes through the load curve of [`CpuPowerModel`] (cited there and in
//!   docs/measurement.md), times those vCPUs and the wall time. The vCPUs are those the process
//!   may run on (its affinity), or fewer when `RAYON_NUM_THREADS` says so, and more when it used
//!   more CPU time than they give.
//! * DRAM: [`DRAM_W_PER_GB`] × the heap bytes the process uses ([`live_heap_bytes`]; its
//!   resident set size where no count exists), GB = 10⁹ bytes, integrated with the trapezoid
//!   rule between reads.
//!
//! Every value is [`Quality::Estimated`], carries `low_j`/`high_j` (5th and 95th percentile over
//! the model's parameter ranges) and its zero-load energy (the CPU at 0 % load over the same
//! time; DRAM has none: the memory charged is the run's), and the basis string says which model
//! applies and why.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use greenbench_core::MAX_WATTS_PER_CORE;
use greenbench_core::{Component, Quality};

use crate::cpu_id::CpuId;
use crate::error::{MeterError, Result};
use crate::live_heap::live_heap_bytes;
use crate::power_model::{CpuPowerModel, Range, HIGH_PERCENTILE, LOW_PERCENTILE};
use crate::reader::{parse_u64, FileReader, FsReader};
use crate::source::{slot, Counters, EnergySource};

/// DRAM power per GB the estimate uses (central value of [`crate::power_model::DRAM_W_PER_GB`]).
pub const DRAM_W_PER_GB: f64 = crate::power_model::DRAM_W_PER_GB.central;

/// The highest watts per busy vCPU the CPU model of this machine charges (the top of its
/// range), and the model's basis; `configured` replaces the model. `model` overrides the CPU
/// name read from `/proc/cpuinfo`.
pub fn watts_per_core(model: Option<&str>, configured: Option<f64>) -> (f64, String) {
    let mut id = CpuId::here();
    if let Some(m) = model {
        id.model_name = Some(m.to_string());
    }
    let m = CpuPowerModel::for_cpu(&id, configured);
    (m.full_w.high, m.basis)
}

/// Checks a configured watts per busy core: above 0 and at most
/// [`MAX_WATTS_PER_CORE`] (50 W; no CPU draws more per logical core, see there). A value outside
/// would publish energy no machine could have drawn (`1e12` turns a 4 ms run into 4 GJ).
pub fn check_watts_per_core(w: f64) -> Result<f64> {
    if w.is_finite() && w > 0.0 && w <= MAX_WATTS_PER_CORE {
        return Ok(w);
    }
    Err(MeterError::Option {
        name: "watts_per_core",
        value: w.to_string(),
        expected: "give watts per busy logical core above 0 and at most 50 (no CPU draws more: \
                   the highest rated power per logical core of current CPUs is about 15 W; \
                   the default is the CPU model's TDP ÷ cores, else 10 W)",
    })
}

/// The first `model name` in `/proc/cpuinfo`, if readable.
pub fn cpu_model() -> Option<String> {
    let text = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    text.lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
}

/// vCPUs a process uses: those it may run on (its CPU affinity; this process's for its
/// descendants), or fewer for this process when `RAYON_NUM_THREADS` says so (a worker runs its
/// spec's `threads`). At least 1.
pub fn vcpus_of(target: ProcessTarget) -> usize {
    let pid = match target {
        // Descendants inherit this process's affinity unless they change it.
        ProcessTarget::SelfProcess | ProcessTarget::Descendants => 0,
        ProcessTarget::Pid(p) => libc::pid_t::try_from(p).unwrap_or(0),
    };
    // SAFETY: a zeroed cpu_set_t is valid; sched_getaffinity writes at most its size.
    let affinity = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(pid, std::mem::size_of::<libc::cpu_set_t>(), &mut set) == 0 {
            usize::try_from(libc::CPU_COUNT(&set)).unwrap_or(1)
        } else {
            1
        }
    };
    let rayon = match target {
        ProcessTarget::SelfProcess => std::env::var("RAYON_NUM_THREADS")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|&n| n > 0),
        ProcessTarget::Pid(_) | ProcessTarget::Descendants => None,
    };
    rayon.map_or(affinity, |r| r.min(affinity)).max(1)
}

/// CPU seconds (user + system) used by this process so far; no allocation.
pub fn self_cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes into the zeroed struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointer to a rusage; RUSAGE_SELF is always valid.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    if rc != 0 {
        return f64::NAN;
    }
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// Which process the estimate follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProcessTarget {
    /// This process (getrusage, `/proc/self/statm`).
    #[default]
    SelfProcess,
    /// Another process (`/proc/<pid>/stat`, `/proc/<pid>/statm`).
    Pid(u32),
    /// Every descendant of this process, this process left out: the live ones from `/proc`
    /// (their own CPU time and that of the children they reaped), the reaped ones by
    /// `getrusage(RUSAGE_CHILDREN)`. What an external command's process tree spends.
    Descendants,
}

/// Cumulative joules at the central values and at the two percentiles.
#[derive(Debug, Clone, Copy, Default)]
struct Spread {
    central: f64,
    low: f64,
    high: f64,
}

impl Spread {
    fn add(&mut self, central: f64, low: f64, high: f64) {
        self.central += central;
        self.low += low;
        self.high += high;
    }
}

/// Estimated CPU + DRAM energy of a process. Quality: estimated.
pub struct EstimateSource {
    target: ProcessTarget,
    reader: Arc<dyn FileReader>,
    stat_path: PathBuf,
    statm_path: PathBuf,
    cpu_model: CpuPowerModel,
    dram_w_per_gb: Range,
    vcpus: f64,
    basis: String,
    clk_tck: f64,
    page_size: f64,
    start: Instant,
    last_t: f64,
    last_cpu: f64,
    last_gb: f64,
    cpu_j: Spread,
    cpu_zero_j: f64,
    dram_j: Spread,
}

impl std::fmt::Debug for EstimateSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EstimateSource")
            .field("basis", &self.basis)
            .finish()
    }
}

impl EstimateSource {
    /// Estimate for this process; `watts_per_core` overrides the model table.
    pub fn new(watts_per_core: Option<f64>) -> Result<Self> {
        Self::for_process(ProcessTarget::SelfProcess, watts_per_core)
    }

    /// Estimate for a given process.
    pub fn for_process(target: ProcessTarget, watts_per_core: Option<f64>) -> Result<Self> {
        Self::with_model(
            target,
            CpuPowerModel::for_cpu(
                &CpuId::here(),
                watts_per_core.map(check_watts_per_core).transpose()?,
            ),
            vcpus_of(target),
        )
    }

    /// Estimate for a given process with a given CPU model and number of vCPUs it uses.
    pub fn with_model(
        target: ProcessTarget,
        cpu_model: CpuPowerModel,
        vcpus: usize,
    ) -> Result<Self> {
        let dram = crate::power_model::DRAM_W_PER_GB;
        let memory = match target {
            ProcessTarget::SelfProcess if live_heap_bytes().is_some() => {
                "the heap bytes it has in use (memory the allocator keeps for reuse is not charged)"
            }
            _ => "its resident memory (no heap count for this process)",
        };
        let basis = format!(
            "CPU: {}; × the {vcpus} vCPU(s) this process uses, utilisation from its CPU time. \
             DRAM: {} W/GB (central {}) × {memory}. low_j/high_j: {:.0}th/{:.0}th percentile \
             with every parameter uniform over its range, all at the same percentile",
            cpu_model.basis,
            dram.show(),
            dram.central,
            LOW_PERCENTILE * 100.0,
            HIGH_PERCENTILE * 100.0,
        );
        let dir = match target {
            ProcessTarget::SelfProcess | ProcessTarget::Descendants => PathBuf::from("/proc/self"),
            ProcessTarget::Pid(p) => PathBuf::from(format!("/proc/{p}")),
        };
        // SAFETY: sysconf has no memory-safety preconditions.
        let (clk, page) = unsafe {
            (
                libc::sysconf(libc::_SC_CLK_TCK),
                libc::sysconf(libc::_SC_PAGESIZE),
            )
        };
        let mut s = EstimateSource {
            target,
            reader: Arc::new(FsReader),
            stat_path: dir.join("stat"),
            statm_path: dir.join("statm"),
            cpu_model,
            dram_w_per_gb: dram,
            vcpus: vcpus.max(1) as f64,
            basis,
            clk_tck: if clk > 0 { clk as f64 } else { 100.0 },
            page_size: if page > 0 { page as f64 } else { 4096.0 },
            start: Instant::now(),
            last_t: 0.0,
            last_cpu: 0.0,
            last_gb: 0.0,
            cpu_j: Spread::default(),
            cpu_zero_j: 0.0,
            dram_j: Spread::default(),
        };
        s.last_cpu = s.cpu_seconds()?;
        s.last_gb = s.memory_gb()?;
        Ok(s)
    }

    /// The CPU model in use.
    pub fn cpu_model(&self) -> &CpuPowerModel {
        &self.cpu_model
    }

    /// Adds the energy of `dt` seconds in which the process used `cpu_s` CPU seconds and its
    /// memory went from `gb0` to `gb1` GB.
    fn integrate(&mut self, dt: f64, cpu_s: f64, gb0: f64, gb1: f64) {
        if dt <= 0.0 {
            return;
        }
        let cpu_s = cpu_s.max(0.0);
        let vcpus = self.vcpus.max(cpu_s / dt);
        let u = cpu_s / (dt * vcpus);
        let w = |q| self.cpu_model.vcpu_watts(u, q) * vcpus * dt;
        self.cpu_j
            .add(w(None), w(Some(LOW_PERCENTILE)), w(Some(HIGH_PERCENTILE)));
        self.cpu_zero_j += self.cpu_model.vcpu_watts(0.0, None) * vcpus * dt;
        let gb_s = 0.5 * (gb0 + gb1) * dt;
        let k = &self.dram_w_per_gb;
        self.dram_j.add(
            gb_s * k.central,
            gb_s * k.at(LOW_PERCENTILE),
            gb_s * k.at(HIGH_PERCENTILE),
        );
    }

    fn memory_gb(&self) -> Result<f64> {
        match (self.target, live_heap_bytes()) {
            (ProcessTarget::SelfProcess, Some(b)) => Ok(b as f64 * 1e-9),
            _ => self.rss_gb(),
        }
    }

    fn cpu_seconds(&self) -> Result<f64> {
        match self.target {
            ProcessTarget::SelfProcess => Ok(self_cpu_seconds()),
            ProcessTarget::Descendants => {
                Ok(crate::process_tree::descendants_cpu_seconds(self.clk_tck))
            }
            ProcessTarget::Pid(_) => {
                let mut buf = [0u8; 1024];
                let n = self
                    .reader
                    .read(&self.stat_path, &mut buf)
                    .map_err(MeterError::io("process CPU time", &self.stat_path))?;
                let bad = || MeterError::Parse {
                    what: "process stat",
                    path: self.stat_path.clone(),
                    detail: "no utime/stime after the command name".into(),
                };
                // Fields after "(comm)": state is field 3, utime 14, stime 15.
                let text = std::str::from_utf8(&buf[..n]).map_err(|_| bad())?;
                let after = text.rsplit_once(')').ok_or_else(bad)?.1;
                let mut it = after.split_ascii_whitespace().skip(11);
                let ut: f64 = it.next().and_then(|v| v.parse().ok()).ok_or_else(bad)?;
                let st: f64 = it.next().and_then(|v| v.parse().ok()).ok_or_else(bad)?;
                Ok((ut + st) / self.clk_tck)
            }
        }
    }

    fn rss_gb(&self) -> Result<f64> {
        if self.target == ProcessTarget::Descendants {
            let pages = crate::process_tree::descendants_resident_pages();
            return Ok(pages as f64 * self.page_size * 1e-9);
        }
        let mut buf = [0u8; 128];
        let n = self
            .reader
            .read(&self.statm_path, &mut buf)
            .map_err(MeterError::io("process memory (statm)", &self.statm_path))?;
        let pages = std::str::from_utf8(&buf[..n])
            .ok()
            .and_then(|s| s.split_ascii_whitespace().nth(1))
            .and_then(|v| parse_u64(v.as_bytes()))
            .ok_or_else(|| MeterError::Parse {
                what: "process memory (statm)",
                path: self.statm_path.clone(),
                detail: "no resident page count in the second field".into(),
            })?;
        Ok(pages as f64 * self.page_size * 1e-9)
    }
}

impl EnergySource for EstimateSource {
    fn name(&self) -> &'static str {
        "estimate"
    }
    fn components(&self) -> &[Component] {
        &[Component::Cpu, Component::Dram]
    }
    fn quality(&self) -> Quality {
        Quality::Estimated
    }
    fn basis(&self) -> String {
        self.basis.clone()
    }
    fn read(&mut self) -> Result<Counters> {
        let t = self.start.elapsed().as_secs_f64();
        let cpu = self.cpu_seconds()?;
        let gb = self.memory_gb()?;
        self.integrate(t - self.last_t, cpu - self.last_cpu, self.last_gb, gb);
        self.last_t = t;
        self.last_cpu = cpu;
        self.last_gb = gb;
        let mut c = Counters::default();
        let (cs, ds) = (slot(Component::Cpu), slot(Component::Dram));
        c.joules[cs] = Some(self.cpu_j.central);
        c.low_j[cs] = Some(self.cpu_j.low);
        c.high_j[cs] = Some(self.cpu_j.high);
        c.zero_load_j[cs] = Some(self.cpu_zero_j);
        c.joules[ds] = Some(self.dram_j.central);
        c.low_j[ds] = Some(self.dram_j.low);
        c.high_j[ds] = Some(self.dram_j.high);
        c.zero_load_j[ds] = Some(0.0);
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watts_per_core_outside_what_a_core_can_draw_is_refused_with_the_range() {
        for bad in [1e12, 50.5, 0.0, -1.0, f64::NAN, f64::INFINITY] {
            let e = check_watts_per_core(bad).expect_err("refused").to_string();
            assert!(e.contains("above 0 and at most 50"), "{bad}: {e}");
        }
        for good in [0.5, 10.0, 50.0] {
            assert_eq!(check_watts_per_core(good).ok(), Some(good));
        }
        let e = EstimateSource::new(Some(1e12)).expect_err("refused");
        assert!(
            e.to_string().contains("watts_per_core = 1000000000000"),
            "{e}"
        );
    }

    #[test]
    fn a_busy_interval_charges_the_load_curve_and_its_range_brackets_it() {
        let id = CpuId {
            vendor: Some("GenuineIntel".into()),
            family: Some(6),
            model: Some(207),
            avx512: true,
            hypervisor: true,
            ..Default::default()
        };
        let mut s = EstimateSource::with_model(
            ProcessTarget::SelfProcess,
            CpuPowerModel::for_cpu(&id, None),
            2,
        )
        .expect("opens");
        // 10 s, both vCPUs busy: 2 × 10 s × the full-load watts (central 4.215 W).
        s.integrate(10.0, 20.0, 1.0, 1.0);
        assert!(
            (s.cpu_j.central - 2.0 * 10.0 * 4.215).abs() < 1e-9,
            "{:?}",
            s.cpu_j
        );
        assert!(s.cpu_j.low < s.cpu_j.central && s.cpu_j.central < s.cpu_j.high);
        assert!((s.cpu_zero_j - 2.0 * 10.0 * 0.82).abs() < 1e-9);
        // 1 GB for 10 s: 3.75 J, range 0.2075–0.5225 W/GB.
        assert!((s.dram_j.central - 3.75).abs() < 1e-9);
        assert!((s.dram_j.low - 2.075).abs() < 1e-9 && (s.dram_j.high - 5.225).abs() < 1e-9);
        // More CPU time than the vCPUs give counts as more vCPUs at full load.
        let before = s.cpu_j.central;
        s.integrate(1.0, 4.0, 1.0, 1.0);
        assert!((s.cpu_j.central - before - 4.0 * 4.215).abs() < 1e-9);
    }
}
