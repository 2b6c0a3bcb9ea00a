//! A sweep with repeats: report.md, report.html and the LaTeX tables show each configuration's
//! mean ± 95 % t-interval with n, never an interval for one run, and warn about noisy repeats.

mod common;

use common::{sweep, write_sweep, Shape};
use greenbench_analysis::format_sig as sig;
use greenbench_analysis::{write_report, ReportOptions};
use greenbench_core::RunRecord;

/// Student's t 0.975 quantile with 2 degrees of freedom (scipy.stats.t.ppf(0.975, 2)).
const T_975_DF2: f64 = 4.302_652_729_911_275;

fn text_only() -> ReportOptions {
    ReportOptions {
        figures: false,
        ..ReportOptions::default()
    }
}

/// Writes `records` into a fresh folder, reports it and returns (folder, md, html, models.tex,
/// pareto.tex).
fn report(records: &[RunRecord]) -> (tempfile::TempDir, [String; 4]) {
    let dir = tempfile::tempdir().unwrap();
    write_sweep(dir.path(), records, None);
    write_report(dir.path(), &text_only()).unwrap();
    let read = |p: &str| std::fs::read_to_string(dir.path().join(p)).unwrap();
    let texts = [
        read("report.md"),
        read("report.html"),
        read("tables/models.tex"),
        read("tables/pareto.tex"),
    ];
    (dir, texts)
}

/// Mean and t-interval half-width of three values, as the report writes them.
fn mean_pm(v: &[f64]) -> (String, String) {
    assert_eq!(v.len(), 3);
    let m = v.iter().sum::<f64>() / 3.0;
    let sd = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / 2.0).sqrt();
    (sig(m, 3), sig(T_975_DF2 * sd / 3f64.sqrt(), 2))
}

fn train_times(records: &[RunRecord], model: &str) -> Vec<f64> {
    records
        .iter()
        .filter(|r| r.spec.model == model)
        .map(|r| r.train.as_ref().unwrap().duration_s)
        .collect()
}

#[test]
fn three_repeats_show_mean_interval_and_n_in_every_format() {
    let records = sweep(&Shape {
        models: 4,
        batch_sizes: vec![64],
        repeats: 3,
        ..Shape::default()
    });
    let (_dir, [md, html, models_tex, pareto_tex]) = report(&records);
    let (m, pm) = mean_pm(&train_times(&records, "model-00"));
    assert!(
        md.contains("| model-00 |") && md.contains(&format!("| 3 | {m} ± {pm} (n = 3) |")),
        "report.md lacks model-00's train time {m} ± {pm} (n = 3):\n{md}"
    );
    assert!(
        html.contains(&format!("<td>3</td><td>{m} ± {pm} (n = 3)</td>")),
        "report.html lacks model-00's train time {m} ± {pm} (n = 3)"
    );
    assert!(
        models_tex.contains(&format!("& 3 & {m} & $\\pm$ {pm} ($n = 3$) &")),
        "models.tex lacks model-00's train time:\n{models_tex}"
    );
    assert!(
        pareto_tex.contains("($n = 3$)") && pareto_tex.contains("$\\pm$"),
        "pareto.tex has no mean ± interval with n = 3:\n{pareto_tex}"
    );
    // The Pareto table of report.md carries the same cells.
    let pareto = md.split("## Accuracy–energy Pareto front").nth(1).unwrap();
    assert!(pareto.contains(" (n = 3) |"), "{pareto}");
    // Quiet repeats: no warning.
    assert!(!md.contains("vary by more than 10 %"), "{md}");
}

