//! External commands under the meter: `greenbench exec` (a command as one run) and sweeps of a
//! `[workload]` (a command's own script swept over axes), with a tiny stdlib-only Python script
//! speaking the line protocol.

mod common;

use common::*;
use greenbench_core::Component;
use greenbench_core::{RunRecord, RunStatus};
use std::collections::HashSet;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::time::Duration;

/// A training script of a few lines: reports its size, each epoch (≈ 0.15 s of CPU time each),
/// one malformed line, and an inference pass; to the events file when `to_file=1`.
const SCRIPT: &str = r#"
import os, sys, time
args = dict(a.split("=", 1) for a in sys.argv[1:])
epochs = int(args.get("epochs", "2"))
out = open(os.environ["GREENBENCH_EVENTS"], "a") if args.get("to_file") == "1" else sys.stdout
def say(line):
    print("greenbench: " + line, file=out, flush=True)
def burn(s):
    t = time.process_time()
    while time.process_time() - t < s:
        pass
print("training", args, flush=True)
say("event=metrics params=1000 macs=20000 train_samples=100 validation_samples=20")
for e in range(1, epochs + 1):
    say("event=epoch_start epoch=%d" % e)
    burn(0.15)
    say("event=epoch_end epoch=%d loss=%s train_accuracy=0.5 val_accuracy=%s" % (e, 1.0 / e, args.get("width", "0.5")))
say("event=epoch_end loss=oops")
say('{"event": "inference_start"}')
burn(0.05)
say("event=inference_end samples=50 test_accuracy=0.7")
"#;

fn script(dir: &Path) -> String {
    let p = dir.join("train.py");
    std::fs::write(&p, SCRIPT).unwrap();
    p.display().to_string()
}

fn exec(out: &Path, cmd: &[&str]) -> std::process::Output {
    run(greenbench()
        .arg("exec")
        .arg("--out")
        .arg(out)
        .arg("--idle-seconds")
        .arg("0")
        .arg("--")
        .args(cmd))
}

fn only_record(out: &Path) -> RunRecord {
    let recs = records(out);
    assert_eq!(recs.len(), 1, "{recs:?}");
    recs.into_iter().next().unwrap()
}

/// Whether the record's CPU energy is the CPU-time estimate (not RAPL, which reads the machine).
fn estimated_cpu(rec: &RunRecord) -> bool {
    rec.meters
        .get("cpu")
        .is_some_and(|m| m.starts_with("estimate"))
}

fn trace_rows(out: &Path, rec: &RunRecord) -> usize {
    let t = std::fs::read_to_string(out.join("traces").join(format!("{}.csv", rec.run_id)))
        .expect("the run's trace");
    t.lines().count() - 1
}

#[test]
fn exec_sleep_costs_no_cpu_time_and_lasts_its_two_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sleep");
    let o = exec(&out, &["sleep", "2"]);
    assert!(o.status.success());
    let rec = only_record(&out);
    assert_eq!(rec.status, RunStatus::Ok, "{:?}", rec.error);
    assert_eq!(rec.spec.model, "sleep");
    let c = rec.command.as_ref().expect("the command's record");
    assert_eq!(c.exit_code, Some(0));
    assert!((1.9..4.0).contains(&c.duration_s), "{}", c.duration_s);
    assert!(c.cpu_s.unwrap() < 0.2, "{:?}", c.cpu_s);
    assert!(!c.phases_reported);
    // No phases reported: the whole command is the training energy, its epochs missing.
    let train = rec.train.as_ref().unwrap();
    assert!(train.epochs.is_empty() && rec.inference.is_none());
    assert_eq!(train.energy.total_j, c.energy.total_j);
    if estimated_cpu(&rec) {
        // The estimate charges its model's zero-load power for the vCPUs the command may use;
        // above that (the dynamic part, what net energy counts) a sleep costs next to nothing.
        let zero = c.energy.zero_load_j.get(&Component::Cpu).copied();
        let dynamic = c.energy.cpu_j.unwrap() - zero.expect("an estimate's zero-load energy");
        assert!((0.0..0.5).contains(&dynamic), "{:?}", c.energy);
        let net = train
            .net_energy
            .cpu_j
            .expect("net CPU energy of an estimate");
        assert!(net < 0.5, "net energy of a sleep: {net} J");
    }
    assert!(trace_rows(&out, &rec) >= 10, "a 10 Hz trace over 2 s");
    // The folder is a sweep folder: status and report read it.
    assert!(run(greenbench().arg("status").arg(&out)).status.success());
    assert!(run(greenbench().arg("report").arg(&out)).status.success());
}

