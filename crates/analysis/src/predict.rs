//! Energy prediction: short profiling (the paper's "profile briefly and extrapolate", with the
//! error figure the paper does not give) and [`predict`], the entry point of `greenbench predict`.

use greenbench_core::RunRecord;
use serde::Serialize;

use crate::carbon::CarbonSettings;
use crate::context::ReportContext;
use crate::data::{self, EnergyBasis};
use crate::estimator::{Config, Estimator, FEATURES};
use crate::stats::{self, Stat};
use crate::AnalysisError;

/// Short-profiling error for one profile length.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileRow {
    /// Epochs profiled.
    pub k: usize,
    /// Runs with more than `k` epochs and per-epoch energy for the first `k`.
    pub runs: usize,
    /// MAPE of (mean energy of the first k epochs × epochs) against the measured training total.
    pub energy_mape_pct: Stat<f64>,
    /// MAPE of (mean time of the first k epochs × epochs) against the measured training time.
    pub duration_mape_pct: Stat<f64>,
}

/// For k = 1 .. (longest run's epochs − 1): predict each run's total training energy and time
/// from its first k epochs (per-epoch mean × epochs) and compare with what was measured.
pub fn short_profile(ctx: &ReportContext) -> Vec<ProfileRow> {
    let (runs, basis) = (ctx.runs, ctx.basis);
    let max_epochs = data::most_epochs(runs);
    (1..max_epochs)
        .map(|k| {
            let (mut pe, mut me, mut pd, mut md) = (vec![], vec![], vec![], vec![]);
            let mut n = 0;
            for r in runs {
                let Some(t) = r.train.as_ref() else { continue };
                let total = t.epochs.len();
                if total <= k {
                    continue;
                }
                let first = &t.epochs[..k];
                let es: Option<Vec<f64>> = first.iter().map(|e| basis.epoch_j(e)).collect();
                let (Some(es), Some(measured)) = (es, basis.train_j(r)) else {
                    continue;
                };
                n += 1;
                pe.push(es.iter().sum::<f64>() / k as f64 * total as f64);
                me.push(measured);
                let ds: f64 = first.iter().map(|e| e.duration_s).sum();
                pd.push(ds / k as f64 * total as f64);
                md.push(t.duration_s);
            }
            let m = |p: &[f64], a: &[f64]| {
                if p.is_empty() {
                    Err(stats::NotComputed::TooFew { n: 0, need: 1 })
                } else {
                    stats::mape(p, a)
                }
            };
            ProfileRow {
                k,
                runs: n,
                energy_mape_pct: m(&pe, &me),
                duration_mape_pct: m(&pd, &md),
            }
        })
        .collect()
}

/// How a prediction was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// The configuration (same params, MACs, batch size, dataset size) was run in the sweep:
    /// per-epoch energy of those runs × epochs.
    Profile,
    /// The fitted parameter estimator.
    Estimator,
}

/// Uncertainty of a prediction.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Interval {
    /// Low and high energy in joules.
    pub energy_j: [f64; 2],
    /// Low and high training time in seconds.
    pub duration_s: [f64; 2],
    /// What the interval is (e.g. "5–95 % of leave-one-model-out residuals").
    pub source: String,
}

/// What a prediction rests on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Basis {
    /// Profile or estimator.
    pub method: Method,
    /// Net or raw energy.
    pub energy: EnergyBasis,
    /// Quality of the energies behind it (`measured`, `estimated`, `mixed (…)`).
    pub quality: String,
    /// Runs used.
    pub runs: usize,
    /// One sentence for humans.
    pub description: String,
}

/// A predicted training energy and time (`greenbench predict --json` prints this).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction {
    /// Training energy in joules.
    pub energy_j: f64,
    /// Training energy in watt-hours.
    pub energy_wh: f64,
    /// Training time in seconds.
    pub duration_s: f64,
    /// Range the measured value is expected in (5–95 % of held-out residuals, or the spread of
    /// the runs of a measured configuration), with where it comes from.
    pub interval: Interval,
    /// How it was made.
    pub basis: Basis,
}

