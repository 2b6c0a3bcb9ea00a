//! Reading what else the machine does: `/proc/stat`'s CPU counters and `/proc/loadavg` under a
//! root the options name (`/proc`, or a folder holding fake files in tests), the CPU time of a
//! worker's process tree from `wait4`, and the quiet gate that waits for a quiet machine before
//! a run.

use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

use greenbench_core::{parse_load_avg, CpuTimes, Interference, QuietGate};

use crate::error::RunnerError;

/// How long the quiet gate watches the machine before each look at whether it is quiet.
const GATE_LOOK: Duration = Duration::from_millis(500);

/// Clock ticks per second of `/proc/stat`'s counters (`USER_HZ`).
fn ticks_per_s() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

/// The machine's CPU counters under `root` (`root/stat`); `None` when they cannot be read (not
/// Linux, a root without the file): the interference of the window is then missing, not 0.
pub(crate) fn cpu_times(root: &Path) -> Option<CpuTimes> {
    let path = root.join("stat");
    let text = std::fs::read_to_string(&path).ok()?;
    CpuTimes::parse(&text, &path.display().to_string()).ok()
}

/// The 1-minute load average under `root` (`root/loadavg`).
fn load_avg(root: &Path) -> Option<f64> {
    parse_load_avg(&std::fs::read_to_string(root.join("loadavg")).ok()?)
}

/// A window being watched: the counters at its start.
pub(crate) struct Window {
    root: PathBuf,
    start: Option<CpuTimes>,
}

impl Window {
    /// Starts watching the machine (counters under `root`).
    pub(crate) fn open(root: &Path) -> Window {
        Window {
            root: root.to_path_buf(),
            start: cpu_times(root),
        }
    }

    /// What else the machine did since [`Window::open`], `own_cpu_s` of its busy time being the
    /// watched work's own; `None` when the counters could not be read or did not move.
    pub(crate) fn close(&self, own_cpu_s: f64) -> Option<Interference> {
        let end = cpu_times(&self.root)?;
        Interference::between(
            self.start.as_ref()?,
            &end,
            own_cpu_s,
            ticks_per_s(),
            load_avg(&self.root),
        )
    }
}

/// CPU seconds (user + system) of this process and the children it has waited for.
pub(crate) fn own_cpu_s() -> f64 {
    let of = |who| {
        // SAFETY: getrusage writes into the zeroed struct it is given.
        let mut u: libc::rusage = unsafe { std::mem::zeroed() };
        if unsafe { libc::getrusage(who, &mut u) } != 0 {
            return 0.0;
        }
        seconds(u.ru_utime) + seconds(u.ru_stime)
    };
    of(libc::RUSAGE_SELF) + of(libc::RUSAGE_CHILDREN)
}

fn seconds(t: libc::timeval) -> f64 {
    t.tv_sec as f64 + t.tv_usec as f64 / 1e6
}

/// Waits for `child` to exit; returns how it exited and the CPU seconds (user + system) it and
/// the descendants it waited for used: the worker's own process tree.
pub(crate) fn wait_with_cpu(child: &mut Child) -> Result<(ExitStatus, f64), RunnerError> {
    use std::os::unix::process::ExitStatusExt;
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: wait4 writes into the zeroed struct and the status it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(RunnerError::Protocol(format!(
                "waiting for worker process {pid}: {e}"
            )));
        }
    }
    Ok((
        ExitStatus::from_raw(status),
        seconds(usage.ru_utime) + seconds(usage.ru_stime),
    ))
}

/// The quiet gate: watches the machine in looks of [`GATE_LOOK`] until other processes use at
/// most `gate.max_share` of it, or `gate.max_wait_s` have passed. Returns the seconds waited and
/// whether it became quiet (`None` when the counters cannot be read: nothing to wait for).
pub(crate) fn wait_for_quiet(root: &Path, gate: &QuietGate) -> Option<(f64, bool)> {
    let t0 = Instant::now();
    cpu_times(root)?;
    loop {
        let own0 = own_cpu_s();
        let w = Window::open(root);
        std::thread::sleep(GATE_LOOK);
        let share = w.close(own_cpu_s() - own0).map(|i| i.others_share);
        let waited = t0.elapsed().as_secs_f64();
        if share.is_none_or(|s| s <= gate.max_share) {
            return Some((waited, true));
        }
        if waited >= gate.max_wait_s || crate::interrupt::is_requested() {
            return Some((waited, false));
        }
    }
}

