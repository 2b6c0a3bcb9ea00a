//! RAPL through the Linux powercap tree (`/sys/class/powercap/intel-rapl:*`, also `amd-rapl:*`).
//!
//! * All package domains (`<prefix>:N`, `name` = `package-N`) are summed into `cpu`; `psys` is skipped
//!   (it covers the whole platform and would double count).
//! * A `dram` sub-domain (`<prefix>:N:M` with `name` = `dram`) is summed into `dram` when present.
//!   `core`/`uncore` sub-domains are part of their package and are skipped.
//! * `energy_uj` is a wrapping µJ counter with range `max_energy_range_uj`. Each read adds the delta
//!   since the previous read of that domain, correcting one wrap per read; the sampler reads at
//!   10 Hz, so any number of wraps between a window's begin and end is accounted.
//! * A decrease that is not a plausible wrap, and an increase that would mean more power than one
//!   domain can draw (both: implied power above [`DEFAULT_MAX_PLAUSIBLE_W`]), are errors: the window
//!   spanning them is missing, never negative or impossible energy. Without `max_energy_range_uj` a decrease cannot be corrected and
//!   is an error too (documented behaviour; the domain is still metered while it increases).
//! * `energy_uj` unreadable (root-only since CVE-2020-8694) is [`MeterError::PermissionDenied`],
//!   whose message gives the fix. It is never read as 0.

use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use greenbench_core::{Component, Quality};

use crate::error::{MeterError, Result};
use crate::reader::{parse_u64, FileReader, FsReader};
use crate::source::{slot, Counters, EnergySource};

/// The usual powercap root.
pub const DEFAULT_POWERCAP_ROOT: &str = "/sys/class/powercap";

/// Highest power a single RAPL domain is believed to draw (well above any CPU package's TDP); a
/// counter step implying more, forward or through a wrap, is an error.
pub const DEFAULT_MAX_PLAUSIBLE_W: f64 = 2000.0;

/// Reads closer together than this are judged as this far apart: RAPL updates its counters about
/// every millisecond, so one update step read microseconds after the last must not look like
/// kilowatts.
const MIN_JUDGED_S: f64 = 0.01;

/// Why a counter step is not an energy: a decrease that cannot be a wrap, or a step implying more
/// power than one domain can draw.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CounterStepError {
    /// The counter increased by more than the plausible power allows.
    #[error("the counter jumped {:.1} J in {elapsed_s:.3} s ({implied_w:.0} W), above the plausible {max_power_w:.0} W for one domain", *.delta_uj as f64 * 1e-6)]
    Jump {
        /// The increase, µJ.
        delta_uj: u64,
        /// Seconds since the previous read.
        elapsed_s: f64,
        /// The power the increase implies, W.
        implied_w: f64,
        /// The plausible maximum, W.
        max_power_w: f64,
    },
    /// The counter decreased and the domain has no `max_energy_range_uj` to correct a wrap.
    #[error("no max_energy_range_uj to correct a wrap")]
    NoRange,
    /// The counter decreased and a value lies above `max_energy_range_uj` (not a wrap).
    #[error("value above max_energy_range_uj {max}")]
    AboveRange {
        /// `max_energy_range_uj`.
        max: u64,
    },
    /// The counter decreased and a wrap would imply more than the plausible power.
    #[error("a wrap would mean {implied_w:.0} W over {elapsed_s:.3} s, above the plausible {max_power_w:.0} W")]
    ImplausibleWrap {
        /// The power the wrap implies, W.
        implied_w: f64,
        /// Seconds since the previous read.
        elapsed_s: f64,
        /// The plausible maximum, W.
        max_power_w: f64,
    },
}

/// µJ elapsed between two raw counter values.
///
/// `max_range` is `max_energy_range_uj` (the counter counts 0..=max then restarts at 0, so a wrap
/// adds `max - previous + current`). `elapsed_s` and `max_power_w` bound a plausible wrap.
pub fn counter_delta(
    previous: u64,
    current: u64,
    max_range: Option<u64>,
    elapsed_s: f64,
    max_power_w: f64,
) -> std::result::Result<u64, CounterStepError> {
    if current >= previous {
        let delta = current - previous;
        let implied_w = delta as f64 * 1e-6 / elapsed_s.max(MIN_JUDGED_S);
        if implied_w > max_power_w {
            return Err(CounterStepError::Jump {
                delta_uj: delta,
                elapsed_s,
                implied_w,
                max_power_w,
            });
        }
        return Ok(delta);
    }
    let Some(max) = max_range else {
        return Err(CounterStepError::NoRange);
    };
    if previous > max || current > max {
        return Err(CounterStepError::AboveRange { max });
    }
    let delta = max - previous + current;
    let implied_w = delta as f64 * 1e-6 / elapsed_s.max(MIN_JUDGED_S);
    if implied_w > max_power_w {
        return Err(CounterStepError::ImplausibleWrap {
            implied_w,
            elapsed_s,
            max_power_w,
        });
    }
    Ok(delta)
}

