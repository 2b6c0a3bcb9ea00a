//! The CPU and DRAM power model behind the estimate, every number with its source (the same
//! table is in docs/measurement.md).
//!
//! * Power of one vCPU at utilisation `u` (0..1) is `zero + (full − zero) × shape(u)`, where
//!   `shape` is the Teads/Boavizta load curve (0.12, 0.32, 0.75, 1.02 of TDP at 0, 10, 50,
//!   100 % load, linearly interpolated) rescaled to run from 0 at idle to 1 at full load.
//! * A CPU named in `/proc/cpuinfo`, with its TDP in CodeCarbon's table ([`TDP_CSV`]) and a known
//!   number of logical CPUs per package: `zero` = 0.12 × TDP ÷ threads and `full` = 1.02 × TDP ÷
//!   threads (one value each: the TDP is one number).
//! * Otherwise (virtual machines name no model): the microarchitectures that the cpuid family,
//!   model and vector width allow, and `zero`/`full` span the watts per vCPU that Cloud Carbon
//!   Footprint gives for them (SPECpower medians, [`MICROARCHS`]).
//! * DRAM: [`DRAM_W_PER_GB`], 0.19–0.54 W per GB.
//!
//! Each range is read as a uniform distribution and a value's range is the 5th and 95th
//! percentile ([`LOW_PERCENTILE`], [`HIGH_PERCENTILE`]) with all parameters at the same
//! percentile together: the energy is linear in each parameter, so this needs no sampling, and
//! it is at least as wide as independent parameters would give.

use std::sync::OnceLock;

use crate::calibration::Calibration;
use crate::cpu_id::CpuId;

/// Teads/Boavizta load curve: (utilisation 0..1, power as a fraction of TDP).
pub const LOAD_CURVE: [(f64, f64); 4] = [(0.0, 0.12), (0.1, 0.32), (0.5, 0.75), (1.0, 1.02)];

/// Percentile of a parameter range that gives a value's `low_j`.
pub const LOW_PERCENTILE: f64 = 0.05;
/// Percentile of a parameter range that gives a value's `high_j`.
pub const HIGH_PERCENTILE: f64 = 0.95;

/// CodeCarbon's CPU TDP table (`codecarbon/data/hardware/cpu_power.csv` of codecarbon 3.3.2 on
/// PyPI, MIT licence; see crates/meter/data/README.md).
pub const TDP_CSV: &str = include_str!("../data/cpu_power.csv");

/// DRAM power per GB of memory the run uses: 0.19–0.54 W/GB (the published figures), central
/// 0.375 W/GB (CodeCarbon's 3/8 W per GB).
pub const DRAM_W_PER_GB: Range = Range {
    low: 0.19,
    high: 0.54,
    central: 0.375,
};

/// A parameter's range; values between `low` and `high` are taken as equally likely.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    /// Least value.
    pub low: f64,
    /// Greatest value.
    pub high: f64,
    /// The value the estimate itself uses.
    pub central: f64,
}

impl Range {
    /// A single known value.
    pub const fn point(v: f64) -> Range {
        Range {
            low: v,
            high: v,
            central: v,
        }
    }

    /// The hull of several values, central at its middle.
    pub fn span(values: impl IntoIterator<Item = f64>) -> Option<Range> {
        let (mut low, mut high) = (f64::INFINITY, f64::NEG_INFINITY);
        for v in values {
            low = low.min(v);
            high = high.max(v);
        }
        (low <= high).then_some(Range {
            low,
            high,
            central: 0.5 * (low + high),
        })
    }

    /// The value at percentile `q` (0..1) of the uniform distribution over the range.
    pub fn at(&self, q: f64) -> f64 {
        self.low + q * (self.high - self.low)
    }

    /// "0.64–1.00" or "0.64" for a point.
    pub fn show(&self) -> String {
        if self.low == self.high {
            format!("{:.2}", self.central)
        } else {
            format!("{:.2}–{:.2}", self.low, self.high)
        }
    }
}

/// The load curve at utilisation `u` (clamped to 0..1), as a fraction of TDP.
pub fn load_fraction(u: f64) -> f64 {
    let u = if u.is_finite() {
        u.clamp(0.0, 1.0)
    } else {
        0.0
    };
    for w in LOAD_CURVE.windows(2) {
        let ((u0, p0), (u1, p1)) = (w[0], w[1]);
        if u <= u1 {
            return p0 + (p1 - p0) * (u - u0) / (u1 - u0);
        }
    }
    LOAD_CURVE[LOAD_CURVE.len() - 1].1
}

