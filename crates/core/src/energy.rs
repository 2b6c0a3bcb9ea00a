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
    /// Computed from a model (the load-curve CPU model and W/GB of docs/measurement.md); the basis
    /// is recorded.
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
    /// Lower end of the total's range in joules: for an estimate the 5th percentile over the
    /// model's parameter ranges, for a measurement the value less its counter's resolution.
    /// `None` when a component has no range (records written before ranges existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low_j: Option<f64>,
    /// Upper end of the total's range in joules (95th percentile, or value plus resolution).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high_j: Option<f64>,
    /// Range per component (`[low, high]` joules), where the source gave one.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ranges: BTreeMap<Component, [f64; 2]>,
    /// Energy an estimated component's model charges at zero load over the same window
    /// (joules): net energy of an estimate is the value less this, not less an idle baseline.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub zero_load_j: BTreeMap<Component, f64>,
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

    /// Adds per-component ranges and zero-load energies, and derives the total's range: the sum
    /// of the components' lows and of their highs (as if every component's parameters were at
    /// the same percentile together, which is at least as wide as independent errors give).
    /// The total has no range when a component with a value has none.
    pub fn with_ranges(
        mut self,
        ranges: BTreeMap<Component, [f64; 2]>,
        zero_load_j: BTreeMap<Component, f64>,
    ) -> Self {
        self.ranges = ranges
            .into_iter()
            .filter(|(c, _)| self.get(*c).is_some())
            .collect();
        self.zero_load_j = zero_load_j
            .into_iter()
            .filter(|(c, _)| self.get(*c).is_some())
            .collect();
        self.derive_total_range();
        self
    }

    fn derive_total_range(&mut self) {
        let (mut low, mut high) = (Some(0.0), Some(0.0));
        for c in self.qualities.keys() {
            match self.ranges.get(c) {
                Some(&[l, h]) => {
                    low = low.map(|s| s + l);
                    high = high.map(|s| s + h);
                }
                None => (low, high) = (None, None),
            }
        }
        let ok = self.total_j.is_some() && !self.ranges.is_empty();
        self.low_j = low.filter(|_| ok);
        self.high_j = high.filter(|_| ok);
    }

    /// Whether every component present is an estimate whose model states its zero-load energy,
    /// so that net energy is the model's dynamic part.
    pub fn is_model_net(&self) -> bool {
        !self.qualities.is_empty()
            && self
                .qualities
                .iter()
                .all(|(c, q)| *q == Quality::Estimated && self.zero_load_j.contains_key(c))
    }

    /// Value of one component.
    pub fn get(&self, c: Component) -> Option<f64> {
        match c {
            Component::Cpu => self.cpu_j,
            Component::Dram => self.dram_j,
            Component::Gpu => self.gpu_j,
        }
    }

    /// Energy minus its baseline, per component: an estimate whose model states its zero-load
    /// energy loses that (the model's dynamic part; the idle power of the machine is not
    /// known to an estimate), any other component loses idle power × duration
    /// (`E_net = E_raw − P_idle × t`). A component without either has no net value. Ranges move
    /// with the value.
    pub fn net_of(&self, idle: &ComponentPower, duration: Seconds) -> ComponentEnergy {
        let mut parts = BTreeMap::new();
        let mut ranges = BTreeMap::new();
        for (&c, &q) in &self.qualities {
            let Some(e) = self.get(c) else {
                parts.insert(c, (None, q));
                continue;
            };
            let base = match self.zero_load_j.get(&c) {
                Some(&z) if q == Quality::Estimated => Some(ModelBase::ZeroLoad(z)),
                _ => idle.get(c).map(|p| ModelBase::Idle(p * duration.0)),
            };
            let Some(base) = base else {
                parts.insert(c, (None, q));
                continue;
            };
            let net = e - base.joules();
            if let Some(&[l, h]) = self.ranges.get(&c) {
                ranges.insert(c, base.net_range(e, net, l, h));
            }
            parts.insert(c, (Some(Joules(net)), q));
        }
        ComponentEnergy::from_parts(&parts).with_ranges(ranges, BTreeMap::new())
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

/// What a component's net energy is taken from.
#[derive(Debug, Clone, Copy)]
enum ModelBase {
    /// The estimate's own zero-load energy (joules): it scales with the same parameters as the
    /// value, so the net range is the value's range scaled by net ÷ value.
    ZeroLoad(f64),
    /// Idle power × duration (joules), subtracted from both ends of the range.
    Idle(f64),
}

impl ModelBase {
    fn joules(self) -> f64 {
        match self {
            ModelBase::ZeroLoad(j) | ModelBase::Idle(j) => j,
        }
    }

    fn net_range(self, value: f64, net: f64, low: f64, high: f64) -> [f64; 2] {
        match self {
            ModelBase::ZeroLoad(_) if value > 0.0 => [low * net / value, high * net / value],
            ModelBase::ZeroLoad(_) => [net, net],
            ModelBase::Idle(j) => [low - j, high - j],
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
        let mut ranges: BTreeMap<Component, Option<[f64; 2]>> = BTreeMap::new();
        let mut zero: BTreeMap<Component, Option<f64>> = BTreeMap::new();
        let mut any = false;
        for w in windows {
            any = true;
            for (&c, &q) in &w.qualities {
                let r = w.ranges.get(&c).copied();
                ranges
                    .entry(c)
                    .and_modify(|acc| {
                        *acc = match (*acc, r) {
                            (Some(a), Some(b)) => Some([a[0] + b[0], a[1] + b[1]]),
                            _ => None,
                        }
                    })
                    .or_insert(r);
                let z = w.zero_load_j.get(&c).copied();
                zero.entry(c)
                    .and_modify(|acc| {
                        *acc = match (*acc, z) {
                            (Some(a), Some(b)) => Some(a + b),
                            _ => None,
                        }
                    })
                    .or_insert(z);
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
        ComponentEnergy::from_parts(&parts).with_ranges(flat(ranges), flat(zero))
    }
}

/// The entries of `m` that have a value.
fn flat<T>(m: BTreeMap<Component, Option<T>>) -> BTreeMap<Component, T> {
    m.into_iter().filter_map(|(c, v)| Some((c, v?))).collect()
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

#[cfg(test)]
mod range_tests {
    use super::*;

    fn estimated_cpu(j: f64, range: [f64; 2], zero: f64) -> ComponentEnergy {
        let mut p = BTreeMap::new();
        p.insert(Component::Cpu, (Some(Joules(j)), Quality::Estimated));
        ComponentEnergy::from_parts(&p).with_ranges(
            [(Component::Cpu, range)].into(),
            [(Component::Cpu, zero)].into(),
        )
    }

    #[test]
    fn an_estimate_nets_its_own_zero_load_not_the_idle_baseline() {
        let e = estimated_cpu(100.0, [80.0, 120.0], 20.0);
        assert_eq!((e.low_j, e.high_j), (Some(80.0), Some(120.0)));
        assert!(e.is_model_net());
        // An idle baseline of a process that only waits (the orchestrator) is not subtracted.
        let idle = ComponentPower {
            cpu_w: Some(50.0),
            total_w: Some(50.0),
            ..Default::default()
        };
        let n = e.net_of(&idle, Seconds(10.0));
        assert_eq!(n.cpu_j, Some(80.0));
        assert_eq!((n.low_j, n.high_j), (Some(64.0), Some(96.0)));
    }

    #[test]
    fn a_measured_range_moves_with_the_idle_subtraction() {
        let mut p = BTreeMap::new();
        p.insert(Component::Gpu, (Some(Joules(100.0)), Quality::Measured));
        let e = ComponentEnergy::from_parts(&p)
            .with_ranges([(Component::Gpu, [99.0, 101.0])].into(), BTreeMap::new());
        let idle = ComponentPower {
            gpu_w: Some(2.0),
            total_w: Some(2.0),
            ..Default::default()
        };
        let n = e.net_of(&idle, Seconds(10.0));
        assert_eq!(n.gpu_j, Some(80.0));
        assert_eq!((n.low_j, n.high_j), (Some(79.0), Some(81.0)));
    }

    #[test]
    fn sums_carry_ranges_and_a_window_without_one_leaves_the_total_without() {
        let a = estimated_cpu(10.0, [8.0, 12.0], 1.0);
        let s = ComponentEnergy::sum([&a, &a]);
        assert_eq!((s.low_j, s.high_j), (Some(16.0), Some(24.0)));
        assert_eq!(s.zero_load_j.get(&Component::Cpu), Some(&2.0));
        let mut p = BTreeMap::new();
        p.insert(Component::Cpu, (Some(Joules(10.0)), Quality::Estimated));
        let old = ComponentEnergy::from_parts(&p);
        let s = ComponentEnergy::sum([&a, &old]);
        assert_eq!(s.total_j, Some(20.0));
        assert_eq!((s.low_j, s.high_j), (None, None));
        assert!(!s.is_model_net());
    }

    #[test]
    fn records_without_ranges_still_parse_and_write_no_range_keys() {
        let old = r#"{"cpu_j":1.0,"dram_j":null,"gpu_j":null,"total_j":1.0,"quality":"estimated"}"#;
        let e: ComponentEnergy = serde_json::from_str(old).unwrap();
        assert_eq!(e.low_j, None);
        let json = serde_json::to_string(&e).unwrap();
        assert!(
            !json.contains("low_j") && !json.contains("zero_load"),
            "{json}"
        );
    }
}
