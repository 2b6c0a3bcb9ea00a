//! A host's measured CPU power curve (`greenbench calibrate`), stored per CPU model so that the
//! estimator can use it on any machine with that CPU.
//!
//! * The curve is package power (all RAPL packages summed, W) against host CPU utilisation
//!   (busy fraction of all logical CPUs, 0–1), measured at the steps of a load ladder.
//! * The fit is **piecewise-linear** through the mean power of each step, sorted by utilisation;
//!   outside the measured utilisations it extends the nearest segment (utilisation clamped to
//!   0–1, power never below 0).
//! * The range ([`Calibration::range_w`]) is ± ([`Calibration::spread`] +
//!   [`Calibration::other_host_margin`]): the largest deviation of a poll's power from its
//!   step's mean on the calibrated host, plus an assumed margin for another processor of the same
//!   model (part-to-part variation, cooling, firmware power settings): an assumption, not a
//!   measurement, written into the file so it can be changed.
//! * The file is TOML, `<dir>/<cpu-model slug>.toml`; `dir` is `$GREENBENCH_CALIBRATION_DIR`, else
//!   `$XDG_CONFIG_HOME/greenbench/calibration`, else `~/.config/greenbench/calibration`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Environment variable naming the calibration folder.
pub const CALIBRATION_DIR_ENV: &str = "GREENBENCH_CALIBRATION_DIR";

/// Default margin added to the measured spread for another machine with the same CPU model: an
/// assumption (part-to-part variation, cooling and firmware power settings), not a measurement.
pub const DEFAULT_OTHER_HOST_MARGIN: f64 = 0.10;

/// The fit method, as written into the file.
pub const FIT_METHOD: &str =
    "piecewise-linear through the mean package power of each ladder step, \
sorted by utilisation; the nearest segment extended outside the measured utilisations";

/// Why a calibration could not be fitted, read or written.
#[derive(Debug, thiserror::Error)]
pub enum CalibrationError {
    /// Fewer than two distinct utilisations were measured: no curve can be fitted.
    #[error("calibration needs ladder steps at two or more different utilisations, measured {found}: other load kept the host equally busy at every step, or the ladder had one step; calibrate on an otherwise idle machine with --steps 2 or more")]
    TooFewPoints {
        /// Distinct utilisations measured.
        found: usize,
    },
    /// A measured point is not a finite, non-negative number.
    #[error("ladder step with {threads} thread(s) measured utilisation {utilisation} and power {power_w} W, which is not a power curve point; rerun `greenbench calibrate` on a quiet machine")]
    BadPoint {
        /// Threads of the step.
        threads: usize,
        /// Measured utilisation.
        utilisation: f64,
        /// Measured power.
        power_w: f64,
    },
    /// The calibration file could not be read or written.
    #[error("{what} calibration file {}: {source}", path.display())]
    Io {
        /// "reading" or "writing".
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The calibration file is not valid.
    #[error("calibration file {} is not valid: {message}; rerun `greenbench calibrate` to rewrite it, or delete it", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong (the TOML parser names line and field).
        message: String,
    },
    /// No folder to keep calibrations in could be found.
    #[error("no calibration folder: neither {CALIBRATION_DIR_ENV}, XDG_CONFIG_HOME nor HOME is set; set {CALIBRATION_DIR_ENV} or pass --out FILE")]
    NoDir,
    /// The load ladder could not run or the counter could not be read.
    #[error("calibration ladder: {0}")]
    Ladder(String),
    /// The energy counter failed (no RAPL, permission denied, a counter fault).
    #[error("{reason}\n  why: calibration fits the package power counter (RAPL) against CPU load, so it needs that counter\n  fix: {fix}")]
    NoCounter {
        /// What failed.
        reason: String,
        /// What to do.
        fix: String,
    },
}

/// One measured ladder step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationPoint {
    /// Busy threads the ladder ran.
    pub threads: usize,
    /// Host CPU utilisation measured over the step (0–1).
    pub utilisation: f64,
    /// Mean package power over the step, W.
    pub power_w: f64,
}

/// A host's measured package power curve, keyed by CPU model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// `model name` of `/proc/cpuinfo` on the calibrated host.
    pub cpu_model: String,
    /// Logical CPUs of the calibrated host (utilisation 1 = all of them busy).
    pub logical_cpus: usize,
    /// The counter measured (the RAPL source's basis).
    pub source: String,
    /// When it was measured (RFC 3339), and where.
    pub measured_at: String,
    /// Host name of the calibrated host.
    pub host: String,
    /// How the curve is fitted ([`FIT_METHOD`]).
    pub method: String,
    /// Largest relative deviation of a poll's power from its step's mean (0.02 = 2 %).
    pub spread: f64,
    /// Relative margin added for another machine with the same CPU model (an assumption).
    pub other_host_margin: f64,
    /// The measured steps.
    pub points: Vec<CalibrationPoint>,
}

