//! The parameter estimator: log-linear ridge regression of training energy (and time) on model
//! parameters, MACs per sample, batch size, epochs and training-set size, its terms and penalty
//! chosen by leave-one-model-out cross-validation, and its error measured by a nested
//! leave-one-model-out cross-validation (the choice repeated without the held-out model).
//! It is fitted on configuration means: a configuration's repeats (one model under one setting)
//! give one observation, their mean energy and time, so a configuration run three times does
//! not weigh three times as much as one run once, nor its noise count as three points.
//!
//! Model: `ln E = ln epochs + ln samples + b0 + b1·ln params + b2·ln MACs + b3·ln batch +
//! b4·ln epochs + b5·ln samples`. Energy is taken as proportional to epochs × samples (the
//! offset) and b4, b5 measure the departure from that. A regressor that does not vary in the
//! sweep (one epoch count, one dataset) is left out, so the estimate falls back to
//! proportionality instead of ignoring it. Among the regressors that vary, every subset is tried
//! with every penalty of [`crate::ridge::LAMBDAS`]: nearly collinear regressors (an MLP's
//! parameters and MACs) no longer give huge coefficients of opposite sign.

use greenbench_core::RunRecord;
use serde::Serialize;

use crate::context::ReportContext;
use crate::data::{self, EnergyBasis};
use crate::ridge::{self, RidgeFit, Selection};
use crate::stats::{self, Correlation, Stat};
use crate::AnalysisError;

/// Names of the regressors, in column order.
pub const FEATURES: [&str; 5] = [
    "ln params",
    "ln MACs/sample",
    "ln batch size",
    "ln epochs",
    "ln train samples",
];

/// One configuration in the estimator's terms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Config {
    /// Trainable parameters.
    pub params: f64,
    /// MACs per sample.
    pub macs: f64,
    /// Samples per optimizer step.
    pub batch_size: f64,
    /// Training epochs of the run.
    pub epochs: f64,
    /// Training samples per epoch (0 = unknown).
    pub train_samples: f64,
}

impl Config {
    /// The configuration of a run, if every needed figure is present and positive.
    pub fn of(r: &RunRecord) -> Option<Config> {
        let epochs = r
            .train
            .as_ref()
            .map_or(0, |t| t.epochs.len())
            .max(r.spec.epochs) as f64;
        let c = Config {
            params: data::params(r)?,
            macs: data::macs(r)?,
            batch_size: r.spec.batch_size as f64,
            epochs,
            train_samples: r.train_samples as f64,
        };
        (c.batch_size > 0.0 && c.epochs > 0.0).then_some(c)
    }

    fn row(&self, use_samples: bool) -> Vec<f64> {
        vec![
            self.params.ln(),
            self.macs.ln(),
            self.batch_size.ln(),
            self.epochs.ln(),
            if use_samples {
                self.train_samples.ln()
            } else {
                0.0
            },
        ]
    }

    fn offset(&self, use_samples: bool) -> f64 {
        self.epochs.ln()
            + if use_samples {
                self.train_samples.ln()
            } else {
                0.0
            }
    }
}

/// Cross-validation figures of one target (energy or duration).
#[derive(Debug, Clone, Serialize)]
pub struct CvScore {
    /// Mean absolute percentage error of held-out predictions.
    pub mape_pct: Stat<f64>,
    /// Spearman ρ of held-out predicted vs measured.
    pub spearman: Stat<Correlation>,
}

/// Leave-one-model-out cross-validation of the estimator.
#[derive(Debug, Clone, Serialize)]
pub struct CrossValidation {
    /// Folds (= distinct models).
    pub folds: usize,
    /// Cross-validated error of the training-energy prediction.
    pub energy: CvScore,
    /// Training time.
    pub duration: CvScore,
    /// Held-out predictions: (model, predicted J, measured J).
    pub energy_predictions: Vec<(String, f64, f64)>,
}

