//! How long a sweep will take, before it runs: each run's training, evaluation, warm-up and
//! start-up from the zoo's measured training throughput (`greenbench_models::measured_throughput`),
//! scaled by MACs and threads, plus the idle baselines. A planning figure: `sweep` prints it
//! beside the time the sweep really took.

use std::collections::HashMap;

use greenbench_core::{DeviceName, Family, RunSpec, SweepConfig};
use greenbench_models::family_reference;
use greenbench_models::{training_samples_per_s, MACHINE};

use crate::input::dataset_input;

/// Seconds a worker spends starting and loading its data before training, measured on the
/// quick sweep (Fashion-MNIST, 60 000 images).
const START_S: f64 = 2.0;
/// Evaluation (forward pass, no gradient) runs this many times faster than training, per
/// sample: a forward pass is about a third of a training step's work.
const EVAL_SPEEDUP: f64 = 3.0;

/// Where the estimate comes from, for the dry run's footer.
pub fn basis() -> String {
    format!(
        "from every model's training throughput measured on {MACHINE}, scaled by MACs and threads; \
         expect ±50 % on other machines"
    )
}

/// A model on a dataset: family, MACs per sample, training and test samples.
type Size = (Family, u64, usize, usize);

/// Estimates run durations; caches each (model, dataset)'s size.
#[derive(Default)]
pub struct Planner {
    /// (model, dataset) → its size, `None` when it cannot be built.
    sizes: HashMap<(String, String), Option<Size>>,
}

impl Planner {
    /// Seconds one run takes, `None` when unknown (a GPU run, an unknown dataset).
    pub fn run_seconds(&mut self, spec: &RunSpec) -> Option<f64> {
        if spec.device != DeviceName::Cpu {
            return None; // no GPU throughput is measured
        }
        let key = (spec.model.clone(), spec.dataset.clone());
        let (family, macs, train, test) = (*self.sizes.entry(key).or_insert_with(|| {
            let input = dataset_input(&spec.dataset)?;
            let info = greenbench_data::info(&spec.dataset)?;
            let s = greenbench_models::describe(&spec.model, &input).ok()?;
            Some((s.family, s.macs_per_sample, info.train_len, info.test_len))
        }))?;
        // A model that was not measured (a custom MLP) runs at its family reference's MACs/s.
        let like = family_reference(family).unwrap_or(&spec.model);
        let sps = training_samples_per_s(&spec.model, like, macs, spec.batch_size, spec.threads)?;
        let kept = spec.subset.map_or(train, |s| s.min(train));
        let validation = (kept as f64 * spec.validation.unwrap_or(0.0)).round() as usize;
        let test = spec.test_subset.map_or(test, |s| s.min(test));
        // A search's later rung trains only the epochs past the run it continues.
        let epochs = spec.epochs + 1 - spec.first_epoch().min(spec.epochs);
        let trained = ((kept - validation) * epochs + spec.warmup_batches * spec.batch_size) as f64;
        let evaluated = (validation * epochs + test * spec.replicate_test) as f64;
        Some(START_S + trained / sps + evaluated / (sps * EVAL_SPEEDUP))
    }

    /// Seconds the given runs of `cfg` take, with the idle baseline before and after; `None`
    /// when a run's duration is unknown.
    pub fn sweep_seconds<'a>(
        &mut self,
        cfg: &SweepConfig,
        runs: impl IntoIterator<Item = &'a RunSpec>,
    ) -> Option<f64> {
        let mut total = 2.0 * cfg.idle_seconds.value;
        for s in runs {
            total += self.run_seconds(s)?;
        }
        Some(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use greenbench_core::{Optimizer, Precision, Schedule};

    fn spec(model: &str) -> RunSpec {
        RunSpec {
            model: model.into(),
            dataset: "fashion-mnist".into(),
            dataset_path: None,
            subset: Some(1000),
            validation: None,
            test_subset: Some(500),
            continues: None,
            schedule_epochs: None,
            batch_size: 64,
            lr: 0.01,
            optimizer: Optimizer::Sgd,
            momentum: 0.9,
            weight_decay: 5e-4,
            schedule: Schedule::Cosine,
            lr_warmup_epochs: None,
            bn_recalibration_samples: None,
            epochs: 2,
            device: DeviceName::Cpu,
            threads: 2,
            seed: 0,
            repeat: 0,
            precision: Precision::F32,
            warmup_batches: 5,
            replicate_test: 1,
            power_limit_w: None,
            timeout_s: None,
            workload: None,
        }
    }

    #[test]
    fn a_custom_mlp_is_planned_at_its_family_references_rate() {
        let mut p = Planner::default();
        // mlp-512x256 has mlp-medium's widths, so the same MACs; it is not measured, and
        // mlp-medium is the MLP family's reference.
        assert_eq!(family_reference(Family::Mlp), Some("mlp-medium"));
        let named = p.run_seconds(&spec("mlp-medium"));
        let custom = p.run_seconds(&spec("mlp-512x256"));
        assert!(named.is_some_and(|s| s > START_S), "{named:?}");
        assert_eq!(named, custom);
        let mut gpu = spec("mlp-medium");
        gpu.device = DeviceName::Cuda(0);
        assert_eq!(p.run_seconds(&gpu), None);
    }

    #[test]
    fn planning_needs_no_catalog() {
        // The catalog holds a planner; the planner must not lean back on the catalog.
        let needle = format!("crate::{}", "catalog");
        assert!(
            !include_str!("plan.rs").contains(&needle),
            "plan.rs names {needle}: take what both need from a module of its own"
        );
    }
}