/// One RAPL domain being followed.
#[derive(Debug)]
struct Domain {
    component: Component,
    energy_path: PathBuf,
    max_range: Option<u64>,
    last_raw: u64,
    last_t: Instant,
    total_uj: u64,
}

/// RAPL energy source (cpu = packages summed, dram when present). Quality: measured.
pub struct RaplSource {
    reader: Arc<dyn FileReader>,
    domains: Vec<Domain>,
    components: Vec<Component>,
    basis: String,
    max_power_w: f64,
}

impl std::fmt::Debug for RaplSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RaplSource")
            .field("basis", &self.basis)
            .finish()
    }
}

/// `(prefix, indices)` of a powercap entry name like `intel-rapl:0:2`; `None` for other entries.
fn parse_domain_name(name: &str) -> Option<(&'static str, Vec<u32>)> {
    let (prefix, rest) = name
        .strip_prefix("intel-rapl:")
        .map(|r| ("intel-rapl", r))
        .or_else(|| name.strip_prefix("amd-rapl:").map(|r| ("amd-rapl", r)))?;
    let idx: Option<Vec<u32>> = rest.split(':').map(|p| p.parse().ok()).collect();
    idx.filter(|v| (1..=2).contains(&v.len()))
        .map(|v| (prefix, v))
}

fn read_u64_file(reader: &dyn FileReader, path: &Path, what: &'static str) -> Result<u64> {
    let mut buf = [0u8; 32];
    let n = reader.read(path, &mut buf).map_err(|e| {
        if e.kind() == ErrorKind::PermissionDenied {
            MeterError::PermissionDenied {
                path: path.to_path_buf(),
            }
        } else {
            MeterError::io(what, path)(e)
        }
    })?;
    parse_u64(&buf[..n]).ok_or_else(|| MeterError::Parse {
        what,
        path: path.to_path_buf(),
        detail: format!(
            "expected an unsigned integer, found {:?}",
            String::from_utf8_lossy(&buf[..n])
        ),
    })
}

fn read_name(reader: &dyn FileReader, dir: &Path) -> Option<String> {
    let mut buf = [0u8; 64];
    let n = reader.read(&dir.join("name"), &mut buf).ok()?;
    Some(String::from_utf8_lossy(&buf[..n]).trim().to_string())
}

/// Entry name → folder of every RAPL domain under `root`: sub-domains appear both at the root
/// (symlinks) and nested in their package.
fn domain_dirs(root: &Path) -> Result<BTreeMap<String, PathBuf>> {
    let scan = |dir: &Path, dirs: &mut BTreeMap<String, PathBuf>| -> Result<()> {
        let io = |source| MeterError::io("powercap directory", dir)(source);
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let entry = entry.map_err(io)?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if parse_domain_name(&name).is_some() && entry.path().is_dir() {
                dirs.entry(name).or_insert_with(|| entry.path());
            }
        }
        Ok(())
    };
    let mut dirs = BTreeMap::new();
    scan(root, &mut dirs)?;
    let tops: Vec<PathBuf> = dirs
        .iter()
        .filter(|(n, _)| parse_domain_name(n).is_some_and(|(_, i)| i.len() == 1))
        .map(|(_, p)| p.clone())
        .collect();
    for top in &tops {
        scan(top, &mut dirs)?;
    }
    Ok(dirs)
}

/// Opens one domain folder: a package (summed into `cpu`) or a `dram` sub-domain, with its
/// prefix; `None` for `psys` (the whole platform, which would double count) and for `core` /
/// `uncore` (part of their package).
fn open_domain(
    reader: &dyn FileReader,
    entry_name: &str,
    dir: &Path,
) -> Result<Option<(&'static str, Domain)>> {
    let Some((prefix, idx)) = parse_domain_name(entry_name) else {
        return Ok(None);
    };
    let name = read_name(reader, dir).unwrap_or_default();
    let component = match (idx.len(), name.as_str()) {
        (1, "psys") => return Ok(None),
        (1, _) => Component::Cpu,
        (2, "dram") => Component::Dram,
        _ => return Ok(None),
    };
    let energy_path = dir.join("energy_uj");
    let last_raw = read_u64_file(reader, &energy_path, "RAPL energy_uj")?;
    let max_range = read_u64_file(
        reader,
        &dir.join("max_energy_range_uj"),
        "RAPL max_energy_range_uj",
    )
    .ok();
    let domain = Domain {
        component,
        energy_path,
        max_range,
        last_raw,
        last_t: Instant::now(),
        total_uj: 0,
    };
    Ok(Some((prefix, domain)))
}

