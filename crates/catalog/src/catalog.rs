//! The catalog a sweep config is validated against: the model zoo, the data registry and the
//! devices this build can use.

use std::path::{Path, PathBuf};

use greenbench_core::{BoxError, Catalog, DatasetSizes, DeviceName, Family};

use crate::input::dataset_input;
use crate::plan::Planner;

/// Models from the zoo, datasets from the registry (present or not under `datasets_root`).
pub struct ZooCatalog {
    /// Where datasets live.
    pub datasets_root: PathBuf,
    /// Run-duration predictions (each model's size is worked out once).
    pub planner: std::sync::Mutex<Planner>,
    /// The most power this machine's CPU and DRAM can be charged for, watts, by the meter's own
    /// figures (see [`Catalog::run_watts`]); `None` when not given.
    pub machine_watts: Option<f64>,
    /// Whether a dataset must be fetched already (a sweep) or may be fetched later (a dry
    /// run, which loads nothing).
    pub require_present: bool,
}

impl ZooCatalog {
    /// The catalog of datasets under `datasets_root`.
    pub fn new(datasets_root: PathBuf) -> ZooCatalog {
        ZooCatalog {
            datasets_root,
            planner: Default::default(),
            machine_watts: None,
            require_present: true,
        }
    }

    /// The same, accepting datasets that are not fetched yet (a dry run loads nothing).
    pub fn accepting_absent_datasets(mut self) -> ZooCatalog {
        self.require_present = false;
        self
    }

    /// The same, with the machine's CPU and DRAM power bound for budget predictions.
    pub fn with_machine_watts(mut self, watts: f64) -> ZooCatalog {
        self.machine_watts = Some(watts);
        self
    }
}

/// Checks a device against this build: the CPU, or a GPU when built with the `cuda` feature.
pub fn check_device(device: DeviceName) -> Result<(), BoxError> {
    match device {
        DeviceName::Cpu => Ok(()),
        DeviceName::Cuda(_) if cfg!(feature = "cuda") => Ok(()),
        DeviceName::Cuda(_) => Err(
            "this greenbench was built without CUDA; build it with scripts/build-cuda.sh \
             (cargo build --release --features cuda) on a machine with an NVIDIA GPU"
                .into(),
        ),
    }
}

impl Catalog for ZooCatalog {
    fn run_seconds(&self, spec: &greenbench_core::RunSpec) -> Option<f64> {
        self.planner.lock().ok()?.run_seconds(spec)
    }

    /// The machine's CPU and DRAM bound, plus the GPU's power limit for a GPU run (unknown
    /// without one: a GPU run's power is not predicted from the CPU's figures).
    fn run_watts(&self, spec: &greenbench_core::RunSpec) -> Option<f64> {
        let machine = self.machine_watts?;
        match spec.device {
            DeviceName::Cpu => Some(machine),
            DeviceName::Cuda(_) => spec.power_limit_w.map(|g| g + machine),
        }
    }

    fn models(&self) -> Vec<String> {
        greenbench_models::entries()
            .into_iter()
            .map(|e| e.name)
            .collect()
    }

    fn check_model(&self, name: &str) -> Result<(), BoxError> {
        if greenbench_models::lookup(name).is_ok() {
            return Ok(());
        }
        let why = match greenbench_models::width_problem(name) {
            Some(why) => format!(
                "{why} (custom MLPs: mlp-<w1>x<w2>…, at most {} layers of at most {} units)",
                greenbench_models::MAX_LAYERS,
                greenbench_models::MAX_WIDTH
            ),
            None => format!(
                "accepted: {}, or mlp-<w1>x<w2>… (see `greenbench models`)",
                self.models().join(", ")
            ),
        };
        Err(why.into())
    }

    fn family(&self, model: &str) -> Option<Family> {
        greenbench_models::lookup(model).ok().map(|e| e.family)
    }

    fn datasets(&self) -> Vec<String> {
        greenbench_data::names()
            .into_iter()
            .map(str::to_string)
            .collect()
    }

    fn check_device(&self, device: DeviceName) -> Result<(), BoxError> {
        check_device(device)
    }

    fn check_combination(&self, model: &str, dataset: &str) -> Result<(), BoxError> {
        let (Ok(entry), Some(input)) = (greenbench_models::lookup(model), dataset_input(dataset))
        else {
            return Ok(()); // unknown names are reported on their own
        };
        Ok(entry.requires.check(model, &input)?)
    }

    fn dataset_sizes(&self, dataset: &str) -> Option<DatasetSizes> {
        let info = greenbench_data::info(dataset)?;
        Some(DatasetSizes {
            train: info.train_len,
            test: info.test_len,
            classes: (!info.is_text()).then_some(info.classes),
        })
    }

    fn check_dataset_present(&self, dataset: &str, path: Option<&str>) -> Result<(), BoxError> {
        if !self.require_present {
            return Ok(());
        }
        greenbench_data::locate(dataset, &self.datasets_root, path.map(Path::new))?;
        Ok(())
    }
}