/// Predicts the training energy and time of a configuration from a sweep's records.
///
/// `model_params` and `macs` (per sample) identify the model (the CLI takes them from the zoo when
/// the model is not in the records); `train_samples` 0 means "the sweep's most common training-set
/// size". When ok runs with the same params, MACs, batch size and training-set size exist, their
/// per-epoch energy × `epochs` is used (short profiling); otherwise the parameter estimator.
pub fn predict(
    records: &[RunRecord],
    model_params: u64,
    macs: u64,
    batch_size: usize,
    epochs: usize,
    train_samples: u64,
) -> Result<Prediction, AnalysisError> {
    if model_params == 0 || macs == 0 || batch_size == 0 || epochs == 0 {
        return Err(AnalysisError::Insufficient(format!(
            "predict needs positive params, MACs, batch size and epochs; got {model_params}, {macs}, {batch_size}, {epochs}"
        )));
    }
    let runs = data::ok_runs(records);
    if runs.is_empty() {
        return Err(AnalysisError::Insufficient(format!(
            "no ok runs among {} records: nothing to predict from; run a sweep first",
            records.len()
        )));
    }
    // Carbon plays no part in a prediction; the context needs settings all the same.
    let carbon = CarbonSettings::default();
    let ctx = ReportContext::new(&runs, &carbon);
    let samples = if train_samples > 0 {
        train_samples
    } else {
        modal_train_samples(&runs)
    };
    let same: Vec<&RunRecord> = runs
        .iter()
        .copied()
        .filter(|r| {
            is_model(r, model_params, macs)
                && r.spec.batch_size == batch_size
                && (samples == 0 || r.train_samples == samples)
        })
        .collect();
    if let Some(p) = from_profile(&same, &ctx, epochs) {
        return Ok(p);
    }
    let config = Config {
        params: model_params as f64,
        macs: macs as f64,
        batch_size: batch_size as f64,
        epochs: epochs as f64,
        train_samples: samples as f64,
    };
    from_estimator(&ctx, (model_params, macs), &config)
}

/// Whether `r` ran the model with `params` parameters and `macs` MACs per sample.
fn is_model(r: &RunRecord, params: u64, macs: u64) -> bool {
    r.model
        .as_ref()
        .is_some_and(|m| m.params == params && m.macs_per_sample == macs)
}

/// The parameter estimator's prediction for `c`, with its residual band as the interval;
/// refused for a model (`(params, MACs per sample)`) not in the sweep when the sweep does not
/// vary model size.
fn from_estimator(
    ctx: &ReportContext,
    (model_params, macs): (u64, u64),
    c: &Config,
) -> Result<Prediction, AnalysisError> {
    let (runs, basis) = (ctx.runs, ctx.basis);
    let est = Estimator::fit(ctx)?;
    let dropped = est.dropped_features();
    let in_sweep = runs.iter().any(|r| is_model(r, model_params, macs));
    let not_chosen = est.not_chosen();
    let unused = |f: &&str| dropped.contains(f) || not_chosen.contains(f);
    if !in_sweep
        && FEATURES[..2].iter().all(unused)
        && !FEATURES[..2].iter().all(|f| dropped.contains(f))
    {
        return Err(AnalysisError::Insufficient(format!(
            "this model ({model_params} params, {macs} MACs/sample) was not in the sweep, and \
             leave-one-model-out cross-validation over the sweep's {} ok runs chose no model-size \
             term (none predicted a held-out model better than leaving size out), so every model \
             would get the same answer. Predict from a sweep of more models of different sizes, \
             or run this model",
            runs.len()
        )));
    }
    if !in_sweep && dropped.contains(&FEATURES[0]) && dropped.contains(&FEATURES[1]) {
        return Err(AnalysisError::Insufficient(format!(
            "this model ({model_params} params, {macs} MACs/sample) was not in the sweep, and the sweep's \
             {} ok runs do not vary model size, so they cannot tell how energy grows with it; every \
             model would get the same answer. Predict from a sweep of several models of different \
             sizes, or run this model",
            runs.len()
        )));
    }
    let (e, d) = est.estimate(c);
    let (el, eh) = est.energy_log_band;
    let (dl, dh) = est.duration_log_band;
    Ok(Prediction {
        energy_j: e,
        energy_wh: data::wh(e),
        duration_s: d,
        interval: Interval {
            energy_j: [e * el.exp(), e * eh.exp()],
            duration_s: [d * dl.exp(), d * dh.exp()],
            source: est.band_source.clone(),
        },
        basis: Basis {
            method: Method::Estimator,
            energy: basis,
            quality: est.quality.clone(),
            runs: est.runs,
            description: estimator_description(
                [est.configurations, est.runs, est.models],
                &dropped,
                &est.not_chosen(),
            ),
        },
    })
}