/// A fitted estimator.
#[derive(Debug, Clone, Serialize)]
pub struct Estimator {
    /// Energy basis of the target.
    pub basis: EnergyBasis,
    /// Quality label of the energies it was fitted on.
    pub quality: String,
    /// Fit of ln energy (chosen terms and λ, on every run).
    pub energy_fit: RidgeFit,
    /// Fit of ln training time (chosen terms and λ, on every run).
    pub duration_fit: RidgeFit,
    /// Leave-one-model-out MAPE (%) that chose the energy fit's terms and λ; `None` with one
    /// model (nothing to choose by).
    pub energy_selection_error_pct: Option<f64>,
    /// Same for the time fit.
    pub duration_selection_error_pct: Option<f64>,
    /// Candidates compared per target (term subsets × penalties).
    pub candidates: usize,
    /// Regressors that vary among the runs (indices into [`FEATURES`]): the candidates' terms.
    pub varied: Vec<usize>,
    /// Ok runs used (each configuration's repeats averaged into one observation).
    pub runs: usize,
    /// Configurations fitted (one observation each: the mean of its runs).
    pub configurations: usize,
    /// Distinct models among them.
    pub models: usize,
    /// Whether the training-set size entered (every run had it).
    pub uses_train_samples: bool,
    /// Leave-one-model-out CV; `None` when no fold could be fitted (see `cv_note`).
    pub cv: Option<CrossValidation>,
    /// Why there is no cross-validation (one model, or folds too small to fit).
    pub cv_note: Option<String>,
    /// Each regressor left out of the energy fit (index into [`FEATURES`]) with why: not varied,
    /// not recorded, or not chosen by cross-validation (naming a collinear partner).
    pub dropped_why: Vec<(usize, String)>,
    /// 5 % and 95 % quantiles of ln(measured / predicted) energy.
    pub energy_log_band: (f64, f64),
    /// 5 % and 95 % quantiles of ln(measured / predicted) time.
    pub duration_log_band: (f64, f64),
    /// Where the band came from.
    pub band_source: String,
}

/// One configuration's observation: its config and the mean over its usable repeats.
struct Obs<'a> {
    model: &'a str,
    config: Config,
    energy_j: f64,
    duration_s: f64,
    /// Runs averaged.
    repeats: usize,
}

/// Regressors (indices into [`FEATURES`]) that are not constant among `rows`.
fn varying_columns(rows: &[Vec<f64>]) -> Vec<usize> {
    (0..FEATURES.len())
        .filter(|&j| {
            let first = rows.first().map_or(0.0, |r| r[j]);
            rows.iter()
                .any(|r| (r[j] - first).abs() > 1e-12 * first.abs().max(1.0))
        })
        .collect()
}

/// Chooses terms and λ for one target by leave-one-model-out cross-validation among `obs` and
/// fits them on all of `obs`.
fn fit_one(obs: &[&Obs], target: impl Fn(&Obs) -> f64, use_samples: bool) -> Option<Selection> {
    let rows: Vec<Vec<f64>> = obs.iter().map(|o| o.config.row(use_samples)).collect();
    let y: Vec<f64> = obs
        .iter()
        .map(|o| target(o).ln() - o.config.offset(use_samples))
        .collect();
    let groups: Vec<&str> = obs.iter().map(|o| o.model).collect();
    ridge::select(&rows, &y, &groups, &varying_columns(&rows))
}

fn apply(fit: &RidgeFit, c: &Config, use_samples: bool) -> f64 {
    (fit.predict(&c.row(use_samples)) + c.offset(use_samples)).exp()
}

fn band(log_resid: &[f64]) -> (f64, f64) {
    (
        stats::quantile(log_resid, 0.05).unwrap_or(0.0),
        stats::quantile(log_resid, 0.95).unwrap_or(0.0),
    )
}

fn score(pred: &[f64], meas: &[f64]) -> CvScore {
    CvScore {
        mape_pct: stats::mape(pred, meas),
        spearman: stats::spearman(pred, meas),
    }
}

