//! `emissions.csv` in CodeCarbon's layout (the columns of codecarbon 2.x `EmissionsData`), so tools
//! that read CodeCarbon logs read greenbench runs: one row per run that has a training record,
//! covering training + inference; durations in s, energies in kWh, emissions in kg CO2-eq,
//! emissions_rate in kg/s, power in W.
//!
//! Energies use the report's basis (net of idle when every run has it, else raw); CodeCarbon itself
//! logs raw energy, so compare with care (`runs.csv` has both).

use std::path::Path;

use greenbench_core::RunRecord;
use greenbench_core::{Component, Quality};

use crate::context::ReportContext;
use crate::numbers::cell;
use crate::AnalysisError;

/// CodeCarbon's column names, in its order.
pub const COLUMNS: [&str; 33] = [
    "timestamp",
    "project_name",
    "run_id",
    "experiment_id",
    "duration",
    "emissions",
    "emissions_rate",
    "cpu_power",
    "gpu_power",
    "ram_power",
    "cpu_energy",
    "gpu_energy",
    "ram_energy",
    "energy_consumed",
    "country_name",
    "country_iso_code",
    "region",
    "cloud_provider",
    "cloud_region",
    "os",
    "python_version",
    "codecarbon_version",
    "cpu_count",
    "cpu_model",
    "gpu_count",
    "gpu_model",
    "longitude",
    "latitude",
    "ram_total_size",
    "tracking_mode",
    "on_cloud",
    "pue",
    // Not in CodeCarbon: the grid intensity this row's emissions used.
    "carbon_intensity_g_per_kwh",
];

fn sum(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0.0) + b.unwrap_or(0.0)),
    }
}

/// The cells of one run, or `None` when it has no training record.
pub fn emissions_row(r: &RunRecord, ctx: &ReportContext) -> Option<Vec<String>> {
    let (basis, carbon) = (ctx.basis, ctx.carbon);
    let t = r.train.as_ref()?;
    let duration = t.duration_s + r.inference.as_ref().map_or(0.0, |i| i.duration_s);
    let comp = |c: Component| {
        sum(
            basis.train(r).and_then(|e| e.get(c)),
            basis.inference(r).and_then(|e| e.get(c)),
        )
    };
    let total = sum(basis.train_j(r), basis.inference_j(r));
    let kwh = |j: Option<f64>| j.map(|j| j / 3.6e6);
    let watts = |j: Option<f64>| j.filter(|_| duration > 0.0).map(|j| j / duration);
    let kg = total.map(|j| carbon.grams_for(r, j) / 1000.0);
    let all_measured = basis.train(r).and_then(|e| e.quality) == Some(Quality::Measured);
    // CodeCarbon writes %Y-%m-%dT%H:%M:%S.
    let ts: String = r.finished_at.chars().take(19).collect();
    Some(vec![
        ts,
        format!("greenbench:{}", r.sweep),
        r.run_id.clone(),
        r.spec.model.clone(),
        cell(Some(duration)),
        cell(kg),
        cell(kg.filter(|_| duration > 0.0).map(|k| k / duration)),
        cell(watts(comp(Component::Cpu))),
        cell(watts(comp(Component::Gpu))),
        cell(watts(comp(Component::Dram))),
        cell(kwh(comp(Component::Cpu))),
        cell(kwh(comp(Component::Gpu))),
        cell(kwh(comp(Component::Dram))),
        cell(kwh(total)),
        carbon
            .country
            .as_ref()
            .map(|c| c.1.clone())
            .unwrap_or_default(),
        carbon
            .country
            .as_ref()
            .map(|c| c.0.clone())
            .unwrap_or_default(),
        String::new(),
        String::new(),
        String::new(),
        r.host.os.clone(),
        String::new(),
        String::new(),
        r.host.cores.to_string(),
        r.host.cpu_model.clone(),
        if r.host.gpu.is_some() { "1" } else { "0" }.into(),
        r.host.gpu.clone().unwrap_or_default(),
        String::new(),
        String::new(),
        cell(Some(r.host.mem_gb)),
        if all_measured { "machine" } else { "process" }.into(),
        "N".into(),
        cell(Some(carbon.pue)),
        cell(Some(carbon.intensity_for(r))),
    ])
}

/// Writes `emissions.csv`, on the report's energy basis and carbon settings.
pub fn write_emissions_csv(
    path: &Path,
    records: &[RunRecord],
    ctx: &ReportContext,
) -> Result<(), AnalysisError> {
    super::write_csv(path, |w| {
        w.write_record(COLUMNS)?;
        for r in records {
            if let Some(row) = emissions_row(r, ctx) {
                w.write_record(&row)?;
            }
        }
        Ok(())
    })
}
