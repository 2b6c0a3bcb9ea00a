//! Estimated energy reaches the report with its range: runs.csv has `*_low_j`/`*_high_j`,
//! report.md lists every run's energy with its range and says that net energy of an estimate
//! is its model's dynamic part; an old folder whose net figure fell below zero because the
//! orchestrator's own estimate was subtracted is told so, not "measured under other load".

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{sweep, write_sweep, Shape};
use greenbench_analysis::{write_report, ReportOptions};
use greenbench_core::{Component, ComponentEnergy, RunRecord};

fn text_only() -> ReportOptions {
    ReportOptions {
        figures: false,
        ..Default::default()
    }
}

fn small() -> Vec<RunRecord> {
    repeated(1)
}

/// Three models at batch 16 and 64, each configuration `repeats` times.
fn repeated(repeats: usize) -> Vec<RunRecord> {
    sweep(&Shape {
        models: 3,
        batch_sizes: vec![16, 64],
        repeats,
        ..Shape::default()
    })
}

/// `records` written as a sweep folder in `dir`, reported without figures; report.md's text.
fn report_md(dir: &Path, records: &[RunRecord]) -> String {
    write_sweep(dir, records, None);
    write_report(dir, &text_only()).unwrap();
    std::fs::read_to_string(dir.join("report.md")).unwrap()
}

/// Gives every component ±10 % and the CPU a zero-load energy of a fifth of its value, as the
/// estimate of this greenbench writes them; net energy becomes the model's dynamic part.
fn with_ranges(e: &ComponentEnergy) -> ComponentEnergy {
    let ranges: BTreeMap<Component, [f64; 2]> = Component::ALL
        .iter()
        .filter_map(|&c| e.get(c).map(|v| (c, [0.9 * v, 1.1 * v])))
        .collect();
    let mut zero: BTreeMap<Component, f64> = BTreeMap::new();
    zero.insert(Component::Cpu, 0.2 * e.cpu_j.unwrap_or(0.0));
    zero.insert(Component::Dram, 0.0);
    e.clone().with_ranges(ranges, zero)
}

/// Gives every run's training and inference energy its range ([`with_ranges`]).
fn give_ranges(records: &mut [RunRecord]) {
    for r in records {
        let t = r.train.as_mut().unwrap();
        t.energy = with_ranges(&t.energy);
        t.net_energy = t
            .energy
            .net_of(&r.idle_power_w, greenbench_core::Seconds(t.duration_s));
        let i = r.inference.as_mut().unwrap();
        i.energy = with_ranges(&i.energy);
        i.net_energy = i
            .energy
            .net_of(&r.idle_power_w, greenbench_core::Seconds(i.duration_s));
    }
}

#[test]
fn every_estimated_energy_is_listed_with_its_range_and_net_is_the_models_dynamic_part() {
    let dir = tempfile::tempdir().unwrap();
    let mut records = small();
    give_ranges(&mut records);
    let md = report_md(dir.path(), &records);
    assert!(md.contains("Net = the estimate's dynamic part"), "{md}");
    assert!(md.contains("## Energy ranges"), "{md}");
    let t = &records[0].train.as_ref().unwrap().net_energy;
    let row = md
        .lines()
        .find(|l| l.contains(&records[0].run_id))
        .expect("a row of the first run");
    assert!(row.contains(" J ["), "{row}");
    assert!(t.low_j.unwrap() < t.total_j.unwrap() && t.total_j.unwrap() < t.high_j.unwrap());

    let csv = std::fs::read_to_string(dir.path().join("runs.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let first: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    let (low, high) = (col("train_low_j"), col("train_high_j"));
    let total: f64 = first[col("train_total_j")].parse().unwrap();
    assert!(first[low].parse::<f64>().unwrap() < total, "{csv}");
    assert!(total < first[high].parse::<f64>().unwrap(), "{csv}");
    col("inference_net_low_j");
}

#[test]
fn an_old_estimate_below_the_orchestrators_idle_estimate_is_not_blamed_on_other_load() {
    let dir = tempfile::tempdir().unwrap();
    let mut records = small();
    let t = records[0].train.as_mut().unwrap();
    t.net_energy.total_j = Some(-1.0);
    let md = report_md(dir.path(), &records);
    assert!(md.contains("Warning: raw energy"), "{md}");
    assert!(md.contains("orchestrating greenbench process"), "{md}");
    assert!(!md.contains("measured under other load"), "{md}");
    // A folder without ranges has no ranges section.
    assert!(!md.contains("## Energy ranges"), "{md}");
}

#[test]
fn the_models_and_pareto_tables_show_the_estimates_range_beside_the_t_interval() {
    let dir = tempfile::tempdir().unwrap();
    let mut records = repeated(2);
    give_ranges(&mut records);
    let md = report_md(dir.path(), &records);
    let model = &records[0].spec.model;
    // The models table's row: the training energy's t-interval and n, then the estimate's range.
    let row = md
        .lines()
        .find(|l| l.starts_with(&format!("| {model} |")) && l.contains("n = 2"))
        .expect("the models table's row of the first model");
    assert!(row.contains("(n = 2; est. "), "{row}");
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(html.contains("(n = 2; est. "), "html");
    let tex = std::fs::read_to_string(dir.path().join("tables/models.tex")).unwrap();
    assert!(tex.contains("est.~"), "{tex}");
    let pareto = std::fs::read_to_string(dir.path().join("tables/pareto.tex")).unwrap();
    assert!(pareto.contains("est.~"), "{pareto}");

    // Without ranges no table mentions one.
    let old = tempfile::tempdir().unwrap();
    let plain = repeated(2);
    let md = report_md(old.path(), &plain);
    assert!(!md.contains("est. "), "{md}");
    let tex = std::fs::read_to_string(old.path().join("tables/models.tex")).unwrap();
    assert!(!tex.contains("est.~"), "{tex}");
}

#[test]
fn the_correlation_rows_say_when_energy_was_drawn_within_its_range() {
    // (The bootstrap's own test is beside it, in the statistics.)
    // The report's correlation rows say so when the records carry ranges.
    let dir = tempfile::tempdir().unwrap();
    let mut records = small();
    give_ranges(&mut records);
    let md = report_md(dir.path(), &records);
    let row = md
        .lines()
        .find(|l| l.starts_with("| training time vs training energy"))
        .expect("the time–energy row");
    assert!(row.contains("within its estimate's range"), "{row}");
    let row = md
        .lines()
        .find(|l| l.starts_with("| training time vs inference time"))
        .expect("the time–time row");
    assert!(!row.contains("estimate's range"), "{row}");
}