/// One sentence on what an estimator fitted on the means of `configurations` configurations
/// (`runs` ok runs) of `models` models rests on, naming the regressors it `dropped` (not varied)
/// and those cross-validation left out (`not_chosen`).
fn estimator_description(
    [configurations, runs, models]: [usize; 3],
    dropped: &[&str],
    not_chosen: &[&str],
) -> String {
    let mut s = format!(
        "log-linear ridge regression (terms and penalty chosen by leave-one-model-out cross-validation) on the means of \
         {configurations} configurations ({runs} ok runs, repeats averaged) of {models} models"
    );
    if !dropped.is_empty() {
        s.push_str(&format!(
            "; not varied in the sweep, so taken as proportional or ignored: {}",
            dropped.join(", ")
        ));
    }
    if !not_chosen.is_empty() {
        s.push_str(&format!(
            "; varied but left out by cross-validation, so the estimate does not change with them: {}",
            not_chosen.join(", ")
        ));
    }
    s
}

fn modal_train_samples(runs: &[&RunRecord]) -> u64 {
    let mut counts = std::collections::BTreeMap::new();
    for r in runs {
        *counts.entry(r.train_samples).or_insert(0usize) += 1;
    }
    counts
        .into_iter()
        .max_by_key(|&(s, n)| (n, s))
        .map_or(0, |(s, _)| s)
}