/// How the source measures, for records: prefix, packages, dram domains, and domains whose
/// decreases cannot be corrected.
fn basis_text(prefix: &str, packages: usize, drams: usize, no_max: usize) -> String {
    let mut basis = format!(
        "RAPL powercap ({prefix}): {packages} package{}{}, wrap-corrected",
        if packages == 1 { "" } else { "s" },
        if drams > 0 {
            format!(" + {drams} dram")
        } else {
            String::new()
        }
    );
    if no_max > 0 {
        basis.push_str(&format!(
            "; {no_max} domain(s) without max_energy_range_uj (a decrease there is reported as an error)"
        ));
    }
    basis
}

impl RaplSource {
    /// Opens RAPL under `root` (normally [`DEFAULT_POWERCAP_ROOT`]) reading the real files.
    pub fn open(root: &Path) -> Result<Self> {
        Self::open_with(root, Arc::new(FsReader))
    }

    /// Opens RAPL under `root`, reading files through `reader` (tests inject EACCES this way).
    pub fn open_with(root: &Path, reader: Arc<dyn FileReader>) -> Result<Self> {
        if !root.is_dir() {
            return Err(MeterError::NoPowercap {
                path: root.to_path_buf(),
            });
        }
        let dirs = domain_dirs(root)?;
        let mut domains = Vec::new();
        let mut prefix = "intel-rapl";
        for (entry_name, dir) in &dirs {
            if let Some((p, d)) = open_domain(reader.as_ref(), entry_name, dir)? {
                prefix = p;
                domains.push(d);
            }
        }
        let count = |c: Component| domains.iter().filter(|d| d.component == c).count();
        let (packages, drams) = (count(Component::Cpu), count(Component::Dram));
        if packages == 0 {
            return Err(MeterError::NoRaplDomain {
                path: root.to_path_buf(),
            });
        }
        let mut components = vec![Component::Cpu];
        if drams > 0 {
            components.push(Component::Dram);
        }
        let no_max = domains.iter().filter(|d| d.max_range.is_none()).count();
        Ok(RaplSource {
            reader,
            domains,
            components,
            basis: basis_text(prefix, packages, drams, no_max),
            max_power_w: DEFAULT_MAX_PLAUSIBLE_W,
        })
    }

    /// Sets the highest plausible power per domain used to tell a wrap from a reset.
    pub fn with_max_plausible_w(mut self, watts: f64) -> Self {
        self.max_power_w = watts;
        self
    }

    /// Number of package domains summed into `cpu`.
    pub fn packages(&self) -> usize {
        self.domains
            .iter()
            .filter(|d| d.component == Component::Cpu)
            .count()
    }
}

/// The coarsest RAPL energy status unit (2⁻¹⁴ J), one counter step.
pub const RAPL_STEP_J: f64 = 1.0 / 16384.0;