impl Calibration {
    /// Fits the steps into a calibration (points with equal utilisation are averaged; at least two
    /// distinct utilisations are needed).
    pub fn fit(
        header: CalibrationHeader,
        points: &[CalibrationPoint],
        spread: f64,
    ) -> Result<Calibration, CalibrationError> {
        for p in points {
            let ok = |v: f64| v.is_finite() && v >= 0.0;
            if !ok(p.utilisation) || !ok(p.power_w) || p.utilisation > 1.0 + 1e-9 {
                return Err(CalibrationError::BadPoint {
                    threads: p.threads,
                    utilisation: p.utilisation,
                    power_w: p.power_w,
                });
            }
        }
        let mut sorted = points.to_vec();
        sorted.sort_by(|a, b| a.utilisation.total_cmp(&b.utilisation));
        let mut merged: Vec<(CalibrationPoint, usize)> = Vec::new();
        for p in sorted {
            match merged.last_mut() {
                Some((m, n)) if (p.utilisation - m.utilisation).abs() < 1e-6 => {
                    let k = *n as f64;
                    m.power_w = (m.power_w * k + p.power_w) / (k + 1.0);
                    m.utilisation = (m.utilisation * k + p.utilisation) / (k + 1.0);
                    m.threads = m.threads.max(p.threads);
                    *n += 1;
                }
                _ => merged.push((p, 1)),
            }
        }
        if merged.len() < 2 {
            return Err(CalibrationError::TooFewPoints {
                found: merged.len(),
            });
        }
        Ok(Calibration {
            cpu_model: header.cpu_model,
            logical_cpus: header.logical_cpus,
            source: header.source,
            measured_at: header.measured_at,
            host: header.host,
            method: FIT_METHOD.into(),
            spread: if spread.is_finite() {
                spread.max(0.0)
            } else {
                0.0
            },
            other_host_margin: DEFAULT_OTHER_HOST_MARGIN,
            points: merged.into_iter().map(|(p, _)| p).collect(),
        })
    }

