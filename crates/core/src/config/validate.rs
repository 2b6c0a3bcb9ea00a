//! Checking a parsed config: values in range, names the catalog knows, excludes that name axes,
//! carbon settings that resolve; every error located by file, line, column and field.

use std::ops::Range;

use super::bounds::MIN_IDLE_SECONDS;
use super::raw::{key_in, line_col};
use super::{Located, PendingError, SweepConfig, AXES};
use crate::carbon::{config_dir, CarbonError};
use crate::catalog::Catalog;
use crate::compact_number::compact_number as show;
use crate::error::{ConfigError, CoreError};

/// Records an error at a located value (its field and span).
fn push<T>(errs: &mut Vec<PendingError>, at: &Located<T>, message: String, hint: Option<String>) {
    errs.push((at.field.clone(), at.span.clone(), message, hint));
}

/// Records an error at a field and span given apart.
fn pending(
    errs: &mut Vec<PendingError>,
    field: &str,
    span: &Option<Range<usize>>,
    message: String,
    hint: Option<String>,
) {
    errs.push((field.to_string(), span.clone(), message, hint));
}

impl SweepConfig {
    fn err(
        &self,
        field: &str,
        span: Option<Range<usize>>,
        message: String,
        hint: Option<String>,
    ) -> ConfigError {
        let (line, column) = match span {
            Some(s) => line_col(&self.text, s.start),
            None => (1, 1),
        };
        ConfigError {
            file: self.path.clone(),
            line,
            column,
            field: field.into(),
            message,
            hint,
        }
    }

    pub(super) fn collect(&self, errs: Vec<PendingError>) -> Result<(), CoreError> {
        let mut v: Vec<ConfigError> = errs
            .into_iter()
            .map(|(f, s, m, h)| self.err(&f, s, m, h))
            .collect();
        match v.len() {
            0 => Ok(()),
            1 => Err(CoreError::Config(v.remove(0))),
            _ => Err(CoreError::ConfigMany(v)),
        }
    }

    /// Checks values and names: empty axes, sizes ≤ 0, non-finite or non-positive rates, numbers
    /// above their bounds, subsets and validation splits the datasets cannot give, a value
    /// repeated in an axis, unknown models, datasets, devices, optimizers and schedules, malformed
    /// excludes, and — when all that holds — the model–dataset pairs, the datasets' files, and
    /// the grid itself (distinct run ids, every `[[exclude]]` removing some runs but not all).
    /// Reports every error found, each with file, line, column, field and the accepted values.
    pub fn validate(&self, catalog: &dyn Catalog) -> Result<(), CoreError> {
        let external = super::workload_checks::ExternalCatalog(catalog);
        let catalog: &dyn Catalog = if self.workload.is_some() {
            &external
        } else {
            catalog
        };
        let mut errs = Vec::new();
        self.check_workload(&mut errs);
        self.check_axes(&mut errs);
        self.check_settings(&mut errs);
        self.check_names(catalog, &mut errs);
        self.check_excludes(&mut errs);
        self.check_bounds(catalog, &mut errs);
        self.check_dataset_sizes(catalog, &mut errs);
        self.check_repeated_values(&mut errs);
        self.search_problems(&mut errs);
        if errs.is_empty() {
            self.check_catalog(catalog, &mut errs);
        }
        if errs.is_empty() {
            self.check_grid(&mut errs);
        }
        self.collect(errs)
    }

    /// Sizes, seeds, rates and power limits in range (an empty list is refused when the file is
    /// read).
    fn check_axes(&self, errs: &mut Vec<PendingError>) {
        for (ax, what) in [
            (&self.batch_size, "batch size"),
            (&self.epochs, "epochs"),
            (&self.threads, "threads"),
        ] {
            for &v in &ax.value {
                if v < 1 {
                    push(
                        errs,
                        ax,
                        format!("{what} must be at least 1, found {v}"),
                        None,
                    );
                }
            }
        }
        for &s in &self.seed.value {
            if s < 0 {
                push(
                    errs,
                    &self.seed,
                    format!("seed must be ≥ 0, found {s}"),
                    None,
                );
            }
        }
        for &lr in &self.lr.value {
            if !(lr.is_finite() && lr > 0.0) {
                push(
                    errs,
                    &self.lr,
                    format!(
                        "learning rate must be a positive number, found {}",
                        show(lr)
                    ),
                    None,
                );
            }
        }
        for &w in &self.power_limit_w.value {
            if !(w.is_finite() && w > 0.0) {
                push(
                    errs,
                    &self.power_limit_w,
                    format!("power limit must be positive watts, found {w}"),
                    None,
                );
            }
        }
    }

