//! greenbench-models: the model zoo, optimizers and training steps, written with candle.
//!
//! Every model implements [`Model`]; the [`registry`] maps config names to builders, read from one
//! table of model definitions; the [`train::Trainer`] runs one batch at a time on plain arrays so
//! the runner needs no candle.

mod architecture;
pub mod cnn;
pub mod complexity;
mod definitions;
pub mod error;
pub mod init;
pub mod input;
pub mod measured_throughput;
pub mod mlp;
pub mod model;
pub mod ops;
pub mod optim;
pub mod registry;
pub mod train;
pub mod transformer;

pub use error::ModelError;
pub use model::Model;
pub use train::{
    describe, list, open_device, EvalStats, InputSpec, ModelEntry, ModelSummary, StepStats,
    TrainSettings, Trainer,
};