/// The observations the estimator fits: one per configuration (model × setting), the mean
/// energy and training time of its usable runs (a training phase, a known configuration, a
/// positive energy on `basis` and a positive finite training time).
fn observations<'a>(ctx: &ReportContext<'a>) -> Vec<Obs<'a>> {
    let basis = ctx.basis;
    crate::groups::config_groups(ctx.runs)
        .iter()
        .filter_map(|g| {
            let usable: Vec<(&'a RunRecord, Config, f64, f64)> = g
                .runs
                .iter()
                .filter_map(|r| {
                    let t = r.train.as_ref()?;
                    Some((
                        *r,
                        Config::of(r)?,
                        basis.train_j(r).filter(|e| *e > 0.0)?,
                        Some(t.duration_s).filter(|d| d.is_finite() && *d > 0.0)?,
                    ))
                })
                .collect();
            let (first, config, _, _) = usable.first()?;
            let n = usable.len() as f64;
            Some(Obs {
                model: first.spec.model.as_str(),
                config: *config,
                energy_j: usable.iter().map(|u| u.2).sum::<f64>() / n,
                duration_s: usable.iter().map(|u| u.3).sum::<f64>() / n,
                repeats: usable.len(),
            })
        })
        .collect()
}

/// Quality label of the training energies of the runs with a known configuration and a
/// positive energy on `basis`.
fn fitted_quality(ctx: &ReportContext) -> String {
    let basis = ctx.basis;
    let used: Vec<&RunRecord> = ctx
        .runs
        .iter()
        .copied()
        .filter(|r| Config::of(r).is_some() && basis.train_j(r).is_some_and(|e| e > 0.0))
        .collect();
    data::quality_label(used.iter().map(|r| basis.train(r).and_then(|e| e.quality)))
}

/// Number of distinct models among the observations.
fn distinct_models(obs: &[Obs]) -> usize {
    let mut models: Vec<&str> = obs.iter().map(|o| o.model).collect();
    models.sort();
    models.dedup();
    models.len()
}

/// One held-out run's predicted and measured energy (J) and training time (s).
struct HeldOutRun {
    model: String,
    predicted_j: f64,
    measured_j: f64,
    predicted_s: f64,
    measured_s: f64,
}

/// What leave-one-model-out cross-validation produced: the scores (or why there are none) and
/// every held-out prediction.
struct HeldOut {
    cv: Option<CrossValidation>,
    note: Option<String>,
    runs: Vec<HeldOutRun>,
}

/// Nested leave-one-model-out cross-validation: without each model in turn, chooses terms and λ
/// (by leave-one-model-out among the others) and refits both targets, then predicts that
/// model's runs. `varying_terms` (intercept plus varying regressors) only explains a failure.
fn cross_validate(obs: &[Obs], models: usize, varying_terms: usize, use_samples: bool) -> HeldOut {
    let groups: Vec<&str> = obs.iter().map(|o| o.model).collect();
    let folds = stats::leave_one_group_out(&groups);
    if folds.is_empty() {
        let note = format!(
            "the sweep has {} model{}, and leaving one model out needs ≥ 2",
            models,
            if models == 1 { "" } else { "s" }
        );
        return HeldOut {
            cv: None,
            note: Some(note),
            runs: Vec::new(),
        };
    }
    let mut unfitted = Vec::new();
    let mut runs = Vec::new();
    for (model, fold) in &folds {
        let train: Vec<&Obs> = fold.train.iter().map(|&i| &obs[i]).collect();
        let (Some(fe), Some(fd)) = (
            fit_one(&train, |o| o.energy_j, use_samples).map(|s| s.fit),
            fit_one(&train, |o| o.duration_s, use_samples).map(|s| s.fit),
        ) else {
            unfitted.push(format!("{model} ({} training runs)", fold.train.len()));
            continue;
        };
        runs.extend(fold.test.iter().map(|&i| {
            let o = &obs[i];
            HeldOutRun {
                model: model.to_string(),
                predicted_j: apply(&fe, &o.config, use_samples),
                measured_j: o.energy_j,
                predicted_s: apply(&fd, &o.config, use_samples),
                measured_s: o.duration_s,
            }
        }));
    }
    if unfitted.len() == folds.len() {
        let note = format!(
            "{} models, but no leave-one-model-out fold could be fitted: the runs left after holding out a model are too few \
             for the {} terms that vary (held out: {})",
            models,
            varying_terms,
            unfitted.join(", ")
        );
        return HeldOut {
            cv: None,
            note: Some(note),
            runs,
        };
    }
    let column = |f: fn(&HeldOutRun) -> f64| -> Vec<f64> { runs.iter().map(f).collect() };
    let cv = CrossValidation {
        folds: folds.len() - unfitted.len(),
        energy: score(&column(|r| r.predicted_j), &column(|r| r.measured_j)),
        duration: score(&column(|r| r.predicted_s), &column(|r| r.measured_s)),
        energy_predictions: runs
            .iter()
            .map(|r| (r.model.clone(), r.predicted_j, r.measured_j))
            .collect(),
    };
    HeldOut {
        cv: Some(cv),
        note: None,
        runs,
    }
}