    /// The scalar settings (repeats, warm-up, idle, time limit, momentum, weight decay) and carbon.
    fn check_settings(&self, errs: &mut Vec<PendingError>) {
        for (v, what) in [
            (&self.repeats, "repeats"),
            (&self.replicate_test, "replicate_test"),
        ] {
            if v.value < 1 {
                push(
                    errs,
                    v,
                    format!("{what} must be at least 1, found {}", v.value),
                    None,
                );
            }
        }
        if self.warmup_batches.value < 0 {
            push(
                errs,
                &self.warmup_batches,
                format!(
                    "warmup_batches must be ≥ 0, found {}",
                    self.warmup_batches.value
                ),
                None,
            );
        }
        let idle = self.idle_seconds.value;
        if !(idle == 0.0 || idle.is_finite() && idle >= MIN_IDLE_SECONDS) {
            push(
                errs,
                &self.idle_seconds,
                format!(
                    "idle_seconds = {} is not 0 or at least {MIN_IDLE_SECONDS} second: the sampler \
                     (10 readings a second) and the RAPL energy counters need that long to resolve \
                     idle power",
                    show(idle)
                ),
                Some("give 0 for no idle baseline (net energy is then missing), or at least 1; the default is 5".into()),
            );
        }
        if let Some(t) = &self.run_timeout {
            if !(t.value.is_finite() && t.value > 0.0) {
                push(
                    errs,
                    t,
                    format!("run_timeout must be positive seconds, found {}", t.value),
                    None,
                );
            }
        }
        if !(0.0..1.0).contains(&self.momentum.value) {
            push(
                errs,
                &self.momentum,
                format!("momentum must be in [0, 1), found {}", self.momentum.value),
                None,
            );
        }
        if let Some(w) = &self.lr_warmup_epochs {
            if !(w.value.is_finite() && w.value >= 0.0) {
                push(
                    errs,
                    w,
                    format!(
                        "lr_warmup_epochs must be epochs ≥ 0, found {}",
                        show(w.value)
                    ),
                    Some("e.g. lr_warmup_epochs = 1 (0 or absent: no warm-up)".into()),
                );
            }
        }
        if let Some(n) = &self.bn_recalibration_samples {
            if n.value < 0 {
                push(
                    errs,
                    n,
                    format!(
                        "bn_recalibration_samples must be a number of training samples ≥ 0, \
                         found {}",
                        n.value
                    ),
                    Some("e.g. bn_recalibration_samples = 512 (0 or absent: none)".into()),
                );
            }
        }
        if !(self.weight_decay.value >= 0.0 && self.weight_decay.value.is_finite()) {
            push(
                errs,
                &self.weight_decay,
                format!(
                    "weight_decay must be ≥ 0, found {}",
                    self.weight_decay.value
                ),
                None,
            );
        }
        self.check_interference(errs);
        self.check_carbon(errs);
        self.check_lr_scaling(errs);
    }

    /// `interference_threshold` and `quiet_gate`: shares in (0, 1], a wait of finite seconds ≥ 0.
    fn check_interference(&self, errs: &mut Vec<PendingError>) {
        let share = |v: f64| v.is_finite() && v > 0.0 && v <= 1.0;
        let t = &self.interference_threshold;
        if !share(t.value) {
            push(
                errs,
                t,
                format!(
                    "interference_threshold must be a share of the machine in (0, 1], found {}",
                    show(t.value)
                ),
                Some("0.05 flags a run when other processes used more than 5 % of the machine's CPU time".into()),
            );
        }
        if let Some(g) = &self.quiet_gate {
            if !share(g.value.max_share) {
                push(
                    errs,
                    g,
                    format!(
                        "quiet_gate.max_share must be a share of the machine in (0, 1], found {}",
                        show(g.value.max_share)
                    ),
                    Some("e.g. quiet_gate = { max_share = 0.05, max_wait_s = 60 }".into()),
                );
            }
            if !(g.value.max_wait_s.is_finite() && g.value.max_wait_s >= 0.0) {
                push(
                    errs,
                    g,
                    format!(
                        "quiet_gate.max_wait_s must be seconds ≥ 0, found {}",
                        show(g.value.max_wait_s)
                    ),
                    Some("e.g. quiet_gate = { max_share = 0.05, max_wait_s = 60 }".into()),
                );
            }
        }
    }

