//! Reading what else the machine does: `/proc/stat`'s CPU counters and `/proc/loadavg` under a
//! root the options name (`/proc`, or a folder holding fake files in tests), the CPU time of a
//! worker's process tree from `wait4`, and the quiet gate that waits for a quiet machine before
//! a run.

use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

use greenbench_core::interference::{parse_load_avg, CpuTimes, Interference, QuietGate};

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