fn from_profile(same: &[&RunRecord], ctx: &ReportContext, epochs: usize) -> Option<Prediction> {
    let basis = ctx.basis;
    let per_epoch: Vec<(f64, f64)> = same
        .iter()
        .filter_map(|r| {
            let t = r.train.as_ref()?;
            let n = t.epochs.len().max(1) as f64;
            Some((basis.train_j(r)? / n, t.duration_s / n))
        })
        .filter(|(e, d)| *e > 0.0 && *d > 0.0)
        .collect();
    if per_epoch.is_empty() {
        return None;
    }
    let n = epochs as f64;
    let es: Vec<f64> = per_epoch.iter().map(|p| p.0 * n).collect();
    let ds: Vec<f64> = per_epoch.iter().map(|p| p.1 * n).collect();
    let (e, d) = (stats::mean(&es)?, stats::mean(&ds)?);
    // Widen the spread of the matching runs by the sweep's 1-epoch profiling error.
    let k1 = short_profile(ctx).into_iter().next();
    let (we, wd) = k1.as_ref().map_or((0.0, 0.0), |r| {
        (
            r.energy_mape_pct.unwrap_or(0.0) / 100.0,
            r.duration_mape_pct.unwrap_or(0.0) / 100.0,
        )
    });
    let lo =
        |v: &[f64], w: f64| v.iter().copied().fold(f64::INFINITY, f64::min) * (1.0 - w).max(0.0);
    let hi = |v: &[f64], w: f64| v.iter().copied().fold(f64::NEG_INFINITY, f64::max) * (1.0 + w);
    let quality = data::quality_label(same.iter().map(|r| basis.train(r).and_then(|e| e.quality)));
    Some(Prediction {
        energy_j: e,
        energy_wh: data::wh(e),
        duration_s: d,
        interval: Interval {
            energy_j: [lo(&es, we), hi(&es, we)],
            duration_s: [lo(&ds, wd), hi(&ds, wd)],
            source: format!(
                "range over {} matching runs, widened by the sweep's 1-epoch profiling MAPE ({:.1} % energy, {:.1} % time)",
                es.len(),
                we * 100.0,
                wd * 100.0
            ),
        },
        basis: Basis {
            method: Method::Profile,
            energy: basis,
            quality,
            runs: es.len(),
            description: format!(
                "this model, batch size and dataset size were run in the sweep: mean per-epoch {} energy of {} runs × {epochs} epochs",
                basis.name(),
                es.len()
            ),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::ok_runs;
    use crate::estimator::Estimator;
    use crate::test_common::{sweep, Shape};

    #[test]
    fn estimator_description_names_terms_not_varied_and_not_chosen() {
        let d = estimator_description([4, 12, 2], &["ln epochs"], &["ln params"]);
        assert!(
            d.contains(
                "on the means of 4 configurations (12 ok runs, repeats averaged) of 2 models"
            ),
            "{d}"
        );
        assert!(d.contains("proportional or ignored: ln epochs"), "{d}");
        assert!(d.contains("does not change with them: ln params"), "{d}");
        let d = estimator_description([9, 9, 3], &[], &[]);
        assert!(!d.contains(';'), "{d}");
    }

    #[test]
    fn short_profile_error_shrinks_with_k() {
        let records = sweep(&Shape::default());
        let runs = ok_runs(&records);
        let carbon = CarbonSettings::default();
        let rows = short_profile(&ReportContext {
            runs: &runs,
            basis: EnergyBasis::Net,
            quality: String::new(),
            carbon: &carbon,
        });
        assert_eq!(rows.iter().map(|r| r.k).collect::<Vec<_>>(), vec![1, 2, 3]);
        let e: Vec<f64> = rows
            .iter()
            .map(|r| *r.energy_mape_pct.as_ref().unwrap())
            .collect();
        assert!(e[0] > e[2], "{e:?}");
        // The first epoch is 8 % slower in the synthetic data: k = 1 overestimates by ≈ 6 %.
        assert!((e[0] - 6.0).abs() < 2.0, "{e:?}");
        assert!(rows.iter().all(|r| r.runs == runs.len()));
    }

    /// The estimator fits configuration means: repeating one configuration's runs adds no weight to
    /// it, and the fit reports configurations and runs apart.
    #[test]
    fn estimator_fits_configuration_means_not_runs() {
        let shape = Shape {
            repeats: 1,
            ..Shape::default()
        };
        let once = sweep(&shape);
        let mut repeated = once.clone();
        // model-03 at batch 16 run four more times with its own figures (a different run id each).
        let extra = once
            .iter()
            .find(|r| r.spec.model == "model-03" && r.spec.batch_size == 16)
            .unwrap()
            .clone();
        for k in 1..=4 {
            let mut r = extra.clone();
            r.run_id = format!("{}-again-{k}", r.run_id);
            r.spec.repeat = k;
            repeated.push(r);
        }
        let fit = |records: &[greenbench_core::RunRecord]| {
            let runs = ok_runs(records);
            let carbon = CarbonSettings::default();
            Estimator::fit(&ReportContext::new(&runs, &carbon)).unwrap()
        };
        let (a, b) = (fit(&once), fit(&repeated));
        assert_eq!((b.configurations, b.runs), (a.configurations, a.runs + 4));
        assert_eq!(a.energy_fit.coefficients, b.energy_fit.coefficients);
        assert_eq!(a.duration_fit.coefficients, b.duration_fit.coefficients);
    }
}
