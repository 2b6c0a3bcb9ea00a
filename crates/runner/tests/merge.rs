//! `merge`: shard folders written here (manifests and records, no training) are combined.

use std::path::{Path, PathBuf};

use greenbench_core::{read_records, HostInfo, RunRecord, RunStatus, SCHEMA_VERSION};
use greenbench_core::{ComponentPower, SweepConfig};
use greenbench_runner::RecordsWriter;
use greenbench_runner::{merge, MergeError, MergedManifest};
use greenbench_runner::{Manifest, Shard};

/// 2 models × 4 batch sizes = 8 runs.
fn config_text(name: &str, lr: f64) -> String {
    format!(
        "name = \"{name}\"\ndataset = \"digits\"\nthreads = 1\nepochs = 1\nidle_seconds = 0\n\
         carbon = {{ intensity_g_per_kwh = 56.0, pue = 1.2 }}\n\
         [grid]\nmodel = [\"mlp-small\", \"mlp-64x32\"]\nbatch_size = [8, 16, 32, 64]\nlr = {lr}\n"
    )
}

fn host(name: &str) -> HostInfo {
    HostInfo {
        cpu_model: "Test CPU".into(),
        cores: 2,
        hostname: name.into(),
        ..Default::default()
    }
}

/// Writes a shard folder holding records for the given positions of the expanded order.
fn shard_folder(
    root: &Path,
    folder: &str,
    cfg_text: &str,
    shard: Option<Shard>,
    positions: &[usize],
    hostname: &str,
) -> PathBuf {
    let dir = root.join(folder);
    std::fs::create_dir_all(dir.join("traces")).unwrap();
    std::fs::create_dir_all(dir.join("logs")).unwrap();
    let cfg = SweepConfig::parse(cfg_text, Path::new("configs/t.toml")).unwrap();
    let specs = cfg.expand();
    let idle = ComponentPower {
        cpu_w: Some(hostname.len() as f64),
        total_w: Some(hostname.len() as f64),
        ..Default::default()
    };
    let manifest = Manifest {
        greenbench_version: "test".into(),
        sweep: cfg.name.clone(),
        config_path: "configs/t.toml".into(),
        config: cfg_text.into(),
        fingerprint: cfg.fingerprint(),
        total_runs: specs.len(),
        shard,
        host: host(hostname),
        meters: serde_json::json!([{ "source": "estimate", "host": hostname }]),
        idle_power_w: idle.clone(),
        idle_seconds: 0.0,
        idle_interference: None,
        idle_flags: Vec::new(),
        idle_power_end_w: None,
        meter_settings: None,
        environment: Default::default(),
        created_at: "2025-01-01T00:00:00Z".into(),
        updated_at: "2025-01-01T00:00:00Z".into(),
    };
    greenbench_runner::write_manifest(&manifest, &dir.join("manifest.json")).unwrap();
    let mut w = RecordsWriter::open(&dir.join("runs.jsonl")).unwrap();
    for &p in positions {
        let spec = specs[p].clone();
        let id = spec.run_id();
        w.append(&RunRecord {
            schema_version: SCHEMA_VERSION,
            sweep: cfg.name.clone(),
            run_id: id.clone(),
            status: RunStatus::Ok,
            error: None,
            started_at: "2025-01-01T00:00:00Z".into(),
            finished_at: "2025-01-01T00:01:00Z".into(),
            spec,
            family: Some(greenbench_core::Family::Mlp),
            host: host(hostname),
            model: None,
            train: None,
            inference: None,
            idle_power_w: idle.clone(),
            carbon_g: Default::default(),
            meters: Default::default(),
            train_samples: 0,
            interference: None,
            flags: Vec::new(),
            attempts: Vec::new(),
            command: None,
        })
        .unwrap();
        std::fs::write(dir.join("traces").join(format!("{id}.csv")), hostname).unwrap();
        std::fs::write(dir.join("logs").join(format!("{id}.stderr")), hostname).unwrap();
    }
    dir
}

fn owned(n: usize, i: usize, total: usize) -> Vec<usize> {
    (0..total).filter(|p| p % n == i).collect()
}