    /// Intensity, PUE, and the country or hourly series of `[carbon]`; a number is located at
    /// its key.
    fn check_carbon(&self, errs: &mut Vec<PendingError>) {
        for (key, message) in self.carbon.value_problems() {
            let at = self
                .carbon_span
                .as_ref()
                .and_then(|s| key_in(&self.text, s, key))
                .or_else(|| self.carbon_span.clone());
            pending(
                errs,
                &format!("carbon.{key}"),
                &at,
                message,
                Some(match key {
                    "pue" => "give the site's power usage effectiveness, ≥ 1 (1.0 when there is no overhead)".into(),
                    _ => "give the grid's carbon intensity in g CO2-eq per kWh, ≥ 0 (475 is the world average)".into(),
                }),
            );
        }
        // A number out of range is reported above, at its key.
        match self.carbon.resolve(&[config_dir(&self.path)]) {
            Ok(_) | Err(CarbonError::Value(_)) => {}
            Err(e) => pending(errs, "carbon", &self.carbon_span, e.to_string(), None),
        }
    }

    /// Model, dataset and device names this build and machine can use (optimizer, schedule and
    /// precision names are checked when the file is read).
    fn check_names(&self, catalog: &dyn Catalog, errs: &mut Vec<PendingError>) {
        for m in &self.model.value {
            if let Err(accepted) = catalog.check_model(m) {
                push(
                    errs,
                    &self.model,
                    format!("unknown model `{m}`"),
                    Some(accepted.to_string()),
                );
            }
        }
        let datasets = catalog.datasets();
        for d in &self.dataset.value {
            if !datasets.is_empty() && !datasets.contains(&d.name) {
                push(
                    errs,
                    &self.dataset,
                    format!("unknown dataset `{}`", d.name),
                    Some(format!(
                        "accepted: {} (see `greenbench datasets`)",
                        datasets.join(", ")
                    )),
                );
            } else if d.subset == Some(0) || d.replicate_test == Some(0) || d.test_subset == Some(0)
            {
                push(
                    errs,
                    &self.dataset,
                    "subset, test_subset and replicate_test must be at least 1".into(),
                    None,
                );
            } else if let Some(v) = d.validation.filter(|v| !(0.0..1.0).contains(v)) {
                push(
                    errs,
                    &self.dataset,
                    format!("validation = {v} is not a fraction of the training samples"),
                    Some(
                        "give a value in [0, 1), e.g. 0.1 (the default); 0 holds nothing out"
                            .into(),
                    ),
                );
            }
        }
        for dev in &self.device.value {
            if let Err(why) = catalog.check_device(*dev) {
                push(
                    errs,
                    &self.device,
                    format!("device `{dev}` cannot be used: {why}"),
                    None,
                );
            }
        }
    }

    /// `[[exclude]]` tables: not empty, axis names only, single values.
    fn check_excludes(&self, errs: &mut Vec<PendingError>) {
        for (table, span) in &self.exclude {
            if table.is_empty() {
                pending(
                    errs,
                    "exclude",
                    &Some(span.clone()),
                    "an [[exclude]] table is empty and would drop every run".into(),
                    Some("name at least one axis".into()),
                );
            }
            for (k, v) in table {
                if !AXES.contains(&k.as_str()) {
                    pending(
                        errs,
                        &format!("exclude.{k}"),
                        &Some(span.clone()),
                        format!("`{k}` is not an axis"),
                        Some(format!("accepted: {}", AXES.join(", "))),
                    );
                } else if matches!(v, toml::Value::Array(_) | toml::Value::Table(_)) {
                    pending(
                        errs,
                        &format!("exclude.{k}"),
                        &Some(span.clone()),
                        "exclude values must be single values".into(),
                        Some("write one [[exclude]] table per combination".into()),
                    );
                }
            }
        }
    }

    /// What needs the whole grid valid first: each model–dataset pair fits, each dataset's files
    /// are present.
    fn check_catalog(&self, catalog: &dyn Catalog, errs: &mut Vec<PendingError>) {
        let mut seen = std::collections::BTreeSet::new();
        for spec in self.expand() {
            if seen.insert((spec.model.clone(), spec.dataset.clone())) {
                if let Err(why) = catalog.check_combination(&spec.model, &spec.dataset) {
                    errs.push((
                        self.model.field.clone(),
                        self.model.span.clone(),
                        format!(
                            "model `{}` cannot train on dataset `{}`: {why}",
                            spec.model, spec.dataset
                        ),
                        Some(
                            "drop the pair with an [[exclude]] table, or pick a matching dataset"
                                .into(),
                        ),
                    ));
                }
            }
        }
        for d in &self.dataset.value {
            if let Err(why) = catalog.check_dataset_present(&d.name, d.path.as_deref()) {
                errs.push((
                    self.dataset.field.clone(),
                    self.dataset.span.clone(),
                    format!("dataset `{}` is not available: {why}", d.name),
                    None,
                ));
            }
        }
    }
}
