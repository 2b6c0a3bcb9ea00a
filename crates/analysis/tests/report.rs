//! Behaviour of `write_report` on synthetic sweeps and on the example sweeps under `tests/data/`.

mod common;

use std::path::{Path, PathBuf};

use common::{crashed, sweep, write_sweep, Shape};
use greenbench_analysis::{write_report, ReportOptions};
use greenbench_core::Quality;

/// Checks a PNG: signature, IHDR chunk, non-zero size; returns (width, height).
fn png_size(path: &Path) -> (u32, u32) {
    let b = std::fs::read(path).unwrap();
    assert_eq!(
        &b[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is not a PNG",
        path.display()
    );
    assert_eq!(&b[12..16], b"IHDR", "{}", path.display());
    let w = u32::from_be_bytes([b[16], b[17], b[18], b[19]]);
    let h = u32::from_be_bytes([b[20], b[21], b[22], b[23]]);
    assert!(w > 100 && h > 100, "{}: {w}×{h}", path.display());
    assert!(
        b.len() > 5_000,
        "{}: suspiciously small ({} bytes)",
        path.display(),
        b.len()
    );
    assert!(
        b.ends_with(b"IEND\xaeB`\x82"),
        "{}: truncated",
        path.display()
    );
    (w, h)
}

/// Checks an SVG: starts with `<svg`, closes, and has text (axis labels).
fn check_svg(path: &Path) {
    let s = std::fs::read_to_string(path).unwrap();
    assert!(s.trim_start().starts_with("<svg"), "{}", path.display());
    assert!(s.trim_end().ends_with("</svg>"), "{}", path.display());
    assert!(s.contains("<text"), "{}: no text", path.display());
}

fn check_figures(summary: &greenbench_analysis::ReportSummary) {
    for f in &summary.figures {
        for file in &f.files {
            match file.extension().and_then(|e| e.to_str()) {
                Some("png") => {
                    png_size(file);
                }
                Some("svg") => check_svg(file),
                Some("pdf") => {
                    let b = std::fs::read(file).unwrap();
                    assert!(b.starts_with(b"%PDF-"), "{}", file.display());
                }
                other => panic!("unexpected figure file {other:?}"),
            }
        }
    }
}

struct Out(Option<PathBuf>, tempfile::TempDir);
impl Out {
    fn path(&self) -> &Path {
        self.0.as_deref().unwrap_or(self.1.path())
    }
}

#[test]
fn full_report_on_synthetic_sweep() {
    let dir = tempfile::tempdir().unwrap();
    // GREENBENCH_KEEP_REPORT=/some/dir keeps the output for a look at the figures.
    let keep: Option<PathBuf> = std::env::var_os("GREENBENCH_KEEP_REPORT").map(PathBuf::from);
    let dir = Out(
        keep.clone()
            .inspect(|p| std::fs::create_dir_all(p).unwrap()),
        dir,
    );
    let mut records = sweep(&Shape::default());
    records.push(crashed("model-99"));
    write_sweep(
        dir.path(),
        &records,
        Some("name = \"synthetic\"\ncarbon = { intensity_g_per_kwh = 100.0, pue = 1.2 }\n"),
    );
    let s = write_report(dir.path(), &ReportOptions::default()).unwrap();
    assert_eq!(s.runs_total, records.len());
    assert_eq!(s.runs_ok, records.len() - 1);
    assert_eq!(s.not_ok.len(), 1);
    assert_eq!(s.basis, greenbench_analysis::EnergyBasis::Net);
    assert_eq!(s.quality, "estimated");
    // Every figure is drawn for this sweep (several batch sizes, models, epochs, CV) but the
    // search's, as it is a grid sweep.
    for f in s.figures.iter().filter(|f| f.name != "search") {
        assert!(f.skipped.is_none(), "{} skipped: {:?}", f.name, f.skipped);
        assert_eq!(f.files.len(), 3);
    }
    let search = s.figures.iter().find(|f| f.name == "search").unwrap();
    assert!(search.skipped.as_deref().unwrap().contains("not a search"));
    assert_eq!(s.figures.len(), 9);
    check_figures(&s);

    let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    for needle in [
        "## Correlations beside the paper",
        "training time vs training energy",
        "MACs/parameter vs training energy",
        "batch size vs training energy",
        "## Short profiling",
        "## Parameter estimator",
        "Leave-one-model-out cross-validation",
        "## Carbon",
        "100 g/kWh × PUE 1.2",
        "## Accuracy–energy Pareto front",
        "## Runs left out of the statistics",
        "out of memory",
        "figures/energy_vs_macs_per_param.png",
        "net training energy, quality estimated",
        "by construction",
    ] {
        assert!(md.contains(needle), "report.md lacks {needle:?}:\n{md}");
    }
    assert!(!md.contains("NaN") && !md.contains("inf "), "{md}");
    // Every computed correlation cell (Pearson r, of logs, Spearman ρ) names n, the p-value's
    // method and the bootstrap interval; the row names the interval's method.
    let time_row = md
        .lines()
        .find(|l| l.starts_with("| training time vs training energy |"))
        .unwrap();
    assert!(time_row.contains("CI: BCa bootstrap"), "{time_row}");
    for cell in time_row.split(" | ").skip(2).take(3) {
        assert!(
            cell.contains("n = ")
                && (cell.contains("exact permutation") || cell.contains("t approximation"))
                && cell.contains("95 % CI ["),
            "{cell}"
        );
    }
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(html.contains("95 % CI ["), "report.html lacks the interval");
    let tex = std::fs::read_to_string(dir.path().join("tables/correlations.tex")).unwrap();
    assert!(
        tex.contains("95\\,\\% CI") && tex.contains("{method}") && tex.contains("BCa bootstrap"),
        "{tex}"
    );

    let csv = std::fs::read_to_string(dir.path().join("runs.csv")).unwrap();
    let mut lines = csv.lines();
    let header = lines.next().unwrap();
    for col in [
        "run_id",
        "status",
        "model",
        "batch_size",
        "lr",
        "epochs",
        "family",
        "params",
        "macs",
        "macs_per_param",
        "train_net_total_j",
        "train_cpu_j",
        "train_quality",
        "test_accuracy",
        "train_carbon_g",
    ] {
        assert!(
            header.split(',').any(|c| c == col),
            "runs.csv lacks {col}: {header}"
        );
    }
    assert_eq!(csv.lines().count(), records.len() + 1);

    let em = std::fs::read_to_string(dir.path().join("emissions.csv")).unwrap();
    assert!(em.starts_with("timestamp,project_name,run_id,experiment_id,duration,emissions,emissions_rate,cpu_power,gpu_power,ram_power,cpu_energy,gpu_energy,ram_energy,energy_consumed,country_name"));
    assert_eq!(em.lines().count(), records.len()); // header + ok runs; the crashed run has no energy
                                                   // energy_consumed (kWh) × 100 g/kWh × 1.2 / 1000 = emissions (kg).
    let row: Vec<&str> = em.lines().nth(1).unwrap().split(',').collect();
    let kwh: f64 = row[13].parse().unwrap();
    let kg: f64 = row[5].parse().unwrap();
    assert!(
        (kwh * 100.0 * 1.2 / 1000.0 - kg).abs() <= 1e-12 + kg * 1e-9,
        "{kwh} kWh vs {kg} kg"
    );

    let summary = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
    assert!(
        summary.contains("| model-00 |") && summary.contains(" ± "),
        "{summary}"
    );
    // summary.md says what its energy is net of in the report's own words, not a fixed formula
    // that is wrong for an estimate (which is net of its own model's zero-load power).
    let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    let basis = md
        .lines()
        .find(|l| l.starts_with("**Energy used throughout"))
        .and_then(|l| l.split_once(".** "))
        .map(|(_, why)| why)
        .unwrap();
    assert!(basis.starts_with("Net = "), "{basis}");
    assert!(summary.contains(basis), "{basis}\n{summary}");
}

#[test]
fn absent_data_skips_figures_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let shape = Shape {
        models: 1,
        batch_sizes: vec![64],
        repeats: 1,
        epochs: 1,
        quality: Quality::Measured,
        ..Shape::default()
    };
    let mut records = sweep(&shape);
    // No utilisation recorded.
    for r in &mut records {
        if let Some(t) = r.train.as_mut() {
            t.cpu_util_mean = None;
        }
    }
    write_sweep(dir.path(), &records, None);
    let s = write_report(dir.path(), &ReportOptions::default()).unwrap();
    let skipped: Vec<(&str, &str)> = s
        .figures
        .iter()
        .filter_map(|f| Some((f.name, f.skipped.as_deref()?)))
        .collect();
    let names: Vec<&str> = skipped.iter().map(|s| s.0).collect();
    for n in [
        "power_vs_util",
        "energy_vs_macs_per_param",
        "energy_vs_batch_size",
        "pareto",
        "predicted_vs_measured",
    ] {
        assert!(names.contains(&n), "{n} not skipped: {skipped:?}");
    }
    check_figures(&s);
    let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    assert!(
        md.contains("skipped: every model ran a single batch size"),
        "{md}"
    );
    assert!(md.contains("n/a: 1 points, need ≥ 3"), "{md}");
    assert!(md.contains("default: no manifest.json"), "{md}");
    assert!(
        md.contains("Not computed: no ok run has more than one epoch"),
        "{md}"
    );
    assert!(!md.contains("NaN"), "{md}");
}

