//! greenbench-worker: what runs inside a worker process (`greenbench worker`, started by the
//! sweep once per run): read the request on stdin, load the data, build the model, warm up, train
//! epoch by epoch inside meter windows, evaluate, and report [`WorkerEvent`]s on stdout. The
//! meter comes in through [`greenbench_core::PhaseMeter`], so this crate names no energy source.
//!
//! Also what the model zoo and the data registry tell a sweep before it runs: the [`catalog`] a
//! config is validated against, and the [`plan`] of how long its runs take.
//!
//! [`WorkerEvent`]: greenbench_core::protocol::WorkerEvent

pub mod catalog;
mod error;
pub mod execute;
pub mod plan;
pub mod serve;

pub use catalog::ZooCatalog;
pub use error::WorkerError;
pub use execute::{emit, run_worker};
pub use serve::serve;
