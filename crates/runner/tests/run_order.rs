//! A sweep with `repeats = 3` writes its records interleaved (every configuration once, then
//! the second repeat of every configuration, …), and shards split that order the same way on
//! every node. The worker is a shell script: the parent alone is exercised.

mod common;

use common::{finished_event, lock, no_idle, shell_options};
use greenbench_core::read_records;
use greenbench_core::{Quality, Shard, SweepConfig};
use greenbench_runner::run_sweep;

fn config(dir: &std::path::Path, order: &str) -> SweepConfig {
    let text = format!(
        "name = \"o\"\ndataset = \"digits\"\nidle_seconds = 0\nrepeats = 3\n{order}\n[grid]\nmodel = [\"a\", \"b\", \"c\"]\nbatch_size = 8\n"
    );
    SweepConfig::parse(&text, &dir.join("o.toml")).unwrap()
}

/// The (model, repeat) of each record of a sweep of `cfg` into `out`, in the file's order.
fn recorded_order(cfg: &SweepConfig, out: &std::path::Path, shard: Option<Shard>) -> Vec<String> {
    let event = finished_event(Some(1.0), Quality::Estimated, 0.1, None);
    let mut opts = shell_options(out, &format!("cat >/dev/null; echo '{event}'"));
    opts.shard = shard;
    let l = lock(out);
    run_sweep(cfg, &opts, &l, &mut no_idle, None).unwrap();
    read_records(&out.join("runs.jsonl"))
        .unwrap()
        .iter()
        .map(|r| format!("{}{}", r.spec.model, r.spec.repeat))
        .collect()
}

#[test]
fn repeats_run_interleaved_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let got = recorded_order(&config(dir.path(), ""), &dir.path().join("out"), None);
    assert_eq!(got, ["a0", "b0", "c0", "a1", "b1", "c1", "a2", "b2", "c2"]);
}

#[test]
fn grid_order_runs_the_repeats_of_a_configuration_in_a_row() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "order = \"grid\"");
    let got = recorded_order(&cfg, &dir.path().join("out"), None);
    assert_eq!(got, ["a0", "a1", "a2", "b0", "b1", "b2", "c0", "c1", "c2"]);
}

#[test]
fn shards_split_the_interleaved_order() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "");
    let s0 = Shard { index: 0, count: 2 };
    let s1 = Shard { index: 1, count: 2 };
    let got0 = recorded_order(&cfg, &dir.path().join("s0"), Some(s0));
    let got1 = recorded_order(&cfg, &dir.path().join("s1"), Some(s1));
    assert_eq!(got0, ["a0", "c0", "b1", "a2", "c2"]);
    assert_eq!(got1, ["b0", "a1", "c1", "b2"]);
}
