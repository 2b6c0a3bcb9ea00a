//! Searches through the real binary on the committed digits data: a halving search promotes
//! exactly the best 1/eta of each rung on validation accuracy, continues them from their
//! checkpoints, and a sweep killed with SIGKILL and continued makes its decisions from the
//! records alone, running nothing twice. A random search draws its configurations; halving with
//! --shard is refused.

mod common;

use std::collections::HashMap;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use greenbench_core::Objective;
use greenbench_core::{promote, Candidate};
use greenbench_core::{RunRecord, RunStatus};

const HALVING: &str = "[search]\nstrategy = \"halving\"\neta = 3\nmin_epochs = 1\nmax_epochs = 3\n";

fn halving_config(dir: &Path) -> std::path::PathBuf {
    let text = format!(
        "name = \"hv\"\ndataset = \"digits\"\nthreads = 1\nwarmup_batches = 2\nidle_seconds = 0\n[grid]\nmodel = [\"mlp-small\", \"mlp-32\"]\nbatch_size = 64\nlr = [0.01, 0.05, 0.2]\n{HALVING}"
    );
    write_config(dir, "hv", &text)
}

/// A finished run as the search saw it: its validation accuracy and training energy.
fn candidate(r: &RunRecord) -> Candidate {
    Candidate {
        run_id: r.run_id.clone(),
        val_acc: r.train.as_ref().unwrap().val_acc.unwrap(),
        energy_j: r.train.as_ref().unwrap().energy.total_j,
    }
}

/// Checks the search's decisions against its own records: rung 1 holds exactly the best third
/// of rung 0 by validation accuracy (ties: lower energy, then run id), each continued from its
/// rung-0 run; every run id once.
fn check_decisions(recs: &[RunRecord]) {
    let mut ids: Vec<&str> = recs.iter().map(|r| r.run_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), recs.len(), "a run was recorded twice");
    let (rung0, rung1): (Vec<&RunRecord>, Vec<&RunRecord>) =
        recs.iter().partition(|r| r.spec.continues.is_none());
    assert_eq!((rung0.len(), rung1.len()), (6, 2));
    assert!(rung0
        .iter()
        .all(|r| r.spec.epochs == 1 && r.status == RunStatus::Ok));
    let cands: Vec<Candidate> = rung0.iter().map(|r| candidate(r)).collect();
    let mut best: Vec<&str> = promote(&cands, 2, Objective::Accuracy)
        .into_iter()
        .map(|i| cands[i].run_id.as_str())
        .collect();
    let mut promoted: Vec<&str> = rung1
        .iter()
        .map(|r| r.spec.continues.as_ref().unwrap().run_id.as_str())
        .collect();
    best.sort_unstable();
    promoted.sort_unstable();
    assert_eq!(
        promoted, best,
        "rung 1 continues exactly the best third of rung 0"
    );
    let by_id: HashMap<&str, &&RunRecord> = rung0.iter().map(|r| (r.run_id.as_str(), r)).collect();
    for r in &rung1 {
        let from = by_id[r.spec.continues.as_ref().unwrap().run_id.as_str()];
        // Same configuration, continued: epochs 2..3 only, on the schedule of 3 epochs.
        assert_eq!(
            (r.spec.model.as_str(), r.spec.lr),
            (from.spec.model.as_str(), from.spec.lr)
        );
        let epochs: Vec<usize> = r
            .train
            .as_ref()
            .unwrap()
            .epochs
            .iter()
            .map(|e| e.epoch)
            .collect();
        assert_eq!(epochs, [2, 3]);
        assert_eq!((r.spec.epochs, r.spec.schedule_epochs), (3, Some(3)));
    }
}

