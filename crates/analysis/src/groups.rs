//! Grouping runs into configurations (repeats of one model under one setting) and choosing the
//! setting under which models are compared, as the paper does (one point per model).

use std::collections::BTreeMap;

use greenbench_core::record::RunRecord;

use crate::stats;

/// Everything of a run's setting except the model, seed and repeat.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Context {
    /// Dataset name.
    pub dataset: String,
    /// Samples per optimizer step.
    pub batch_size: usize,
    /// Optimizer name as in the spec (`sgd`, `sgd-nesterov`, `adamw`).
    pub optimizer: String,
    /// Learning rate, formatted (exact for equality).
    pub lr: String,
    /// Epochs each run trained (its own, for a later search rung).
    pub epochs: usize,
    /// `cpu` or `cuda:N`.
    pub device: String,
    /// Compute threads of each run (`RAYON_NUM_THREADS`).
    pub threads: usize,
    /// Numeric precision of training (`f32`, the only one today).
    pub precision: String,
    /// Training samples.
    pub train_samples: u64,
    /// An external command's own axes (`[workload.axes]`), `width=2`; empty for other runs.
    pub command_axes: String,
}

impl Context {
    /// The context of a run.
    pub fn of(r: &RunRecord) -> Context {
        let s = &r.spec;
        Context {
            dataset: s.dataset.clone(),
            batch_size: s.batch_size,
            optimizer: s.optimizer.to_string(),
            lr: greenbench_core::compact_number(s.lr),
            epochs: s.epochs,
            device: s.device.to_string(),
            threads: s.threads,
            precision: s.precision.to_string(),
            train_samples: r.train_samples,
            command_axes: s
                .workload
                .as_ref()
                .map(|w| {
                    w.axes
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default(),
        }
    }
}

impl std::fmt::Display for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}, batch {}, {} lr {}, {} epochs, {} × {} threads",
            self.dataset,
            self.batch_size,
            self.optimizer,
            self.lr,
            self.epochs,
            self.device,
            self.threads
        )?;
        if !self.command_axes.is_empty() {
            write!(f, ", {}", self.command_axes)?;
        }
        Ok(())
    }
}

/// Mean, sample standard deviation and count of one figure over a group's runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Arithmetic mean of the values, in their unit.
    pub mean: f64,
    /// Sample standard deviation; `None` for one value.
    pub sd: Option<f64>,
    /// How many values (runs) the mean is over.
    pub n: usize,
}

/// The runs of one model under one context (its repeats and seeds).
#[derive(Debug, Clone)]
pub struct ConfigGroup<'a> {
    /// Model name.
    pub model: String,
    /// Everything of the runs' specs but the model and the repeat: what the group compares at.
    pub context: Context,
    /// The group's records (repeats and seeds of the one configuration).
    pub runs: Vec<&'a RunRecord>,
}

impl<'a> ConfigGroup<'a> {
    /// Summary of `f` over the runs where it is present.
    pub fn stat(&self, f: impl Fn(&RunRecord) -> Option<f64>) -> Option<Summary> {
        let v: Vec<f64> = self
            .runs
            .iter()
            .filter_map(|r| f(r))
            .filter(|v| v.is_finite())
            .collect();
        Some(Summary {
            mean: stats::mean(&v)?,
            sd: stats::std_dev(&v),
            n: v.len(),
        })
    }

    /// Mean of `f`.
    pub fn mean(&self, f: impl Fn(&RunRecord) -> Option<f64>) -> Option<f64> {
        self.stat(f).map(|s| s.mean)
    }

    /// The first run (for model figures shared by all runs).
    pub fn first(&self) -> Option<&'a RunRecord> {
        self.runs.first().copied()
    }
}

/// Groups runs by (context, model), sorted by context then model.
pub fn config_groups<'a>(runs: &[&'a RunRecord]) -> Vec<ConfigGroup<'a>> {
    let mut map: BTreeMap<(Context, String), Vec<&'a RunRecord>> = BTreeMap::new();
    for r in runs {
        map.entry((Context::of(r), r.spec.model.clone()))
            .or_default()
            .push(r);
    }
    map.into_iter()
        .map(|((context, model), runs)| ConfigGroup {
            model,
            context,
            runs,
        })
        .collect()
}

/// The context with the most models (then most runs, then the first in order): the setting under
/// which models are compared one point each.
pub fn reference_context(groups: &[ConfigGroup]) -> Option<Context> {
    let mut by: BTreeMap<&Context, (usize, usize)> = BTreeMap::new();
    for g in groups {
        let e = by.entry(&g.context).or_default();
        e.0 += 1;
        e.1 += g.runs.len();
    }
    // max_by_key keeps the last maximum; iterate in reverse so ties go to the first context.
    by.into_iter()
        .rev()
        .max_by_key(|(_, v)| *v)
        .map(|(c, _)| c.clone())
}

/// The groups of the reference context: one per model.
pub fn per_model<'g, 'a>(
    groups: &'g [ConfigGroup<'a>],
) -> (Option<Context>, Vec<&'g ConfigGroup<'a>>) {
    let ctx = reference_context(groups);
    let v = groups
        .iter()
        .filter(|g| Some(&g.context) == ctx.as_ref())
        .collect();
    (ctx, v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_of_an_external_command_differing_in_its_own_axes_are_different_settings() {
        let spec = |width: i64| {
            let text = format!(
                "name = \"w\"\nmodel = \"m\"\ndataset = \"d\"\nbatch_size = 8\n[workload]\n\
                 command = [\"run\", \"{{width}}\"]\n[workload.axes]\nwidth = {width}\n"
            );
            greenbench_core::SweepConfig::parse(&text, "w.toml".as_ref())
                .unwrap()
                .expand()
                .remove(0)
        };
        let a = Context::of(&RunRecord::new("w", spec(1)));
        let b = Context::of(&RunRecord::new("w", spec(2)));
        assert_ne!(a, b, "not repeats of one configuration");
        assert!(a.to_string().ends_with(", width=1"), "{a}");
    }
}
