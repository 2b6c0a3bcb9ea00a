//! `greenbench status` shows interference: live for the run in progress (the sweep writes its
//! figure so far every few seconds), and for finished runs the `interference` flags with their
//! reasons. The worker is a shell script: the parent alone is exercised.

mod common;

use std::time::{Duration, Instant};

use chrono::Utc;
use common::{finished_event, lock, no_idle, shell_options};
use greenbench_core::read_records;
use greenbench_core::AcceptAll;
use greenbench_core::{Quality, RunRecord, SweepConfig};
use greenbench_runner::{run_sweep, sweep_status, RecordsWriter};

const CONFIG: &str = "name = \"s\"\ndataset = \"digits\"\nidle_seconds = 0\n[grid]\nmodel = \"mlp-small\"\nbatch_size = 8\n";

#[test]
fn the_run_in_progress_shows_what_else_the_machine_did_so_far() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = SweepConfig::parse(CONFIG, &dir.path().join("s.toml")).unwrap();
    let out = dir.path().join("out");
    let id = cfg.expand()[0].run_id();
    let event = finished_event(Some(10.0), Quality::Estimated, 4.0, None);
    // The trace file is what tells status which run is in progress.
    let worker = format!(
        "cat >/dev/null; touch '{}'; sleep 4; echo '{event}'",
        out.join("traces").join(format!("{id}.csv")).display()
    );
    let mut opts = shell_options(&out, &worker);
    opts.proc_root = "/proc".into();
    let watcher = {
        let out = out.clone();
        std::thread::spawn(move || {
            let t0 = Instant::now();
            while t0.elapsed() < Duration::from_secs(20) {
                if let Ok(st) = sweep_status(&out, Utc::now(), &AcceptAll) {
                    if let Some(i) = st.running.and_then(|r| r.interference) {
                        return Some(i);
                    }
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            None
        })
    };
    let l = lock(&out);
    run_sweep(&cfg, &opts, &l, &mut no_idle, None).unwrap();
    let live = watcher
        .join()
        .unwrap()
        .expect("a live figure while the run was in progress");
    assert!((0.0..=1.0).contains(&live.others_share), "{live:?}");
    assert!(live.window_s > 1.0, "{live:?}");
    // Gone with the run: a finished folder shows no live figure.
    assert!(!out.join(".interference-live.json").exists());
}

#[test]
fn finished_runs_flagged_interference_are_listed_with_their_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = SweepConfig::parse(CONFIG, &dir.path().join("s.toml")).unwrap();
    let out = dir.path().join("out");
    let event = finished_event(Some(10.0), Quality::Estimated, 1.0, None);
    let opts = shell_options(&out, &format!("cat >/dev/null; echo '{event}'"));
    run_sweep(&cfg, &opts, &lock(&out), &mut no_idle, None).unwrap();
    // The record as a sweep beside a busy process writes it.
    let mut rec: RunRecord = read_records(&out.join("runs.jsonl")).unwrap().remove(0);
    let i = greenbench_core::Interference {
        window_s: 1.0,
        cpus: 2,
        others_cpu_s: 1.0,
        others_share: 0.5,
        steal_share: Some(0.0),
        load_avg_1m: Some(2.0),
        quiet_wait_s: None,
    };
    rec.flags.extend(i.run_flag(0.05));
    rec.interference = Some(i);
    RecordsWriter::open(&out.join("runs.jsonl"))
        .unwrap()
        .replace(&rec)
        .unwrap();
    let st = sweep_status(&out, Utc::now(), &AcceptAll).unwrap();
    assert_eq!(st.interference.len(), 1, "{:?}", st.interference);
    assert_eq!(st.interference[0].0, rec.run_id);
    assert!(st.interference[0]
        .1
        .contains("other processes used 50.0 % of the machine"));
    assert_eq!(st.idle_interference, None);
}
