//! Estimated CPU and DRAM energy of a process, for machines without RAPL (virtual machines).
//!
//! * CPU: process CPU seconds (user + system) × watts per core. Watts per core is configurable;
//!   by default it is TDP ÷ cores of the CPU model named in `/proc/cpuinfo` when that model is in
//!   [`KNOWN_CPUS`] (cores from the table, not from `/proc/cpuinfo`, because a VM shows its vCPU
//!   count, not the package's), else [`DEFAULT_WATTS_PER_CORE`].
//! * DRAM: [`DRAM_W_PER_GB`] × resident set size (GB = 10⁹ bytes), integrated over time with the
//!   trapezoid rule between reads.
//!
//! Every value is [`Quality::Estimated`] and the basis string says how it was computed.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use greenbench_core::power_bound::MAX_WATTS_PER_CORE;
use greenbench_core::{Component, Quality};

use crate::error::{MeterError, Result};
use crate::reader::{parse_u64, FileReader, FsReader};
use crate::source::{slot, Counters, EnergySource};

/// Watts per busy core when the CPU model is unknown.
pub const DEFAULT_WATTS_PER_CORE: f64 = 10.0;

/// DRAM power per GB of resident memory (the figure CodeCarbon and others use: 3/8 W per GB).
pub const DRAM_W_PER_GB: f64 = 0.375;

/// Known CPU models: (substring of `model name`, TDP in watts, cores per package).
pub const KNOWN_CPUS: &[(&str, f64, u32)] = &[
    ("EPYC 9654", 360.0, 96),
    ("EPYC 9554", 360.0, 64),
    ("EPYC 9454", 290.0, 48),
    ("EPYC 7763", 280.0, 64),
    ("EPYC 7V13", 280.0, 64),
    ("EPYC 7B13", 280.0, 64),
    ("EPYC 7742", 225.0, 64),
    ("Platinum 8480", 350.0, 56),
    ("Platinum 8468", 350.0, 48),
    ("Platinum 8380", 270.0, 40),
    ("Platinum 8375C", 300.0, 32),
    ("Platinum 8358", 250.0, 32),
    ("Platinum 8272CL", 195.0, 26),
    ("Platinum 8259CL", 210.0, 24),
    ("Gold 6338", 205.0, 32),
    ("i9-13900K", 125.0, 24),
];

/// Watts per core and the basis phrase for a CPU model name (or the configured value).
pub fn watts_per_core(model: Option<&str>, configured: Option<f64>) -> (f64, String) {
    if let Some(w) = configured {
        return (w, format!("{w:.2} W/core (configured)"));
    }
    let model_name = model.unwrap_or("an unknown CPU");
    if let Some(&(key, tdp, cores)) =
        model.and_then(|m| KNOWN_CPUS.iter().find(|(k, _, _)| m.contains(k)))
    {
        let w = tdp / f64::from(cores);
        return (
            w,
            format!("{w:.2} W/core (TDP {tdp:.0} W ÷ {cores} cores of {key})"),
        );
    }
    (
        DEFAULT_WATTS_PER_CORE,
        format!("{DEFAULT_WATTS_PER_CORE:.1} W/core (no TDP known for {model_name})"),
    )
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

/// Estimated CPU + DRAM energy of a process. Quality: estimated.
pub struct EstimateSource {
    target: ProcessTarget,
    reader: Arc<dyn FileReader>,
    stat_path: PathBuf,
    statm_path: PathBuf,
    watts_per_core: f64,
    basis: String,
    clk_tck: f64,
    page_size: f64,
    start: Instant,
    cpu0: f64,
    last_t: f64,
    last_rss_gb: f64,
    dram_j: f64,
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
        if let Some(w) = watts_per_core {
            check_watts_per_core(w)?;
        }
        let (wpc, phrase) = self::watts_per_core(cpu_model().as_deref(), watts_per_core);
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
            watts_per_core: wpc,
            basis: format!("CPU time × {phrase}; DRAM {DRAM_W_PER_GB} W/GB × RSS"),
            clk_tck: if clk > 0 { clk as f64 } else { 100.0 },
            page_size: if page > 0 { page as f64 } else { 4096.0 },
            start: Instant::now(),
            cpu0: 0.0,
            last_t: 0.0,
            last_rss_gb: 0.0,
            dram_j: 0.0,
        };
        s.cpu0 = s.cpu_seconds()?;
        s.last_rss_gb = s.rss_gb()?;
        Ok(s)
    }

    /// Watts per busy core in use.
    pub fn watts_per_core(&self) -> f64 {
        self.watts_per_core
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
        let cpu_s = self.cpu_seconds()? - self.cpu0;
        let rss = self.rss_gb()?;
        self.dram_j += 0.5 * (self.last_rss_gb + rss) * DRAM_W_PER_GB * (t - self.last_t);
        self.last_t = t;
        self.last_rss_gb = rss;
        let mut c = Counters::default();
        c.joules[slot(Component::Cpu)] = Some(cpu_s.max(0.0) * self.watts_per_core);
        c.joules[slot(Component::Dram)] = Some(self.dram_j);
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
    fn table_and_fallback() {
        let (w, b) = watts_per_core(Some("Intel(R) Xeon(R) Platinum 8480+"), None);
        assert!((w - 6.25).abs() < 1e-9, "{w}");
        assert!(b.contains("TDP 350 W"), "{b}");
        let (w, b) = watts_per_core(Some("AMD EPYC"), None);
        assert_eq!(w, 10.0);
        assert_eq!(b, "10.0 W/core (no TDP known for AMD EPYC)");
        let (w, b) = watts_per_core(Some("AMD EPYC 7763"), Some(3.0));
        assert_eq!(w, 3.0);
        assert!(b.contains("configured"));
    }
}
