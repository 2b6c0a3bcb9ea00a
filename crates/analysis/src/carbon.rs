//! Carbon accounting: energy (kWh) × grid intensity (g CO2-eq/kWh) × PUE.
//!
//! Intensity and PUE come from the `[carbon]` table of the sweep configuration kept in
//! `manifest.json` (field `config`, the TOML text as given): a fixed `intensity_g_per_kwh`, a
//! `country` (yearly average from the table in `greenbench_core::grid`, source and year stated
//! there), or an `intensity_csv` of hourly values, in which case each run uses the mean intensity
//! over its own start–end window. Defaults are 475 g/kWh (IEA 2019 world average, also
//! CodeCarbon's world default) and PUE 1.0.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use greenbench_core::grid::{self, IntensitySeries};
use greenbench_core::record::RunRecord;
use greenbench_core::{CarbonConfig, Manifest};
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

    /// Reads `[carbon]` from the TOML text in a manifest's `config` field. A manifest without a
    /// `config` field, or a config without `[carbon]`, gives the defaults (and says so). An
    /// `intensity_csv` is looked for as given (absolute), in the sweep folder `dir`, and beside
    /// the config file named by the manifest's `config_path` (relative to the current folder).
    pub fn from_manifest(manifest: &Manifest, dir: &Path) -> Result<Self, CarbonError> {
        let Some(text) = manifest.config_text() else {
            return Ok(Self::default_with_source(
                "default: manifest.json has no `config` field",
            ));
        };
        let config_dir = Path::new(&manifest.config_path)
            .parent()
            .map(Path::to_path_buf);
        Self::from_config_text_in(text, &[Some(dir.to_path_buf()), config_dir])
    }

    /// Reads `[carbon]` (or an inline `carbon = {…}`) from sweep TOML text; a relative
    /// `intensity_csv` is looked for in the current folder.
    pub fn from_config_text(text: &str) -> Result<Self, CarbonError> {
        Self::from_config_text_in(text, &[])
    }

    fn from_config_text_in(text: &str, dirs: &[Option<PathBuf>]) -> Result<Self, CarbonError> {
        let table: toml::Table = toml::from_str(text).map_err(CarbonError::NotToml)?;
        let Some(carbon) = table.get("carbon") else {
            return Ok(Self::default_with_source(
                "default: the sweep config has no [carbon] table",
            ));
        };
        let c: CarbonConfig = carbon.clone().try_into().map_err(CarbonError::Table)?;
        if let Some((_, problem)) = c.value_problems().into_iter().next() {
            return Err(CarbonError::Value(problem));
        }
        if c.country.is_some() && c.intensity_csv.is_some() {
            return Err(CarbonError::CountryAndCsv);
        }
        if let Some(code) = &c.country {
            let row = grid::country_intensity(code)
                .ok_or_else(|| CarbonError::UnknownCountry { code: code.clone() })?;
            let mut s = Self::fixed(
                row.g_per_kwh,
                c.pue,
                &format!(
                    "{} ({}) yearly average, {}",
                    row.code,
                    row.name,
                    grid::COUNTRY_TABLE_SOURCE
                ),
            );
            s.country = Some((row.code.to_string(), row.name.to_string()));
            return Ok(s);
        }
        if let Some(rel) = &c.intensity_csv {
            let given = PathBuf::from(rel);
            let mut tried = vec![given.clone()];
            if given.is_relative() {
                tried.extend(dirs.iter().flatten().map(|d| d.join(rel)));
            }
            let Some(path) = tried.iter().find(|p| p.is_file()).cloned() else {
                return Err(CarbonError::CsvNotFound {
                    rel: rel.clone(),
                    tried,
                });
            };
            let text = std::fs::read_to_string(&path).map_err(|source| CarbonError::CsvRead {
                path: path.clone(),
                source,
            })?;
            let series = IntensitySeries::parse(&text, &path.display().to_string())?;
            let mut s = Self::fixed(
                stats_mean(&series.points.iter().map(|p| p.1).collect::<Vec<_>>()),
                c.pue,
                &format!(
                    "hourly intensity from {} ({} rows), mean over each run's start–end window",
                    path.display(),
                    series.points.len()
                ),
            );
            s.series = Some((path, series));
            return Ok(s);
        }
        Ok(Self::fixed(
            c.intensity_g_per_kwh,
            c.pue,
            "[carbon] intensity_g_per_kwh of the sweep config (manifest.json)",
        ))
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
                grid::parse_timestamp(s).ok_or_else(|| CarbonError::Timestamp {
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
    /// The config kept in the manifest is not TOML.
    #[error("field `config`: not valid TOML: {0}")]
    NotToml(toml::de::Error),
    /// The `[carbon]` table has a key of the wrong type or an unknown key.
    #[error("field `config`, table [carbon]: {0}")]
    Table(toml::de::Error),
    /// A value out of range or not finite (the config validation's own message).
    #[error("field `config`, table [carbon]: {0}")]
    Value(String),
    /// Both a country and an hourly series.
    #[error("[carbon] gives both country and intensity_csv; keep one")]
    CountryAndCsv,
    /// A country code the grid-intensity table does not hold.
    #[error(
        "[carbon] country `{code}` is not in the grid-intensity table (ISO 3166-1 alpha-2 codes: {})",
        grid::country_table().iter().map(|c| c.code).collect::<Vec<_>>().join(", ")
    )]
    UnknownCountry {
        /// The code given.
        code: String,
    },
    /// The hourly series is in none of the places looked at.
    #[error(
        "[carbon] intensity_csv `{rel}` not found (looked at {}); copy it into the sweep folder",
        tried.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    CsvNotFound {
        /// The path as the config gives it.
        rel: String,
        /// Where it was looked for.
        tried: Vec<PathBuf>,
    },
    /// The hourly series could not be read.
    #[error("[carbon] intensity_csv: reading {}: {source}", path.display())]
    CsvRead {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The hourly series is malformed, or a run's window falls outside it.
    #[error(transparent)]
    Grid(#[from] greenbench_core::GridError),
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
