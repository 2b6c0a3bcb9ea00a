//! A CPU-spinning process started beside one run of a sweep gets that run flagged
//! `interference`, with the other processes' share of the machine in its reason; the runs
//! without it are not. The workers are shell scripts that sleep: the parent alone is exercised.
//!
//! Two views of the same sweep. Against the real `/proc` the spun run must be flagged (others'
//! share is at least the spinner's), but the other runs are not judged: on a shared test machine
//! anything may run beside them. Against a replayed `/proc` — a `stat` this test rewrites every
//! few milliseconds, of a machine whose only other work is the real spinner's CPU time (read from
//! its `/proc/<pid>/stat`) — every figure is known: the spun run is flagged, the others are not.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{finished_event, lock, no_idle, shell_options};
use greenbench_core::read_records;
use greenbench_core::{Quality, RunRecord, SweepConfig};
use greenbench_runner::run_sweep;

/// `/proc/stat`'s clock ticks per second (`USER_HZ`, 100 on Linux).
const TICKS: f64 = 100.0;
/// How long each worker sleeps.
const RUN_S: f64 = 1.5;

/// Processes that spin on a CPU each until stopped.
struct Spinner(Vec<Child>);

impl Spinner {
    fn start(n: usize) -> Spinner {
        Spinner(
            (0..n)
                .map(|_| {
                    Command::new("sh")
                        .args(["-c", "while :; do :; done"])
                        .spawn()
                        .unwrap()
                })
                .collect(),
        )
    }

    /// CPU ticks (user + system) the spinners have used so far.
    fn ticks(&self) -> u64 {
        self.0.iter().map(|c| cpu_ticks(c.id())).sum()
    }

    fn stop(mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// utime + stime of a process from `/proc/<pid>/stat` (fields 14 and 15), 0 when unreadable.
fn cpu_ticks(pid: u32) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = text.rsplit_once(')').map_or("", |(_, a)| a);
    let f: Vec<u64> = after
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|v| v.parse().ok())
        .collect();
    f.iter().sum()
}

/// A `stat` of a machine of `cpus` CPUs, `busy` of its `total` ticks spent running.
fn fake_stat(busy: u64, total: u64, cpus: u64) -> String {
    let idle = total.saturating_sub(busy);
    let mut s = format!("cpu  {busy} 0 0 {idle} 0 0 0 0 0 0\n");
    for i in 0..cpus {
        s += &format!("cpu{i} {} 0 0 {} 0 0 0 0 0 0\n", busy / cpus, idle / cpus);
    }
    s
}

