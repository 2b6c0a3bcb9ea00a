//! What a configuration may name: models, datasets and devices.
//!
//! The core crate does not know the model zoo or the data registry; the binary passes an
//! implementation of [`Catalog`] to [`crate::SweepConfig::validate`].

use crate::choices::Family;
use crate::device::DeviceName;
use crate::error::BoxError;

/// What a catalog knows of a dataset's size without loading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DatasetSizes {
    /// Samples of the full training split (before any `subset`).
    pub train: usize,
    /// Samples of the full test split (before any `test_subset`).
    pub test: usize,
    /// Classes the splits are stratified by; `None` for a text dataset, whose validation split
    /// is the tail of its training windows.
    pub classes: Option<usize>,
}

/// The names a sweep configuration is checked against.
pub trait Catalog {
    /// Known model names (as written in configs).
    fn models(&self) -> Vec<String>;
    /// `Ok` if `name` is a model this build can construct, else the accepted names. The default
    /// checks membership in [`Catalog::models`] (an empty list accepts everything).
    fn check_model(&self, name: &str) -> Result<(), BoxError> {
        let models = self.models();
        if models.is_empty() || models.iter().any(|m| m == name) {
            Ok(())
        } else {
            Err(format!("accepted: {} (see `greenbench models`)", models.join(", ")).into())
        }
    }
    /// The family of a model, if known.
    fn family(&self, _model: &str) -> Option<Family> {
        None
    }
    /// Known dataset names.
    fn datasets(&self) -> Vec<String>;
    /// `Ok` if this build and machine can run on `device`, else why not (built without CUDA, no
    /// such GPU).
    fn check_device(&self, device: DeviceName) -> Result<(), BoxError>;
    /// `Ok` if `model` can train on `dataset` (input shape and kind match), else why not.
    fn check_combination(&self, _model: &str, _dataset: &str) -> Result<(), BoxError> {
        Ok(())
    }
    /// The sizes of `dataset`'s splits and its classes, if known without loading it; used to
    /// refuse a `subset` or `test_subset` larger than its split and a `validation` fraction that
    /// holds out too few samples.
    fn dataset_sizes(&self, _dataset: &str) -> Option<DatasetSizes> {
        None
    }
    /// Training samples of `dataset` (before any `subset`), if known without loading it; used to
    /// refuse a batch (or a `subset`) larger than the training set. The default reads
    /// [`Catalog::dataset_sizes`].
    fn train_samples(&self, dataset: &str) -> Option<usize> {
        self.dataset_sizes(dataset).map(|s| s.train)
    }
    /// Predicted wall seconds of a run on this machine (what `--dry-run` prints), if known; a
    /// search's budget refuses runs whose upper prediction would not fit what is left.
    fn run_seconds(&self, _spec: &crate::RunSpec) -> Option<f64> {
        None
    }
    /// The most power a run may draw on this machine, watts (CPU and DRAM at full load by the
    /// meter's own figures, plus the GPU's power limit for a GPU run), if known: a search's
    /// energy and carbon budgets predict a run's energy from it before any run has been measured.
    fn run_watts(&self, _spec: &crate::RunSpec) -> Option<f64> {
        None
    }
    /// `Ok` if the dataset's files are present (or given by `path`), else which file is missing
    /// and the command that fetches it.
    fn check_dataset_present(&self, _dataset: &str, _path: Option<&str>) -> Result<(), BoxError> {
        Ok(())
    }
}

/// A catalog that accepts every model, dataset and device; for tests and tools that only parse.
#[derive(Debug, Default, Clone, Copy)]
pub struct AcceptAll;

impl Catalog for AcceptAll {
    fn models(&self) -> Vec<String> {
        Vec::new()
    }
    fn datasets(&self) -> Vec<String> {
        Vec::new()
    }
    fn check_device(&self, _device: DeviceName) -> Result<(), BoxError> {
        Ok(())
    }
}
