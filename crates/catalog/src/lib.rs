//! greenbench-catalog: what the model zoo and the data registry tell a sweep before any worker
//! runs — the [`ZooCatalog`] a config is validated against (models, datasets, devices, fit,
//! files present) and the [`Planner`] of how long its runs take. The cli uses both (`sweep`,
//! `status`, `slurm`, `predict`); a worker process needs neither.

mod catalog;
mod input;
mod plan;

pub use catalog::{check_device, ZooCatalog};
pub use input::dataset_input;
pub use plan::{basis, Planner};