#[test]
fn exec_of_a_busy_loop_charges_the_cpu_time_of_the_whole_process_tree() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("busy");
    // A shell whose child python burns 1.5 s of CPU: the tree is charged, not the shell alone.
    let o = exec(
        &out,
        &[
            "sh",
            "-c",
            "python3 -c 'import time\nwhile time.process_time() < 1.5: pass'",
        ],
    );
    assert!(o.status.success());
    let rec = only_record(&out);
    assert_eq!(rec.status, RunStatus::Ok, "{:?}", rec.error);
    let c = rec.command.as_ref().unwrap();
    let cpu = c.cpu_s.unwrap();
    assert!((1.4..2.5).contains(&cpu), "cpu {cpu}");
    assert!(c.duration_s >= 1.4, "{}", c.duration_s);
    if estimated_cpu(&rec) {
        // The estimate is CPU time × watts per core: one busy core's worth.
        let j = c.energy.cpu_j.unwrap();
        let per_core = j / cpu;
        assert!((0.5..=50.0).contains(&per_core), "{j} J for {cpu} s");
    }
    assert!(trace_rows(&out, &rec) >= 5);
}

#[test]
fn a_killed_or_failing_command_is_recorded_failed_with_how_it_ended() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("killed");
    let o = exec(&out, &["sh", "-c", "kill -9 $$"]);
    assert_eq!(o.status.code(), Some(3), "not every run ended ok");
    let rec = only_record(&out);
    assert_eq!(rec.status, RunStatus::Failed);
    assert!(
        rec.error.as_deref().unwrap().contains("signal 9 (SIGKILL)"),
        "{:?}",
        rec.error
    );
    assert_eq!(rec.command.as_ref().unwrap().signal, Some(9));
    assert!(rec.train.is_some(), "what it spent is kept");

    let out = dir.path().join("exit3");
    exec(&out, &["sh", "-c", "exit 3"]);
    let rec = only_record(&out);
    assert_eq!(rec.status, RunStatus::Failed);
    assert_eq!(rec.command.as_ref().unwrap().exit_code, Some(3));
    assert!(rec.error.as_deref().unwrap().contains("exited with code 3"));

    let out = dir.path().join("missing");
    exec(&out, &["/no/such/program"]);
    let rec = only_record(&out);
    assert_eq!(rec.status, RunStatus::Failed);
    assert!(rec
        .error
        .as_deref()
        .unwrap()
        .contains("cannot start the command"));
}

#[test]
fn ctrl_c_stops_the_command_and_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("interrupted");
    let child = greenbench()
        .arg("exec")
        .arg("--out")
        .arg(&out)
        .arg("--idle-seconds")
        .arg("0")
        .args(["--", "sleep", "30"])
        .process_group(0)
        .spawn()
        .unwrap();
    let pgid = child.id() as i32;
    let t0 = std::time::Instant::now();
    while !out.join("traces").exists() || t0.elapsed() < Duration::from_millis(800) {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "the run never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    // SAFETY: kill on our own child's process group.
    unsafe {
        libc::kill(-pgid, libc::SIGINT);
    }
    let o = child.wait_with_output().unwrap();
    assert!(
        t0.elapsed() < Duration::from_secs(15),
        "sleep 30 was stopped"
    );
    assert_eq!(o.status.code(), Some(130));
    let recs = greenbench_core::read_records(&out.join("runs.jsonl")).unwrap_or_default();
    assert!(recs.is_empty(), "{recs:?}");
}

fn sweep_config(dir: &Path, name: &str) -> std::path::PathBuf {
    let script = script(dir);
    let text = format!(
        r#"name = "{name}"
model = "tiny"
dataset = "synthetic"
batch_size = 8
lr = [0.1, 0.01]
epochs = 2
repeats = 2
idle_seconds = 0
threads = 1
[workload]
command = ["python3", "{script}", "epochs={{epochs}}", "lr={{lr}}", "width={{width}}"]
env = {{ PYTHONDONTWRITEBYTECODE = "1" }}
[workload.axes]
width = [0.25, 0.75]
"#
    );
    write_config(dir, name, &text)
}

