//! Scale-out through the real binary: three shards of a digits sweep run separately, `merge`
//! combines them into the dry run's set of runs; `slurm` prints the job-array script.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::*;

fn dry_run_ids(cfg: &Path) -> BTreeSet<String> {
    dry_run_rows(cfg)
        .iter()
        .map(|r| r["run_id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn three_shards_merge_into_the_dry_run_set() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        "sharded",
        &digits_config("sharded", &["mlp-small", "mlp-64x32"], &[64, 128], 1, ""),
    );
    let out = dir.path().join("out");
    for i in 0..3 {
        let o = run(greenbench()
            .arg("sweep")
            .arg(&cfg)
            .arg("--shard")
            .arg(format!("{i}/3"))
            .arg("--out")
            .arg(&out)
            .arg("--quiet"));
        assert!(o.status.success(), "shard {i}/3");
    }
    let shard = |i: usize| out.join(format!("shard-{i}-of-3"));
    let want = dry_run_ids(&cfg);
    assert_eq!(want.len(), 4);

    // A partial merge (shard 1 left out) succeeds, names the missing runs and their shard…
    let o = run(greenbench()
        .arg("merge")
        .arg(&out)
        .arg(shard(0))
        .arg(shard(2)));
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("MISSING 1 of 4 runs"), "{text}");
    assert!(text.contains("owned by shard 1/3"), "{text}");
    assert!(
        text.contains(&format!("--shard 1/3 --out {} --resume", out.display())),
        "{text}"
    );
    assert!(text.contains("no folder given for shard 1/3"), "{text}");
    // …and fails with --require-complete.
    let o = run(greenbench()
        .arg("merge")
        .arg(&out)
        .arg(shard(0))
        .arg(shard(2))
        .arg("--force")
        .arg("--require-complete"));
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--require-complete"));

    // All three (shard 0 twice: its records are dropped as duplicates).
    let o = run(greenbench()
        .arg("merge")
        .arg(&out)
        .arg(shard(0))
        .arg(shard(1))
        .arg(shard(2))
        .arg(shard(0))
        .arg("--force")
        .arg("--require-complete"));
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("complete"), "{text}");
    assert!(text.contains("dropped 2 duplicate"), "{text}");
    let got: BTreeSet<String> = records(&out).into_iter().map(|r| r.run_id).collect();
    assert_eq!(got, want);
    for id in &got {
        assert!(out.join("traces").join(format!("{id}.csv")).exists());
    }
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["shards"].as_array().unwrap().len(), 4);
    assert!(m["config"].as_str().unwrap().contains("mlp-64x32"));

    // The merged folder is a normal sweep folder: report reads it.
    let o = run(greenbench().arg("report").arg(&out));
    assert!(o.status.success());

    // A shard of another config is refused, naming it.
    let other = write_config(
        dir.path(),
        "other",
        &digits_config("sharded", &["mlp-small"], &[64], 1, ""),
    );
    let other_out = dir.path().join("other-out");
    let o = run(greenbench()
        .arg("sweep")
        .arg(&other)
        .arg("--shard")
        .arg("0/1")
        .arg("--out")
        .arg(&other_out)
        .arg("--quiet"));
    assert!(o.status.success());
    let o = run(greenbench()
        .arg("merge")
        .arg(dir.path().join("mixed"))
        .arg(shard(0))
        .arg(other_out.join("shard-0-of-1")));
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("shard-0-of-1") && err.contains("another config"),
        "{err}"
    );
}

#[test]
fn more_shards_than_runs_merge_as_the_slurm_job_does() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        "few",
        &digits_config("few", &["mlp-small"], &[64, 128], 1, ""),
    );
    let out = dir.path().join("out");
    for i in 0..4 {
        let o = run(greenbench()
            .arg("sweep")
            .arg(&cfg)
            .arg("--shard")
            .arg(format!("{i}/4"))
            .arg("--out")
            .arg(&out)
            .arg("--resume")
            .arg("--quiet"));
        assert!(o.status.success(), "shard {i}/4");
    }
    // The generated job's merge line: every shard folder, shards 2/4 and 3/4 owning no run.
    let o = run(greenbench()
        .arg("merge")
        .arg("--force")
        .arg(&out)
        .args((0..4).map(|i| out.join(format!("shard-{i}-of-4")))));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(text.contains("2 of 2 runs recorded"), "{text}");
    assert!(text.contains("complete"), "{text}");
    for i in [2, 3] {
        assert!(
            text.lines()
                .any(|l| l.contains(&format!("shard-{i}-of-4")) && l.contains("had no runs")),
            "{text}"
        );
    }
    assert!(!text.contains("no folder given"), "{text}");
    assert_eq!(records(&out).len(), 2);
}

#[test]
fn slurm_prints_an_array_script_with_the_shard_command() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        "arr",
        &digits_config("arr", &["mlp-small", "mlp-64x32"], &[32, 64, 128], 1, ""),
    );
    let out = dir.path().join("res");
    let o = run(greenbench()
        .arg("slurm")
        .arg(&cfg)
        .arg("--shards")
        .arg("4")
        .arg("--partition")
        .arg("gpu")
        .arg("--time")
        .arg("01:00:00")
        .arg("--gpus-per-task")
        .arg("1")
        .arg("--out")
        .arg(&out));
    assert!(o.status.success());
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(s.starts_with("#!/bin/bash\n"));
    for want in [
        "#SBATCH --array=0-3",
        "#SBATCH --partition=gpu",
        "#SBATCH --time=01:00:00",
        "#SBATCH --gpus-per-task=1",
        "#SBATCH --cpus-per-task=1",
        "6 runs over 4 shards: 2 runs in shards 0–1 and 1 in shards 2–3",
        r#"sweep "$GREENBENCH_CONFIG" --shard "$SLURM_ARRAY_TASK_ID/4" --out "$GREENBENCH_OUT" --resume"#,
        "--dependency=afterok:",
        r#"merge --force "$GREENBENCH_OUT" "$GREENBENCH_OUT"/shard-*-of-4"#,
    ] {
        assert!(s.contains(want), "missing `{want}` in:\n{s}");
    }
    assert!(s.contains(&format!("'{}'", out.display())));
    assert!(s.contains(&format!("'{}'", cfg.display())));
    // bash can parse it.
    let script = dir.path().join("job.sbatch");
    std::fs::write(&script, s.as_bytes()).unwrap();
    let o = run(std::process::Command::new("bash").arg("-n").arg(&script));
    assert!(o.status.success());

    // The config is validated first: an unknown model is an error, and nothing is printed.
    let bad = write_config(
        dir.path(),
        "bad",
        &digits_config("bad", &["no-such-model"], &[32], 1, ""),
    );
    let o = run(greenbench().arg("slurm").arg(&bad).arg("--shards").arg("2"));
    assert!(!o.status.success());
    assert!(o.stdout.is_empty());
    assert!(String::from_utf8_lossy(&o.stderr).contains("no-such-model"));
}