impl EnergySource for RaplSource {
    fn name(&self) -> &'static str {
        "rapl"
    }
    fn components(&self) -> &[Component] {
        &self.components
    }
    fn quality(&self) -> Quality {
        Quality::Measured
    }
    fn basis(&self) -> String {
        self.basis.clone()
    }
    /// One step of the RAPL counter: the coarsest energy status unit of current CPUs is
    /// 2⁻¹⁴ J (61 µJ; most are finer), per domain read.
    fn resolution_j(&self) -> Option<f64> {
        Some(RAPL_STEP_J * self.domains.len().max(1) as f64)
    }
    fn read(&mut self) -> Result<Counters> {
        let mut uj: [Option<u64>; 3] = [None; 3];
        let mut first_err = None;
        for d in &mut self.domains {
            let now = Instant::now();
            let step = read_u64_file(self.reader.as_ref(), &d.energy_path, "RAPL energy_uj")
                .and_then(|raw| {
                    let elapsed = now.duration_since(d.last_t).as_secs_f64();
                    let r = counter_delta(d.last_raw, raw, d.max_range, elapsed, self.max_power_w);
                    // Resynchronise even after an error so later windows measure again.
                    let previous = d.last_raw;
                    d.last_raw = raw;
                    d.last_t = now;
                    let energy_path = &d.energy_path;
                    r.map_err(|e| {
                        let path = energy_path.display().to_string();
                        let detail = e.to_string();
                        if let CounterStepError::Jump { .. } = e {
                            MeterError::CounterJump {
                                path,
                                previous,
                                current: raw,
                                detail,
                            }
                        } else {
                            MeterError::CounterBackwards {
                                path,
                                previous,
                                current: raw,
                                detail,
                            }
                        }
                    })
                });
            match step {
                Ok(delta) => d.total_uj += delta,
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
            let s = slot(d.component);
            uj[s] = Some(uj[s].unwrap_or(0) + d.total_uj);
        }
        if let Some(e) = first_err {
            return Err(e);
        }
        let mut out = Counters::default();
        for (j, u) in out.joules.iter_mut().zip(uj) {
            *j = u.map(|u| u as f64 * 1e-6);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delta_without_wrap() {
        assert_eq!(counter_delta(100, 250, Some(1000), 0.1, 2000.0), Ok(150));
        assert_eq!(counter_delta(100, 100, None, 0.1, 2000.0), Ok(0));
    }

    #[test]
    fn a_forward_jump_above_the_plausible_power_is_an_error() {
        // 1 MJ in 0.1 s would be 10 MW.
        let e = counter_delta(0, 1_000_000_000_000, Some(u64::MAX), 0.1, 2000.0).unwrap_err();
        assert!(e.to_string().contains("jumped 1000000.0 J"), "{e}");
        // 150 W over 0.1 s is fine.
        assert_eq!(
            counter_delta(0, 15_000_000, Some(u64::MAX), 0.1, 2000.0),
            Ok(15_000_000)
        );
    }

    #[test]
    fn counter_step_errors_are_typed_and_keep_their_text() {
        let jump = counter_delta(0, 1_000_000_000_000, Some(u64::MAX), 0.1, 2000.0).unwrap_err();
        assert!(matches!(
            jump,
            CounterStepError::Jump {
                delta_uj: 1_000_000_000_000,
                ..
            }
        ));
        assert_eq!(
            jump.to_string(),
            "the counter jumped 1000000.0 J in 0.100 s (10000000 W), above the plausible 2000 W for one domain"
        );
        let no_range = counter_delta(10, 5, None, 0.1, 2000.0).unwrap_err();
        assert_eq!(no_range, CounterStepError::NoRange);
        assert_eq!(
            no_range.to_string(),
            "no max_energy_range_uj to correct a wrap"
        );
        let above = counter_delta(2000, 5, Some(1000), 0.1, 2000.0).unwrap_err();
        assert_eq!(above, CounterStepError::AboveRange { max: 1000 });
        assert_eq!(above.to_string(), "value above max_energy_range_uj 1000");
        let wrap =
            counter_delta(5_000_000, 4_000_000, Some(262_143_328_850), 0.1, 2000.0).unwrap_err();
        assert!(matches!(wrap, CounterStepError::ImplausibleWrap { .. }));
        assert_eq!(
            wrap.to_string(),
            "a wrap would mean 2621423 W over 0.100 s, above the plausible 2000 W"
        );
    }

    #[test]
    fn delta_with_one_wrap() {
        assert_eq!(counter_delta(900, 50, Some(1000), 0.1, 2000.0), Ok(150));
    }

    #[test]
    fn backwards_without_wrap_is_an_error() {
        // Typical range 262 kJ: a small decrease would imply megawatts.
        let e = counter_delta(5_000_000, 4_000_000, Some(262_143_328_850), 0.1, 2000.0);
        assert!(e.unwrap_err().to_string().contains("plausible"));
        assert!(counter_delta(10, 5, None, 0.1, 2000.0)
            .unwrap_err()
            .to_string()
            .contains("max_energy_range_uj"));
        assert!(counter_delta(2000, 5, Some(1000), 0.1, 2000.0).is_err());
    }

    #[test]
    fn domain_names() {
        assert_eq!(
            parse_domain_name("intel-rapl:0"),
            Some(("intel-rapl", vec![0]))
        );
        assert_eq!(
            parse_domain_name("amd-rapl:1:2"),
            Some(("amd-rapl", vec![1, 2]))
        );
        assert_eq!(parse_domain_name("intel-rapl"), None);
        assert_eq!(parse_domain_name("intel-rapl-mmio:0"), None);
        assert_eq!(parse_domain_name("intel-rapl:x"), None);
    }
}
