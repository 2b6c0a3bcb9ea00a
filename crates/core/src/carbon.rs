//! `[carbon]`: the settings as written (intensity, PUE, country or hourly series) and their
//! one resolution into the intensity runs are charged at. Config validation, the runner and the
//! report all resolve through [`CarbonConfig::resolve`], so each problem has one message.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::grid::{
    country_intensity, country_table, CountryIntensity, GridIntensity, IntensitySeries,
};
use crate::grid_error::GridError;

/// Carbon accounting settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CarbonConfig {
    /// Grid carbon intensity in g CO2-eq per kWh. Default 475, the 2019 world average of the IEA
    /// (Global Energy & CO2 Status Report 2019), also CodeCarbon's world default.
    #[serde(default = "default_intensity")]
    pub intensity_g_per_kwh: f64,
    /// Power usage effectiveness of the site (1.0 = no overhead).
    #[serde(default = "default_pue")]
    pub pue: f64,
    /// ISO 3166-1 alpha-2 code (or `WORLD`): use that country's yearly average from the
    /// committed table ([`crate::grid`]) instead of `intensity_g_per_kwh`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// A CSV of `timestamp,g_per_kwh` rows (path relative to the config file): each run's
    /// emissions use the mean intensity over its own start–end window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intensity_csv: Option<String>,
}

/// The default grid intensity, g CO2-eq per kWh.
pub fn default_intensity() -> f64 {
    475.0
}
fn default_pue() -> f64 {
    1.0
}

impl CarbonConfig {
    /// Each number of the table out of its range, as (key, what is wrong): an
    /// `intensity_g_per_kwh` that is not a finite number ≥ 0, a `pue` that is not a finite
    /// number ≥ 1 (NaN and infinity are refused, not carried into every report).
    pub fn value_problems(&self) -> Vec<(&'static str, String)> {
        let show = crate::compact_number::compact_number;
        let mut v = Vec::new();
        let g = self.intensity_g_per_kwh;
        if !(g.is_finite() && g >= 0.0) {
            v.push((
                "intensity_g_per_kwh",
                format!(
                    "intensity_g_per_kwh = {} is not a finite number ≥ 0 (g CO2-eq per kWh)",
                    show(g)
                ),
            ));
        }
        if !(self.pue.is_finite() && self.pue >= 1.0) {
            v.push((
                "pue",
                format!(
                    "pue = {} is not a finite number ≥ 1 (1.0 = no overhead)",
                    show(self.pue)
                ),
            ));
        }
        v
    }
}

impl Default for CarbonConfig {
    fn default() -> Self {
        CarbonConfig {
            intensity_g_per_kwh: default_intensity(),
            pue: default_pue(),
            country: None,
            intensity_csv: None,
        }
    }
}

/// What `[carbon]` resolves to: the grid intensity, where it came from, and the PUE.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedCarbon {
    /// The grid intensity and its origin.
    pub intensity: ResolvedIntensity,
    /// Power usage effectiveness of the site (≥ 1).
    pub pue: f64,
}

/// A resolved grid intensity, by where it came from.
#[derive(Debug, Clone, PartialEq)]
pub enum ResolvedIntensity {
    /// `intensity_g_per_kwh` as given (or its default), g CO2-eq per kWh.
    Configured(f64),
    /// A country's yearly average from the committed table.
    Country(CountryIntensity),
    /// An hourly series, and the file it was read from.
    Series {
        /// The file read.
        path: PathBuf,
        /// Its rows.
        series: IntensitySeries,
    },
}

impl ResolvedCarbon {
    /// The intensity each run is charged at: one figure, or the series averaged over each
    /// run's window.
    pub fn grid(&self) -> GridIntensity {
        match &self.intensity {
            ResolvedIntensity::Configured(g) => GridIntensity::Fixed(*g),
            ResolvedIntensity::Country(row) => GridIntensity::Fixed(row.g_per_kwh),
            ResolvedIntensity::Series { series, .. } => GridIntensity::Series(series.clone()),
        }
    }
}

impl CarbonConfig {
    /// The `[carbon]` table (or inline `carbon = {…}`) of sweep TOML text, `None` when it has
    /// none. The text is a manifest's `config` field, which the errors name.
    pub fn of_config_text(text: &str) -> Result<Option<CarbonConfig>, CarbonError> {
        let table: toml::Table = toml::from_str(text).map_err(CarbonError::NotToml)?;
        table
            .get("carbon")
            .map(|c| c.clone().try_into().map_err(CarbonError::Table))
            .transpose()
    }