#[test]
fn halving_promotes_the_best_third_from_checkpoints_and_keeps_only_usable_ones() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = halving_config(dir.path());
    let out = dir.path().join("out");
    let o = run(sweep_into(&cfg, &out).arg("-q"));
    assert!(o.status.success());
    let recs = records(&out);
    check_decisions(&recs);
    // Checkpoints: the two promoted rung-0 runs and the two final ones; the rest deleted.
    let mut kept: Vec<String> = std::fs::read_dir(out.join("checkpoints"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    kept.sort();
    let mut want: Vec<String> = recs
        .iter()
        .filter(|r| r.spec.continues.is_some())
        .flat_map(|r| [r.run_id.clone(), r.spec.continues.clone().unwrap().run_id])
        .map(|id| format!("{id}.safetensors"))
        .collect();
    want.sort();
    assert_eq!(kept, want);
    // The finished search again: nothing to do; status counts both rungs.
    let o = run(&mut sweep_into(&cfg, &out));
    assert!(String::from_utf8_lossy(&o.stderr).contains("nothing to do"));
    let st = run(greenbench().arg("status").arg(&out).arg("--json"));
    let v: serde_json::Value = serde_json::from_slice(&st.stdout).unwrap();
    assert_eq!(
        (v["runs_total"].clone(), v["recorded"]["ok"].clone()),
        (8.into(), 8.into())
    );
    assert_eq!(
        v["best"]["run_id"].as_str(),
        recs.iter()
            .filter(|r| r.spec.epochs == 3)
            .max_by(|a, b| a
                .train
                .as_ref()
                .unwrap()
                .val_acc
                .unwrap()
                .total_cmp(&b.train.as_ref().unwrap().val_acc.unwrap()))
            .map(|r| r.run_id.as_str())
    );
}

#[test]
fn a_halving_search_killed_with_sigkill_continues_to_the_same_decisions() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = halving_config(dir.path());
    let out = dir.path().join("out");
    for stop_after in [3usize, 7] {
        let mut child = sweep_into(&cfg, &out)
            .arg("-q")
            .process_group(0)
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let n =
                std::fs::read_to_string(out.join("runs.jsonl")).map_or(0, |t| t.lines().count());
            if n >= stop_after || Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        // SAFETY: SIGKILL to the sweep's own process group (the sweep and its worker).
        unsafe {
            libc::kill(-(child.id() as i32), libc::SIGKILL);
        }
        let _ = child.wait();
        let n = std::fs::read_to_string(out.join("runs.jsonl")).map_or(0, |t| t.lines().count());
        if stop_after == 3 {
            assert!(
                (3..8).contains(&n),
                "killed mid-search: {n} of 8 runs recorded"
            );
        }
    }
    let o = run(sweep_into(&cfg, &out).arg("-q"));
    assert!(o.status.success());
    check_decisions(&records(&out));
}

#[test]
fn random_search_draws_its_samples_and_halving_refuses_shards() {
    let dir = tempfile::tempdir().unwrap();
    let text = "name = \"rs\"\ndataset = \"digits\"\nthreads = 1\nwarmup_batches = 0\nidle_seconds = 0\nepochs = 1\n[grid]\nmodel = [\"mlp-small\", \"mlp-32\"]\nbatch_size = [32, 64, 128]\n[search]\nstrategy = \"random\"\nsamples = 3\nseed = 4\nlr_range = [0.01, 0.3]\n";
    let cfg = write_config(dir.path(), "rs", text);
    let o = run(greenbench()
        .arg("sweep")
        .arg(&cfg)
        .arg("--dry-run")
        .arg("--json"));
    let runs: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(runs.len(), 3);
    assert!(runs
        .iter()
        .all(|r| (0.01..0.3).contains(&r["lr"].as_f64().unwrap())));
    let again = run(greenbench()
        .arg("sweep")
        .arg(&cfg)
        .arg("--dry-run")
        .arg("--json"));
    assert_eq!(o.stdout, again.stdout, "the same seed draws the same runs");
    let hv = halving_config(dir.path());
    let o = run(sweep_into(&hv, &dir.path().join("s"))
        .arg("--shard")
        .arg("0/2"));
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("cannot be split with --shard"), "{err}");
    let o = run(greenbench().arg("slurm").arg(&hv).arg("--shards").arg("2"));
    assert_ne!(o.status.code(), Some(0));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("halving"), "{err}");
}

