//! greenbench-models: the model zoo, optimizers and training steps, written with candle.
//!
//! Every model implements [`Model`]; the [`registry`] maps config names to builders, read from one
//! table of model definitions; the [`train::Trainer`] runs one batch at a time on plain arrays so
//! the runner needs no candle.

mod architecture;
mod cnn;
mod complexity;
mod definitions;
mod error;
mod init;
mod input;
mod measured_throughput;
mod mlp;
mod model;
mod ops;
mod optim;
mod pool;
mod registry;
mod sched_slice;
mod train;
mod transformer;

pub use complexity::param_count;
pub use error::ModelError;
pub use init::{init_varmap, is_buffer};
pub use measured_throughput::{training_samples_per_s, MACHINE};
pub use mlp::{width_problem, MAX_LAYERS, MAX_WIDTH};
pub use model::Model;
/// Kernel switches and the convolution entry point, for tests, examples and host reports.
pub use ops::conv::{conv2d, conv_path, set_fast_3x3_paths, ConvParams};
pub use ops::{gemm_width, set_reference_ops, simd_width};
pub use pool::{join_compute_pool, pool_spin, PoolMembership, PoolSpin, POOL_SPIN_ENV};
pub use registry::{build, entries, family_reference, lookup};
pub use sched_slice::{sched_slice_outcome, SliceOutcome, DEFAULT_SCHED_SLICE, SCHED_SLICE_ENV};
pub use train::trainable_vars;
pub use train::{
    describe, list, open_device, EvalStats, InputSpec, ModelEntry, ModelSummary, StepStats,
    TrainSettings, Trainer,
};
