//! Carbon accounting: energy (kWh) × grid intensity (g CO2-eq/kWh) × PUE.
//!
//! Intensity and PUE come from the `[carbon]` table of the sweep configuration kept in
//! `manifest.json` (field `config`, the TOML text as given); defaults are 475 g/kWh (IEA 2019 world
//! average, also CodeCarbon's world default) and PUE 1.0.

use greenbench_core::CarbonConfig;
use serde::Serialize;

/// The carbon settings of a sweep and where they came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CarbonSettings {
    /// Grid carbon intensity in g CO2-eq per kWh.
    pub intensity_g_per_kwh: f64,
    /// Power usage effectiveness (≥ 1).
    pub pue: f64,
    /// Where the figures came from, for the report.
    pub source: String,
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
            source: source.into(),
        }
    }

    /// Grams CO2-eq for `joules` of energy.
    pub fn grams(&self, joules: f64) -> f64 {
        joules / 3.6e6 * self.intensity_g_per_kwh * self.pue
    }

    /// Reads `[carbon]` from the TOML text in a manifest's `config` field. A manifest without a
    /// `config` field, or a config without `[carbon]`, gives the defaults (and says so).
    pub fn from_manifest(manifest: &serde_json::Value) -> Result<Self, String> {
        match manifest.get("config") {
            None | Some(serde_json::Value::Null) => Ok(Self::default_with_source(
                "default: manifest.json has no `config` field",
            )),
            Some(serde_json::Value::String(text)) => Self::from_config_text(text),
            Some(_) => {
                Err("field `config` is not a string (expected the sweep TOML as given)".into())
            }
        }
    }

    /// Reads `[carbon]` (or an inline `carbon = {…}`) from sweep TOML text.
    pub fn from_config_text(text: &str) -> Result<Self, String> {
        let table: toml::Table =
            toml::from_str(text).map_err(|e| format!("field `config`: not valid TOML: {e}"))?;
        let Some(carbon) = table.get("carbon") else {
            return Ok(Self::default_with_source(
                "default: the sweep config has no [carbon] table",
            ));
        };
        let c: CarbonConfig = carbon
            .clone()
            .try_into()
            .map_err(|e| format!("field `config`, table [carbon]: {e}"))?;
        if !(c.intensity_g_per_kwh >= 0.0 && c.pue >= 1.0) {
            return Err(format!(
                "[carbon] needs intensity_g_per_kwh ≥ 0 and pue ≥ 1, found {} and {}",
                c.intensity_g_per_kwh, c.pue
            ));
        }
        Ok(CarbonSettings {
            intensity_g_per_kwh: c.intensity_g_per_kwh,
            pue: c.pue,
            source: "[carbon] of the sweep config (manifest.json)".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grams_is_kwh_times_intensity_times_pue() {
        let c = CarbonSettings {
            intensity_g_per_kwh: 400.0,
            pue: 1.5,
            source: String::new(),
        };
        assert!((c.grams(3.6e6) - 600.0).abs() < 1e-9);
        assert!((CarbonSettings::default().grams(3.6e6) - 475.0).abs() < 1e-9);
    }

    #[test]
    fn reads_carbon_from_manifest_config_text() {
        let m = serde_json::json!({"config": "name = \"q\"\ncarbon = { intensity_g_per_kwh = 56.0, pue = 1.2 }\n"});
        let c = CarbonSettings::from_manifest(&m).unwrap();
        assert_eq!((c.intensity_g_per_kwh, c.pue), (56.0, 1.2));
        let m = serde_json::json!({"config": "name = \"q\"\n[carbon]\npue = 1.1\n"});
        let c = CarbonSettings::from_manifest(&m).unwrap();
        assert_eq!((c.intensity_g_per_kwh, c.pue), (475.0, 1.1));
        let c = CarbonSettings::from_manifest(&serde_json::json!({"host": {}})).unwrap();
        assert_eq!(c.intensity_g_per_kwh, 475.0);
        assert!(c.source.contains("no `config`"));
        assert!(
            CarbonSettings::from_manifest(&serde_json::json!({"config": "carbon = ["})).is_err()
        );
        let e =
            CarbonSettings::from_manifest(&serde_json::json!({"config": "[carbon]\npue = 0.5\n"}));
        assert!(e.unwrap_err().contains("pue"));
    }
}