/// Hyperband: bracket b starts ⌈n / eta^b⌉ configurations (all of them for b = 0) at rung b's
/// epochs and halves from there; each bracket promotes on its own records; the report chooses
/// among every bracket's finalists.
#[test]
fn hyperband_brackets_start_later_promote_on_their_own_and_compete_at_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let text = "name = \"hb\"\ndataset = \"digits\"\nthreads = 1\nwarmup_batches = 2\nidle_seconds = 0\n[grid]\nmodel = [\"mlp-small\", \"mlp-32\"]\nbatch_size = [32, 64]\nlr = [0.01, 0.05, 0.2]\n[search]\nstrategy = \"halving\"\neta = 3\nmin_epochs = 1\nmax_epochs = 9\nbrackets = 3\n";
    let cfg = write_config(dir.path(), "hb", text);
    let out = dir.path().join("out");
    assert!(run(sweep_into(&cfg, &out).arg("-q")).status.success());
    let recs = records(&out);
    assert_eq!(
        recs.len(),
        12 + 4 + 1 + 4 + 1 + 2,
        "planned runs of the three brackets"
    );
    let starts = |e: usize| -> Vec<&RunRecord> {
        recs.iter()
            .filter(|r| r.spec.continues.is_none() && r.spec.epochs == e)
            .collect()
    };
    assert_eq!(
        (starts(1).len(), starts(3).len(), starts(9).len()),
        (12, 4, 2)
    );
    // Every continued run continues the best third (at least one) of the rung it came from.
    let by_id: HashMap<&str, &RunRecord> = recs.iter().map(|r| (r.run_id.as_str(), r)).collect();
    for (rung, keep) in [(starts(1), 4), (starts(3), 1)] {
        let cands: Vec<Candidate> = rung.iter().map(|r| candidate(r)).collect();
        let mut best: Vec<&str> = promote(&cands, keep, Objective::Accuracy)
            .into_iter()
            .map(|i| cands[i].run_id.as_str())
            .collect();
        let mut continued: Vec<&str> = recs
            .iter()
            .filter_map(|r| r.spec.continues.as_ref())
            .map(|c| c.run_id.as_str())
            .filter(|id| rung.iter().any(|r| r.run_id == *id))
            .collect();
        best.sort_unstable();
        continued.sort_unstable();
        assert_eq!(continued, best);
    }
    assert!(recs
        .iter()
        .filter(|r| r.spec.continues.is_some())
        .all(
            |r| by_id[r.spec.continues.as_ref().unwrap().run_id.as_str()]
                .spec
                .epochs
                < r.spec.epochs
        ));
    let st = run(greenbench().arg("status").arg(&out).arg("--json"));
    let v: serde_json::Value = serde_json::from_slice(&st.stdout).unwrap();
    assert_eq!(
        (v["runs_total"].clone(), v["remaining"].clone()),
        (24.into(), 0.into())
    );
    // The report chooses across brackets: the best validation accuracy at 9 epochs.
    let o = run(greenbench().arg("report").arg(&out).arg("--no-figures"));
    assert!(o.status.success());
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        md.contains("among the configurations of all 3 brackets that reached 9 epochs"),
        "{md}"
    );
    assert!(md.contains("| bracket | rung | epochs |"), "{md}");
    // Brackets beyond the rungs, or on another strategy, are refused.
    for (extra, want) in [
        (
            text.replace("brackets = 3", "brackets = 4"),
            "brackets = 4 with 3 rung(s)",
        ),
        (
            text.replace("strategy = \"halving\"", "strategy = \"grid\"")
                .replace("max_epochs = 9\n", ""),
            "are keys of a halving search",
        ),
    ] {
        let bad = write_config(dir.path(), "bad", &extra);
        let o = run(greenbench().arg("sweep").arg(&bad).arg("--dry-run"));
        assert_eq!(o.status.code(), Some(1));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(want), "{err}");
    }
}

#[test]
fn a_dry_run_prints_extreme_learning_rates_compactly_and_checks_test_subset_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let text =
        digits_config("huge", &["mlp-small"], &[32], 1, "").replace("lr = 0.05", "lr = 1e300");
    let cfg = write_config(dir.path(), "huge", &text);
    let o = run(greenbench().arg("sweep").arg(&cfg).arg("--dry-run"));
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("1e300"), "{out}");
    assert!(!out.contains("0000000000"), "{out}");
    // digits has 359 test images: asking for more is refused before anything runs.
    let text = digits_config("big", &["mlp-small"], &[32], 1, "").replace(
        "dataset = \"digits\"",
        "dataset = { name = \"digits\", test_subset = 100000 }",
    );
    let cfg = write_config(dir.path(), "big", &text);
    let o = run(greenbench().arg("sweep").arg(&cfg).arg("--dry-run"));
    assert_ne!(o.status.code(), Some(0));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("test_subset") && err.contains("359"), "{err}");
}
