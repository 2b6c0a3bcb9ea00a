//! Carbon accounting: energy (kWh) × grid intensity (g CO2-eq/kWh) × PUE.
//!
//! Intensity and PUE come from the `[carbon]` table of the sweep configuration kept in
//! `manifest.json` (field `config`, the TOML text as given), resolved by core's
//! `CarbonConfig::resolve` (the one resolver): a fixed `intensity_g_per_kwh`, a
//! `country` (yearly average from the table in `greenbench_core::grid`, source and year stated
//! there), or an `intensity_csv` of hourly values, in which case each run uses the mean intensity
//! over its own start–end window. Defaults are 475 g/kWh (IEA 2019 world average, also
//! CodeCarbon's world default) and PUE 1.0.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use greenbench_core::{
    parse_timestamp, CarbonConfig, IntensitySeries, Manifest, ResolvedCarbon, ResolvedIntensity,
    RunRecord, COUNTRY_TABLE_SOURCE,
};
use serde::Serialize;

/// The carbon settings of a sweep and where they came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CarbonSettings {
    /// Grid carbon intensity in g CO2-eq per kWh: the fixed or country value; with an hourly
    /// series, the mean of the runs' own intensities (each run uses its own, see
    /// [`CarbonSettings::intensity_for`]).
    pub intensity_g_per_kwh: f64,
    /// Power usage effectiveness (≥ 1).
    pub pue: f64,
    /// Where the figures came from, for the report.
    pub source: String,
    /// Per-run intensity (run id → g CO2-eq/kWh) when it varies by run (an hourly series).
    pub per_run: BTreeMap<String, f64>,
    /// (ISO 3166-1 alpha-2 code, name) when the intensity is a country's yearly average.
    pub country: Option<(String, String)>,
    /// The hourly series and the file it was read from, until [`CarbonSettings::resolve_runs`].
    #[serde(skip)]
    series: Option<(PathBuf, IntensitySeries)>,
}

impl Default for CarbonSettings {
    fn default() -> Self {
        CarbonSettings::default_with_source("default")
    }
}

impl CarbonSettings {
    /// The defaults (475 g/kWh, PUE 1.0) with a note on why they apply.
    pub fn default_with_source(source: &str) -> Self {
        let d = CarbonConfig::default();
        CarbonSettings {
            intensity_g_per_kwh: d.intensity_g_per_kwh,
            pue: d.pue,
            source: format!("{source}; 475 g/kWh is the IEA 2019 world average"),
            per_run: BTreeMap::new(),
            country: None,
            series: None,
        }
    }

    /// A fixed intensity and PUE.
    pub fn fixed(intensity_g_per_kwh: f64, pue: f64, source: &str) -> Self {
        CarbonSettings {
            intensity_g_per_kwh,
            pue,
            source: source.into(),
            per_run: BTreeMap::new(),
            country: None,
            series: None,
        }
    }

    /// Grams CO2-eq for `joules` of energy at the sweep's (fixed or country) intensity.
    pub fn grams(&self, joules: f64) -> f64 {
        joules / 3.6e6 * self.intensity_g_per_kwh * self.pue
    }

    /// The intensity (g CO2-eq/kWh) used for run `r`: its own window's mean with an hourly
    /// series, else the sweep's.
    pub fn intensity_for(&self, r: &RunRecord) -> f64 {
        self.per_run
            .get(&r.run_id)
            .copied()
            .unwrap_or(self.intensity_g_per_kwh)
    }

    /// Grams CO2-eq for `joules` of run `r`'s energy.
    pub fn grams_for(&self, r: &RunRecord, joules: f64) -> f64 {
        joules / 3.6e6 * self.intensity_for(r) * self.pue
    }

    /// The settings of the config kept in a manifest, resolved by core (a manifest without a
    /// `config` field, or a config without `[carbon]`, gives the defaults and says so). An
    /// `intensity_csv` is looked for as given (absolute, or relative to the current folder), in
    /// the sweep folder `dir`, and beside the config file named by the manifest's `config_path`.
    pub fn from_manifest(manifest: &Manifest, dir: &Path) -> Result<Self, CarbonError> {
        if manifest.config_text().is_none() {
            return Ok(Self::default_with_source(
                "default: manifest.json has no `config` field",
            ));
        }
        let Some(config) = manifest.carbon()? else {
            return Ok(Self::no_carbon_table());
        };
        let mut dirs = vec![PathBuf::new(), dir.to_path_buf()];
        dirs.extend(
            Path::new(&manifest.config_path)
                .parent()
                .map(Path::to_path_buf),
        );
        Ok(Self::of_resolved(config.resolve(&dirs)?))
    }

    fn no_carbon_table() -> Self {
        Self::default_with_source("default: the sweep config has no [carbon] table")
    }

    /// The report's view of settings core resolved: the source named for the reader, and an
    /// hourly series kept for [`CarbonSettings::resolve_runs`].
    fn of_resolved(r: ResolvedCarbon) -> Self {
        match r.intensity {
            ResolvedIntensity::Configured(g) => Self::fixed(
                g,
                r.pue,
                "[carbon] intensity_g_per_kwh of the sweep config (manifest.json)",
            ),
            ResolvedIntensity::Country(row) => {
                let mut s = Self::fixed(
                    row.g_per_kwh,
                    r.pue,
                    &format!(
                        "{} ({}) yearly average, {}",
                        row.code, row.name, COUNTRY_TABLE_SOURCE
                    ),
                );
                s.country = Some((row.code.to_string(), row.name.to_string()));
                s
            }
            ResolvedIntensity::Series { path, series } => {
                let mut s = Self::fixed(
                    stats_mean(&series.points.iter().map(|p| p.1).collect::<Vec<_>>()),
                    r.pue,
                    &format!(
                        "hourly intensity from {} ({} rows), mean over each run's start–end window",
                        path.display(),
                        series.points.len()
                    ),
                );
                s.series = Some((path, series));
                s
            }
        }
    }

