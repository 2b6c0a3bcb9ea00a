//! The load ladder behind `greenbench calibrate`: run 0 … all logical CPUs busy, read the package
//! counter (RAPL) over each step, and fit a [`Calibration`].
//!
//! Each step starts its load, waits `settle` (turbo, fans and the counter's update settle), then
//! measures the counter over `measure`, polling it at most every second (so a counter wrap is
//! seen) — the load is constant over the whole measured window. The step's utilisation is the
//! host's busy fraction over the window from `/proc/stat` when the driver can read it, else the
//! nominal threads ÷ logical CPUs.

use std::time::{Duration, Instant};

use greenbench_core::Component;

use crate::calibration::{Calibration, CalibrationError, CalibrationHeader, CalibrationPoint};
use crate::source::EnergySource;

/// How the ladder runs.
#[derive(Debug, Clone, PartialEq)]
pub struct LadderPlan {
    /// Busy threads per step, in order.
    pub threads: Vec<usize>,
    /// Time each step's load runs before its window.
    pub settle: Duration,
    /// Length of each step's measured window.
    pub measure: Duration,
}

impl LadderPlan {
    /// `steps` thread counts evenly from 0 to `logical_cpus` (rounded, duplicates dropped; at
    /// least 0 and all of them).
    pub fn even(logical_cpus: usize, steps: usize, settle: Duration, measure: Duration) -> Self {
        let n = logical_cpus.max(1);
        let steps = steps.max(2);
        let mut threads: Vec<usize> = (0..steps)
            .map(|i| ((i as f64) * n as f64 / (steps - 1) as f64).round() as usize)
            .collect();
        threads.dedup();
        LadderPlan {
            threads,
            settle,
            measure,
        }
    }
}

/// Host CPU time counters: busy and total jiffies (from `/proc/stat`'s `cpu` line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuTimes {
    /// Jiffies not idle and not iowait.
    pub busy: u64,
    /// All jiffies.
    pub total: u64,
}

impl CpuTimes {
    /// Busy fraction between `self` (earlier) and `later`; `None` if no time passed.
    pub fn busy_fraction(self, later: CpuTimes) -> Option<f64> {
        let total = later.total.checked_sub(self.total)?;
        let busy = later.busy.checked_sub(self.busy)?;
        (total > 0).then(|| (busy as f64 / total as f64).clamp(0.0, 1.0))
    }
}

/// Parses the aggregate `cpu` line of `/proc/stat` (user nice system idle iowait irq softirq
/// steal …; guest time is already in user).
pub fn parse_proc_stat(text: &str) -> Option<CpuTimes> {
    let line = text.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<u64> = line
        .split_ascii_whitespace()
        .skip(1)
        .take(8)
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    if v.len() < 4 {
        return None;
    }
    let total: u64 = v.iter().sum();
    let idle = v[3] + v.get(4).copied().unwrap_or(0);
    Some(CpuTimes {
        busy: total - idle,
        total,
    })
}

/// Reads `/proc/stat` now.
pub fn read_proc_stat() -> Option<CpuTimes> {
    parse_proc_stat(&std::fs::read_to_string("/proc/stat").ok()?)
}

/// What runs the load of each step.
pub trait LoadDriver {
    /// Logical CPUs of the host (utilisation 1 = all busy).
    fn logical_cpus(&self) -> usize;
    /// Runs `threads` busy threads from now on, replacing the previous step's (0: none).
    fn set_threads(&mut self, threads: usize) -> Result<(), CalibrationError>;
    /// Host CPU time counters now, if readable (default: `/proc/stat`); `None` makes the
    /// ladder use the nominal utilisation.
    fn cpu_times(&self) -> Option<CpuTimes> {
        read_proc_stat()
    }
}

/// What one step measured, reported as the ladder goes.
#[derive(Debug, Clone, PartialEq)]
pub struct StepResult {
    /// The point fitted.
    pub point: CalibrationPoint,
    /// Nominal utilisation (threads ÷ logical CPUs).
    pub nominal: f64,
    /// Whether the utilisation was measured (`/proc/stat`) or nominal.
    pub measured_utilisation: bool,
    /// Largest relative deviation of a poll's power from the step's mean.
    pub spread: f64,
}

/// What to do when a machine has no readable package counter.
pub const NO_COUNTER_FIX: &str = "run `greenbench calibrate` on bare metal with RAPL (Intel since \
Sandy Bridge, AMD since Zen; see `greenbench meters`) and copy the file it writes to machines with \
the same CPU model; on a virtual machine the estimate is used without a calibration \
(docs/measurement.md)";

