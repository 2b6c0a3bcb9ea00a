//! `runs.jsonl` under outside hands: a copy moved over it (an editor, rsync or a checkout) or the
//! file removed while a writer holds it open, and a symbolic link in its place.

use std::path::Path;

use greenbench_core::SweepConfig;
use greenbench_core::{read_records, RunRecord, RunStatus};
use greenbench_runner::{write_atomic, RecordsWriter};

/// Six records of distinct runs (ok).
fn records() -> Vec<RunRecord> {
    let text = "name = \"r\"\ndataset = \"digits\"\n[grid]\nmodel = \"mlp-small\"\n\
                batch_size = [8, 16, 32, 64, 128, 256]\n";
    SweepConfig::parse(text, Path::new("r.toml"))
        .unwrap()
        .expand()
        .into_iter()
        .map(|spec| RunRecord {
            status: RunStatus::Ok,
            ..RunRecord::new("r", spec)
        })
        .collect()
}

fn ids(path: &Path) -> Vec<String> {
    read_records(path)
        .unwrap()
        .into_iter()
        .map(|r| r.run_id)
        .collect()
}

fn id_list(recs: &[&RunRecord]) -> Vec<String> {
    recs.iter().map(|r| r.run_id.clone()).collect()
}

#[test]
fn a_copy_moved_over_the_file_between_appends_gets_what_it_lacks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runs.jsonl");
    let copy = dir.path().join("runs.copy");
    let r = records();
    let mut w = RecordsWriter::open(&path).unwrap();
    w.append(&r[0]).unwrap();
    std::fs::copy(&path, &copy).unwrap(); // holds r0 only
    w.append(&r[1]).unwrap();
    w.append(&r[2]).unwrap();
    std::fs::rename(&copy, &path).unwrap(); // r1 and r2 are in the unlinked file alone
    w.append(&r[3]).unwrap();
    assert_eq!(ids(&path), id_list(&[&r[0], &r[1], &r[2], &r[3]]));
    // Later appends go to the visible file, once each.
    w.append(&r[4]).unwrap();
    assert_eq!(ids(&path), id_list(&[&r[0], &r[1], &r[2], &r[3], &r[4]]));
}

#[test]
fn a_removed_file_is_recreated_with_the_writers_records() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runs.jsonl");
    let r = records();
    let mut w = RecordsWriter::open(&path).unwrap();
    w.append(&r[0]).unwrap();
    w.append(&r[1]).unwrap();
    std::fs::remove_file(&path).unwrap();
    w.append(&r[2]).unwrap();
    assert_eq!(ids(&path), id_list(&[&r[0], &r[1], &r[2]]));
}

#[test]
fn a_stale_copy_holding_an_older_record_of_a_run_gets_the_writers_newer_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runs.jsonl");
    let copy = dir.path().join("runs.copy");
    let r = records();
    let crashed = RunRecord {
        status: RunStatus::Crashed,
        ..r[0].clone()
    };
    let mut w = RecordsWriter::open(&path).unwrap();
    w.append(&crashed).unwrap();
    std::fs::copy(&path, &copy).unwrap(); // holds the crashed record
    w.replace(&r[0]).unwrap(); // the retry, ok
    std::fs::rename(&copy, &path).unwrap();
    w.append(&r[1]).unwrap();
    let recs = read_records(&path).unwrap();
    let got: Vec<(String, RunStatus)> = recs.iter().map(|x| (x.run_id.clone(), x.status)).collect();
    assert_eq!(
        got,
        vec![
            (r[0].run_id.clone(), RunStatus::Ok),
            (r[1].run_id.clone(), RunStatus::Ok)
        ],
        "one line per run id, the writer's newer record kept"
    );
}

#[test]
fn replace_after_the_file_was_replaced_keeps_every_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runs.jsonl");
    let copy = dir.path().join("runs.copy");
    let r = records();
    let failed = RunRecord {
        status: RunStatus::Failed,
        ..r[0].clone()
    };
    let mut w = RecordsWriter::open(&path).unwrap();
    w.append(&failed).unwrap();
    std::fs::copy(&path, &copy).unwrap();
    w.append(&r[1]).unwrap();
    std::fs::rename(&copy, &path).unwrap(); // lacks r1
    w.replace(&r[0]).unwrap();
    let recs = read_records(&path).unwrap();
    let mut got: Vec<(String, &str)> = recs
        .iter()
        .map(|x| (x.run_id.clone(), x.status.name()))
        .collect();
    got.sort();
    let mut want = vec![(r[0].run_id.clone(), "ok"), (r[1].run_id.clone(), "ok")];
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn a_file_replaced_after_the_last_append_is_mended_when_the_writer_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runs.jsonl");
    let copy = dir.path().join("runs.copy");
    let r = records();
    let mut w = RecordsWriter::open(&path).unwrap();
    w.append(&r[0]).unwrap();
    std::fs::copy(&path, &copy).unwrap();
    w.append(&r[1]).unwrap();
    std::fs::rename(&copy, &path).unwrap();
    drop(w);
    assert_eq!(ids(&path), id_list(&[&r[0], &r[1]]));
}

#[cfg(unix)]
#[test]
fn a_symlinked_records_file_is_refused_naming_it_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("elsewhere.jsonl");
    let path = dir.path().join("runs.jsonl");
    let r = records();
    {
        let mut w = RecordsWriter::open(&target).unwrap();
        w.append(&r[0]).unwrap();
    }
    std::os::unix::fs::symlink(&target, &path).unwrap();
    let e = RecordsWriter::open(&path).unwrap_err().to_string();
    assert!(e.contains(&path.display().to_string()), "{e}");
    assert!(e.contains("symbolic link"), "{e}");
    assert!(e.contains("elsewhere.jsonl"), "names the target: {e}");

    // An atomic rewrite would replace the link, not its target: refused too.
    let e = write_atomic(&path, b"x\n").unwrap_err().to_string();
    assert!(e.contains("symbolic link"), "{e}");
    assert!(std::fs::symlink_metadata(&path)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(ids(&target), id_list(&[&r[0]]));
}