/// The 5–95 % bands of ln(measured / predicted) energy and time, and where they came from.
struct ResidualBands {
    energy: (f64, f64),
    duration: (f64, f64),
    source: String,
}

impl ResidualBands {
    /// Bands from the held-out residuals when there are at least two, else from the in-sample
    /// residuals of `fits` (energy, duration), labelled optimistic.
    fn of(obs: &[Obs], held_out: &HeldOut, fits: [&RidgeFit; 2], use_samples: bool) -> Self {
        let log_ratio = |measured: f64, predicted: f64| (measured / predicted).ln();
        let runs = &held_out.runs;
        if runs.len() >= 2 {
            let e: Vec<f64> = runs
                .iter()
                .map(|r| log_ratio(r.measured_j, r.predicted_j))
                .collect();
            let d: Vec<f64> = runs
                .iter()
                .map(|r| log_ratio(r.measured_s, r.predicted_s))
                .collect();
            return ResidualBands {
                energy: band(&e),
                duration: band(&d),
                source: format!(
                    "5–95 % of leave-one-model-out residuals ({} held-out runs)",
                    e.len()
                ),
            };
        }
        let [energy_fit, duration_fit] = fits;
        let e: Vec<f64> = obs
            .iter()
            .map(|o| log_ratio(o.energy_j, apply(energy_fit, &o.config, use_samples)))
            .collect();
        let d: Vec<f64> = obs
            .iter()
            .map(|o| log_ratio(o.duration_s, apply(duration_fit, &o.config, use_samples)))
            .collect();
        ResidualBands {
            energy: band(&e),
            duration: band(&d),
            source: format!(
                "5–95 % of in-sample residuals ({} runs; no cross-validation: {} — the band is optimistic)",
                e.len(),
                held_out.note.as_deref().unwrap_or("too few held-out predictions")
            ),
        }
    }
}

/// Why each regressor outside `terms` is left out: not recorded (training-set size), not varied,
/// or not chosen by cross-validation, naming the varied regressor it is most correlated with when
/// |r| ≥ 0.99 ("collinear with ln params, r = 1.000").
fn dropped_reasons(obs: &[Obs], terms: &[usize], use_samples: bool) -> Vec<(usize, String)> {
    let rows: Vec<Vec<f64>> = obs.iter().map(|o| o.config.row(use_samples)).collect();
    let varied = varying_columns(&rows);
    let col = |j: usize| -> Vec<f64> { rows.iter().map(|r| r[j]).collect() };
    (0..FEATURES.len())
        .filter(|i| !terms.contains(i))
        .map(|i| {
            let why = if i == 4 && !use_samples {
                "not used (training-set size not recorded for every run)".to_string()
            } else if !varied.contains(&i) {
                "not varied".to_string()
            } else {
                let partner = varied
                    .iter()
                    .filter(|&&j| j != i)
                    .filter_map(|&j| Some((j, stats::pearson_r(&col(i), &col(j)).ok()?)))
                    .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
                    .filter(|(_, r)| r.abs() >= 0.99);
                match partner {
                    Some((j, r)) => format!(
                        "not chosen by cross-validation: collinear with {}, r = {r:.3}",
                        FEATURES[j]
                    ),
                    None => "not chosen by cross-validation".to_string(),
                }
            };
            (i, why)
        })
        .collect()
}