/// The load curve rescaled to 0 at idle and 1 at full load.
pub fn load_shape(u: f64) -> f64 {
    let (idle, full) = (LOAD_CURVE[0].1, LOAD_CURVE[LOAD_CURVE.len() - 1].1);
    (load_fraction(u) - idle) / (full - idle)
}

/// One microarchitecture of Cloud Carbon Footprint's coefficients: watts per vCPU at idle and at
/// full load (SPECpower medians).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Microarch {
    /// Name as CCF spells it.
    pub name: &'static str,
    /// Watts per vCPU at idle (CCF `MIN_WATTS_BY_COMPUTE_PROCESSOR`).
    pub min_w: f64,
    /// Watts per vCPU at full load (CCF `MAX_WATTS_BY_COMPUTE_PROCESSOR`).
    pub max_w: f64,
}

/// Cloud Carbon Footprint's watts per vCPU (packages/aws/src/domain/
/// AwsFootprintEstimationConstants.ts; AMD EPYC 3rd Gen from packages/gcp/src/domain/
/// GcpFootprintEstimationConstants.ts; Apache-2.0).
pub const MICROARCHS: &[Microarch] = &[
    Microarch {
        name: "Cascade Lake",
        min_w: 0.64,
        max_w: 3.97,
    },
    Microarch {
        name: "Skylake",
        min_w: 0.65,
        max_w: 4.26,
    },
    Microarch {
        name: "Broadwell",
        min_w: 0.71,
        max_w: 3.69,
    },
    Microarch {
        name: "Haswell",
        min_w: 1.0,
        max_w: 4.74,
    },
    Microarch {
        name: "Coffee Lake",
        min_w: 1.14,
        max_w: 5.42,
    },
    Microarch {
        name: "Sandy Bridge",
        min_w: 2.17,
        max_w: 8.58,
    },
    Microarch {
        name: "Ivy Bridge",
        min_w: 3.04,
        max_w: 8.25,
    },
    Microarch {
        name: "AMD EPYC 1st Gen",
        min_w: 0.82,
        max_w: 2.55,
    },
    Microarch {
        name: "AMD EPYC 2nd Gen",
        min_w: 0.47,
        max_w: 1.69,
    },
    Microarch {
        name: "AMD EPYC 3rd Gen",
        min_w: 0.45,
        max_w: 2.02,
    },
];

const XEON_SINCE_HASWELL: &[&str] = &["Haswell", "Broadwell", "Skylake", "Cascade Lake"];
const EPYC: &[&str] = &["AMD EPYC 1st Gen", "AMD EPYC 2nd Gen", "AMD EPYC 3rd Gen"];

/// The microarchitectures of [`MICROARCHS`] this CPU can be, and why: an exact match of the
/// cpuid family and model, else a stand-in span (a newer model CCF has no figure for, or an
/// unknown one).
pub fn microarchs_for(id: &CpuId) -> (Vec<&'static Microarch>, String) {
    let exact: Option<&[&str]> = match (id.vendor.as_deref(), id.family, id.model) {
        (Some("GenuineIntel"), Some(6), Some(m)) => match m {
            0x2A | 0x2D => Some(&["Sandy Bridge"]),
            0x3A | 0x3E => Some(&["Ivy Bridge"]),
            0x3C | 0x3F | 0x45 | 0x46 => Some(&["Haswell"]),
            0x3D | 0x47 | 0x4F | 0x56 => Some(&["Broadwell"]),
            // Skylake-SP and Cascade Lake share model 0x55 (only the stepping differs).
            0x55 => Some(&["Skylake", "Cascade Lake"]),
            0x4E | 0x5E => Some(&["Skylake"]),
            0x8E | 0x9E => Some(&["Coffee Lake"]),
            _ => None,
        },
        (Some("AuthenticAMD"), Some(0x17), Some(m)) if m < 0x30 => Some(&["AMD EPYC 1st Gen"]),
        (Some("AuthenticAMD"), Some(0x17), Some(_)) => Some(&["AMD EPYC 2nd Gen"]),
        (Some("AuthenticAMD"), Some(0x19), Some(m)) if m < 0x10 => Some(&["AMD EPYC 3rd Gen"]),
        _ => None,
    };
    let (names, why): (&[&str], String) = match (exact, id.vendor.as_deref()) {
        (Some(n), _) => (n, format!("{} is {}", id.describe(), n.join(" or "))),
        (None, Some("GenuineIntel")) => (
            XEON_SINCE_HASWELL,
            format!(
                "{} has no SPECpower figure in Cloud Carbon Footprint, so the range spans the Xeon \
                 generations it has since Haswell",
                id.describe()
            ),
        ),
        (None, Some("AuthenticAMD")) => (
            EPYC,
            format!(
                "{} has no SPECpower figure in Cloud Carbon Footprint, so the range spans the three \
                 EPYC generations it has",
                id.describe()
            ),
        ),
        (None, _) => (
            &[],
            format!(
                "{} is no CPU Cloud Carbon Footprint covers, so the range spans all it has",
                id.describe()
            ),
        ),
    };
    let list: Vec<&Microarch> = if names.is_empty() {
        MICROARCHS.iter().collect()
    } else {
        MICROARCHS
            .iter()
            .filter(|m| names.contains(&m.name))
            .collect()
    };
    (list, why)
}

