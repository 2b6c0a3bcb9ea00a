//! `runs.csv`: one flat row per run (every status), every spec field as its own column.

use std::path::Path;

use greenbench_core::RunRecord;
use greenbench_core::{ComponentEnergy, ComponentPower};

use crate::context::ReportContext;
use crate::data;
use crate::numbers::cell;
use crate::AnalysisError;

fn energy_cols(prefix: &str, e: Option<&ComponentEnergy>, out: &mut Vec<(String, String)>) {
    let q = e
        .and_then(|e| e.quality)
        .map(|q| q.to_string())
        .unwrap_or_default();
    for (name, v) in [
        ("cpu_j", e.and_then(|e| e.cpu_j)),
        ("dram_j", e.and_then(|e| e.dram_j)),
        ("gpu_j", e.and_then(|e| e.gpu_j)),
        ("total_j", e.and_then(|e| e.total_j)),
        ("low_j", e.and_then(|e| e.low_j)),
        ("high_j", e.and_then(|e| e.high_j)),
    ] {
        out.push((format!("{prefix}_{name}"), cell(v)));
    }
    out.push((format!("{prefix}_quality"), q));
}

fn power_cols(prefix: &str, p: Option<&ComponentPower>, out: &mut Vec<(String, String)>) {
    for (name, v) in [
        ("cpu_w", p.and_then(|p| p.cpu_w)),
        ("dram_w", p.and_then(|p| p.dram_w)),
        ("gpu_w", p.and_then(|p| p.gpu_w)),
        ("total_w", p.and_then(|p| p.total_w)),
    ] {
        out.push((format!("{prefix}_{name}"), cell(v)));
    }
}

