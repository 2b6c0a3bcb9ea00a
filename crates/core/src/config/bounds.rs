//! Upper bounds on a sweep config's numbers, checked at validation so that a typo (`repeats =
//! 1e10`, `run_timeout = 1e300`, a batch larger than the dataset) is a located error before
//! anything runs, not an allocation that never ends or a panic hours later.

use std::ops::Range;

use super::SweepConfig;
use crate::catalog::Catalog;
use crate::compact_number::compact_number as show;

/// One validation error: field, byte span, message, hint.
pub(crate) type Pending = (String, Option<Range<usize>>, String, Option<String>);

/// Most runs one config may expand to (a night of 1-second runs is about 30 000).
pub const MAX_RUNS: u128 = 100_000;
/// Longest `run_timeout`: 30 days, in seconds.
pub const MAX_RUN_TIMEOUT_S: f64 = 30.0 * 86_400.0;
/// Longest idle baseline: one hour, in seconds.
pub const MAX_IDLE_SECONDS: f64 = 3_600.0;
/// Shortest idle baseline other than 0 (none), in seconds: the sampler reads the meters every
/// 100 ms and RAPL's counters update about every millisecond with jitter, so a shorter window
/// holds too few readings to average idle power.
pub const MIN_IDLE_SECONDS: f64 = 1.0;

impl SweepConfig {
    /// Pushes an error for every number above its bound, for a grid larger than [`MAX_RUNS`], and
    /// for a batch size larger than the training set (when the catalog knows its size).
    pub(crate) fn check_bounds(&self, catalog: &dyn Catalog, errs: &mut Vec<Pending>) {
        let mut over = |field: &str, span: &Option<Range<usize>>, what: &str, v: f64, max: f64| {
            if v > max {
                errs.push((
                    field.to_string(),
                    span.clone(),
                    format!(
                        "{what} {} is above the most greenbench accepts, {max}",
                        show(v)
                    ),
                    Some(format!("give at most {max}")),
                ));
            }
        };
        for (ax, what, max) in [
            (&self.batch_size, "batch_size", 1_048_576.0),
            (&self.epochs, "epochs", 100_000.0),
            (&self.threads, "threads", 4_096.0),
        ] {
            for &v in &ax.value {
                over(&ax.field, &ax.span, what, v as f64, max);
            }
        }
        for (v, what, max) in [
            (&self.repeats, "repeats", 1_000.0),
            (&self.replicate_test, "replicate_test", 100.0),
            (&self.warmup_batches, "warmup_batches", 1_000_000.0),
        ] {
            over(&v.field, &v.span, what, v.value as f64, max);
        }
        for &w in &self.power_limit_w.value {
            over(
                &self.power_limit_w.field,
                &self.power_limit_w.span,
                "power_limit_w",
                w,
                10_000.0,
            );
        }
        let idle = &self.idle_seconds;
        over(
            &idle.field,
            &idle.span,
            "idle_seconds",
            idle.value,
            MAX_IDLE_SECONDS,
        );
        if let Some(t) = &self.run_timeout {
            over(&t.field, &t.span, "run_timeout", t.value, MAX_RUN_TIMEOUT_S);
        }
        for d in &self.dataset.value {
            if let Some(r) = d.replicate_test {
                over(
                    &self.dataset.field,
                    &self.dataset.span,
                    "replicate_test",
                    r as f64,
                    100.0,
                );
            }
        }
        self.check_grid_size(errs);
        self.check_batch_fits(catalog, errs);
    }

    /// The number of runs before excludes, without expanding the grid.
    fn check_grid_size(&self, errs: &mut Vec<Pending>) {
        let runs = self.grid_size();
        if runs > MAX_RUNS {
            errs.push((
                "grid".into(),
                None,
                format!("the grid expands to {runs} runs, more than the {MAX_RUNS} greenbench runs from one config"),
                Some("split it into several configs, or shorten the axes".into()),
            ));
        }
    }

    /// A batch larger than the training set would be the whole set: refused, so records never
    /// hold a batch size that was not used.
    fn check_batch_fits(&self, catalog: &dyn Catalog, errs: &mut Vec<Pending>) {
        for d in &self.dataset.value {
            let Some(n) = catalog.train_samples(&d.name) else {
                continue;
            };
            let kept = d.subset.map_or(n, |s| s.min(n));
            let held = super::dataset_sizes::held_out(kept, d.validation_fraction().unwrap_or(0.0));
            let n = kept - held.min(kept);
            for &bs in &self.batch_size.value {
                if bs > 0 && bs as usize > n {
                    errs.push((
                        self.batch_size.field.clone(),
                        self.batch_size.span.clone(),
                        format!(
                            "batch_size {bs} is larger than the {n} training samples of `{}`{}",
                            d.name,
                            match (d.subset.is_some(), held > 0) {
                                (true, true) => " (after subset and validation)",
                                (false, true) => " (after the validation split)",
                                (true, false) => " (after subset)",
                                (false, false) => "",
                            }
                        ),
                        Some(format!(
                            "give at most {n}, or drop the pair with an [[exclude]] table"
                        )),
                    ));
                }
            }
        }
    }
}
