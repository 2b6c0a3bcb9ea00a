//! What else a machine did while a run (or the idle baseline) was measured: CPU time of all other
//! processes from `/proc/stat`'s totals minus the run's own process tree, hypervisor steal time
//! where the kernel reports it, and the load average; and the flag of a window where others used
//! more than a threshold of the machine, whose time and energy are then not the run's alone.

use serde::{Deserialize, Serialize};

use crate::flag::Flag;

/// The `interference` threshold when a config gives none: other processes using more than 5 %
/// of the machine's CPU time during a window flag it.
pub const DEFAULT_THRESHOLD: f64 = 0.05;

/// The field of an interference flag (and of the record's measurement).
pub const FIELD: &str = "interference";

/// The machine-wide CPU counters of `/proc/stat` at one moment, in clock ticks (`USER_HZ`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CpuTimes {
    /// Ticks spent running anything: user, nice, system, irq and softirq (guest time is part of
    /// user already).
    pub busy: u64,
    /// Ticks of every kind, idle and I/O wait included (steal too).
    pub total: u64,
    /// Ticks a hypervisor ran something else on this machine's virtual CPUs; `None` when the
    /// line has no steal column.
    pub steal: Option<u64>,
    /// Logical CPUs (`cpuN` lines).
    pub cpus: usize,
}

/// Why `/proc/stat` text could not be read as CPU counters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProcStatError {
    /// No `cpu ` line (the machine-wide totals).
    #[error("no `cpu` totals line in {path}: is it a Linux /proc/stat?")]
    NoTotals {
        /// The file read.
        path: String,
    },
    /// A counter of the `cpu ` line is not a number, or there are fewer than four.
    #[error("the `cpu` line of {path} has unreadable counters (`{line}`): expected at least user, nice, system and idle ticks")]
    BadCounters {
        /// The file read.
        path: String,
        /// The line as read.
        line: String,
    },
}

impl CpuTimes {
    /// The counters of `/proc/stat`'s text (`path` names the file in errors).
    pub fn parse(text: &str, path: &str) -> Result<CpuTimes, ProcStatError> {
        let line = text
            .lines()
            .find(|l| l.starts_with("cpu "))
            .ok_or_else(|| ProcStatError::NoTotals { path: path.into() })?;
        let fields: Result<Vec<u64>, _> = line.split_whitespace().skip(1).map(str::parse).collect();
        let bad = || ProcStatError::BadCounters {
            path: path.into(),
            line: line.into(),
        };
        let f = fields.map_err(|_| bad())?;
        if f.len() < 4 {
            return Err(bad());
        }
        let at = |i: usize| f.get(i).copied().unwrap_or(0);
        // user nice system idle iowait irq softirq steal guest guest_nice
        let busy = at(0) + at(1) + at(2) + at(5) + at(6);
        let steal = f.get(7).copied();
        let total = busy + at(3) + at(4) + steal.unwrap_or(0);
        let cpus = text
            .lines()
            .filter(|l| {
                l.strip_prefix("cpu")
                    .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
            })
            .count();
        Ok(CpuTimes {
            busy,
            total,
            steal,
            cpus,
        })
    }
}

/// What else the machine did during a window (a record's optional `interference` field).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interference {
    /// Length of the window in seconds, as the machine's counters measured it.
    pub window_s: f64,
    /// Logical CPUs of the machine.
    pub cpus: usize,
    /// CPU-seconds every other process used in the window: the machine's busy time minus the
    /// run's own process tree (the worker and what it waited for).
    pub others_cpu_s: f64,
    /// `others_cpu_s` as a share of the machine's CPU time in the window (`window_s` × `cpus`,
    /// 0 to 1).
    pub others_share: f64,
    /// Share of the machine's CPU time a hypervisor gave to others (steal); absent where the
    /// kernel does not report it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steal_share: Option<f64>,
    /// The 1-minute load average at the end of the window (runnable tasks, the run's own
    /// included); absent when it could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_avg_1m: Option<f64>,
    /// Seconds the sweep waited for a quiet machine before the run (`quiet_gate`); absent
    /// without a gate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quiet_wait_s: Option<f64>,
}