    /// Resolves the settings: numbers in range, at most one of `country` and `intensity_csv`
    /// (and no explicit intensity beside either), a country the table holds, an hourly series
    /// that reads and parses. A relative `intensity_csv` is looked for in each of `dirs` in
    /// turn (the config's folder first for a sweep; the report adds the sweep folder).
    pub fn resolve(&self, dirs: &[PathBuf]) -> Result<ResolvedCarbon, CarbonError> {
        if let Some((_, problem)) = self.value_problems().into_iter().next() {
            return Err(CarbonError::Value(problem));
        }
        if self.country.is_some() && self.intensity_csv.is_some() {
            return Err(CarbonError::CountryAndCsv);
        }
        if (self.country.is_some() || self.intensity_csv.is_some())
            && self.intensity_g_per_kwh != default_intensity()
        {
            return Err(CarbonError::IntensityBeside {
                value: self.intensity_g_per_kwh,
            });
        }
        let intensity = if let Some(code) = &self.country {
            ResolvedIntensity::Country(
                country_intensity(code)
                    .ok_or_else(|| CarbonError::UnknownCountry { code: code.clone() })?,
            )
        } else if let Some(rel) = &self.intensity_csv {
            let (path, series) = read_series(rel, dirs)?;
            ResolvedIntensity::Series { path, series }
        } else {
            ResolvedIntensity::Configured(self.intensity_g_per_kwh)
        };
        Ok(ResolvedCarbon {
            intensity,
            pue: self.pue,
        })
    }
}

/// The folder a config file's relative paths are relative to.
pub fn config_dir(config_path: &Path) -> PathBuf {
    config_path.parent().unwrap_or(Path::new(".")).to_path_buf()
}

/// The hourly series `rel` (absolute, or the first of `dirs` joined with it that is a file),
/// read and parsed, with the path it was read from.
fn read_series(rel: &str, dirs: &[PathBuf]) -> Result<(PathBuf, IntensitySeries), CarbonError> {
    let given = Path::new(rel);
    let tried: Vec<PathBuf> = if given.is_absolute() || dirs.is_empty() {
        vec![given.to_path_buf()]
    } else {
        dirs.iter().map(|d| d.join(rel)).collect()
    };
    let Some(path) = tried.iter().find(|p| p.is_file()).cloned() else {
        return Err(CarbonError::CsvNotFound {
            rel: rel.to_string(),
            tried,
        });
    };
    let text = std::fs::read_to_string(&path).map_err(|source| CarbonError::CsvRead {
        path: path.clone(),
        source,
    })?;
    let series =
        IntensitySeries::parse(&text, &path.display().to_string()).map_err(CarbonError::Series)?;
    Ok((path, series))
}