fn expanded_ids(cfg_text: &str) -> Vec<String> {
    SweepConfig::parse(cfg_text, Path::new("t.toml"))
        .unwrap()
        .expand()
        .iter()
        .map(|s| s.run_id())
        .collect()
}

#[test]
fn same_config_shards_merge_into_one_complete_sweep() {
    let tmp = tempfile::tempdir().unwrap();
    let text = config_text("m", 0.05);
    let dirs: Vec<PathBuf> = (0..3)
        .map(|i| {
            shard_folder(
                tmp.path(),
                &format!("shard-{i}-of-3"),
                &text,
                Some(Shard { index: i, count: 3 }),
                &owned(3, i, 8),
                &format!("node{i}"),
            )
        })
        .collect();
    let out = tmp.path().join("merged");
    let r = merge(&out, &dirs, false).unwrap();
    assert!(r.is_complete(), "{:?}", r.missing);
    assert_eq!(
        (r.total_runs, r.runs_present, r.duplicates_dropped),
        (8, 8, 0)
    );
    assert!(r.absent_shards.is_empty());
    assert_eq!(r.files_copied, 16);

    // Records in the sweep's expanded order, equal to the config's run ids.
    let recs = read_records(&out.join("runs.jsonl")).unwrap();
    let ids: Vec<String> = recs.iter().map(|r| r.run_id.clone()).collect();
    assert_eq!(ids, expanded_ids(&text));
    for r in &recs {
        let trace = std::fs::read_to_string(out.join("traces").join(format!("{}.csv", r.run_id)));
        assert_eq!(
            trace.unwrap(),
            r.host.hostname,
            "trace from the shard that ran it"
        );
        assert!(out
            .join("logs")
            .join(format!("{}.stderr", r.run_id))
            .exists());
    }

    // The merged manifest is still a sweep manifest (config kept for carbon) plus each shard.
    let m = Manifest::read(&out.join("manifest.json")).unwrap().unwrap();
    assert_eq!(m.config, text);
    assert_eq!(m.shard, None);
    assert_eq!(m.total_runs, 8);
    let mm: MergedManifest =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(mm.shards.len(), 3);
    assert_eq!(mm.hosts.len(), 3);
    for (i, s) in mm.shards.iter().enumerate() {
        assert_eq!(s.shard, Some(Shard { index: i, count: 3 }));
        assert_eq!(s.host.hostname, format!("node{i}"));
        assert_eq!(s.idle_power_w.cpu_w, Some(5.0));
        assert_eq!(s.meters[0]["host"], format!("node{i}"));
        assert_eq!(s.runs_kept, owned(3, i, 8).len());
    }
    assert!(mm.merged.missing.is_empty());

    // Merging again into the same (merged) folder is refused: it would replace its records.
    let e = merge(&out, &dirs[..1], false).unwrap_err().to_string();
    assert!(e.contains("already holds results (8 records)"), "{e}");
    assert!(e.contains("--force"), "{e}");
    assert_eq!(read_records(&out.join("runs.jsonl")).unwrap().len(), 8);
    // With --force it replaces them.
    let again = merge(&out, &dirs, true).unwrap();
    assert_eq!(again.runs_present, 8);
    assert_eq!(read_records(&out.join("runs.jsonl")).unwrap().len(), 8);
}

