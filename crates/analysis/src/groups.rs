//! Grouping runs into configurations (repeats of one model under one setting) and choosing the
//! setting under which models are compared, as the paper does (one point per model).

use std::collections::BTreeMap;

use greenbench_core::ComponentEnergy;
use greenbench_core::RunRecord;

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

/// Coefficient of variation above which a configuration's repeats are called noisy (10 %).
pub const CV_WARN: f64 = 0.10;

/// One figure of a configuration over its repeats: mean, sample standard deviation, 95 %
/// t-interval, n and coefficient of variation. The one place the report, its tables and its
/// figures get "mean ± interval (n)" from ([`ConfigGroup::spread`]).
///
/// With one value there is no spread: `sd`, `half_width` and `cv` are `None` (never a zero-width
/// interval).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    /// Arithmetic mean of the values, in their unit.
    pub mean: f64,
    /// Sample standard deviation (n − 1); `None` for one value.
    pub sd: Option<f64>,
    /// Half-width of the 95 % Student-t interval of the mean (t₀.₉₇₅,ₙ₋₁ · sd / √n); `None` for
    /// one value.
    pub half_width: Option<f64>,
    /// How many values (repeats) the mean is over.
    pub n: usize,
}

impl Spread {
    /// The spread of the finite values of `v`; `None` when there is none.
    pub fn of(v: &[f64]) -> Option<Spread> {
        let v: Vec<f64> = v.iter().copied().filter(|v| v.is_finite()).collect();
        let mean = stats::mean(&v)?;
        let sd = stats::std_dev(&v);
        let half_width = sd.and_then(|sd| Some(t_975(v.len() - 1)? * sd / (v.len() as f64).sqrt()));
        Some(Spread {
            mean,
            sd,
            half_width,
            n: v.len(),
        })
    }

    /// The 95 % t-interval `(lo, hi)` of the mean; `None` for one value.
    pub fn interval(&self) -> Option<(f64, f64)> {
        self.half_width.map(|h| (self.mean - h, self.mean + h))
    }

    /// A figure's error bar for the mean: its 95 % t-interval, or where one value gives none,
    /// the estimate's `range` (low, high in the mean's unit); `None` when neither.
    pub fn error_bar(&self, range: Option<[f64; 2]>) -> Option<(f64, f64)> {
        self.interval().or(range.map(|[l, h]| (l, h)))
    }

    /// Coefficient of variation (sd / |mean|, a fraction); `None` for one value or a zero mean.
    pub fn cv(&self) -> Option<f64> {
        self.sd
            .filter(|_| self.mean != 0.0)
            .map(|sd| sd / self.mean.abs())
    }

    /// Whether the repeats vary by more than [`CV_WARN`].
    pub fn noisy(&self) -> bool {
        self.cv().is_some_and(|cv| cv > CV_WARN)
    }

    /// The same spread in another unit (every figure times `k`, e.g. J → Wh, fraction → %).
    pub fn scaled(self, k: f64) -> Spread {
        Spread {
            mean: self.mean * k,
            sd: self.sd.map(|v| v * k.abs()),
            half_width: self.half_width.map(|v| v * k.abs()),
            n: self.n,
        }
    }
}

/// The 0.975 quantile of Student's t with `df` degrees of freedom; `None` for df = 0.
pub fn t_975(df: usize) -> Option<f64> {
    use statrs::distribution::{ContinuousCDF, StudentsT};
    if df == 0 {
        return None;
    }
    StudentsT::new(0.0, 1.0, df as f64)
        .ok()
        .map(|t| t.inverse_cdf(0.975))
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
    /// Mean, 95 % t-interval, n and coefficient of variation of `metric` over the group's runs
    /// where it is present and finite; `None` when no run has it.
    pub fn spread(&self, metric: impl Fn(&RunRecord) -> Option<f64>) -> Option<Spread> {
        let v: Vec<f64> = self.runs.iter().filter_map(|r| metric(r)).collect();
        Spread::of(&v)
    }

    /// The range (`low_j`, `high_j`) of the mean of an energy: the mean of the runs' lows and
    /// of their highs, a 5–95 % range where every run's range is one (it is taken as if the
    /// runs' errors moved together, which an estimate's shared model makes them do). `None`
    /// unless every run with a total carries a range (folders written before ranges existed).
    pub fn range(
        &self,
        energy: impl Fn(&RunRecord) -> Option<&ComponentEnergy>,
    ) -> Option<[f64; 2]> {
        let mut sum = [0.0, 0.0];
        let mut n = 0usize;
        for r in &self.runs {
            let Some(e) = energy(r).filter(|e| e.total_j.is_some_and(f64::is_finite)) else {
                continue;
            };
            let (l, h) = e.low_j.zip(e.high_j)?;
            sum = [sum[0] + l, sum[1] + h];
            n += 1;
        }
        (n > 0).then(|| [sum[0] / n as f64, sum[1] / n as f64])
    }

    /// Mean of `metric` (see [`ConfigGroup::spread`]).
    pub fn mean(&self, metric: impl Fn(&RunRecord) -> Option<f64>) -> Option<f64> {
        self.spread(metric).map(|s| s.mean)
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
    fn spread_of_three_has_a_t_interval_and_cv() {
        // scipy.stats.t.interval(0.95, 2, loc=2, scale=1/sqrt(3)) = (-0.4841377, 4.4841377)
        let s = Spread::of(&[1.0, 2.0, 3.0]).unwrap();
        assert_eq!((s.mean, s.n), (2.0, 3));
        let (lo, hi) = s.interval().unwrap();
        assert!((lo + 0.484_137_7).abs() < 1e-6 && (hi - 4.484_137_7).abs() < 1e-6);
        assert!((s.cv().unwrap() - 0.5).abs() < 1e-12);
        assert!(s.noisy());
        assert!(!Spread::of(&[10.0, 10.5, 10.2]).unwrap().noisy());
    }

    #[test]
    fn one_value_has_no_interval_and_no_cv() {
        let s = Spread::of(&[5.0, f64::NAN]).unwrap();
        assert_eq!((s.n, s.sd, s.interval(), s.cv()), (1, None, None, None));
        assert!(!s.noisy());
        assert_eq!(Spread::of(&[]), None);
    }

    #[test]
    fn scaling_keeps_n_and_cv() {
        let s = Spread::of(&[1.0, 2.0, 3.0]).unwrap().scaled(100.0);
        assert_eq!((s.mean, s.n), (200.0, 3));
        assert!((s.cv().unwrap() - 0.5).abs() < 1e-12);
    }

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