impl Interference {
    /// The window between two readings of the counters (`ticks_per_s`: `USER_HZ`), `own_cpu_s`
    /// of which were the run's own; `None` when no time passed on the counters (a window too
    /// short for a clock tick, or counters that did not move).
    pub fn between(
        start: &CpuTimes,
        end: &CpuTimes,
        own_cpu_s: f64,
        ticks_per_s: f64,
        load_avg_1m: Option<f64>,
    ) -> Option<Interference> {
        let total = end.total.checked_sub(start.total)?;
        if total == 0 || ticks_per_s <= 0.0 {
            return None;
        }
        let cpus = end.cpus.max(1);
        let busy_s = end.busy.saturating_sub(start.busy) as f64 / ticks_per_s;
        let machine_s = total as f64 / ticks_per_s;
        let others_cpu_s = (busy_s - own_cpu_s.max(0.0)).max(0.0);
        let steal_share = match (start.steal, end.steal) {
            (Some(a), Some(b)) => Some(b.saturating_sub(a) as f64 / total as f64),
            _ => None,
        };
        Some(Interference {
            window_s: machine_s / cpus as f64,
            cpus,
            others_cpu_s,
            others_share: others_cpu_s / machine_s,
            steal_share,
            load_avg_1m,
            quiet_wait_s: None,
        })
    }

    /// The flag of a run during which others used more than `threshold` of the machine (or a
    /// hypervisor stole more than it).
    pub fn run_flag(&self, threshold: f64) -> Option<Flag> {
        self.flag(
            threshold,
            "the run",
            "Its time and energy include their work: compare it with its repeats, or run it \
             again on a quiet machine",
        )
    }

    /// The flag of an idle baseline during which others used more than `threshold` of the
    /// machine.
    pub fn idle_flag(&self, threshold: f64) -> Option<Flag> {
        self.flag(
            threshold,
            "the idle baseline",
            "The idle power includes their work, so the net energy of every run subtracts too \
             much: measure the baseline again on a quiet machine (a new folder)",
        )
    }

    /// The flag of a window (`what`) where others used more than `threshold` of the machine,
    /// with what that means for its figures.
    fn flag(&self, threshold: f64, what: &str, meaning: &str) -> Option<Flag> {
        let steal = self.steal_share.unwrap_or(0.0);
        if !(self.others_share > threshold || steal > threshold) {
            return None;
        }
        Some(Flag {
            field: FIELD.into(),
            reason: format!(
                "other processes used {} of the machine during {what} ({:.2} CPU-s over {:.2} s × {} CPUs), \
                 above the threshold of {}; {}; {}. {meaning}",
                percent(self.others_share),
                self.others_cpu_s,
                self.window_s,
                self.cpus,
                percent(threshold),
                self.steal_share
                    .map_or("steal not reported".into(), |s| format!("hypervisor steal {}", percent(s))),
                self.load_avg_1m
                    .map_or("load average unknown".into(), |l| format!("load average {l:.2}")),
            ),
        })
    }
}

/// `0.4321` as `43.2 %`.
fn percent(share: f64) -> String {
    format!("{:.1} %", share * 100.0)
}

/// The first figure of `/proc/loadavg` (the 1-minute load average).
pub fn parse_load_avg(text: &str) -> Option<f64> {
    text.split_whitespace().next()?.parse().ok()
}

/// `quiet_gate = { max_share, max_wait_s }`: before each run, wait until other processes use at
/// most `max_share` of the machine, for at most `max_wait_s` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuietGate {
    /// Largest share of the machine (0 to 1) others may use for it to count as quiet.
    #[serde(default = "default_max_share")]
    pub max_share: f64,
    /// Longest wait in seconds before the run starts anyway (its record says so).
    #[serde(default = "default_max_wait_s")]
    pub max_wait_s: f64,
}

fn default_max_share() -> f64 {
    DEFAULT_THRESHOLD
}

fn default_max_wait_s() -> f64 {
    60.0
}

