//! `sweep_status` on folders: a halving search's best configuration counts the energy of every
//! rung it went through; a sweep still measuring its idle baseline (no manifest yet) is shown,
//! not refused.

mod common;

use std::path::Path;

use chrono::Utc;
use greenbench_core::AcceptAll;
use greenbench_runner::sweep_status;
use greenbench_runner::IdleMarker;

/// A finished halving search (analysis's test data: 17 runs, rungs of 1, 3 and 9 epochs).
fn search_folder() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../analysis/tests/data/search-digits"
    ))
}

#[test]
fn the_best_configuration_of_a_halving_search_counts_every_rung_it_went_through() {
    let st = sweep_status(search_folder(), Utc::now(), &AcceptAll).unwrap();
    let best = st.best.expect("a best run");
    // 9 epochs, continued from 3 epochs (e8413158366b), continued from 1 (de601870f515).
    assert_eq!(best.run_id, "13c22b86901b");
    let rungs = 0.04554665233509812 + 0.01519201246283825 + 0.00962803608737178;
    let j = best.train_energy_j.expect("an energy");
    assert!(
        (j - rungs).abs() < 1e-12,
        "{j} J, want {rungs} J over three rungs"
    );
}

#[test]
fn a_sweep_measuring_its_idle_baseline_is_shown_with_its_runs_before_its_manifest_exists() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let config = "name = \"quick\"\ndataset = \"digits\"\nidle_seconds = 20\n[grid]\nmodel = \"mlp-small\"\nbatch_size = [8, 16]\n";
    // No lock holder: no status, and the error says what to give.
    std::fs::create_dir_all(&out).unwrap();
    let e = sweep_status(&out, Utc::now(), &AcceptAll)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("has no manifest.json: not a sweep folder"),
        "{e}"
    );

    let lock = common::lock(&out);
    let e = sweep_status(&out, Utc::now(), &AcceptAll)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("holds it and is starting") && e.contains("greenbench sweep (pid"),
        "held, before the baseline begins: {e}"
    );
    let marker = IdleMarker::now(&out, "quick", 20.0, Path::new("quick.toml"), config, None);
    let shown = marker.show(&out).unwrap();
    let st = sweep_status(&out, Utc::now(), &AcceptAll).unwrap();
    assert_eq!(st.sweep, "quick");
    assert_eq!((st.runs_total, st.remaining), (2, 2));
    assert!(st
        .held_by
        .as_deref()
        .is_some_and(|h| h.contains(&format!("pid {}", std::process::id()))));
    let idle = st.idle_measurement.expect("measuring");
    assert!(idle.baseline);
    assert_eq!(idle.seconds, 20.0);
    drop(shown);
    drop(lock);
    // A marker left behind by a sweep that no longer holds the folder is not believed.
    marker.show(&out).map(std::mem::forget).unwrap();
    let e = sweep_status(&out, Utc::now(), &AcceptAll)
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a sweep folder"), "{e}");
}
