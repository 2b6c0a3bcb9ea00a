//! Energy components, measurement quality, and the per-component energy and power figures that
//! appear in records.
//!
//! A value that could not be measured is `None` (written as JSON `null`) with quality
//! [`Quality::Missing`]; it is never written as 0.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::units::{Joules, Seconds};

/// A part of the machine whose energy is accounted separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Component {
    /// CPU package(s).
    Cpu,
    /// DRAM attached to the CPU package(s).
    Dram,
    /// GPU board.
    Gpu,
}

impl Component {
    /// All components in record order.
    pub const ALL: [Component; 3] = [Component::Cpu, Component::Dram, Component::Gpu];

    /// Lowercase name used in records, traces and CSV columns.
    pub fn name(self) -> &'static str {
        match self {
            Component::Cpu => "cpu",
            Component::Dram => "dram",
            Component::Gpu => "gpu",
        }
    }
}

impl std::fmt::Display for Component {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How a number was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Quality {
    /// Read from a hardware counter or power sensor (RAPL, NVML).
    Measured,
    /// Computed from a model (CPU time × watts per core, RSS × W/GB); the basis is recorded.
    Estimated,
    /// Could not be obtained; the value is absent, never 0.
    Missing,
}

impl Quality {
    /// The weaker of two qualities (measured > estimated > missing).
    pub fn weakest(self, other: Quality) -> Quality {
        self.max(other)
    }
}

impl std::fmt::Display for Quality {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Quality::Measured => "measured",
            Quality::Estimated => "estimated",
            Quality::Missing => "missing",
        })
    }
}

/// A cumulative energy reading of one source: joules per component since an arbitrary origin,
/// and the quality of each.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EnergyReading {
    /// Cumulative joules per component.
    pub joules: BTreeMap<Component, Joules>,
    /// Quality per component present in `joules`.
    pub quality: BTreeMap<Component, Quality>,
}

/// Energy of one window (train, inference, an epoch) per component, as written in records.
///
/// `total_j` is the sum of the components present; it is `None` when any component that the meter
/// was asked to measure is missing, so a partial sum is never passed off as a total.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ComponentEnergy {
    /// CPU package energy in joules.
    pub cpu_j: Option<f64>,
    /// DRAM energy in joules.
    pub dram_j: Option<f64>,
    /// GPU energy in joules.
    pub gpu_j: Option<f64>,
    /// Sum of the components, `None` when one is missing.
    pub total_j: Option<f64>,
    /// Weakest quality among the components (`missing` if any is missing).
    pub quality: Option<Quality>,
    /// Quality per component, so "CPU estimated, GPU measured" stays visible.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub qualities: BTreeMap<Component, Quality>,
}

impl ComponentEnergy {
    /// Builds from per-component values; `None` values count as missing.
    pub fn from_parts(parts: &BTreeMap<Component, (Option<Joules>, Quality)>) -> Self {
        let mut e = ComponentEnergy::default();
        let mut total = Some(0.0);
        let mut quality: Option<Quality> = None;
        for (&c, &(j, q)) in parts {
            let q = if j.is_none() { Quality::Missing } else { q };
            let v = j.map(|j| j.0);
            match c {
                Component::Cpu => e.cpu_j = v,
                Component::Dram => e.dram_j = v,
                Component::Gpu => e.gpu_j = v,
            }
            total = match (total, v) {
                (Some(t), Some(v)) => Some(t + v),
                _ => None,
            };
            quality = Some(quality.map_or(q, |old| old.weakest(q)));
            e.qualities.insert(c, q);
        }
        e.total_j = if parts.is_empty() { None } else { total };
        e.quality = quality.or(Some(Quality::Missing));
        e
    }

    /// Value of one component.
    pub fn get(&self, c: Component) -> Option<f64> {
        match c {
            Component::Cpu => self.cpu_j,
            Component::Dram => self.dram_j,
            Component::Gpu => self.gpu_j,
        }
    }

    /// Energy minus idle power × duration, per component (`E_net = E_raw − P_idle × t`).
    /// A component without an idle figure has no net value.
    pub fn net_of(&self, idle: &ComponentPower, duration: Seconds) -> ComponentEnergy {
        let mut parts = BTreeMap::new();
        for (&c, &q) in &self.qualities {
            let v = match (self.get(c), idle.get(c)) {
                (Some(e), Some(p)) => Some(Joules(e - p * duration.0)),
                _ => None,
            };
            parts.insert(c, (v, q));
        }
        ComponentEnergy::from_parts(&parts)
    }

    /// Average power over `duration`, per component.
    pub fn average_power(&self, duration: Seconds) -> ComponentPower {
        let div = |v: Option<f64>| v.filter(|_| duration.0 > 0.0).map(|v| v / duration.0);
        ComponentPower {
            cpu_w: div(self.cpu_j),
            dram_w: div(self.dram_j),
            gpu_w: div(self.gpu_j),
            total_w: div(self.total_j),
        }
    }
}