#[test]
fn duplicates_keep_the_first_record_and_are_counted() {
    let tmp = tempfile::tempdir().unwrap();
    let text = config_text("d", 0.05);
    let a = shard_folder(
        tmp.path(),
        "a",
        &text,
        Some(Shard { index: 0, count: 2 }),
        &owned(2, 0, 8),
        "first",
    );
    // A rerun of the same shard elsewhere, plus shard 1; run 0 recorded twice in b.
    let b = shard_folder(
        tmp.path(),
        "b",
        &text,
        Some(Shard { index: 0, count: 2 }),
        &[0, 2, 0],
        "second",
    );
    let c = shard_folder(
        tmp.path(),
        "c",
        &text,
        Some(Shard { index: 1, count: 2 }),
        &owned(2, 1, 8),
        "third",
    );
    let out = tmp.path().join("out");
    let r = merge(&out, &[a, b, c], false).unwrap();
    assert_eq!(r.duplicates_dropped, 3);
    assert_eq!(r.runs_present, 8);
    assert!(r.is_complete());
    assert_eq!(r.shards[1].duplicates_dropped, 3);
    assert_eq!(r.shards[1].runs_kept, 0);
    let recs = read_records(&out.join("runs.jsonl")).unwrap();
    assert_eq!(recs.len(), 8);
    for r in recs.iter().step_by(2) {
        assert_eq!(
            r.host.hostname, "first",
            "the first folder's record is kept"
        );
        let trace = std::fs::read_to_string(out.join("traces").join(format!("{}.csv", r.run_id)));
        assert_eq!(trace.unwrap(), "first");
    }
    // Two folders on different hosts ran shard 0/2: both listed with their own baseline.
    let mm: MergedManifest =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(mm.merged.duplicates_dropped, 3);
    let idle: Vec<Option<f64>> = mm.shards.iter().map(|s| s.idle_power_w.cpu_w).collect();
    assert_eq!(idle, vec![Some(5.0), Some(6.0), Some(5.0)]);
}

#[test]
fn mixed_configs_are_refused_naming_the_differing_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let s0 = Some(Shard { index: 0, count: 2 });
    let s1 = Some(Shard { index: 1, count: 2 });
    let a = shard_folder(tmp.path(), "a", &config_text("x", 0.05), s0, &[0], "h");
    let other_lr = shard_folder(
        tmp.path(),
        "other-lr",
        &config_text("x", 0.1),
        s1,
        &[1],
        "h",
    );
    let other_name = shard_folder(
        tmp.path(),
        "other-name",
        &config_text("y", 0.05),
        s1,
        &[1],
        "h",
    );
    let fewer = config_text("x", 0.05).replace("[8, 16, 32, 64]", "[8, 16]");
    let other_count = shard_folder(tmp.path(), "other-count", &fewer, s1, &[1], "h");
    let out = tmp.path().join("out");

    let check = |dir: &PathBuf, expect: &str| {
        let e = merge(&out, &[a.clone(), dir.clone()], false).unwrap_err();
        assert!(matches!(e, MergeError::MixedConfigs { .. }), "{e:?}");
        let msg = e.to_string();
        assert!(msg.contains(&dir.display().to_string()), "{msg}");
        assert!(msg.contains(expect), "{msg}");
        assert!(!out.join("runs.jsonl").exists(), "nothing written");
    };
    check(&other_lr, "the runs themselves differ from run #0");
    check(&other_name, "sweep name `y` instead of `x`");
    check(&other_count, "4 runs instead of 8");
}

#[test]
fn missing_runs_are_reported_with_their_owning_shard() {
    let tmp = tempfile::tempdir().unwrap();
    let text = config_text("p", 0.05);
    // Shard 0/3 finished only its first two runs (0, 3; not 6); shard 1/3 never ran.
    let s0 = shard_folder(
        tmp.path(),
        "s0",
        &text,
        Some(Shard { index: 0, count: 3 }),
        &[0, 3],
        "a",
    );
    let s2 = shard_folder(
        tmp.path(),
        "s2",
        &text,
        Some(Shard { index: 2, count: 3 }),
        &owned(3, 2, 8),
        "b",
    );
    let out = tmp.path().join("out");
    let r = merge(&out, &[s0, s2], false).unwrap();
    assert!(!r.is_complete());
    assert_eq!(r.runs_present, 4);
    let ids = expanded_ids(&text);
    let missing: Vec<(usize, String, Vec<Shard>)> = r
        .missing
        .iter()
        .map(|m| (m.position, m.run_id.clone(), m.owners.clone()))
        .collect();
    let want: Vec<(usize, String, Vec<Shard>)> = [1, 4, 6, 7]
        .iter()
        .map(|&p| {
            (
                p,
                ids[p].clone(),
                vec![Shard {
                    index: p % 3,
                    count: 3,
                }],
            )
        })
        .collect();
    assert_eq!(missing, want);
    assert_eq!(r.absent_shards, vec![Shard { index: 1, count: 3 }]);
    let mm: MergedManifest =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(mm.merged.missing.len(), 4);
}