fn planned(cfg: &Path) -> HashSet<String> {
    let rows = dry_run_rows(cfg);
    for r in &rows {
        // The dry run shows each run's own command and its value of the command's axes.
        assert!(
            r["command"][0] == "python3" && r["width"].is_number(),
            "{r}"
        );
    }
    rows.iter()
        .map(|r| r["run_id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_workload_sweep_resumes_after_kill_9_and_records_per_epoch_energy_from_the_protocol() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = sweep_config(dir.path(), "ext");
    let planned = planned(&cfg);
    assert_eq!(
        planned.len(),
        2 * 2 * 2,
        "two lr × two widths × two repeats"
    );
    let out = dir.path().join("out");
    for wait_ms in [700u64, 1900] {
        let mut child = sweep_into(&cfg, &out).arg("--quiet").spawn().unwrap();
        std::thread::sleep(Duration::from_millis(wait_ms));
        let _ = child.kill();
        let _ = child.wait();
    }
    let o = run(sweep_into(&cfg, &out).arg("--quiet"));
    assert!(o.status.success());
    let text = std::fs::read_to_string(out.join("runs.jsonl")).unwrap();
    let recs: Vec<RunRecord> = text
        .lines()
        .map(|l| greenbench_core::parse_record(l).unwrap())
        .collect();
    let ids: Vec<String> = recs.iter().map(|r| r.run_id.clone()).collect();
    let unique: HashSet<String> = ids.iter().cloned().collect();
    assert_eq!(unique.len(), ids.len(), "duplicate run ids: {ids:?}");
    assert_eq!(unique, planned, "every expanded run exactly once");
    for rec in &recs {
        assert_eq!(rec.status, RunStatus::Ok, "{:?}", rec.error);
        let train = rec.train.as_ref().unwrap();
        assert_eq!(train.epochs.len(), 2);
        for e in &train.epochs {
            assert!(e.energy_j.is_some_and(|j| j > 0.0), "{e:?}");
            assert!(e.duration_s > 0.1, "{e:?}");
        }
        assert_eq!(train.epochs[1].loss, 0.5);
        let width = rec.spec.workload.as_ref().unwrap().axes["width"].as_f64();
        assert_eq!(train.val_acc, width, "the command read its own axis");
        assert_eq!(
            (rec.train_samples, train.validation_samples),
            (100, Some(20))
        );
        assert!((train.samples_per_s - 200.0 / train.duration_s).abs() < 1e-6);
        let inf = rec.inference.as_ref().unwrap();
        assert_eq!((inf.samples, inf.accuracy), (Some(50), 0.7));
        let model = rec.model.as_ref().unwrap();
        assert_eq!((model.params, model.macs_per_sample), (1000, 20000));
        let c = rec.command.as_ref().unwrap();
        assert!(c.phases_reported);
        assert!(
            c.warnings.iter().any(|w| w.contains("protocol line")
                && w.contains("loss = `\"oops\"` is not a finite number")),
            "{:?}",
            c.warnings
        );
    }
    let o = run(greenbench().arg("report").arg(&out));
    assert!(o.status.success());
    assert!(run(greenbench().arg("status").arg(&out)).status.success());
}

#[test]
fn a_workload_sweep_shards_and_merges_and_reads_the_events_file() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = sweep_config(dir.path(), "shards");
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("lr = [0.1, 0.01]", "lr = 0.1")
        .replace("repeats = 2", "repeats = 1")
        .replace("\"width={width}\"]", "\"width={width}\", \"to_file=1\"]");
    std::fs::write(&cfg, text).unwrap();
    let planned = planned(&cfg);
    assert_eq!(planned.len(), 2);
    let out = dir.path().join("out");
    for s in ["0/2", "1/2"] {
        let o = run(sweep_into(&cfg, &out).args(["--shard", s, "--quiet"]));
        assert!(o.status.success());
    }
    let merged = dir.path().join("merged");
    let o = run(greenbench()
        .arg("merge")
        .arg(&merged)
        .arg(out.join("shard-0-of-2"))
        .arg(out.join("shard-1-of-2")));
    assert!(o.status.success());
    let recs = records(&merged);
    let ids: HashSet<String> = recs.iter().map(|r| r.run_id.clone()).collect();
    assert_eq!(ids, planned);
    for rec in &recs {
        assert_eq!(
            rec.train.as_ref().unwrap().epochs.len(),
            2,
            "from the events file"
        );
    }
}