    /// With an hourly series: each record with a training phase gets the mean intensity over its
    /// `started_at`–`finished_at` window; an error names the run when its timestamps are bad or
    /// the series does not cover its window. Without a series this does nothing.
    pub fn resolve_runs(&mut self, records: &[RunRecord]) -> Result<(), CarbonError> {
        let Some((path, series)) = self.series.take() else {
            return Ok(());
        };
        for r in records.iter().filter(|r| r.train.is_some()) {
            let t = |s: &str, what: &'static str| {
                parse_timestamp(s).ok_or_else(|| CarbonError::Timestamp {
                    run_id: r.run_id.clone(),
                    what,
                    value: s.to_string(),
                })
            };
            let (start, end) = (
                t(&r.started_at, "started_at")?,
                t(&r.finished_at, "finished_at")?,
            );
            let g = series
                .mean_over(start, end)
                .map_err(|source| CarbonError::NotCovered {
                    run_id: r.run_id.clone(),
                    path: path.clone(),
                    source,
                })?;
            self.per_run.insert(r.run_id.clone(), g);
        }
        if !self.per_run.is_empty() {
            self.intensity_g_per_kwh =
                stats_mean(&self.per_run.values().copied().collect::<Vec<_>>());
        }
        Ok(())
    }
}

/// Why a sweep's carbon settings cannot be read or applied; each message names the field, file
/// or run, as the report prints it.
#[derive(Debug, thiserror::Error)]
pub enum CarbonError {
    /// `[carbon]` of the config kept in the manifest does not resolve (core's message).
    #[error(transparent)]
    Settings(#[from] greenbench_core::CarbonError),
    /// A record's start or end is not a timestamp.
    #[error("run {run_id}: {what} `{value}` is not an RFC 3339 timestamp")]
    Timestamp {
        /// The run.
        run_id: String,
        /// `started_at` or `finished_at`.
        what: &'static str,
        /// The text found.
        value: String,
    },
    /// The hourly series does not cover a run's window.
    #[error("run {run_id}: {source} of {} (the hourly carbon intensity must cover every run)", path.display())]
    NotCovered {
        /// The run.
        run_id: String,
        /// The series file.
        path: PathBuf,
        /// What the series said.
        source: greenbench_core::GridError,
    },
}

fn stats_mean(v: &[f64]) -> f64 {
    crate::stats::mean(v).unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grams_is_kwh_times_intensity_times_pue() {
        let c = CarbonSettings::fixed(400.0, 1.5, "");
        assert!((c.grams(3.6e6) - 600.0).abs() < 1e-9);
        assert!((CarbonSettings::default().grams(3.6e6) - 475.0).abs() < 1e-9);
    }

    fn manifest(v: serde_json::Value) -> Manifest {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn reads_carbon_from_manifest_config_text() {
        let m = serde_json::json!({"config": "name = \"q\"\ncarbon = { intensity_g_per_kwh = 56.0, pue = 1.2 }\n"});
        let c = CarbonSettings::from_manifest(&manifest(m), Path::new(".")).unwrap();
        assert_eq!((c.intensity_g_per_kwh, c.pue), (56.0, 1.2));
        let m = serde_json::json!({"config": "name = \"q\"\n[carbon]\npue = 1.1\n"});
        let c = CarbonSettings::from_manifest(&manifest(m), Path::new(".")).unwrap();
        assert_eq!((c.intensity_g_per_kwh, c.pue), (475.0, 1.1));
        let c = CarbonSettings::from_manifest(
            &manifest(serde_json::json!({"sweep": "q"})),
            Path::new("."),
        )
        .unwrap();
        assert_eq!(c.intensity_g_per_kwh, 475.0);
        assert!(c.source.contains("no `config`"));
        assert!(CarbonSettings::from_manifest(
            &manifest(serde_json::json!({"config": "carbon = ["})),
            Path::new(".")
        )
        .is_err());
        let e = CarbonSettings::from_manifest(
            &manifest(serde_json::json!({"config": "[carbon]\npue = 0.5\n"})),
            Path::new("."),
        );
        assert!(e.unwrap_err().to_string().contains("pue"));
    }

    #[test]
    fn a_manifest_with_a_non_finite_intensity_or_pue_is_refused() {
        for (carbon, key) in [
            ("intensity_g_per_kwh = inf", "intensity_g_per_kwh"),
            ("intensity_g_per_kwh = nan", "intensity_g_per_kwh"),
            ("pue = inf", "pue"),
        ] {
            let m = serde_json::json!({ "config": format!("[carbon]\n{carbon}\n") });
            let e = CarbonSettings::from_manifest(&manifest(m), Path::new("."))
                .map(|c| format!("{} g/kWh × PUE {}", c.intensity_g_per_kwh, c.pue))
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(&format!("{key} = ")) && e.contains("finite"),
                "{e}"
            );
        }
    }
}
