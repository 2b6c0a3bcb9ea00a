//! The specification of one run and its stable run id.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::choices::{Optimizer, Precision, Schedule};
use crate::device::DeviceName;

/// Everything that defines one run of a sweep. Two runs with equal specs are the same run.
///
/// Optional fields are left out of the canonical JSON when `None`, so adding an optional axis later
/// does not change the ids of existing runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSpec {
    /// Model name from the zoo (`mlp-small`, `resnet18`, …).
    pub model: String,
    /// Dataset name from the registry (`fashion-mnist`, …).
    pub dataset: String,
    /// User-supplied dataset location (CIFAR-10), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_path: Option<String>,
    /// Train on N training samples only (stratified by class, the same for every run), if set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subset: Option<usize>,
    /// Fraction of the (subset's) training samples held out, stratified, as the validation split
    /// that per-epoch accuracy is measured on; `None`: nothing held out, no per-epoch accuracy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<f64>,
    /// Test samples used for test accuracy and inference (stratified, the same images for every
    /// run), if fewer than the whole test split.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_subset: Option<usize>,
    /// Mini-batch size (samples).
    pub batch_size: usize,
    /// Peak learning rate.
    pub lr: f64,
    /// The update rule (written `sgd`, `sgd-nesterov`, `adamw`).
    pub optimizer: Optimizer,
    /// SGD momentum μ in [0, 1) (AdamW ignores it: β = (0.9, 0.999)).
    pub momentum: f64,
    /// Weight decay coefficient (≥ 0; coupled for SGD, decoupled for AdamW).
    pub weight_decay: f64,
    /// How the learning rate falls from `lr` (written `cosine`, `cosine-step`, `step`,
    /// `constant`).
    pub schedule: Schedule,
    /// Epochs over which the learning rate rises linearly from `lr / steps` to `lr` at the start
    /// of the run, step by step, before the schedule takes over (a config's
    /// `lr_warmup_epochs`); `None`: no warm-up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lr_warmup_epochs: Option<f64>,
    /// Training samples (the first of each epoch's order) over which the batch-norm statistics
    /// are re-estimated under the weights at the end of every epoch, inside its training window
    /// (a config's `bn_recalibration_samples`); `None`: the running averages training kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bn_recalibration_samples: Option<usize>,
    /// Training epochs.
    pub epochs: usize,
    /// Where it trains (written `cpu` or `cuda:N`).
    pub device: DeviceName,
    /// Compute threads (RAYON_NUM_THREADS for candle on CPU).
    pub threads: usize,
    /// Seed for initialisation and shuffling.
    pub seed: u64,
    /// Repeat index, 0-based.
    pub repeat: usize,
    /// Numeric type of training (written `f32`).
    pub precision: Precision,
    /// Batches run before metering starts.
    pub warmup_batches: usize,
    /// How many times the test set is replayed for inference metering.
    pub replicate_test: usize,
    /// GPU power limit in watts set before the run, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power_limit_w: Option<f64>,
    /// The earlier run (a search's previous rung) whose checkpoint this run continues: its epochs
    /// are not trained again, so a promoted configuration's energy is counted once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continues: Option<Continuation>,
    /// Epochs the learning-rate schedule spans when it is more than `epochs` (a halving search's
    /// `max_epochs`, so every rung follows the one schedule of the longest run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule_epochs: Option<usize>,
    /// Wall-clock limit of the run in seconds, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_s: Option<f64>,
    /// The external command this run executes instead of a model of greenbench's zoo (a
    /// config's `[workload]`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<crate::external_run::ExternalRun>,
}

/// Where a run continues from: an earlier run of the same configuration and how far it trained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Continuation {
    /// Run id of the earlier run, whose checkpoint holds the state after `epochs`.
    pub run_id: String,
    /// Epochs that run trained; this run trains epochs `epochs + 1 ..= its own epochs`.
    pub epochs: usize,
}

impl RunSpec {
    /// The first epoch this run trains: 1, or one past the run it continues.
    pub fn first_epoch(&self) -> usize {
        self.continues.as_ref().map_or(1, |c| c.epochs + 1)
    }

    /// A short stable id: the first 12 hex digits of the SHA-256 of the canonical JSON of the
    /// spec minus `timeout_s` (a limit does not change what is measured).
    pub fn run_id(&self) -> String {
        let mut s = self.clone();
        s.timeout_s = None;
        // Serializing a struct of plain fields cannot fail.
        let json = serde_json::to_string(&s).unwrap_or_default();
        let digest = Sha256::digest(json.as_bytes());
        digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn spec() -> RunSpec {
        RunSpec {
            model: "mlp-small".into(),
            dataset: "fashion-mnist".into(),
            dataset_path: None,
            subset: None,
            validation: None,
            test_subset: None,
            batch_size: 128,
            lr: 0.01,
            optimizer: Optimizer::Sgd,
            momentum: 0.9,
            weight_decay: 5e-4,
            schedule: Schedule::Cosine,
            lr_warmup_epochs: None,
            bn_recalibration_samples: None,
            epochs: 3,
            device: DeviceName::Cpu,
            threads: 2,
            seed: 0,
            repeat: 0,
            precision: Precision::F32,
            warmup_batches: 5,
            replicate_test: 1,
            power_limit_w: None,
            continues: None,
            schedule_epochs: None,
            timeout_s: None,
            workload: None,
        }
    }

    #[test]
    fn run_id_is_stable_and_sensitive() {
        let a = spec();
        assert_eq!(a.run_id(), a.clone().run_id());
        assert_eq!(a.run_id().len(), 12);
        let mut b = a.clone();
        b.batch_size = 64;
        assert_ne!(a.run_id(), b.run_id());
        let mut c = a.clone();
        c.timeout_s = Some(10.0);
        assert_eq!(
            a.run_id(),
            c.run_id(),
            "a time limit is not part of the identity"
        );
    }

    #[test]
    fn run_id_pinned() {
        // Pinned so that an accidental change of the canonical form (which would break --resume
        // of existing result folders) fails this test.
        assert_eq!(spec().run_id(), "1887e35f8978");
        let json = serde_json::to_string(&spec()).unwrap();
        assert_eq!(
            json,
            "{\"model\":\"mlp-small\",\"dataset\":\"fashion-mnist\",\"batch_size\":128,\
             \"lr\":0.01,\"optimizer\":\"sgd\",\"momentum\":0.9,\"weight_decay\":0.0005,\
             \"schedule\":\"cosine\",\"epochs\":3,\"device\":\"cpu\",\"threads\":2,\"seed\":0,\
             \"repeat\":0,\"precision\":\"f32\",\"warmup_batches\":5,\"replicate_test\":1}"
        );
    }
}
