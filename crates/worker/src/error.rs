//! Why a run could not go on inside its worker: what the parent records as the run's `error`
//! (status `failed`), each message saying what went wrong and where.

use greenbench_core::BoxError;

/// An error of a worker's run.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The dataset could not be loaded (missing files, a bad subset).
    #[error("{0}")]
    Data(#[from] greenbench_data::DataError),
    /// The model could not be built, stepped, evaluated or synchronised.
    #[error("{0}")]
    Model(#[from] greenbench_models::ModelError),
    /// The energy meter could not open a window or start its trace.
    #[error("energy meter: {0}")]
    Meter(BoxError),
    /// A halving search's checkpoint could not be read or written.
    #[error("checkpoint {path}: {what}")]
    Checkpoint {
        /// The checkpoint file.
        path: std::path::PathBuf,
        /// What failed, and what to do.
        what: String,
    },
}