/// Logical CPUs per package of CPUs seen on cloud machines (a VM shows its own vCPU count, not
/// the package's): substring of the model name, threads. From the vendors' product pages.
pub const PACKAGE_THREADS: &[(&str, u32)] = &[
    ("EPYC 9654", 192),
    ("EPYC 9554", 128),
    ("EPYC 9454", 96),
    ("EPYC 7763", 128),
    ("EPYC 7V13", 128),
    ("EPYC 7B13", 128),
    ("EPYC 7742", 128),
    ("Platinum 8480", 112),
    ("Platinum 8468", 96),
    ("Platinum 8380", 80),
    ("Platinum 8375C", 64),
    ("Platinum 8358", 64),
    ("Platinum 8272CL", 52),
    ("Platinum 8259CL", 48),
    ("Gold 6338", 64),
    ("i9-13900K", 32),
];

/// Lowercase words of a CPU name without trademarks, "CPU", "Processor", "N-Core" and the clock.
fn words(name: &str) -> Vec<String> {
    let cleaned = name
        .replace("(R)", " ")
        .replace("(r)", " ")
        .replace("(TM)", " ")
        .replace("(tm)", " ")
        .replace(['®', '™'], " ");
    let cleaned = cleaned.split('@').next().unwrap_or("");
    cleaned
        .split_ascii_whitespace()
        .map(str::to_ascii_lowercase)
        .filter(|w| w != "cpu" && w != "processor" && !w.ends_with("-core"))
        .collect()
}

/// The TDP table, parsed once: (words of the name, name, TDP watts).
fn tdp_table() -> &'static [(Vec<String>, String, f64)] {
    static TABLE: OnceLock<Vec<(Vec<String>, String, f64)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        TDP_CSV
            .lines()
            .skip(1)
            .filter_map(|l| {
                let (name, tdp) = l.rsplit_once(',')?;
                let tdp: f64 = tdp.trim().parse().ok()?;
                (tdp > 0.0).then(|| (words(name), name.trim().to_string(), tdp))
            })
            .collect()
    })
}

/// The TDP of a CPU model name from CodeCarbon's table: the longest table name whose words all
/// appear in the model's and that has a model number (a word with a digit), so "Intel(R) Xeon(R)
/// Processor" matches nothing.
pub fn tdp_of(model_name: &str) -> Option<(String, f64)> {
    let have = words(model_name);
    tdp_table()
        .iter()
        .filter(|(w, _, _)| {
            w.iter().any(|x| x.chars().any(|c| c.is_ascii_digit()))
                && w.iter().all(|x| have.contains(x))
        })
        .max_by_key(|(w, _, _)| w.len())
        .map(|(_, name, tdp)| (name.clone(), *tdp))
}

/// The CPU power model that applies to a machine.
#[derive(Debug, Clone, PartialEq)]
pub struct CpuPowerModel {
    /// Watts per vCPU at zero load.
    pub zero_w: Range,
    /// Watts per vCPU at full load.
    pub full_w: Range,
    /// Which model applies, from what sources, and why.
    pub basis: String,
    /// A measured curve of this CPU model (`greenbench calibrate`), used instead of the load
    /// curve and the published watts when present.
    pub calibration: Option<Box<Calibration>>,
}