fn write_atomic(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// A three-run sweep (one configuration, `repeats = 3`) into `dir/out` whose `proc_root` is
/// `proc_root` (`None`: a replayed /proc in `dir/proc`), with a spinner started when the first
/// record is written and stopped when the second is: beside the second run only.
fn spun_sweep(dir: &Path, name: &str, proc_root: Option<PathBuf>) -> Vec<RunRecord> {
    let text = format!(
        "name = \"{name}\"\ndataset = \"digits\"\nidle_seconds = 0\nrepeats = 3\n[grid]\nmodel = \"mlp-small\"\nbatch_size = 8\n"
    );
    let cfg = SweepConfig::parse(&text, &dir.join("i.toml")).unwrap();
    let out = dir.join("out");
    let event = finished_event(Some(10.0), Quality::Estimated, RUN_S, None);
    let mut opts = shell_options(
        &out,
        &format!("cat >/dev/null; sleep {RUN_S}; echo '{event}'"),
    );
    let replay = proc_root.is_none();
    opts.proc_root = proc_root.unwrap_or_else(|| dir.join("proc"));
    let cpus = std::thread::available_parallelism().map_or(2, |n| n.get()) as u64;
    let stat = opts.proc_root.join("stat");
    if replay {
        std::fs::create_dir_all(&opts.proc_root).unwrap();
        write_atomic(&stat, &fake_stat(0, 1, cpus));
    }
    let done = Arc::new(AtomicBool::new(false));
    let watcher = {
        let done = done.clone();
        let records = out.join("runs.jsonl");
        std::thread::spawn(move || {
            let t0 = Instant::now();
            let mut spinner: Option<Spinner> = None;
            let mut stopped = false;
            let mut spun_ticks = 0u64;
            while !done.load(Ordering::SeqCst) {
                let lines = std::fs::read_to_string(&records)
                    .map_or(0, |t| t.lines().filter(|l| !l.is_empty()).count());
                if lines >= 1 && spinner.is_none() && !stopped {
                    spinner = Some(Spinner::start(2));
                }
                if let Some(s) = &spinner {
                    spun_ticks = spun_ticks.max(s.ticks());
                }
                if lines >= 2 {
                    if let Some(s) = spinner.take() {
                        s.stop();
                        stopped = true;
                    }
                }
                if replay {
                    let total = (t0.elapsed().as_secs_f64() * TICKS) as u64 * cpus + 1;
                    write_atomic(&stat, &fake_stat(spun_ticks, total.max(spun_ticks), cpus));
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            if let Some(s) = spinner {
                s.stop();
            }
        })
    };
    let l = lock(&out);
    let result = run_sweep(&cfg, &opts, &l, &mut no_idle, None);
    done.store(true, Ordering::SeqCst);
    watcher.join().unwrap();
    result.unwrap();
    let recs = read_records(&out.join("runs.jsonl")).unwrap();
    assert_eq!(recs.len(), 3);
    recs
}

/// The spun run's flag: on `interference`, with the others' share as recorded in its reason.
fn assert_flagged(rec: &RunRecord) {
    let i = rec.interference.as_ref().expect("interference measured");
    let flag = rec
        .flags
        .iter()
        .find(|f| f.field == "interference")
        .unwrap_or_else(|| panic!("the spun run is not flagged: {i:?}"));
    let share = format!(
        "other processes used {:.1} % of the machine",
        i.others_share * 100.0
    );
    assert!(flag.reason.contains(&share), "{share} in: {}", flag.reason);
    assert!(i.others_share > 0.05, "{i:?}");
}

#[test]
fn against_a_replayed_proc_only_the_run_beside_the_spinner_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let recs = spun_sweep(dir.path(), "replayed", None);
    assert_flagged(&recs[1]);
    for r in [&recs[0], &recs[2]] {
        let i = r.interference.as_ref().expect("interference measured");
        assert!(
            !r.flags.iter().any(|f| f.field == "interference"),
            "run {} without the spinner is flagged: {i:?} {:?}",
            r.spec.repeat,
            r.flags
        );
        assert!(i.others_share < 0.02, "{i:?}");
    }
}

#[test]
fn against_the_real_proc_the_run_beside_the_spinner_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let recs = spun_sweep(dir.path(), "real", Some("/proc".into()));
    assert_flagged(&recs[1]);
    // The others are measured (what else this shared machine ran is not known to the test).
    assert!(recs.iter().all(|r| r.interference.is_some()));
}

/// A replayed machine of 2 CPUs under `proc_root` whose other processes keep `busy_share` of it
/// busy, until the returned flag is set (then join the thread).
fn replay(proc_root: &Path, busy_share: f64) -> (Arc<AtomicBool>, std::thread::JoinHandle<()>) {
    std::fs::create_dir_all(proc_root).unwrap();
    let stat = proc_root.join("stat");
    let write = move |t: f64| {
        let total = (t * TICKS) as u64 * 2 + 1;
        write_atomic(
            &stat,
            &fake_stat((total as f64 * busy_share) as u64, total, 2),
        );
    };
    write(0.0);
    let done = Arc::new(AtomicBool::new(false));
    let thread = {
        let done = done.clone();
        std::thread::spawn(move || {
            let t0 = Instant::now();
            while !done.load(Ordering::SeqCst) {
                write(t0.elapsed().as_secs_f64());
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    (done, thread)
}

/// A sweep of one run of `extra` settings on a replayed machine whose other processes keep
/// `busy_share` of it busy, with an idle baseline that sleeps its seconds: its record and
/// manifest.
fn replayed_run(extra: &str, busy_share: f64) -> (RunRecord, greenbench_core::Manifest) {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("name = \"g\"\ndataset = \"digits\"\n{extra}\n[grid]\nmodel = \"mlp-small\"\nbatch_size = 8\n");
    let cfg = SweepConfig::parse(&text, &dir.path().join("g.toml")).unwrap();
    let out = dir.path().join("out");
    let event = finished_event(Some(10.0), Quality::Estimated, 0.2, None);
    let mut opts = shell_options(&out, &format!("cat >/dev/null; sleep 0.2; echo '{event}'"));
    opts.proc_root = dir.path().join("proc");
    let (done, thread) = replay(&opts.proc_root, busy_share);
    let l = lock(&out);
    let mut idle = |s: f64| {
        std::thread::sleep(Duration::from_secs_f64(s));
        no_idle(s)
    };
    let result = run_sweep(&cfg, &opts, &l, &mut idle, None);
    done.store(true, Ordering::SeqCst);
    thread.join().unwrap();
    result.unwrap();
    let manifest = greenbench_core::Manifest::read(&out.join("manifest.json"))
        .unwrap()
        .unwrap();
    let rec = read_records(&out.join("runs.jsonl")).unwrap().remove(0);
    (rec, manifest)
}

/// A run with `quiet_gate = { max_share = 0.05, max_wait_s = 1 }` and no idle baseline.
fn gated_run(busy_share: f64) -> RunRecord {
    let gate = "idle_seconds = 0\nquiet_gate = { max_share = 0.05, max_wait_s = 1 }";
    replayed_run(gate, busy_share).0
}

#[test]
fn an_idle_baseline_measured_beside_other_work_is_flagged_in_the_manifest() {
    let (_, busy) = replayed_run("idle_seconds = 1", 0.5);
    let i = busy.idle_interference.as_ref().expect("measured");
    assert!(i.others_share > 0.3, "{i:?}");
    let f = busy.idle_flags.first().expect("flagged");
    assert_eq!(f.field, "interference");
    assert!(
        f.reason.contains("during the idle baseline"),
        "{}",
        f.reason
    );
    let (_, quiet) = replayed_run("idle_seconds = 1", 0.0);
    assert!(quiet.idle_interference.is_some());
    assert!(quiet.idle_flags.is_empty(), "{:?}", quiet.idle_flags);
}

#[test]
fn the_quiet_gate_waits_at_most_its_limit_and_the_record_keeps_the_wait() {
    let busy = gated_run(0.6);
    let i = busy.interference.as_ref().expect("interference measured");
    let waited = i.quiet_wait_s.expect("the wait is recorded");
    assert!((1.0..3.0).contains(&waited), "{i:?}");
    // It ran anyway, on the busy machine, and says so.
    assert!(
        busy.flags.iter().any(|f| f.field == "interference"),
        "{:?}",
        busy.flags
    );

    let quiet = gated_run(0.0);
    let i = quiet.interference.as_ref().expect("interference measured");
    assert!(i.quiet_wait_s.expect("the wait is recorded") < 1.0, "{i:?}");
    assert!(quiet.flags.is_empty(), "{:?}", quiet.flags);
}

/// Sweeps `text` (digits, mlp-small, no idle baseline) into `dir/out` on a replayed machine whose
/// other processes keep `busy_share` of it busy, with `--retry-failed` or not: the folder's
/// records.
fn sweep_beside(dir: &Path, text: &str, busy_share: f64, retry_failed: bool) -> Vec<RunRecord> {
    let cfg = SweepConfig::parse(text, &dir.join("r.toml")).unwrap();
    let out = dir.join("out");
    let event = finished_event(Some(10.0), Quality::Estimated, 0.2, None);
    let mut opts = shell_options(&out, &format!("cat >/dev/null; sleep 0.2; echo '{event}'"));
    opts.proc_root = dir.join("proc");
    opts.retry_failed = retry_failed;
    let (done, thread) = replay(&opts.proc_root, busy_share);
    let l = lock(&out);
    let result = run_sweep(&cfg, &opts, &l, &mut no_idle, None);
    done.store(true, Ordering::SeqCst);
    thread.join().unwrap();
    drop(l);
    result.unwrap();
    read_records(&out.join("runs.jsonl")).unwrap()
}

fn interfered(r: &RunRecord) -> bool {
    r.flags.iter().any(|f| f.field == "interference")
}

#[test]
fn retry_failed_measures_the_flagged_runs_again_and_keeps_the_flag_s_reason() {
    let dir = tempfile::tempdir().unwrap();
    let text = "name = \"r\"\ndataset = \"digits\"\nidle_seconds = 0\nrepeats = 2\n[grid]\nmodel = \"mlp-small\"\nbatch_size = 8\n";
    let busy = sweep_beside(dir.path(), text, 0.6, false);
    assert_eq!(busy.len(), 2);
    assert!(busy.iter().all(interfered), "{busy:?}");

    // Continued without the option: the flagged runs are results like any other, kept as they are.
    let kept = sweep_beside(dir.path(), text, 0.0, false);
    assert_eq!(kept, busy);

    // With it, on a quiet machine: measured again, one record per run, the old flag under attempts.
    let again = sweep_beside(dir.path(), text, 0.0, true);
    assert_eq!(again.len(), 2);
    for r in &again {
        assert!(!interfered(r), "{:?}", r.flags);
        assert_eq!(r.attempts.len(), 1, "{:?}", r.attempts);
        let why = r.attempts[0].error.as_deref().unwrap_or_default();
        assert!(
            why.starts_with("interference: other processes used"),
            "{why}"
        );
    }
}
