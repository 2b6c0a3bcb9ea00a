//! `merge` on the folders a sharded sweep writes when it has more shards than runs: the shards
//! that own no run hold no manifest and no records, and the merge notes them instead of failing.
//! A file of its own: its workers are forked processes, which would hold copies of the lock of a
//! merge running in another test thread of the same binary.

mod common;

use greenbench_core::read_records;
use greenbench_core::{ComponentPower, SweepConfig};
use greenbench_runner::{merge, EmptyShard};
use greenbench_runner::{run_sweep, Shard};

/// A finishing shell worker for `run_sweep`.
fn finishing_worker() -> String {
    let result = greenbench_core::WorkerResult {
        status: greenbench_core::Outcome::Ok,
        ..Default::default()
    };
    let event =
        serde_json::to_string(&greenbench_core::WorkerEvent::Finished(Box::new(result))).unwrap();
    format!("cat >/dev/null; echo '{event}'")
}

#[test]
fn shards_beyond_the_run_count_merge_with_a_note_that_they_had_no_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let text = "name = \"few\"\ndataset = \"digits\"\nidle_seconds = 0\n[grid]\n\
                model = \"mlp-small\"\nbatch_size = [8, 16, 32]\n";
    let cfg = SweepConfig::parse(text, &tmp.path().join("few.toml")).unwrap();
    let root = tmp.path().join("few");
    let mut dirs = Vec::new();
    for index in 0..5 {
        let shard = Shard { index, count: 5 };
        let dir = root.join(shard.folder_name());
        let mut opts = common::shell_options(&dir, &finishing_worker());
        opts.shard = Some(shard);
        let s = run_sweep(
            &cfg,
            &opts,
            &common::lock(&dir),
            &mut |_| Ok(ComponentPower::default()),
            None,
        )
        .unwrap();
        assert_eq!(s.ok, usize::from(index < 3), "shard {shard}");
        dirs.push(dir);
    }
    let r = merge(&root, &dirs, true).unwrap();
    assert!(r.is_complete(), "{:?}", r.missing);
    assert_eq!(r.runs_present, 3);
    assert!(r.absent_shards.is_empty(), "{:?}", r.absent_shards);
    let empty: Vec<Shard> = r
        .empty_shards
        .iter()
        .map(|e: &EmptyShard| e.shard)
        .chain(
            r.shards
                .iter()
                .filter(|s| s.records == 0)
                .filter_map(|s| s.shard),
        )
        .collect();
    assert_eq!(
        empty,
        vec![Shard { index: 3, count: 5 }, Shard { index: 4, count: 5 }]
    );
    assert_eq!(read_records(&root.join("runs.jsonl")).unwrap().len(), 3);
}