impl CpuPowerModel {
    /// The model for `id`; `configured` watts per busy logical CPU (`--watts-per-core`) replace
    /// the full-load power, the zero-load power following the load curve.
    pub fn for_cpu(id: &CpuId, configured: Option<f64>) -> CpuPowerModel {
        let curve =
            "Teads/Boavizta load curve (0.12, 0.32, 0.75, 1.02 × TDP at 0, 10, 50, 100 % load)";
        let idle_share = LOAD_CURVE[0].1 / LOAD_CURVE[LOAD_CURVE.len() - 1].1;
        if let Some(w) = configured {
            return CpuPowerModel {
                zero_w: Range::point(w * idle_share),
                full_w: Range::point(w),
                basis: format!("{curve}, {w:.2} W per vCPU at full load (configured)"),
                calibration: None,
            };
        }
        let name = id.model_name.as_deref().unwrap_or("");
        if let Some(c) = Some(name)
            .filter(|n| !n.is_empty())
            .and_then(Calibration::load)
        {
            return CpuPowerModel::calibrated(c);
        }
        let named = tdp_of(name);
        let threads = PACKAGE_THREADS
            .iter()
            .find(|(k, _)| name.contains(k))
            .map(|&(_, t)| (t, "package threads from the vendor"))
            .or_else(|| {
                id.siblings
                    .filter(|_| !id.hypervisor)
                    .map(|t| (t, "package threads from /proc/cpuinfo siblings"))
            });
        if let (Some((key, tdp)), Some((threads, from))) = (named.clone(), threads) {
            let per = tdp / f64::from(threads);
            return CpuPowerModel {
                zero_w: Range::point(LOAD_CURVE[0].1 * per),
                full_w: Range::point(LOAD_CURVE[3].1 * per),
                basis: format!(
                    "{curve}; TDP {tdp:.0} W of {key} (CodeCarbon 3.3.2 cpu_power.csv, MIT) ÷ \
                     {threads} threads ({from}) = {per:.2} W per vCPU"
                ),
                calibration: None,
            };
        }
        let (archs, why) = microarchs_for(id);
        let zero_w = Range::span(archs.iter().map(|m| m.min_w)).unwrap_or(Range::point(0.0));
        let full_w = Range::span(archs.iter().map(|m| m.max_w)).unwrap_or(Range::point(0.0));
        let unnamed = match named {
            Some((key, _)) => format!(
                "{name:?} is {key} in CodeCarbon's TDP table but its threads per package are \
                 unknown in a VM"
            ),
            None if name.is_empty() => "no CPU model name".to_string(),
            None => format!("{name:?} names no model in CodeCarbon's TDP table"),
        };
        CpuPowerModel {
            zero_w,
            full_w,
            basis: format!(
                "{curve} shape between {} W per vCPU at idle and {} W at full load: {unnamed}; \
                 {why} (Cloud Carbon Footprint SPECpower coefficients, Apache-2.0)",
                zero_w.show(),
                full_w.show()
            ),
            calibration: None,
        }
    }

    /// The model of a measured curve: one vCPU at utilisation `u` draws the curve's power at host
    /// utilisation `u` ÷ its logical CPUs, within ± the calibration's relative range.
    pub fn calibrated(c: Calibration) -> CpuPowerModel {
        let r = c.relative_range();
        let at = |u: f64| {
            let p = c.per_cpu_w(u);
            Range {
                low: p * (1.0 - r),
                high: p * (1.0 + r),
                central: p,
            }
        };
        CpuPowerModel {
            zero_w: at(0.0),
            full_w: at(1.0),
            basis: format!(
                "{} (found for this CPU model, used instead of the published load curve); per \
                 vCPU: the curve at the process's utilisation of its vCPUs ÷ {} logical CPUs",
                c.basis(),
                c.logical_cpus
            ),
            calibration: Some(Box::new(c)),
        }
    }

