//! A record whose energy implies more power than the machine can draw is flagged with the
//! figures in its reason (the record keeps the number; reports must not publish it as true).
//! The worker is a shell script reporting a fixed energy.

mod common;

use common::{finished_event, lock, no_idle, shell_options};
use greenbench_core::read_records;
use greenbench_core::{Quality, SweepConfig};
use greenbench_runner::run_sweep;

fn worker(cpu_j: f64, seconds: f64) -> String {
    let event = finished_event(Some(cpu_j), Quality::Estimated, seconds, None);
    format!("cat >/dev/null; echo '{event}'")
}

fn sweep(name: &str, cpu_j: f64, seconds: f64) -> Vec<greenbench_core::RunRecord> {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "name = \"{name}\"\ndataset = \"digits\"\nidle_seconds = 0\n[grid]\nmodel = \"mlp-small\"\nbatch_size = 8\n"
    );
    let cfg = SweepConfig::parse(&text, &dir.path().join("p.toml")).unwrap();
    let out = dir.path().join("out");
    let opts = shell_options(&out, &worker(cpu_j, seconds));
    let l = lock(&out);
    run_sweep(&cfg, &opts, &l, &mut no_idle, None).unwrap();
    read_records(&out.join("runs.jsonl")).unwrap()
}

#[test]
fn four_gigajoules_in_four_milliseconds_is_flagged_with_its_power() {
    // 4e9 J in 4 ms is 1e12 W: no machine draws that (the --watts-per-core 1e12 case).
    let recs = sweep("tw", 4e9, 0.004);
    let flag = recs[0]
        .flags
        .iter()
        .find(|f| f.field == "train.energy")
        .expect("a train.energy flag");
    assert!(
        flag.reason
            .starts_with("average power beyond what this machine can draw"),
        "{}",
        flag.reason
    );
    assert!(
        flag.reason.contains("CPU + DRAM 1.00e12 W > "),
        "{}",
        flag.reason
    );
    // A plausible figure (20 J in 2 s: 10 W) is not flagged.
    assert!(sweep("ok", 20.0, 2.0)[0].flags.is_empty());
}