    /// Package power in watts at host utilisation `u` (0–1, clamped): the piecewise-linear
    /// curve, the nearest segment extended outside the measured points, never below 0.
    pub fn power_w(&self, utilisation: f64) -> f64 {
        let u = if utilisation.is_finite() {
            utilisation.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let p = &self.points;
        if p.len() < 2 {
            return p.first().map_or(f64::NAN, |x| x.power_w);
        }
        let i = p
            .windows(2)
            .position(|w| u <= w[1].utilisation)
            .unwrap_or(p.len() - 2);
        let (a, b) = (&p[i], &p[i + 1]);
        let slope = (b.power_w - a.power_w) / (b.utilisation - a.utilisation);
        (a.power_w + slope * (u - a.utilisation)).max(0.0)
    }

    /// Power at zero utilisation (the curve's idle), W.
    pub fn idle_w(&self) -> f64 {
        self.power_w(0.0)
    }

    /// Power above the idle at utilisation `u`, W (what a process's load adds).
    pub fn dynamic_w(&self, utilisation: f64) -> f64 {
        (self.power_w(utilisation) - self.idle_w()).max(0.0)
    }

    /// Watts of one logical CPU at utilisation `u`: [`Calibration::power_w`] ÷
    /// [`Calibration::logical_cpus`] (for a per-vCPU model: zero-load `per_cpu_w(0.0)`, full load
    /// `per_cpu_w(1.0)`).
    pub fn per_cpu_w(&self, utilisation: f64) -> f64 {
        self.power_w(utilisation) / self.logical_cpus.max(1) as f64
    }

    /// Relative half-width of the range: measured spread plus the other-host margin.
    pub fn relative_range(&self) -> f64 {
        self.spread + self.other_host_margin
    }

    /// `(low, high)` watts at utilisation `u`: [`Calibration::power_w`] ± [`Calibration::relative_range`].
    pub fn range_w(&self, utilisation: f64) -> (f64, f64) {
        let p = self.power_w(utilisation);
        let r = self.relative_range();
        ((p * (1.0 - r)).max(0.0), p * (1.0 + r))
    }

    /// One line for records and `greenbench meters`: what was measured, where, when, and the range.
    pub fn basis(&self) -> String {
        format!(
            "calibrated curve of {} ({} logical CPUs, {} on {} at {}; {} points, {:.0}–{:.0} W; range ±{:.1} %: spread {:.1} % + {:.0} % other-host margin)",
            self.cpu_model,
            self.logical_cpus,
            self.source,
            self.host,
            self.measured_at,
            self.points.len(),
            self.idle_w(),
            self.power_w(1.0),
            self.relative_range() * 100.0,
            self.spread * 100.0,
            self.other_host_margin * 100.0
        )
    }

    /// The TOML text of the file.
    pub fn to_toml(&self) -> String {
        let body = toml::to_string_pretty(self).unwrap_or_default();
        format!(
            "# greenbench calibration: package power (W) of this CPU model vs host CPU utilisation (0-1),\n\
             # written by `greenbench calibrate`; see docs/measurement.md.\n{body}"
        )
    }

    /// Parses a calibration file's text; `path` names it in errors.
    pub fn from_toml(text: &str, path: &Path) -> Result<Calibration, CalibrationError> {
        let bad = |message: String| CalibrationError::Parse {
            path: path.to_path_buf(),
            message,
        };
        let c: Calibration = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        let increasing = c
            .points
            .windows(2)
            .all(|w| w[0].utilisation < w[1].utilisation);
        if c.points.len() < 2 || !increasing {
            return Err(bad(
                "`points` needs at least two entries in strictly increasing utilisation".into(),
            ));
        }
        if c.points
            .iter()
            .any(|p| !(p.power_w.is_finite() && p.power_w >= 0.0))
        {
            return Err(bad("a point's power_w is not a finite number ≥ 0".into()));
        }
        let margins_ok = [c.spread, c.other_host_margin]
            .iter()
            .all(|v| v.is_finite() && (0.0..1.0).contains(v));
        if !margins_ok {
            return Err(bad(
                "spread and other_host_margin must be fractions in [0, 1)".into(),
            ));
        }
        Ok(c)
    }

    /// Reads a calibration file.
    pub fn read(path: &Path) -> Result<Calibration, CalibrationError> {
        let text = std::fs::read_to_string(path).map_err(|source| CalibrationError::Io {
            what: "reading",
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml(&text, path)
    }

    /// Writes the file (its folder created), replacing any earlier one.
    pub fn write(&self, path: &Path) -> Result<(), CalibrationError> {
        let io = |source| CalibrationError::Io {
            what: "writing",
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        std::fs::write(path, self.to_toml()).map_err(io)
    }

    /// The calibration of `cpu_model` in the calibration folder, if one is stored; a file that
    /// cannot be read or parsed is an error (see [`Calibration::load`] to ignore it).
    pub fn find(cpu_model: &str) -> Result<Option<Calibration>, CalibrationError> {
        let path = default_path(cpu_model)?;
        if !path.is_file() {
            return Ok(None);
        }
        let c = Self::read(&path)?;
        Ok((c.cpu_model == cpu_model).then_some(c))
    }

    /// The calibration of `cpu_model`, if one is stored and valid (for the estimator).
    pub fn load(cpu_model: &str) -> Option<Calibration> {
        Self::find(cpu_model).ok().flatten()
    }
}

/// One line for `greenbench meters`: which calibration applies to `cpu_model` (this machine's
/// CPU as /proc/cpuinfo names it) and why, or why none does.
pub fn status_line(cpu_model: Option<&str>) -> String {
    let Some(model) = cpu_model else {
        return "calibration: none (the CPU names no model, so no calibration file can match it); \
                the published load curve is used"
            .into();
    };
    let path = match default_path(model) {
        Ok(p) => p,
        Err(e) => return format!("calibration: none ({e}); the published load curve is used"),
    };
    match Calibration::find(model) {
        Ok(Some(c)) => format!(
            "calibration: {} applies to \"{model}\" and replaces the published load curve: {}",
            path.display(),
            c.basis()
        ),
        Ok(None) => format!(
            "calibration: none for \"{model}\" (no {}); the published load curve is used. \
             `greenbench calibrate` on a machine with this CPU and readable RAPL writes one, and \
             the estimate then uses it with its narrower range",
            path.display()
        ),
        Err(e) => format!("calibration: not used, {e}; the published load curve is used"),
    }
}

/// What a calibration says about where it was measured (everything but the points).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CalibrationHeader {
    /// CPU model name.
    pub cpu_model: String,
    /// Logical CPUs of the host.
    pub logical_cpus: usize,
    /// The counter's basis.
    pub source: String,
    /// When (RFC 3339).
    pub measured_at: String,
    /// Host name.
    pub host: String,
}

/// File name of a CPU model's calibration: lower case, every run of characters other than ASCII
/// letters and digits replaced by one `-` (`AMD EPYC 7763 64-Core Processor` →
/// `amd-epyc-7763-64-core-processor.toml`).
pub fn file_name(cpu_model: &str) -> String {
    let mut slug = String::new();
    for c in cpu_model.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_matches('-');
    format!(
        "{}.toml",
        if slug.is_empty() { "unknown-cpu" } else { slug }
    )
}

/// The calibration folder: `$GREENBENCH_CALIBRATION_DIR`, else
/// `$XDG_CONFIG_HOME/greenbench/calibration`, else `$HOME/.config/greenbench/calibration`.
pub fn default_dir() -> Result<PathBuf, CalibrationError> {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(d) = var(CALIBRATION_DIR_ENV) {
        return Ok(d);
    }
    if let Some(d) = var("XDG_CONFIG_HOME") {
        return Ok(d.join("greenbench").join("calibration"));
    }
    var("HOME")
        .map(|h| h.join(".config").join("greenbench").join("calibration"))
        .ok_or(CalibrationError::NoDir)
}

/// Where the calibration of `cpu_model` is kept.
pub fn default_path(cpu_model: &str) -> Result<PathBuf, CalibrationError> {
    Ok(default_dir()?.join(file_name(cpu_model)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(threads: usize, utilisation: f64, power_w: f64) -> CalibrationPoint {
        CalibrationPoint {
            threads,
            utilisation,
            power_w,
        }
    }

    fn header() -> CalibrationHeader {
        CalibrationHeader {
            cpu_model: "Test CPU 9000".into(),
            logical_cpus: 4,
            source: "fake".into(),
            measured_at: "2026-01-01T00:00:00Z".into(),
            host: "h".into(),
        }
    }

    #[test]
    fn piecewise_linear_between_and_beyond_the_points() {
        let pts = [
            point(4, 1.0, 100.0),
            point(0, 0.1, 40.0),
            point(2, 0.5, 80.0),
        ];
        let c = Calibration::fit(header(), &pts, 0.01).unwrap();
        assert_eq!(c.points[0].utilisation, 0.1, "sorted by utilisation");
        assert!((c.power_w(0.3) - 60.0).abs() < 1e-9);
        assert!((c.power_w(0.75) - 90.0).abs() < 1e-9);
        // Below the first point the first segment is extended: slope 100 W per unit.
        assert!((c.power_w(0.0) - 30.0).abs() < 1e-9);
        assert!((c.idle_w() - 30.0).abs() < 1e-9);
        assert!((c.dynamic_w(0.5) - 50.0).abs() < 1e-9);
        assert!(
            (c.per_cpu_w(0.5) - 20.0).abs() < 1e-9,
            "80 W over 4 logical CPUs"
        );
        // Clamped to 0–1.
        assert!((c.power_w(7.0) - 100.0).abs() < 1e-9);
        let (lo, hi) = c.range_w(0.5);
        assert!((lo - 80.0 * 0.89).abs() < 1e-9 && (hi - 80.0 * 1.11).abs() < 1e-9);
    }

    #[test]
    fn equal_utilisations_are_averaged_and_one_is_too_few() {
        let pts = [
            point(0, 0.0, 10.0),
            point(0, 0.0, 20.0),
            point(4, 1.0, 50.0),
        ];
        let c = Calibration::fit(header(), &pts, 0.0).unwrap();
        assert_eq!(c.points.len(), 2);
        assert!((c.idle_w() - 15.0).abs() < 1e-9);
        let e = Calibration::fit(header(), &pts[..2], 0.0).unwrap_err();
        assert!(
            e.to_string().contains("two or more different utilisations"),
            "{e}"
        );
        let e = Calibration::fit(header(), &[point(1, f64::NAN, 3.0)], 0.0).unwrap_err();
        assert!(e.to_string().contains("quiet machine"), "{e}");
    }

    #[test]
    fn the_file_round_trips_and_bad_files_are_located() {
        let dir = tempfile::tempdir().unwrap();
        let pts = [point(0, 0.0, 30.0), point(4, 1.0, 90.0)];
        let c = Calibration::fit(header(), &pts, 0.02).unwrap();
        let path = dir.path().join("sub").join(file_name(&c.cpu_model));
        c.write(&path).unwrap();
        assert_eq!(Calibration::read(&path).unwrap(), c);
        std::fs::write(&path, "cpu_model = 3\n").unwrap();
        let e = Calibration::read(&path).unwrap_err().to_string();
        assert!(
            e.contains("test-cpu-9000.toml") && e.contains("cpu_model"),
            "{e}"
        );
        let text = c
            .to_toml()
            .replace("utilisation = 1.0", "utilisation = 0.0");
        let e = Calibration::from_toml(&text, &path)
            .unwrap_err()
            .to_string();
        assert!(e.contains("strictly increasing"), "{e}");
    }

    #[test]
    fn file_names_are_slugs_of_the_model() {
        assert_eq!(
            file_name("AMD EPYC 7763 64-Core Processor"),
            "amd-epyc-7763-64-core-processor.toml"
        );
        assert_eq!(
            file_name("Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz"),
            "intel-r-xeon-r-gold-6338-cpu-2-00ghz.toml"
        );
        assert_eq!(file_name("  "), "unknown-cpu.toml");
    }
}