impl Estimator {
    /// Why regressor `i` (index into [`FEATURES`]) is not in the energy fit, if it is not.
    pub fn dropped_reason(&self, i: usize) -> Option<&str> {
        self.dropped_why
            .iter()
            .find(|(j, _)| *j == i)
            .map(|(_, w)| w.as_str())
    }

    /// Fits on `runs` (status ok; runs with non-positive energy or missing complexity are
    /// skipped).
    pub fn fit(ctx: &ReportContext) -> Result<Estimator, AnalysisError> {
        let basis = ctx.basis;
        let obs = observations(ctx);
        let use_samples = !obs.is_empty() && obs.iter().all(|o| o.config.train_samples > 0.0);
        let all: Vec<&Obs> = obs.iter().collect();
        let why = |e: stats::NotComputed| {
            AnalysisError::Insufficient(format!(
                "parameter estimator: {e} ({} configurations with usable ok runs: positive {} energy and known params/MACs)",
                obs.len(),
                basis.name()
            ))
        };
        if obs.len() < 3 {
            return Err(why(stats::NotComputed::TooFew {
                n: obs.len(),
                need: 3,
            }));
        }
        let energy = fit_one(&all, |o| o.energy_j, use_samples);
        let duration = fit_one(&all, |o| o.duration_s, use_samples);
        let (Some(energy), Some(duration)) = (energy, duration) else {
            return Err(why(stats::NotComputed::Singular));
        };
        let models = distinct_models(&obs);
        let rows: Vec<Vec<f64>> = obs.iter().map(|o| o.config.row(use_samples)).collect();
        let varied = varying_columns(&rows);
        let held_out = cross_validate(&obs, models, 1 + varied.len(), use_samples);
        let fits = [&energy.fit, &duration.fit];
        let bands = ResidualBands::of(&obs, &held_out, fits, use_samples);
        Ok(Estimator {
            basis,
            cv_note: held_out.note,
            dropped_why: dropped_reasons(&obs, &energy.fit.terms, use_samples),
            quality: fitted_quality(ctx),
            energy_selection_error_pct: energy.cv_error_pct,
            duration_selection_error_pct: duration.cv_error_pct,
            candidates: energy.candidates,
            varied,
            energy_fit: energy.fit,
            duration_fit: duration.fit,
            runs: obs.iter().map(|o| o.repeats).sum(),
            configurations: obs.len(),
            models,
            uses_train_samples: use_samples,
            cv: held_out.cv,
            energy_log_band: bands.energy,
            duration_log_band: bands.duration,
            band_source: bands.source,
        })
    }

    /// Point estimates (J, s) for a configuration; `train_samples` 0 uses proportionality only.
    pub fn estimate(&self, c: &Config) -> (f64, f64) {
        let use_samples = self.uses_train_samples && c.train_samples > 0.0;
        (
            apply(&self.energy_fit, c, use_samples),
            apply(&self.duration_fit, c, use_samples),
        )
    }