/// Why `[carbon]` cannot be resolved; each message names the key (and file) at fault.
#[derive(Debug, thiserror::Error)]
pub enum CarbonError {
    /// The config text kept in a manifest is not TOML.
    #[error("field `config`: not valid TOML: {0}")]
    NotToml(toml::de::Error),
    /// The `[carbon]` table kept in a manifest has a key of the wrong type or an unknown key.
    #[error("field `config`, table [carbon]: {0}")]
    Table(toml::de::Error),
    /// An intensity or PUE out of range or not finite.
    #[error("carbon: {0}")]
    Value(String),
    /// Both a country and an hourly series.
    #[error("give either carbon.country or carbon.intensity_csv, not both")]
    CountryAndCsv,
    /// An explicit intensity beside a country or series.
    #[error("carbon.intensity_g_per_kwh = {value} conflicts with carbon.country / carbon.intensity_csv; remove one")]
    IntensityBeside {
        /// The intensity given.
        value: f64,
    },
    /// A country code the grid-intensity table does not hold.
    #[error(
        "carbon.country `{code}` is not in the grid-intensity table (ISO 3166-1 alpha-2 codes: {})",
        country_table().iter().map(|c| c.code).collect::<Vec<_>>().join(", ")
    )]
    UnknownCountry {
        /// The code given.
        code: String,
    },
    /// The hourly series is in none of the places looked at.
    #[error(
        "carbon.intensity_csv: cannot read `{rel}`, not found (looked at {}); give a path relative to the config file, or copy the file into the sweep folder",
        tried.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    CsvNotFound {
        /// The path as the config gives it.
        rel: String,
        /// Where it was looked for.
        tried: Vec<PathBuf>,
    },
    /// The hourly series could not be read.
    #[error("carbon.intensity_csv: cannot read {} ({source})", path.display())]
    CsvRead {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The hourly series is malformed (file and line named).
    #[error("carbon.intensity_csv: {0}")]
    Series(GridError),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dirs(p: &Path) -> Vec<PathBuf> {
        vec![p.to_path_buf()]
    }

    #[test]
    fn grid_intensity_is_fixed_by_country_or_averaged_over_a_window() {
        let mut c = CarbonConfig {
            country: Some("FR".into()),
            ..Default::default()
        };
        let r = c.resolve(&dirs(Path::new("."))).unwrap();
        assert_eq!(r.grid(), GridIntensity::Fixed(56.0));
        assert!(matches!(r.intensity, ResolvedIntensity::Country(row) if row.code == "FR"));
        c.country = None;
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("grid.csv"),
            "timestamp,g_per_kwh\n2026-01-01T00:00:00Z,100\n2026-01-01T01:00:00Z,300\n",
        )
        .unwrap();
        c.intensity_csv = Some("grid.csv".into());
        let r = c
            .resolve(&[PathBuf::from("/nonexistent"), dir.path().into()])
            .unwrap();
        assert!(
            matches!(&r.intensity, ResolvedIntensity::Series { path, .. } if *path == dir.path().join("grid.csv"))
        );
        let v = r
            .grid()
            .for_window("2026-01-01T00:30:00Z", "2026-01-01T01:30:00Z")
            .unwrap();
        assert!((v - 200.0).abs() < 1e-9, "{v}");
        assert!(r
            .grid()
            .for_window("2026-01-01T01:30:00Z", "2026-01-01T03:00:00Z")
            .is_err());
    }

    #[test]
    fn each_carbon_problem_has_one_message() {
        let err = |c: CarbonConfig| c.resolve(&dirs(Path::new("/nonexistent"))).unwrap_err();
        let e = err(CarbonConfig {
            country: Some("XX".into()),
            ..Default::default()
        });
        assert!(matches!(&e, CarbonError::UnknownCountry { code } if code == "XX"));
        assert!(e.to_string().starts_with(
            "carbon.country `XX` is not in the grid-intensity table (ISO 3166-1 alpha-2 codes: "
        ));
        let e = err(CarbonConfig {
            country: Some("FR".into()),
            intensity_csv: Some("h.csv".into()),
            ..Default::default()
        });
        assert!(matches!(e, CarbonError::CountryAndCsv));
        let e = err(CarbonConfig {
            country: Some("FR".into()),
            intensity_g_per_kwh: 56.0,
            ..Default::default()
        });
        assert!(e.to_string().contains("conflicts"), "{e}");
        let e = err(CarbonConfig {
            pue: 0.5,
            ..Default::default()
        });
        assert_eq!(
            e.to_string(),
            "carbon: pue = 0.5 is not a finite number ≥ 1 (1.0 = no overhead)"
        );
        let e = err(CarbonConfig {
            intensity_csv: Some("absent.csv".into()),
            ..Default::default()
        });
        assert_eq!(
            e.to_string(),
            "carbon.intensity_csv: cannot read `absent.csv`, not found (looked at /nonexistent/absent.csv); give a path relative to the config file, or copy the file into the sweep folder"
        );
    }

    #[test]
    fn the_carbon_table_is_read_from_config_text() {
        let c = CarbonConfig::of_config_text("name = \"q\"\ncarbon = { pue = 1.2 }\n")
            .unwrap()
            .unwrap();
        assert_eq!((c.intensity_g_per_kwh, c.pue), (475.0, 1.2));
        assert_eq!(
            CarbonConfig::of_config_text("name = \"q\"\n").unwrap(),
            None
        );
        assert!(matches!(
            CarbonConfig::of_config_text("carbon = ["),
            Err(CarbonError::NotToml(_))
        ));
        assert!(matches!(
            CarbonConfig::of_config_text("[carbon]\npue = \"x\"\n"),
            Err(CarbonError::Table(_))
        ));
    }
}