/// Power per component in watts (average over a window, or idle baseline).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ComponentPower {
    /// CPU package watts.
    pub cpu_w: Option<f64>,
    /// DRAM watts.
    pub dram_w: Option<f64>,
    /// GPU watts.
    pub gpu_w: Option<f64>,
    /// Sum of the components present.
    pub total_w: Option<f64>,
}

impl ComponentPower {
    /// Value of one component.
    pub fn get(&self, c: Component) -> Option<f64> {
        match c {
            Component::Cpu => self.cpu_w,
            Component::Dram => self.dram_w,
            Component::Gpu => self.gpu_w,
        }
    }

    /// Sets one component and recomputes the total from the components present.
    pub fn set(&mut self, c: Component, w: Option<f64>) {
        match c {
            Component::Cpu => self.cpu_w = w,
            Component::Dram => self.dram_w = w,
            Component::Gpu => self.gpu_w = w,
        }
        let parts = [self.cpu_w, self.dram_w, self.gpu_w];
        self.total_w = if parts.iter().all(Option::is_none) {
            None
        } else {
            Some(parts.iter().flatten().sum())
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(
        v: &[(Component, Option<f64>, Quality)],
    ) -> BTreeMap<Component, (Option<Joules>, Quality)> {
        v.iter().map(|&(c, j, q)| (c, (j.map(Joules), q))).collect()
    }

    #[test]
    fn total_is_sum_and_quality_is_weakest() {
        let e = ComponentEnergy::from_parts(&parts(&[
            (Component::Cpu, Some(10.0), Quality::Estimated),
            (Component::Gpu, Some(5.0), Quality::Measured),
        ]));
        assert_eq!(e.total_j, Some(15.0));
        assert_eq!(e.quality, Some(Quality::Estimated));
        assert_eq!(e.dram_j, None);
    }

    #[test]
    fn missing_component_means_no_total_never_zero() {
        let e = ComponentEnergy::from_parts(&parts(&[
            (Component::Cpu, None, Quality::Measured),
            (Component::Gpu, Some(5.0), Quality::Measured),
        ]));
        assert_eq!(e.total_j, None);
        assert_eq!(e.cpu_j, None);
        assert_eq!(e.quality, Some(Quality::Missing));
        let json = serde_json::to_string(&e).unwrap();
        assert!(json.contains("\"cpu_j\":null"), "{json}");
    }

    #[test]
    fn net_energy_subtracts_idle_power_times_duration() {
        let e = ComponentEnergy::from_parts(&parts(&[(
            Component::Cpu,
            Some(100.0),
            Quality::Measured,
        )]));
        let idle = ComponentPower {
            cpu_w: Some(2.0),
            ..Default::default()
        };
        let n = e.net_of(&idle, Seconds(10.0));
        assert_eq!(n.cpu_j, Some(80.0));
        assert_eq!(n.total_j, Some(80.0));
        let p = e.average_power(Seconds(10.0));
        assert_eq!(p.cpu_w, Some(10.0));
    }
}

impl ComponentEnergy {
    /// Sum of several windows (e.g. the epochs of a run), component by component. A component
    /// missing in any window is missing in the sum; qualities combine to the weakest.
    pub fn sum<'a>(windows: impl IntoIterator<Item = &'a ComponentEnergy>) -> ComponentEnergy {
        let mut parts: BTreeMap<Component, (Option<Joules>, Quality)> = BTreeMap::new();
        let mut any = false;
        for w in windows {
            any = true;
            for (&c, &q) in &w.qualities {
                let v = w.get(c).map(Joules);
                parts
                    .entry(c)
                    .and_modify(|(acc, aq)| {
                        *acc = match (*acc, v) {
                            (Some(a), Some(b)) => Some(a + b),
                            _ => None,
                        };
                        *aq = aq.weakest(q);
                    })
                    .or_insert((v, q));
            }
        }
        if !any {
            return ComponentEnergy::default();
        }
        ComponentEnergy::from_parts(&parts)
    }
}

#[cfg(test)]
mod sum_tests {
    use super::*;

    #[test]
    fn sum_keeps_missing_missing() {
        let mut p = BTreeMap::new();
        p.insert(Component::Cpu, (Some(Joules(2.0)), Quality::Estimated));
        let a = ComponentEnergy::from_parts(&p);
        let s = ComponentEnergy::sum([&a, &a]);
        assert_eq!(s.cpu_j, Some(4.0));
        assert_eq!(s.quality, Some(Quality::Estimated));
        p.insert(Component::Cpu, (None, Quality::Measured));
        let b = ComponentEnergy::from_parts(&p);
        let s = ComponentEnergy::sum([&a, &b]);
        assert_eq!(s.cpu_j, None);
        assert_eq!(s.total_j, None);
    }
}