#[test]
fn missing_folder_and_bad_line_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let err = write_report(dir.path(), &ReportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no runs.jsonl") && err.contains("greenbench sweep"),
        "{err}"
    );
    std::fs::write(dir.path().join("runs.jsonl"), "{\"schema_version\":1}\n").unwrap();
    let err = write_report(dir.path(), &ReportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("runs.jsonl:1"), "{err}");
    std::fs::write(dir.path().join("runs.jsonl"), "").unwrap();
    std::fs::write(dir.path().join("manifest.json"), "{not json").unwrap();
    let err = write_report(dir.path(), &ReportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("manifest.json") && err.contains("not a greenbench manifest"),
        "{err}"
    );
    // An empty sweep is a report, not an error.
    std::fs::remove_file(dir.path().join("manifest.json")).unwrap();
    let s = write_report(dir.path(), &ReportOptions::default()).unwrap();
    assert_eq!(s.runs_total, 0);
}

/// Every example sweep committed under `tests/data/<name>/runs.jsonl` (e.g. a real quick sweep)
/// gets a full report; adding one is adding the folder.
#[test]
fn example_sweeps_in_tests_data() {
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let Ok(entries) = std::fs::read_dir(&data) else {
        return;
    };
    for e in entries.flatten() {
        let src = e.path();
        if !src.join("runs.jsonl").is_file() {
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        for f in ["runs.jsonl", "manifest.json"] {
            if src.join(f).is_file() {
                std::fs::copy(src.join(f), dir.path().join(f)).unwrap();
            }
        }
        let s = write_report(dir.path(), &ReportOptions::default())
            .unwrap_or_else(|e| panic!("{}: {e}", src.display()));
        assert!(s.runs_total > 0, "{}", src.display());
        check_figures(&s);
        let md = std::fs::read_to_string(&s.report).unwrap();
        assert!(!md.contains("NaN"), "{}", src.display());
    }
}
