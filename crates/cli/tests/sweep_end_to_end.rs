//! A real sweep through the binary: MLPs train on the committed digits dataset, are metered
//! (estimated CPU energy here) and recorded.

mod common;

use common::*;
use greenbench_core::Quality;
use greenbench_core::RunStatus;

#[test]
fn digits_sweep_records_params_time_energy_accuracy() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        "e2e",
        &digits_config(
            "e2e",
            &["mlp-small", "mlp-64x32"],
            &[32, 128],
            3,
            "replicate_test = 2",
        ),
    );
    let out = dir.path().join("out");
    let o = run(greenbench().arg("sweep").arg(&cfg).arg("--out").arg(&out));
    assert!(o.status.success());
    let recs = records(&out);
    assert_eq!(recs.len(), 4);
    for r in &recs {
        assert_eq!(r.status, RunStatus::Ok, "{:?}", r.error);
        assert_eq!(r.family, Some(greenbench_core::Family::Mlp));
        let m = r.model.as_ref().unwrap();
        assert!(m.params > 0 && m.macs_per_sample > 0);
        let t = r.train.as_ref().unwrap();
        assert_eq!(t.epochs.len(), 3);
        assert!(t.duration_s > 0.0);
        // This machine has no RAPL: CPU energy must be present and labelled estimated.
        let e = &t.energy;
        assert!(e.cpu_j.unwrap() > 0.0, "{e:?}");
        assert_eq!(
            e.qualities.get(&greenbench_core::Component::Cpu),
            Some(&Quality::Estimated)
        );
        assert!(
            r.meters.get("cpu").unwrap().contains("estimate"),
            "{:?}",
            r.meters
        );
        let i = r.inference.as_ref().unwrap();
        assert_eq!(i.samples, Some(359 * 2), "test set replicated twice");
        assert!(i.accuracy > 0.75, "digits MLP accuracy {}", i.accuracy);
        assert!(i.energy.total_j.is_some());
        assert!(r.carbon_g.train.unwrap() > 0.0);
        // The default validation split holds 10 % of the 1 438 training digits out of training;
        // per-epoch accuracy is measured on it, test accuracy once on the 359 test digits.
        assert_eq!(r.train_samples, 1438 - 144);
        let t = r.train.as_ref().unwrap();
        assert_eq!(t.validation_samples, Some(144));
        assert!(t.epochs.iter().all(|e| e.val_acc.is_some()));
        assert!(out
            .join("traces")
            .join(format!("{}.csv", r.run_id))
            .exists());
    }
    let best = recs
        .iter()
        .map(|r| r.inference.as_ref().unwrap().accuracy)
        .fold(0.0, f64::max);
    assert!(best > 0.9, "best digits accuracy {best}");
    // Every record says which vector width the CPU kernels ran at (the workers inherit this
    // process's environment, so they see the same width).
    let kernels = greenbench_models::simd_width();
    assert!(recs.iter().all(|r| r.host.cpu_kernels == kernels));
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["sweep"], "e2e");
    assert!(manifest["config"].as_str().unwrap().contains("mlp-64x32"));
    assert!(manifest["meters"].as_array().is_some_and(|a| !a.is_empty()));
    assert_eq!(manifest["host"]["cpu_kernels"], kernels, "{manifest}");
    assert!(
        manifest["environment"]["CANDLE_BARRIER_POOL_SPIN_LIMIT"].is_string(),
        "{manifest}"
    );
    assert!(
        manifest["environment"]["GREENBENCH_POOL_SPIN_US"]
            .as_str()
            .is_some_and(|v| v.starts_with("unset") || v.parse::<u64>().is_ok()),
        "{manifest}"
    );
    assert!(
        manifest["environment"]["GREENBENCH_SCHED_SLICE_US"]
            .as_str()
            .is_some_and(|v| v.starts_with("unset (100") || v.parse::<u64>().is_ok()),
        "{manifest}"
    );
    // Workers keep freed memory (mimalloc), unless the caller chose otherwise.
    let purge = std::env::var("MIMALLOC_PURGE_DELAY").unwrap_or_else(|_| "-1".into());
    assert_eq!(
        manifest["environment"]["MIMALLOC_PURGE_DELAY"], purge,
        "{manifest}"
    );
    // How the workers' large blocks are placed, as the binary's allocator reports it.
    let blocks = manifest["environment"]["GREENBENCH_LARGE_BLOCKS"]
        .as_str()
        .unwrap_or_default();
    assert!(
        blocks.starts_with("unset: best-fit(≥1MiB, ")
            || std::env::var_os("GREENBENCH_LARGE_BLOCKS").is_some(),
        "{manifest}"
    );

    // The same command again finds the sweep complete: it says so, runs nothing, exits 0; so
    // does --resume.
    for resume in [false, true] {
        let mut c = greenbench();
        c.arg("sweep").arg(&cfg).arg("--out").arg(&out);
        if resume {
            c.arg("--resume");
        }
        let o = run(&mut c);
        assert!(o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("already holds 4 of the 4 runs") && err.contains("(4 ok); nothing to do"),
            "{err}"
        );
        assert_eq!(records(&out).len(), 4);
    }

    // Another config into the same folder is refused even with --resume.
    let other = write_config(
        dir.path(),
        "other",
        &digits_config("e2e", &["mlp-small"], &[16], 1, ""),
    );
    let o = run(greenbench()
        .arg("sweep")
        .arg(&other)
        .arg("--out")
        .arg(&out)
        .arg("--resume"));
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("another configuration"));
}