#[test]
fn output_folder_is_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let text = config_text("o", 0.05);
    let s = Some(Shard { index: 0, count: 1 });
    let a = shard_folder(tmp.path(), "a", &text, s, &[0, 1], "h");

    // OUT may not be an input.
    let e = merge(&a, std::slice::from_ref(&a), false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("also an input"), "{e}");

    // OUT holding another sweep is refused.
    let other = shard_folder(
        tmp.path(),
        "other",
        &config_text("z", 0.05),
        None,
        &[0],
        "h",
    );
    let e = merge(&other, std::slice::from_ref(&a), false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("holds another sweep (`z`"), "{e}");

    // OUT holding records of this sweep run there directly is refused (they would be lost).
    let direct = shard_folder(tmp.path(), "direct", &text, None, &[3], "h");
    let e = merge(&direct, std::slice::from_ref(&a), false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("run there directly"), "{e}");

    // An input without a manifest is not a sweep folder.
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let e = merge(&tmp.path().join("out"), &[empty], false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("no manifest.json"), "{e}");

    // A corrupt record names file and line.
    std::fs::write(a.join("runs.jsonl"), "{\"schema_version\": 1}\n").unwrap();
    let e = merge(&tmp.path().join("out2"), std::slice::from_ref(&a), false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("runs.jsonl:1"), "{e}");
}

#[test]
fn an_ok_record_wins_over_a_failed_one_of_the_same_run() {
    let tmp = tempfile::tempdir().unwrap();
    let text = config_text("okwins", 0.05);
    let one = Some(Shard { index: 0, count: 1 });
    let a = shard_folder(tmp.path(), "a", &text, one, &[0, 1], "first");
    let b = shard_folder(tmp.path(), "b", &text, one, &[0, 1], "second");
    // Run 0 crashed in the first folder and was rerun ok in the second.
    let runs = a.join("runs.jsonl");
    let crashed = std::fs::read_to_string(&runs).unwrap().replacen(
        "\"status\":\"ok\"",
        "\"status\":\"crashed\"",
        1,
    );
    std::fs::write(&runs, crashed).unwrap();
    let out = tmp.path().join("out");
    let r = merge(&out, &[a, b], false).unwrap();
    assert_eq!(r.runs_present, 2);
    assert_eq!(r.duplicates_dropped, 2);
    let recs = read_records(&out.join("runs.jsonl")).unwrap();
    assert!(recs.iter().all(|r| r.status == RunStatus::Ok), "{recs:?}");
    assert_eq!(recs[0].host.hostname, "second");
    assert_eq!(recs[1].host.hostname, "first");
}