/// Opens the package counter under `root` for calibration; no RAPL is an error saying what, why
/// and what to do.
pub fn open_counter(root: &std::path::Path) -> Result<crate::rapl::RaplSource, CalibrationError> {
    crate::rapl::RaplSource::open(root).map_err(|e| {
        let fix = match &e {
            crate::MeterError::PermissionDenied { .. } => crate::RAPL_PERMISSION_FIX.to_string(),
            _ => NO_COUNTER_FIX.to_string(),
        };
        CalibrationError::NoCounter {
            reason: format!("cannot calibrate: {}", e.reason()),
            fix,
        }
    })
}

/// Longest time between two reads of the counter within a window.
const MAX_POLL: Duration = Duration::from_secs(1);

/// Runs the ladder on `source` (a RAPL source: its `cpu` component is the package counter) and
/// fits the curve; `header` says where. `on_step` sees each step as it ends. The load is stopped
/// (0 threads) when the ladder ends, also after an error.
pub fn run_ladder(
    source: &mut dyn EnergySource,
    driver: &mut dyn LoadDriver,
    plan: &LadderPlan,
    header: CalibrationHeader,
    on_step: &mut dyn FnMut(&StepResult),
) -> Result<Calibration, CalibrationError> {
    let result = ladder_points(source, driver, plan, on_step);
    let stopped = driver.set_threads(0);
    let steps = result?;
    stopped?;
    let points: Vec<CalibrationPoint> = steps.iter().map(|s| s.point.clone()).collect();
    let spread = steps.iter().map(|s| s.spread).fold(0.0, f64::max);
    Calibration::fit(header, &points, spread)
}

fn package_j(source: &mut dyn EnergySource) -> Result<f64, CalibrationError> {
    let c = source.read().map_err(|e| CalibrationError::NoCounter {
        reason: e.reason(),
        fix: e
            .fix()
            .unwrap_or_else(|| "rerun on a quiet machine; if it persists, the counter is faulty: calibration is not possible here".into()),
    })?;
    c.get(Component::Cpu)
        .ok_or_else(|| CalibrationError::NoCounter {
            reason: format!("the {} source has no package (cpu) counter", source.name()),
            fix: NO_COUNTER_FIX.into(),
        })
}

fn ladder_points(
    source: &mut dyn EnergySource,
    driver: &mut dyn LoadDriver,
    plan: &LadderPlan,
    on_step: &mut dyn FnMut(&StepResult),
) -> Result<Vec<StepResult>, CalibrationError> {
    let n = driver.logical_cpus().max(1);
    let mut out = Vec::new();
    for &threads in &plan.threads {
        driver.set_threads(threads)?;
        std::thread::sleep(plan.settle);
        let times0 = driver.cpu_times();
        let t0 = Instant::now();
        let e0 = package_j(source)?;
        let end = t0 + plan.measure;
        let mut polls: Vec<f64> = Vec::new();
        let (mut last_t, mut last_e) = (t0, e0);
        loop {
            let now = Instant::now();
            if now >= end {
                break;
            }
            std::thread::sleep((end - now).min(MAX_POLL));
            let t = Instant::now();
            let e = package_j(source)?;
            let dt = t.duration_since(last_t).as_secs_f64();
            if dt > 0.0 {
                polls.push((e - last_e) / dt);
            }
            (last_t, last_e) = (t, e);
        }
        let times1 = driver.cpu_times();
        let seconds = last_t.duration_since(t0).as_secs_f64();
        let power_w = (last_e - e0) / seconds;
        let nominal = threads as f64 / n as f64;
        let measured = times0.zip(times1).and_then(|(a, b)| a.busy_fraction(b));
        let spread = polls
            .iter()
            .map(|p| ((p - power_w) / power_w).abs())
            .filter(|r| r.is_finite())
            .fold(0.0, f64::max);
        let step = StepResult {
            point: CalibrationPoint {
                threads,
                utilisation: measured.unwrap_or(nominal),
                power_w,
            },
            nominal,
            measured_utilisation: measured.is_some(),
            spread,
        };
        on_step(&step);
        out.push(step);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn even_ladders_span_zero_to_all() {
        let d = Duration::ZERO;
        assert_eq!(LadderPlan::even(8, 5, d, d).threads, [0, 2, 4, 6, 8]);
        assert_eq!(LadderPlan::even(2, 5, d, d).threads, [0, 1, 2]);
        assert_eq!(LadderPlan::even(1, 1, d, d).threads, [0, 1]);
    }

    #[test]
    fn proc_stat_busy_fraction() {
        let a = parse_proc_stat("cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 1 2 3 4\n").unwrap();
        assert_eq!(
            a,
            CpuTimes {
                busy: 200,
                total: 1000
            }
        );
        let b = parse_proc_stat("cpu  400 0 100 800 100 0 0 0 0 0\n").unwrap();
        assert_eq!(a.busy_fraction(b), Some(0.75));
        assert_eq!(a.busy_fraction(a), None);
        assert_eq!(parse_proc_stat("intr 1 2 3"), None);
    }
}