#[cfg(test)]
mod tests {
    use super::*;

    const START: &str = "cpu  100 0 50 800 10 0 0 5 0 0\ncpu0 50 0 25 400 5 0 0 2 0 0\ncpu1 50 0 25 400 5 0 0 3 0 0\nintr 1\n";
    // 1 s later on 2 CPUs at 100 ticks/s: 200 ticks; busy +120 (user +100, system +20), steal +4.
    const END: &str = "cpu  200 0 70 876 10 0 0 9 0 0\ncpu0 100 0 35 436 5 0 0 4 0 0\ncpu1 100 0 35 436 5 0 0 5 0 0\n";

    #[test]
    fn the_counters_of_proc_stat_are_read_with_steal_and_cpus() {
        let t = CpuTimes::parse(START, "/proc/stat").unwrap();
        assert_eq!(
            t,
            CpuTimes {
                busy: 150,
                total: 965,
                steal: Some(5),
                cpus: 2
            }
        );
        let old = CpuTimes::parse("cpu 1 2 3 4\ncpu0 1 2 3 4\n", "x").unwrap();
        assert_eq!((old.busy, old.total, old.steal), (6, 10, None));
        assert!(matches!(
            CpuTimes::parse("intr 1\n", "fake/stat"),
            Err(ProcStatError::NoTotals { .. })
        ));
        let e = CpuTimes::parse("cpu 1 x 3 4\n", "fake/stat").unwrap_err();
        assert!(e.to_string().contains("fake/stat"), "{e}");
    }

    #[test]
    fn others_are_the_busy_time_less_the_runs_own_and_flagged_above_the_threshold() {
        let a = CpuTimes::parse(START, "a").unwrap();
        let b = CpuTimes::parse(END, "b").unwrap();
        // The run used 0.3 CPU-s: others 1.2 − 0.3 = 0.9 CPU-s of 2 CPU-s.
        let i = Interference::between(&a, &b, 0.3, 100.0, Some(1.5)).unwrap();
        assert!((i.window_s - 1.0).abs() < 1e-9, "{i:?}");
        assert!((i.others_cpu_s - 0.9).abs() < 1e-9, "{i:?}");
        assert!((i.others_share - 0.45).abs() < 1e-9, "{i:?}");
        assert_eq!(i.steal_share, Some(0.02));
        let f = i.run_flag(0.05).expect("flagged");
        assert_eq!(f.field, "interference");
        for part in [
            "45.0 % of the machine",
            "0.90 CPU-s",
            "threshold of 5.0 %",
            "steal 2.0 %",
            "load average 1.50",
        ] {
            assert!(f.reason.contains(part), "{part}: {}", f.reason);
        }
        assert!(i.run_flag(0.5).is_none());
    }

    #[test]
    fn a_run_that_used_all_the_busy_time_is_not_flagged_and_no_time_is_no_figure() {
        let a = CpuTimes::parse(START, "a").unwrap();
        let b = CpuTimes::parse(END, "b").unwrap();
        let i = Interference::between(&a, &b, 1.25, 100.0, None).unwrap();
        assert_eq!(i.others_cpu_s, 0.0);
        assert!(i.run_flag(0.05).is_none());
        assert!(Interference::between(&a, &a, 0.0, 100.0, None).is_none());
        assert!(Interference::between(&b, &a, 0.0, 100.0, None).is_none());
    }

    #[test]
    fn the_load_average_is_the_first_figure() {
        assert_eq!(parse_load_avg("0.52 0.58 0.59 1/467 12345\n"), Some(0.52));
        assert_eq!(parse_load_avg(""), None);
    }

    #[test]
    fn old_records_without_the_field_and_the_gate_defaults_parse() {
        let g: QuietGate = toml::from_str("max_wait_s = 5").unwrap();
        assert_eq!(g.max_share, DEFAULT_THRESHOLD);
        let i: Interference =
            serde_json::from_str(r#"{"window_s":1,"cpus":2,"others_cpu_s":0,"others_share":0}"#)
                .unwrap();
        assert_eq!(i.quiet_wait_s, None);
    }
}
