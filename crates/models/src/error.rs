//! The error type of the model zoo.

use thiserror::Error;

/// Everything that can go wrong building, training, saving or loading a model.
#[derive(Debug, Error)]
pub enum ModelError {
    /// The name is not in the registry.
    #[error("unknown model `{name}`; run `greenbench models` to list the zoo (MLPs may also be written `mlp-<w1>x<w2>…`, e.g. `mlp-512x256`)")]
    UnknownModel {
        /// The name asked for.
        name: String,
    },
    /// The dataset's samples do not fit what the model needs.
    #[error("model `{model}` needs {needs}, but the dataset gives {got}; pick a model of a matching family or another dataset")]
    InputMismatch {
        /// The model's config name.
        model: String,
        /// What the model accepts.
        needs: String,
        /// What it was given.
        got: String,
    },
    /// A setting (optimizer, schedule, batch size, …) is not usable.
    #[error("invalid setting `{field}`: {message}")]
    Setting {
        /// The setting's name.
        field: &'static str,
        /// What is wrong and what is accepted.
        message: String,
    },
    /// A batch handed to the trainer has the wrong size or content.
    #[error("bad batch: {0}")]
    Batch(String),
    /// The device string cannot be used.
    #[error("{0}")]
    Device(String),
    /// A checkpoint could not be serialised, or the file read is not a checkpoint of this
    /// trainer.
    #[error("checkpoint {path}: {message}")]
    Checkpoint {
        /// The file.
        path: String,
        /// What failed.
        message: String,
    },
    /// A checkpoint file could not be read or written.
    #[error(transparent)]
    Io(#[from] greenbench_core::IoError),
    /// An error inside candle (shape mismatch, out of memory, …).
    #[error("candle: {0}")]
    Candle(#[from] candle_core::Error),
}