fn json_cell(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The spec field names across `records`, in order of first appearance.
fn spec_fields(records: &[RunRecord]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for r in records {
        if let Ok(serde_json::Value::Object(m)) = serde_json::to_value(&r.spec) {
            for k in m.keys() {
                if !names.contains(k) {
                    names.push(k.clone());
                }
            }
        }
    }
    names
}

/// (column, value) cells of a row, in column order.
type Cells = Vec<(String, String)>;

/// `items` joined with "; " (one cell holding a list).
fn joined(items: impl IntoIterator<Item = String>) -> String {
    items.into_iter().collect::<Vec<_>>().join("; ")
}

/// Identity, outcome and timing of the run, then every spec field (`spec_names`) and the model
/// family.
fn run_cols(r: &RunRecord, spec_names: &[String], o: &mut Cells) {
    let mut put = |k: &str, v: String| o.push((k.to_string(), v));
    put("run_id", r.run_id.clone());
    put("sweep", r.sweep.clone());
    put("status", r.status.name().into());
    put("error", r.error.clone().unwrap_or_default());
    put(
        "flags",
        joined(r.flags.iter().map(|f| format!("{}: {}", f.field, f.reason))),
    );
    put("started_at", r.started_at.clone());
    put("finished_at", r.finished_at.clone());
    let spec = serde_json::to_value(&r.spec).unwrap_or_default();
    for k in spec_names {
        put(k, spec.get(k).map(json_cell).unwrap_or_default());
    }
    put("family", r.family.map_or(String::new(), |f| f.to_string()));
}

/// The host the run ran on, the model's size and the training-set size.
fn host_and_model_cols(r: &RunRecord, o: &mut Cells) {
    let mut put = |k: &str, v: String| o.push((k.to_string(), v));
    put("host_cpu_model", r.host.cpu_model.clone());
    put("host_cores", r.host.cores.to_string());
    put("host_mem_gb", cell(Some(r.host.mem_gb)));
    put("host_gpu", r.host.gpu.clone().unwrap_or_default());
    put("hostname", r.host.hostname.clone());
    put("greenbench_version", r.host.greenbench_version.clone());
    put("cpu_kernels", r.host.cpu_kernels.clone());
    let m = r.model.as_ref();
    put(
        "params",
        m.map(|m| m.params.to_string()).unwrap_or_default(),
    );
    put(
        "macs",
        m.map(|m| m.macs_per_sample.to_string()).unwrap_or_default(),
    );
    put("macs_per_param", cell(m.map(|m| m.macs_per_param)));
    put("train_samples", r.train_samples.to_string());
}

/// The training phase: time, throughput, outcome, utilisation, energies and mean power.
fn train_cols(r: &RunRecord, o: &mut Cells) {
    let t = r.train.as_ref();
    let mut put = |k: &str, v: String| o.push((k.to_string(), v));
    put("train_duration_s", cell(t.map(|t| t.duration_s)));
    put("train_samples_per_s", cell(t.map(|t| t.samples_per_s)));
    put(
        "train_epochs_completed",
        t.map(|t| t.epochs.len().to_string()).unwrap_or_default(),
    );
    put("train_final_loss", cell(t.map(|t| t.final_loss)));
    put("train_acc", cell(t.map(|t| t.train_acc)));
    put("val_acc", cell(t.and_then(|t| t.val_acc)));
    put("train_gpu_util_mean", cell(t.and_then(|t| t.gpu_util_mean)));
    put("train_cpu_util_mean", cell(t.and_then(|t| t.cpu_util_mean)));
    energy_cols("train", t.map(|t| &t.energy), o);
    energy_cols("train_net", t.map(|t| &t.net_energy), o);
    power_cols("train_avg", t.map(|t| &t.avg_power_w), o);
}

/// The inference phase: samples, time, throughput, quality, energies and mean power.
fn inference_cols(r: &RunRecord, o: &mut Cells) {
    let i = r.inference.as_ref();
    let mut put = |k: &str, v: String| o.push((k.to_string(), v));
    put(
        "inference_samples",
        i.and_then(|i| i.samples)
            .map(|n| n.to_string())
            .unwrap_or_default(),
    );
    put("inference_duration_s", cell(i.map(|i| i.duration_s)));
    put("inference_samples_per_s", cell(i.map(|i| i.samples_per_s)));
    put("test_accuracy", cell(i.map(|i| i.accuracy)));
    put("perplexity", cell(i.and_then(|i| i.perplexity)));
    energy_cols("inference", i.map(|i| &i.energy), o);
    energy_cols("inference_net", i.map(|i| &i.net_energy), o);
    power_cols("inference_avg", i.map(|i| &i.avg_power_w), o);
}

/// The energy basis the report uses, the carbon settings applied to the run, and its carbon
/// (g) and energy (Wh) per phase on that basis.
fn basis_and_carbon_cols(r: &RunRecord, ctx: &ReportContext, o: &mut Cells) {
    let (basis, carbon) = (ctx.basis, ctx.carbon);
    let mut put = |k: &str, v: String| o.push((k.to_string(), v));
    put("energy_basis", basis.name().into());
    put(
        "carbon_intensity_g_per_kwh",
        cell(Some(carbon.intensity_for(r))),
    );
    put("pue", cell(Some(carbon.pue)));
    put(
        "train_carbon_g",
        cell(basis.train_j(r).map(|j| carbon.grams_for(r, j))),
    );
    put(
        "inference_carbon_g",
        cell(basis.inference_j(r).map(|j| carbon.grams_for(r, j))),
    );
    put("train_energy_wh", cell(basis.train_j(r).map(data::wh)));
    put(
        "inference_energy_wh",
        cell(basis.inference_j(r).map(data::wh)),
    );
}

/// The cells of one run, as (column, value) in column order.
pub fn run_row(r: &RunRecord, spec_names: &[String], ctx: &ReportContext) -> Vec<(String, String)> {
    let mut o: Cells = Vec::new();
    run_cols(r, spec_names, &mut o);
    host_and_model_cols(r, &mut o);
    train_cols(r, &mut o);
    inference_cols(r, &mut o);
    power_cols("idle", Some(&r.idle_power_w), &mut o);
    basis_and_carbon_cols(r, ctx, &mut o);
    o.push((
        "meters".into(),
        joined(r.meters.iter().map(|(k, v)| format!("{k}={v}"))),
    ));
    o
}

/// Writes `runs.csv` with one row per record (all statuses), on the report's energy basis and
/// carbon settings.
pub fn write_runs_csv(
    path: &Path,
    records: &[RunRecord],
    ctx: &ReportContext,
) -> Result<(), AnalysisError> {
    let names = spec_fields(records);
    let header: Vec<String> = match records.first() {
        Some(r) => run_row(r, &names, ctx)
            .into_iter()
            .map(|(k, _)| k)
            .collect(),
        None => vec!["run_id".into(), "status".into()], // empty sweep
    };
    super::write_csv(path, |w| {
        w.write_record(&header)?;
        for r in records {
            w.write_record(run_row(r, &names, ctx).into_iter().map(|(_, v)| v))?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joined_separates_items_with_semicolons_and_leaves_none_empty() {
        assert_eq!(
            joined(["a: x".to_string(), "b: y".to_string()]),
            "a: x; b: y"
        );
        assert_eq!(joined(Vec::<String>::new()), "");
    }
}