#[test]
fn one_run_per_configuration_says_n_1_and_gives_no_interval() {
    let records = sweep(&Shape {
        models: 4,
        batch_sizes: vec![64],
        repeats: 1,
        ..Shape::default()
    });
    let (_dir, [md, html, models_tex, _]) = report(&records);
    let t = train_times(&records, "model-00")[0];
    assert!(
        md.contains(&format!("| 1 | {} (n = 1) |", sig(t, 3))),
        "{md}"
    );
    let section = md.split("## Per model").nth(1).unwrap();
    let section = section.split("\n## ").next().unwrap();
    let table: String = section
        .lines()
        .filter(|l| l.starts_with("| model-"))
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(table.lines().count(), 4, "{section}");
    assert!(!table.contains('±'), "an interval from one run:\n{table}");
    assert!(table.contains("n/a: n = 1"), "CV without repeats:\n{table}");
    assert!(html.contains(&format!("<td>{} (n = 1)</td>", sig(t, 3))));
    assert!(models_tex.contains(&format!("& 1 & {} & ($n = 1$) &", sig(t, 3))));
    assert!(!models_tex.contains("\\pm"), "{models_tex}");
}

#[test]
fn noisy_repeats_are_named_in_a_warning() {
    let mut records = sweep(&Shape {
        models: 3,
        batch_sizes: vec![64],
        repeats: 3,
        ..Shape::default()
    });
    let slow = records
        .iter_mut()
        .find(|r| r.spec.model == "model-01")
        .unwrap();
    slow.train.as_mut().unwrap().duration_s *= 1.5;
    let (_dir, [md, html, _, _]) = report(&records);
    let warning = md
        .lines()
        .find(|l| l.contains("vary by more than 10 % over repeats"))
        .unwrap_or_else(|| panic!("no warning:\n{md}"));
    assert!(warning.contains("1 configuration(s)"), "{warning}");
    assert!(
        warning.contains("model-01 at fashion-mnist, batch 64"),
        "{warning}"
    );
    assert!(warning.contains("time CV"), "{warning}");
    assert!(!warning.contains("model-00"), "{warning}");
    assert!(html.contains("vary by more than 10 % over repeats"));
}

#[test]
fn power_and_cpu_cores_in_use_are_shown_per_model_and_per_setting() {
    let mut records = sweep(&Shape {
        models: 2,
        batch_sizes: vec![64],
        repeats: 3,
        ..Shape::default()
    });
    // Repeat k: 20 + 5k W and 40 + 10k % of the record's 2 cores (0.8, 1.0, 1.2 cores).
    for r in &mut records {
        let k = r.spec.repeat as f64;
        assert_eq!(r.host.cores, 2);
        let t = r.train.as_mut().unwrap();
        t.avg_power_w.total_w = Some(20.0 + 5.0 * k);
        t.cpu_util_mean = Some(40.0 + 10.0 * k);
    }
    let (dir, [md, html, models_tex, _]) = report(&records);
    let (w, w_pm) = mean_pm(&[20.0, 25.0, 30.0]);
    let (c, c_pm) = mean_pm(&[0.8, 1.0, 1.2]);
    let cells = format!("| {w} ± {w_pm} (n = 3) | {c} ± {c_pm} (n = 3) |");
    let row = md
        .lines()
        .find(|l| l.starts_with("| model-00 |"))
        .expect("model-00's row");
    assert!(row.contains(&cells), "{cells} not in\n{row}");
    assert!(
        md.contains("| train power (W) | CPU cores in use |"),
        "{md}"
    );
    assert!(html.contains("<th>CPU cores in use</th>") || html.contains(">CPU cores in use<"));
    assert!(models_tex.contains("CPU cores"), "{models_tex}");

    // summary.md: mean ± σ per model and setting.
    let summary = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
    assert!(
        summary.contains("| train power (W) | CPU cores in use |"),
        "{summary}"
    );
    let want = format!(
        "| {} ± {} | {} ± {} |",
        sig(25.0, 3),
        sig(5.0, 2),
        sig(1.0, 3),
        sig(0.2, 2)
    );
    let row = summary
        .lines()
        .find(|l| l.starts_with("| model-00 |"))
        .expect("model-00's summary row");
    assert!(row.contains(&want), "{want} not in\n{row}");
}
