//! greenbench-worker: what runs inside a worker process (`greenbench worker`, started by the
//! sweep once per run): read the request on stdin, load the data, build the model, warm up, train
//! epoch by epoch inside meter windows, evaluate, and report [`WorkerEvent`]s on stdout. The
//! meter comes in through [`greenbench_core::PhaseMeter`], so this crate names no energy source.
//! What a sweep needs before any worker runs (the catalog, duration estimates) is in
//! greenbench-catalog.
//!
//! [`WorkerEvent`]: greenbench_core::WorkerEvent

mod error;
mod execute;
mod fault;
mod serve;

pub use error::WorkerError;
pub use execute::{emit, run_worker};
pub use serve::{serve, serve_request};