#[test]
fn dry_run_json_lists_runs_without_running() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        "dry",
        &digits_config("dry", &["mlp-small"], &[16, 32, 64], 1, "repeats = 2"),
    );
    let o = run(greenbench()
        .arg("sweep")
        .arg(&cfg)
        .arg("--dry-run")
        .arg("--json")
        .current_dir(dir.path()));
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let arr = v.as_array().unwrap();
    assert_eq!(arr.len(), 6);
    for r in arr {
        assert_eq!(r["run_id"].as_str().unwrap().len(), 12);
        assert_eq!(r["model"], "mlp-small");
        assert!(r["batch_size"].as_u64().is_some());
        assert!(r["lr"].as_f64().is_some());
    }
    assert!(
        !dir.path().join("results").exists(),
        "a dry run writes nothing"
    );
}

#[test]
fn config_error_names_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        "bad",
        &digits_config("bad", &["mlp-small"], &[0], 1, ""),
    );
    let o = run(greenbench().arg("sweep").arg(&cfg));
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(
            "bad.toml:10:14: field `grid.batch_size`: batch size must be at least 1, found 0"
        ),
        "{err}"
    );
    let cfg = write_config(
        dir.path(),
        "bad2",
        &digits_config("bad2", &["resnet1000"], &[8], 1, ""),
    );
    let o = run(greenbench().arg("sweep").arg(&cfg));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("unknown model `resnet1000`") && err.contains("resnet18"),
        "{err}"
    );
    let cfg = write_config(
        dir.path(),
        "bad3",
        &digits_config("bad3", &["lenet"], &[8], 1, ""),
    );
    let o = run(greenbench().arg("sweep").arg(&cfg));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("model `lenet` cannot train on dataset `digits`"),
        "{err}"
    );
}

#[test]
fn missing_dataset_says_which_file_and_the_fetch_command() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        "nodata",
        &digits_config("nodata", &["mlp-small"], &[8], 1, "")
            .replace("\"digits\"", "\"mnist-10k\""),
    );
    let o = run(greenbench()
        .arg("sweep")
        .arg(&cfg)
        .env("GREENBENCH_DATASETS", dir.path()));
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("scripts/fetch-datasets.sh mnist-10k"), "{err}");
    assert!(err.contains("nodata.toml:2:11: field `dataset`"), "{err}");
}
