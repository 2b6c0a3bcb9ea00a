//! The worker process's entry: the request on stdin, the meter opened for it, the run, the exit
//! code.

use std::io::Read;

use greenbench_core::{BoxError, PhaseMeter};
use greenbench_core::{WorkerEvent, WorkerRequest};

use crate::execute::{emit, run_worker};

/// Makes the worker die with its parent (a killed sweep must not leave training behind).
fn die_with_parent() {
    // SAFETY: prctl with PR_SET_PDEATHSIG only sets a flag on this process.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
    }
}

/// Serves one run: reads the [`WorkerRequest`] on stdin, opens its meter with `open_meter`, runs
/// it, and returns the exit code (0 also for a diverged run, 2 for a run that could not start,
/// after a `failed` event that says why).
pub fn serve(
    open_meter: impl FnOnce(&WorkerRequest) -> Result<Box<dyn PhaseMeter>, BoxError>,
) -> u8 {
    die_with_parent();
    // This thread runs the steps; as one of rayon's pool threads it runs each step directly
    // instead of handing it to the pool and back. Nothing in this process has used rayon yet,
    // so it joins; were the pool built already, steps would only be handed off as before.
    let _membership = greenbench_models::join_compute_pool();
    let fail = |message: String| {
        emit(&WorkerEvent::Failed { message });
        2
    };
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        return fail(format!("reading the request on stdin: {e}"));
    }
    serve_request(&input, open_meter)
}

/// Serves the run of a request already read (`input`, its JSON): as [`serve`] after reading
/// stdin.
pub fn serve_request(
    input: &str,
    open_meter: impl FnOnce(&WorkerRequest) -> Result<Box<dyn PhaseMeter>, BoxError>,
) -> u8 {
    die_with_parent();
    let fail = |message: String| {
        emit(&WorkerEvent::Failed { message });
        2
    };
    let req: WorkerRequest = match serde_json::from_str(input) {
        Ok(r) => r,
        Err(e) => {
            return fail(format!(
                "the worker request is not valid JSON ({e}); `greenbench worker` is started by `greenbench sweep`"
            ))
        }
    };
    let mut meter = match open_meter(&req) {
        Ok(m) => m,
        Err(e) => return fail(format!("energy meter: {e}")),
    };
    run_worker(&req, meter.as_mut()) as u8
}