    /// Watts of one vCPU at utilisation `u` (0..1) with every parameter at percentile `q`, or at
    /// its central value when `q` is `None`.
    pub fn vcpu_watts(&self, u: f64, q: Option<f64>) -> f64 {
        if let Some(c) = &self.calibration {
            let r = c.relative_range();
            return c.per_cpu_w(u) * q.map_or(1.0, |q| 1.0 - r + 2.0 * r * q);
        }
        let pick = |r: &Range| q.map_or(r.central, |q| r.at(q));
        let (zero, full) = (pick(&self.zero_w), pick(&self.full_w));
        zero + (full - zero) * load_shape(u)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_load_curve_passes_through_its_published_points_and_interpolates() {
        for (u, p) in LOAD_CURVE {
            assert!((load_fraction(u) - p).abs() < 1e-12, "{u}");
        }
        assert!((load_fraction(0.3) - (0.32 + 0.43 * 0.5)).abs() < 1e-12);
        assert_eq!(load_fraction(2.0), 1.02);
        assert_eq!(load_shape(0.0), 0.0);
        assert_eq!(load_shape(1.0), 1.0);
    }

    #[test]
    fn a_named_cpu_takes_its_tdp_from_codecarbons_table() {
        assert_eq!(
            tdp_of("AMD EPYC 7763 64-Core Processor"),
            Some(("AMD EPYC 7763".into(), 280.0))
        );
        assert_eq!(tdp_of("Intel(R) Xeon(R) Processor"), None);
        assert_eq!(tdp_of("AMD EPYC"), None);
        let id = CpuId {
            model_name: Some("AMD EPYC 7763 64-Core Processor".into()),
            hypervisor: true,
            ..Default::default()
        };
        let m = CpuPowerModel::for_cpu(&id, None);
        assert!(
            (m.full_w.central - 1.02 * 280.0 / 128.0).abs() < 1e-9,
            "{m:?}"
        );
        assert!(m.basis.contains("CodeCarbon 3.3.2"), "{}", m.basis);
    }

    #[test]
    fn an_unnamed_vm_cpu_gets_a_range_across_matching_microarchitectures() {
        // This project's VMs: "Intel(R) Xeon(R) Processor", family 6 model 207 (Emerald Rapids).
        let id = CpuId {
            model_name: Some("Intel(R) Xeon(R) Processor".into()),
            vendor: Some("GenuineIntel".into()),
            family: Some(6),
            model: Some(207),
            avx512: true,
            hypervisor: true,
            siblings: Some(2),
        };
        let m = CpuPowerModel::for_cpu(&id, None);
        assert_eq!((m.zero_w.low, m.zero_w.high), (0.64, 1.0));
        assert_eq!((m.full_w.low, m.full_w.high), (3.69, 4.74));
        assert!(m.basis.contains("Cloud Carbon Footprint"), "{}", m.basis);
        assert!(m.vcpu_watts(1.0, Some(0.05)) < m.vcpu_watts(1.0, None));
        assert!(m.vcpu_watts(1.0, None) < m.vcpu_watts(1.0, Some(0.95)));
        let amd = CpuId {
            model_name: Some("AMD EPYC".into()),
            vendor: Some("AuthenticAMD".into()),
            family: Some(0x19),
            model: Some(0x01),
            ..Default::default()
        };
        let m = CpuPowerModel::for_cpu(&amd, None);
        assert_eq!((m.full_w.low, m.full_w.high), (2.02, 2.02));
        assert!(m.basis.contains("AMD EPYC 3rd Gen"), "{}", m.basis);
    }

    #[test]
    fn a_calibrated_curve_replaces_the_published_one_with_its_own_range() {
        use crate::calibration::CalibrationPoint;
        let point = |u: f64, w: f64| CalibrationPoint {
            threads: 0,
            utilisation: u,
            power_w: w,
        };
        let c = Calibration {
            cpu_model: "AMD EPYC".into(),
            logical_cpus: 4,
            source: "RAPL".into(),
            measured_at: "2026-12-05T19:00:00Z".into(),
            host: "h".into(),
            method: "m".into(),
            spread: 0.02,
            other_host_margin: 0.1,
            points: vec![point(0.0, 40.0), point(1.0, 120.0)],
        };
        let m = CpuPowerModel::calibrated(c);
        assert_eq!(m.vcpu_watts(0.0, None), 10.0);
        assert_eq!(m.vcpu_watts(0.5, None), 20.0);
        // ± 12 %, uniform: the 5th percentile is 1 − 0.12 × 0.9.
        assert!((m.vcpu_watts(1.0, Some(0.05)) - 30.0 * (1.0 - 0.108)).abs() < 1e-9);
        assert!(
            m.basis.contains("calibrated curve of AMD EPYC"),
            "{}",
            m.basis
        );
    }
}