    /// Human-readable list of regressors that did not vary in the sweep (or were not recorded),
    /// so the estimate takes energy as proportional to them or ignores them.
    pub fn dropped_features(&self) -> Vec<&'static str> {
        let mut v: Vec<&'static str> = (0..FEATURES.len())
            .filter(|i| !self.varied.contains(i))
            .map(|i| FEATURES[i])
            .collect();
        if !self.uses_train_samples && !v.contains(&FEATURES[4]) {
            v.push(FEATURES[4]);
        }
        v
    }

    /// Regressors that vary in the sweep but that cross-validation left out of the energy fit
    /// (the estimate does not change with them).
    pub fn not_chosen(&self) -> Vec<&'static str> {
        self.varied
            .iter()
            .filter(|i| !self.energy_fit.terms.contains(i))
            .map(|&i| FEATURES[i])
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs of `models` (three batch sizes each) whose energy and time are exactly
    /// proportional to params × epochs, so every fit is exact.
    fn proportional(models: &[&'static str]) -> Vec<Obs<'static>> {
        models
            .iter()
            .enumerate()
            .flat_map(|(i, &model)| {
                [16.0, 32.0, 64.0].map(|batch_size| {
                    let p = 1e5 * (i + 1) as f64;
                    Obs {
                        model,
                        config: Config {
                            params: p,
                            macs: 2.0 * p * (i * i + 1) as f64,
                            batch_size,
                            epochs: 3.0,
                            train_samples: 0.0,
                        },
                        energy_j: 1e-6 * p * 3.0,
                        duration_s: 1e-7 * p * 3.0,
                        repeats: 1,
                    }
                })
            })
            .collect()
    }

    #[test]
    fn one_model_cannot_be_cross_validated_and_says_so() {
        let obs = proportional(&["a"]);
        let held_out = cross_validate(&obs, distinct_models(&obs), 2, false);
        assert!(held_out.cv.is_none());
        assert!(held_out.runs.is_empty());
        assert_eq!(
            held_out.note.as_deref(),
            Some("the sweep has 1 model, and leaving one model out needs ≥ 2")
        );
    }

    #[test]
    fn held_out_models_are_predicted_and_give_the_band() {
        let obs = proportional(&["a", "b", "c", "d", "e"]);
        let held_out = cross_validate(&obs, distinct_models(&obs), 3, false);
        let cv = held_out.cv.as_ref().expect("five models cross-validate");
        assert_eq!(cv.folds, 5);
        assert_eq!(cv.energy_predictions.len(), obs.len());
        for (model, predicted, measured) in &cv.energy_predictions {
            assert!((predicted / measured - 1.0).abs() < 1e-6, "{model}");
        }
        let all: Vec<&Obs> = obs.iter().collect();
        let e = fit_one(&all, |o| o.energy_j, false).unwrap().fit;
        let d = fit_one(&all, |o| o.duration_s, false).unwrap().fit;
        let bands = ResidualBands::of(&obs, &held_out, [&e, &d], false);
        assert!(bands
            .source
            .starts_with("5–95 % of leave-one-model-out residuals (15 held-out"));
        assert!(bands.energy.0.abs() < 1e-6 && bands.energy.1.abs() < 1e-6);
    }

    #[test]
    fn without_held_out_runs_the_band_is_in_sample_and_says_why() {
        let obs = proportional(&["a"]);
        let all: Vec<&Obs> = obs.iter().collect();
        let e = fit_one(&all, |o| o.energy_j, false).unwrap().fit;
        let d = fit_one(&all, |o| o.duration_s, false).unwrap().fit;
        let held_out = cross_validate(&obs, 1, 2, false);
        let bands = ResidualBands::of(&obs, &held_out, [&e, &d], false);
        assert_eq!(
            bands.source,
            "5–95 % of in-sample residuals (3 runs; no cross-validation: the sweep has 1 model, and \
             leaving one model out needs ≥ 2 — the band is optimistic)"
        );
    }

    #[test]
    fn offset_makes_unvarying_epochs_proportional() {
        // Energy = 1e-6 · params · epochs exactly, epochs always 3 in the data.
        let fit_obs: Vec<Obs> = (1..=6)
            .map(|i| {
                let p = 1e5 * i as f64;
                Obs {
                    model: ["a", "b", "c", "d", "e", "f"][i - 1],
                    config: Config {
                        params: p,
                        macs: 3.0 * p * i as f64,
                        batch_size: 32.0,
                        epochs: 3.0,
                        train_samples: 0.0,
                    },
                    energy_j: 1e-6 * p * 3.0,
                    duration_s: 1e-7 * p * 3.0,
                    repeats: 1,
                }
            })
            .collect();
        let refs: Vec<&Obs> = fit_obs.iter().collect();
        let fit = fit_one(&refs, |o| o.energy_j, false).unwrap().fit;
        let c = Config {
            params: 2e5,
            macs: 1.2e6,
            batch_size: 32.0,
            epochs: 100.0,
            train_samples: 0.0,
        };
        let e = apply(&fit, &c, false);
        assert!((e - 1e-6 * 2e5 * 100.0).abs() / e < 1e-6, "{e}");
    }

    /// Four MLP-like models, one run each: MACs within 0.04 % of params, energy ∝ MACs × epochs
    /// with ±5 % noise.
    fn collinear_mlps() -> Vec<Obs<'static>> {
        let macs_factor = [1.0, 1.0004, 1.0001, 0.9997];
        let noise = [1.05, 0.97, 1.02, 0.96];
        (0..4)
            .map(|i| {
                let p = 1e5 * f64::powi(2.0, i as i32);
                let macs = p * macs_factor[i];
                Obs {
                    model: ["mlp-a", "mlp-b", "mlp-c", "mlp-d"][i],
                    config: Config {
                        params: p,
                        macs,
                        batch_size: 64.0,
                        epochs: 3.0,
                        train_samples: 0.0,
                    },
                    energy_j: 1e-6 * macs * 3.0 * noise[i],
                    duration_s: 1e-7 * macs * 3.0 * noise[i],
                    repeats: 1,
                }
            })
            .collect()
    }

    /// The former estimator: least squares dropping only exactly collinear regressors, scored by
    /// leave-one-model-out MAPE of energy; returns (coefficients on all rows, MAPE %).
    fn old_least_squares(obs: &[Obs]) -> (Vec<f64>, f64) {
        let rows: Vec<Vec<f64>> = obs.iter().map(|o| o.config.row(false)).collect();
        let y: Vec<f64> = obs
            .iter()
            .map(|o| o.energy_j.ln() - o.config.offset(false))
            .collect();
        let all = stats::ols_dropping_collinear(&rows, &y).unwrap();
        let (mut pred, mut meas) = (Vec::new(), Vec::new());
        for i in 0..obs.len() {
            let keep: Vec<usize> = (0..obs.len()).filter(|&j| j != i).collect();
            let r: Vec<Vec<f64>> = keep.iter().map(|&j| rows[j].clone()).collect();
            let t: Vec<f64> = keep.iter().map(|&j| y[j]).collect();
            let fit = stats::ols_dropping_collinear(&r, &t).unwrap();
            pred.push((fit.predict(&rows[i]) + obs[i].config.offset(false)).exp());
            meas.push(obs[i].energy_j);
        }
        (all.coefficients, stats::mape(&pred, &meas).unwrap())
    }

    #[test]
    fn collinear_params_and_macs_no_longer_give_huge_opposite_coefficients() {
        let obs = collinear_mlps();
        let (old_coef, old_mape) = old_least_squares(&obs);
        // The failure being fixed: ln params and ln MACs get large coefficients of opposite sign.
        assert!(
            old_coef[1].abs() > 50.0 && old_coef[1].signum() != old_coef[2].signum(),
            "{old_coef:?}"
        );
        let all: Vec<&Obs> = obs.iter().collect();
        let new = fit_one(&all, |o| o.energy_j, false).unwrap();
        let size: Vec<f64> = new.fit.coefficients[1..3].to_vec();
        assert!(
            size.iter().all(|b| b.abs() < 1.5) && size.iter().sum::<f64>() > 0.5,
            "{:?}",
            new.fit
        );
        let held_out = cross_validate(&obs, 4, 3, false);
        let cv = held_out.cv.expect("four models cross-validate");
        let new_mape = *cv.energy.mape_pct.as_ref().unwrap();
        assert!(
            new_mape < old_mape / 2.0 && new_mape < 10.0,
            "nested CV MAPE {new_mape} % vs least squares {old_mape} %"
        );
    }
}
