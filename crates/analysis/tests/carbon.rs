//! Carbon by place and hour through `write_report`: a country's yearly average, an hourly
//! series averaged over each run's own window, and the errors for bad input.

mod common;

use common::{sweep, write_sweep, Shape};
use greenbench_analysis::{write_report, ReportOptions};

fn text_only() -> ReportOptions {
    ReportOptions {
        figures: false,
        ..Default::default()
    }
}

/// The `carbon_intensity_g_per_kwh` and `train_carbon_g` columns of runs.csv, with the energy.
fn csv_rows(dir: &std::path::Path) -> Vec<(String, f64, f64, f64)> {
    let mut r = csv::Reader::from_path(dir.join("runs.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |n: &str| {
        h.iter()
            .position(|x| x == n)
            .unwrap_or_else(|| panic!("no {n}"))
    };
    let (id, g, c, e) = (
        col("run_id"),
        col("carbon_intensity_g_per_kwh"),
        col("train_carbon_g"),
        col("train_energy_wh"),
    );
    r.records()
        .map(|x| x.unwrap())
        .map(|x| {
            (
                x[id].to_string(),
                x[g].parse().unwrap(),
                x[c].parse().unwrap(),
                x[e].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn country_uses_the_yearly_average_and_names_the_source() {
    let dir = tempfile::tempdir().unwrap();
    let records = sweep(&Shape::default());
    write_sweep(
        dir.path(),
        &records,
        Some("name = \"c\"\ncarbon = { country = \"FR\", pue = 1.1 }\n"),
    );
    let s = write_report(dir.path(), &text_only()).unwrap();
    for (_, g, c, wh) in csv_rows(dir.path()) {
        assert_eq!(g, 56.0);
        assert!(
            (c - wh / 1000.0 * 56.0 * 1.1).abs() <= 1e-9 * c.abs().max(1.0),
            "{c} vs {wh} Wh"
        );
    }
    let md = std::fs::read_to_string(&s.report).unwrap();
    assert!(
        md.contains("FR (France) yearly average") && md.contains("Ember"),
        "{md}"
    );
    let summary = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
    assert!(summary.contains("Ember"));
    let tex = std::fs::read_to_string(dir.path().join("tables/models.tex")).unwrap();
    assert!(tex.contains("Ember"), "{tex}");
    let em = std::fs::read_to_string(dir.path().join("emissions.csv")).unwrap();
    assert!(em.lines().nth(1).unwrap().contains(",France,FR,"), "{em}");
    // An unknown country is an error naming the key.
    write_sweep(
        dir.path(),
        &records,
        Some("name = \"c\"\ncarbon = { country = \"ZZ\" }\n"),
    );
    let e = write_report(dir.path(), &text_only())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("country `ZZ`") && e.contains("manifest.json"),
        "{e}"
    );
}

#[test]
fn hourly_series_gives_each_run_its_own_windows_mean() {
    let dir = tempfile::tempdir().unwrap();
    let mut records = sweep(&Shape::default());
    // Half the runs 00:00–00:10, half 01:30–02:30 (30 min at 300, 30 min at 200).
    for (i, r) in records.iter_mut().enumerate() {
        if i % 2 == 1 {
            r.started_at = "2026-01-01T01:30:00Z".into();
            r.finished_at = "2026-01-01T02:30:00Z".into();
        }
    }
    std::fs::write(
        dir.path().join("grid.csv"),
        "timestamp,g_per_kwh\n2026-01-01T00:00:00Z,100\n2026-01-01T01:00:00Z,300\n2026-01-01T02:00:00Z,200\n",
    )
    .unwrap();
    let cfg = "name = \"h\"\ncarbon = { intensity_csv = \"grid.csv\" }\n";
    write_sweep(dir.path(), &records, Some(cfg));
    let s = write_report(dir.path(), &text_only()).unwrap();
    let rows = csv_rows(dir.path());
    assert_eq!(rows.len(), records.len());
    for (i, (id, g, c, wh)) in rows.iter().enumerate() {
        let want = if i % 2 == 1 { 250.0 } else { 100.0 };
        assert_eq!(*g, want, "run {id}");
        assert!((c - wh / 1000.0 * want).abs() <= 1e-9 * c.abs().max(1.0));
    }
    let md = std::fs::read_to_string(&s.report).unwrap();
    assert!(
        md.contains("grid.csv") && md.contains("own start–end window"),
        "{md}"
    );

    // A series that stops before a run ends names the run and the file.
    std::fs::write(
        dir.path().join("grid.csv"),
        "2026-01-01T00:00:00Z,100\n2026-01-01T01:00:00Z,300\n",
    )
    .unwrap();
    let e = write_report(dir.path(), &text_only())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(&records[1].run_id) && e.contains("grid.csv") && e.contains("not inside"),
        "{e}"
    );
    // A negative value names file and line.
    std::fs::write(
        dir.path().join("grid.csv"),
        "2026-01-01T00:00:00Z,100\n2026-01-01T01:00:00Z,-1\n",
    )
    .unwrap();
    let e = write_report(dir.path(), &text_only())
        .unwrap_err()
        .to_string();
    assert!(e.contains("grid.csv:2:") && e.contains("negative"), "{e}");
    // A missing file says where it looked.
    std::fs::remove_file(dir.path().join("grid.csv")).unwrap();
    let e = write_report(dir.path(), &text_only())
        .unwrap_err()
        .to_string();
    assert!(e.contains("not found") && e.contains("grid.csv"), "{e}");
}

#[test]
fn default_carbon_names_the_world_average() {
    let dir = tempfile::tempdir().unwrap();
    write_sweep(
        dir.path(),
        &sweep(&Shape::default()),
        Some("name = \"d\"\n"),
    );
    let s = write_report(dir.path(), &text_only()).unwrap();
    let md = std::fs::read_to_string(&s.report).unwrap();
    assert!(
        md.contains("475 g/kWh") && md.contains("IEA 2019 world average"),
        "{md}"
    );
    assert!(csv_rows(dir.path()).iter().all(|r| r.1 == 475.0));
}

#[test]
fn the_report_refuses_carbon_settings_with_the_config_checks_own_words() {
    // The report resolves `[carbon]` through the same resolver as config validation, so a
    // hand-edited manifest gets the same message a config file would.
    let dir = tempfile::tempdir().unwrap();
    let records = sweep(&Shape::default());
    for (carbon, want) in [
        (
            r#"{ country = "FR", intensity_csv = "grid.csv" }"#,
            "give either carbon.country or carbon.intensity_csv, not both",
        ),
        (
            r#"{ country = "FR", intensity_g_per_kwh = 56.0 }"#,
            "carbon.intensity_g_per_kwh = 56 conflicts with carbon.country / carbon.intensity_csv; remove one",
        ),
    ] {
        write_sweep(
            dir.path(),
            &records,
            Some(&format!("name = \"c\"\ncarbon = {carbon}\n")),
        );
        let e = write_report(dir.path(), &text_only())
            .unwrap_err()
            .to_string();
        assert!(e.contains("manifest.json") && e.contains(want), "{e}");
    }
}
