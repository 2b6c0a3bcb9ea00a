//! Ctrl-C and SIGTERM (Slurm's preemption signal) during a sweep: the handler only sets a flag;
//! the sweep loop sees it within half a second, stops the worker, puts any GPU power limit back,
//! and returns [`crate::RunnerError::Interrupted`]. The run in progress is not recorded, so
//! `--resume` runs it again.

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_sig: libc::c_int) {
    REQUESTED.store(true, Ordering::SeqCst);
}

/// Installs the SIGINT and SIGTERM handlers (for the sweep process, not for workers).
pub fn install_handlers() {
    let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, handler);
        libc::signal(libc::SIGTERM, handler);
    }
}

/// Asks the sweep to stop (what the signal handler does; also for tests).
pub fn request() {
    REQUESTED.store(true, Ordering::SeqCst);
}

/// Whether a stop was asked for.
pub fn is_requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// Clears the flag.
pub fn clear() {
    REQUESTED.store(false, Ordering::SeqCst);
}
