//! A short scheduler time slice for the compute threads (`GREENBENCH_SCHED_SLICE_US`).
//!
//! Linux's EEVDF scheduler (6.6 and later) lets a running task finish its time slice before a
//! task that wakes up takes the core back, and since 6.12 a task may ask for a shorter slice
//! than the default (0.75 ms × (1 + log₂ CPUs)), which also lets it preempt a task with a longer
//! one as soon as it wakes (`PREEMPT_SHORT`). A step's threads wait for each other many times a
//! step; on a core shared with a low-priority process (a `nice 19` job) each wait lets that
//! process run, and with the default slice the thread that wakes again waits for the rest of the
//! other's slice. With a short slice it gets its core back at once. This changes no share of the
//! CPU between processes (that is the niceness), only how soon a waking thread runs.
//!
//! The slice ([`DEFAULT_SCHED_SLICE`] unless `GREENBENCH_SCHED_SLICE_US` says otherwise; 0 keeps
//! the kernel's) is set with `sched_setattr` on every thread of rayon's pool and on the thread
//! that asks, once per process; where the kernel is older or refuses, nothing changes and
//! [`sched_slice_outcome`] says why.

use std::sync::OnceLock;
use std::time::Duration;

pub use greenbench_core::SCHED_SLICE_ENV;

/// What setting the compute threads' time slice did, once per process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SliceOutcome {
    /// `GREENBENCH_SCHED_SLICE_US` is 0 or not a number: the kernel's default slice.
    Default,
    /// Every pool thread and the asking thread run with this slice.
    Set(Duration),
    /// The kernel refused (why, from `errno`); the threads keep the default slice.
    Refused(String),
}

/// The slice asked for when `GREENBENCH_SCHED_SLICE_US` is unset: the kernel's smallest (it
/// clamps a fair task's slice to 0.1–100 ms). Measured beside busy processes it gained 5–15 %
/// of training speed, and nothing measurable on an otherwise idle machine
/// (docs/performance.md, "Speed under background load").
pub const DEFAULT_SCHED_SLICE: Duration = Duration::from_micros(100);

/// The slice to ask for: `GREENBENCH_SCHED_SLICE_US` in microseconds, [`DEFAULT_SCHED_SLICE`]
/// when unset, none (the kernel's default) when 0 or not a number.
fn requested() -> Option<Duration> {
    match std::env::var(SCHED_SLICE_ENV) {
        Err(_) => Some(DEFAULT_SCHED_SLICE),
        Ok(v) => v
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|&us| us > 0)
            .map(Duration::from_micros),
    }
}

/// Applies the requested slice to rayon's pool threads and the calling thread the first time it
/// is called in a process, and returns what it did (the same outcome on every later call).
pub fn sched_slice_outcome() -> &'static SliceOutcome {
    static OUTCOME: OnceLock<SliceOutcome> = OnceLock::new();
    OUTCOME.get_or_init(|| match requested() {
        None => SliceOutcome::Default,
        Some(slice) => {
            let mut results = rayon::broadcast(|_| set_thread_slice(slice));
            results.push(set_thread_slice(slice));
            match results.into_iter().find_map(Result::err) {
                None => SliceOutcome::Set(slice),
                Some(why) => SliceOutcome::Refused(why.to_string()),
            }
        }
    })
}

/// Why a thread's slice could not be set.
#[derive(Debug, thiserror::Error)]
enum SliceError {
    #[error("{call} failed: {source}")]
    Syscall {
        call: &'static str,
        source: std::io::Error,
    },
    #[error("the thread runs under scheduling policy {0}, not SCHED_OTHER or SCHED_BATCH")]
    Policy(u32),
    #[error("this kernel ignores a fair task's slice (it needs Linux 6.12 or later)")]
    Ignored,
}

impl SliceError {
    fn last(call: &'static str) -> Self {
        SliceError::Syscall {
            call,
            source: std::io::Error::last_os_error(),
        }
    }
}

/// `sched_attr` as the kernel defines it (`include/uapi/linux/sched/types.h`, version 0 layout).
#[cfg(target_os = "linux")]
#[repr(C)]
#[derive(Default)]
struct SchedAttr {
    size: u32,
    sched_policy: u32,
    sched_flags: u64,
    sched_nice: i32,
    sched_priority: u32,
    sched_runtime: u64,
    sched_deadline: u64,
    sched_period: u64,
}

/// The calling thread's scheduling attributes.
#[cfg(target_os = "linux")]
fn thread_attr() -> Result<SchedAttr, SliceError> {
    let size = std::mem::size_of::<SchedAttr>() as u32;
    let mut attr = SchedAttr {
        size,
        ..SchedAttr::default()
    };
    // SAFETY: `attr` is a valid, writable sched_attr of `size` bytes; pid 0 is this thread.
    let got = unsafe {
        libc::syscall(
            libc::SYS_sched_getattr,
            0,
            &mut attr as *mut SchedAttr,
            size,
            0,
        )
    };
    if got != 0 {
        return Err(SliceError::last("sched_getattr"));
    }
    Ok(attr)
}

/// Sets the calling thread's slice, keeping its policy and niceness.
#[cfg(target_os = "linux")]
fn set_thread_slice(slice: Duration) -> Result<(), SliceError> {
    let mut attr = thread_attr()?;
    if attr.sched_policy != libc::SCHED_OTHER as u32
        && attr.sched_policy != libc::SCHED_BATCH as u32
    {
        return Err(SliceError::Policy(attr.sched_policy));
    }
    attr.size = std::mem::size_of::<SchedAttr>() as u32;
    attr.sched_flags = 0;
    attr.sched_runtime = u64::try_from(slice.as_nanos()).unwrap_or(u64::MAX);
    // SAFETY: `attr` is a valid sched_attr of `attr.size` bytes, which the kernel only reads;
    // pid 0 is this thread.
    let set = unsafe { libc::syscall(libc::SYS_sched_setattr, 0, &attr as *const SchedAttr, 0) };
    if set != 0 {
        return Err(SliceError::last("sched_setattr"));
    }
    // A kernel before 6.12 accepts and ignores the runtime of a fair task: read it back.
    if thread_attr()?.sched_runtime == 0 {
        return Err(SliceError::Ignored);
    }
    Ok(())
}

/// Other systems have no per-thread slice.
#[cfg(not(target_os = "linux"))]
fn set_thread_slice(_slice: Duration) -> Result<(), SliceError> {
    Err(SliceError::Ignored)
}

/// The calling thread's requested slice in nanoseconds (0: the kernel's default).
#[cfg(all(test, target_os = "linux"))]
fn thread_slice_ns() -> u64 {
    thread_attr()
        .map(|a| a.sched_runtime)
        .unwrap_or_else(|e| panic!("{e}"))
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn a_thread_gets_the_slice_it_asks_for_or_says_why_not() {
        // On a fresh thread, so no other test's thread is touched.
        std::thread::spawn(|| {
            let before = thread_slice_ns();
            match set_thread_slice(Duration::from_micros(250)) {
                Ok(()) => assert_eq!(thread_slice_ns(), 250_000, "slice before: {before} ns"),
                // A kernel before 6.12 (or one that refuses): the thread keeps its slice, and
                // the reason says why.
                Err(e) => {
                    assert!(!e.to_string().is_empty());
                    assert_eq!(thread_slice_ns(), before, "{e}");
                }
            }
        })
        .join()
        .unwrap();
    }
}
