//! The parent ↔ worker protocol: a [`WorkerRequest`] as JSON on the worker's stdin, then
//! [`WorkerEvent`]s as JSON lines on its stdout.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

use crate::record::{EpochRecord, InferenceRecord, ModelInfo, TrainRecord};
use crate::RunSpec;

/// Environment variable a test sets to make a worker fail on purpose: `KIND:MODEL`, where KIND is
/// `panic`, `abort`, `nan` (the loss becomes non-finite) or `hang` (the worker sleeps forever).
/// Only runs of MODEL are affected. It exists to prove crash isolation end to end.
pub const FAULT_ENV: &str = "GREENBENCH_INJECT_FAULT";

/// How long, in microseconds, a worker's idle compute threads spin during a step before they
/// yield their core (0: they yield at once, rayon's default; unset or `auto`: [`AUTO_SPIN_US`]
/// while the CPU pressure stays below [`QUIET_PRESSURE`], else at once). Read by the models'
/// thread pool; the sweep records its value in the manifest's environment.
pub const POOL_SPIN_ENV: &str = "GREENBENCH_POOL_SPIN_US";

/// The spin, in microseconds, of [`POOL_SPIN_ENV`]'s automatic setting on a quiet machine: long
/// enough to span the gaps between a short step's parallel loops (MLP inference, LeNet).
pub const AUTO_SPIN_US: u64 = 300;

/// The CPU pressure (Linux's `/proc/pressure/cpu`: the share of wall time some runnable task
/// waited for a core) up to which [`POOL_SPIN_ENV`]'s automatic setting spins.
pub const QUIET_PRESSURE: f64 = 0.05;

/// The scheduler time slice, in microseconds, a worker asks Linux (6.12 or later) to give its
/// compute threads (unset: 100, the kernel's smallest; 0: the kernel's default). Read by the
/// models' thread pool; the sweep records its value in the manifest's environment.
pub const SCHED_SLICE_ENV: &str = "GREENBENCH_SCHED_SLICE_US";

/// What the parent sends to a worker.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorkerRequest {
    /// Sweep name.
    pub sweep: String,
    /// The run.
    pub spec: RunSpec,
    /// Where the 10 Hz power trace goes (`traces/<run_id>.csv`).
    pub trace_path: Option<PathBuf>,
    /// Where datasets live (`datasets/`).
    pub datasets_root: PathBuf,
    /// Meter settings, opaque to the runner (built by the binary).
    pub meter: serde_json::Value,
    /// Sampler frequency in Hz.
    pub sampler_hz: f64,
    /// Folder of training checkpoints (a halving search): a run that continues an earlier one
    /// ([`crate::RunSpec::continues`]) reads `<dir>/<that run id>.safetensors`, and every run
    /// writes `<dir>/<its run id>.safetensors` after training. `None`: no checkpoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint_dir: Option<PathBuf>,
}

/// How a run that reached its end ended, as the worker says (`ok` or `diverged` in JSON).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Trained and evaluated.
    #[default]
    Ok,
    /// The loss became non-finite; training stopped there.
    Diverged,
}

/// A phase of a worker's run (`warmup`, `train`, `inference` in JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Steps on a throw-away copy of the model, outside every meter window.
    Warmup,
    /// The metered training epochs.
    Train,
    /// The metered pass over the test set.
    Inference,
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Phase::Warmup => "warmup",
            Phase::Train => "train",
            Phase::Inference => "inference",
        })
    }
}

/// Everything a worker reports about a run that reached its end.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WorkerResult {
    /// How it ended.
    pub status: Outcome,
    /// Why it diverged.
    pub error: Option<String>,
    /// Model complexity.
    pub model: Option<ModelInfo>,
    /// Training phase (raw energy; the parent adds net energy).
    pub train: Option<TrainRecord>,
    /// Inference phase (raw energy).
    pub inference: Option<InferenceRecord>,
    /// Which source metered which component.
    pub meters: std::collections::BTreeMap<String, String>,
    /// GPU name if one was used.
    pub gpu: Option<String>,
    /// The external command the run executed, if it was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<crate::command_record::CommandRecord>,
}

/// One line of a worker's stdout.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum WorkerEvent {
    /// Data and model are ready.
    Loaded {
        /// Training samples.
        train_samples: u64,
        /// Test samples inference will run over (after `test_subset`, before `replicate_test`).
        test_samples: u64,
        /// Validation samples held out of the training set.
        #[serde(default)]
        validation_samples: u64,
        /// The model's family.
        family: crate::choices::Family,
        /// Complexity.
        model: ModelInfo,
        /// Optimizer steps per training epoch.
        batches_per_epoch: usize,
    },
    /// A phase started.
    Phase {
        /// Which.
        phase: Phase,
    },
    /// Periodic progress within an epoch (about twice a second).
    Progress {
        /// 1-based epoch.
        epoch: usize,
        /// Batches done in this epoch.
        batch: usize,
        /// Batches per epoch.
        batches: usize,
        /// Training samples per second so far in this epoch.
        samples_per_s: f64,
        /// Mean loss so far in this epoch.
        loss: f64,
        /// Live total power in watts, if the sampler has one.
        watts: Option<f64>,
    },
    /// An epoch ended.
    Epoch(EpochRecord),
    /// The energy of the epoch just reported, per component: what the parent keeps of a run
    /// it kills (time limit) or that dies, so energy spent is recorded whatever the outcome.
    EpochEnergy {
        /// 1-based epoch.
        epoch: usize,
        /// Raw energy of the epoch's window.
        energy: crate::ComponentEnergy,
    },
    /// The run reached its end (ok or diverged).
    Finished(Box<WorkerResult>),
    /// The run could not start or failed cleanly (missing dataset, bad spec).
    Failed {
        /// What went wrong and what to do.
        message: String,
    },
}