/// The file in a sweep folder holding the interference of the run in progress so far, which
/// `greenbench status` shows; removed when the run ends.
pub const LIVE_INTERFERENCE: &str = ".interference-live.json";

/// How often the figure of the run in progress is written.
const LIVE_EVERY: Duration = Duration::from_secs(2);

/// What `.interference-live.json` holds.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LiveFigure {
    /// The run in progress.
    pub run_id: String,
    /// What else the machine did since the run started.
    pub interference: Interference,
}

/// Keeps `.interference-live.json` up to date while a worker runs.
pub(crate) struct Live<'a> {
    path: PathBuf,
    run_id: String,
    window: &'a Window,
    pid: u32,
    last: Instant,
}

impl<'a> Live<'a> {
    /// The live figure of run `run_id` (worker `pid`) in folder `out`, watched by `window`.
    pub(crate) fn new(out: &Path, run_id: &str, window: &'a Window, pid: u32) -> Live<'a> {
        Live {
            path: out.join(LIVE_INTERFERENCE),
            run_id: run_id.to_string(),
            window,
            pid,
            last: Instant::now(),
        }
    }

    /// Writes the figure so far when [`LIVE_EVERY`] has passed and the worker's CPU time can be
    /// read (`root/<pid>/stat`); a write that fails only leaves the status without it.
    pub(crate) fn tick(&mut self) {
        if self.last.elapsed() < LIVE_EVERY {
            return;
        }
        self.last = Instant::now();
        let Some(own) = process_tree_cpu_s(&self.window.root, self.pid) else {
            return;
        };
        if let Some(interference) = self.window.close(own) {
            let figure = LiveFigure {
                run_id: self.run_id.clone(),
                interference,
            };
            if let Ok(json) = serde_json::to_vec(&figure) {
                let _ = crate::records::write_atomic(&self.path, &json);
            }
        }
    }
}

impl Drop for Live<'_> {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// CPU seconds of a live process and the children it waited for: utime, stime, cutime and
/// cstime of `root/<pid>/stat` (fields 14 to 17).
fn process_tree_cpu_s(root: &Path, pid: u32) -> Option<f64> {
    let text = std::fs::read_to_string(root.join(pid.to_string()).join("stat")).ok()?;
    let (_, after) = text.rsplit_once(')')?;
    let ticks: Vec<u64> = after
        .split_whitespace()
        .skip(11)
        .take(4)
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    (ticks.len() == 4).then(|| ticks.iter().sum::<u64>() as f64 / ticks_per_s())
}

/// The interference of run `run_id` so far, when the sweep in `dir` is running it.
pub(crate) fn live_figure(dir: &Path, run_id: &str) -> Option<Interference> {
    let text = std::fs::read_to_string(dir.join(LIVE_INTERFERENCE)).ok()?;
    let f: LiveFigure = serde_json::from_str(&text).ok()?;
    (f.run_id == run_id).then_some(f.interference)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_trees_cpu_time_is_its_own_and_its_waited_childrens() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("42");
        std::fs::create_dir_all(&p).unwrap();
        // pid (comm with a ") " inside) state ppid … utime=300 stime=100 cutime=50 cstime=50
        std::fs::write(
            p.join("stat"),
            "42 (a) b) S 1 42 42 0 -1 4194304 100 0 0 0 300 100 50 50 20 0 1 0 1 1 1\n",
        )
        .unwrap();
        let s = process_tree_cpu_s(dir.path(), 42).unwrap();
        assert!((s - 500.0 / ticks_per_s()).abs() < 1e-9, "{s}");
        assert_eq!(process_tree_cpu_s(dir.path(), 43), None);
    }

    #[test]
    fn the_live_figure_is_read_for_its_own_run_only() {
        let dir = tempfile::tempdir().unwrap();
        let figure = LiveFigure {
            run_id: "abc".into(),
            interference: Interference {
                window_s: 4.0,
                cpus: 2,
                others_cpu_s: 2.0,
                others_share: 0.25,
                steal_share: None,
                load_avg_1m: None,
                quiet_wait_s: None,
            },
        };
        std::fs::write(
            dir.path().join(LIVE_INTERFERENCE),
            serde_json::to_string(&figure).unwrap(),
        )
        .unwrap();
        assert_eq!(live_figure(dir.path(), "abc"), Some(figure.interference));
        assert_eq!(live_figure(dir.path(), "other"), None);
    }
}
