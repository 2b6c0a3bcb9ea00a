//! greenbench-models: the model zoo, optimizers and training steps, written with candle.
//!
//! Every model implements [`Model`]; the [`registry`] maps config names to builders; the
//! [`train::Trainer`] runs one batch at a time on plain arrays so the runner needs no candle.

pub mod cnn;
pub mod model;

pub use model::Model;