#[test]
fn per_shard_counts_add_up_when_an_ok_record_supersedes_a_failed_one() {
    let tmp = tempfile::tempdir().unwrap();
    let text = config_text("counts", 0.05);
    let one = Some(Shard { index: 0, count: 1 });
    let a = shard_folder(tmp.path(), "a", &text, one, &[0, 1], "first");
    let b = shard_folder(tmp.path(), "b", &text, one, &[0, 1], "second");
    let runs = a.join("runs.jsonl");
    let crashed = std::fs::read_to_string(&runs).unwrap().replacen(
        "\"status\":\"ok\"",
        "\"status\":\"crashed\"",
        1,
    );
    std::fs::write(&runs, crashed).unwrap();
    let r = merge(&tmp.path().join("out"), &[a, b], false).unwrap();
    // a gave 2: run 1 kept, run 0 (crashed) superseded by b's ok record; b gave 2: run 0 kept,
    // run 1 dropped as a duplicate of a's.
    let counts: Vec<(usize, usize, usize, usize)> = r
        .shards
        .iter()
        .map(|s| (s.records, s.runs_kept, s.duplicates_dropped, s.superseded))
        .collect();
    assert_eq!(counts, vec![(2, 1, 0, 1), (2, 1, 1, 0)]);
    let kept: usize = r.shards.iter().map(|s| s.runs_kept).sum();
    let dropped: usize = r
        .shards
        .iter()
        .map(|s| s.duplicates_dropped + s.superseded)
        .sum();
    assert_eq!((kept, dropped), (r.runs_present, r.duplicates_dropped));
    let mm: MergedManifest = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("out/manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(mm.shards, r.shards);
}

#[test]
fn a_folder_without_a_manifest_is_merged_only_as_a_shard_of_this_sweep_with_no_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let text = config_text("ten", 0.05); // 8 runs over 10 shards: 8/10 and 9/10 own none
    let root = tmp.path().join("ten");
    let mut dirs: Vec<PathBuf> = (0..8)
        .map(|i| {
            let shard = Shard {
                index: i,
                count: 10,
            };
            shard_folder(
                &root,
                &shard.folder_name(),
                &text,
                Some(shard),
                &owned(10, i, 8),
                "h",
            )
        })
        .collect();
    let bare = |dir: &Path| {
        std::fs::create_dir_all(dir.join("logs")).unwrap();
        std::fs::create_dir_all(dir.join("traces")).unwrap();
        std::fs::write(dir.join(".greenbench.lock"), "").unwrap();
        dir.to_path_buf()
    };
    dirs.push(bare(&root.join("shard-8-of-10")));
    dirs.push(bare(&root.join("shard-9-of-10")));
    let out = tmp.path().join("out");
    let r = merge(&out, &dirs, false).unwrap();
    assert!(r.is_complete());
    assert!(r.absent_shards.is_empty(), "{:?}", r.absent_shards);
    let empty: Vec<(PathBuf, Shard)> = r
        .empty_shards
        .iter()
        .map(|e| (e.folder.clone(), e.shard))
        .collect();
    assert_eq!(
        empty,
        vec![
            (
                dirs[8].clone(),
                Shard {
                    index: 8,
                    count: 10
                }
            ),
            (
                dirs[9].clone(),
                Shard {
                    index: 9,
                    count: 10
                }
            )
        ]
    );
    let mm: MergedManifest =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(mm.merged.empty_shards.len(), 2);
    // Left out, shards that own no run are not reported as shards no folder was given for.
    let r = merge(&tmp.path().join("out-8"), &dirs[..8], false).unwrap();
    assert!(r.is_complete());
    assert!(r.absent_shards.is_empty(), "{:?}", r.absent_shards);

    let refused = |extra: PathBuf, expect: &str| {
        let mut inputs = dirs[..8].to_vec();
        inputs.push(extra.clone());
        let o = tmp.path().join("refused");
        let e = merge(&o, &inputs, false).unwrap_err().to_string();
        assert!(e.contains(&extra.display().to_string()), "{e}");
        assert!(e.contains(expect), "{e}");
        assert!(!o.join("runs.jsonl").exists(), "nothing written");
    };
    // Not named as a shard at all.
    refused(bare(&tmp.path().join("junk")), "no manifest.json");
    // A shard of this count, but not beside the sweep's other shards.
    refused(
        bare(&tmp.path().join("elsewhere/shard-9-of-10")),
        "not beside",
    );
    // A shard count none of the sweep's shard folders has.
    refused(bare(&root.join("shard-9-of-12")), "not beside");
    // Holds records, so it ran something: it needs its manifest.
    std::fs::copy(
        root.join("shard-0-of-10/runs.jsonl"),
        dirs[9].join("runs.jsonl"),
    )
    .unwrap();
    refused(dirs[9].clone(), "holds records");

    // A shard that owns runs but has no manifest (it never started) is not one with no runs.
    let two = tmp.path().join("two");
    let s0 = shard_folder(
        &two,
        "shard-0-of-2",
        &text,
        Some(Shard { index: 0, count: 2 }),
        &owned(2, 0, 8),
        "h",
    );
    let s1 = bare(&two.join("shard-1-of-2"));
    let e = merge(&tmp.path().join("out2"), &[s0, s1.clone()], false)
        .unwrap_err()
        .to_string();
    assert!(e.contains(&s1.display().to_string()), "{e}");
    assert!(e.contains("owns runs"), "{e}");
}
