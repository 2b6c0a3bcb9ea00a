//! The paper's correlation study: each pair with Pearson r (also of the logarithms) and
//! Spearman ρ on configuration means (n, p and its method, 95 % BCa interval from a bootstrap
//! over configurations and their repeats), beside the figure the paper reports.

use std::collections::BTreeMap;

use greenbench_core::ComponentEnergy;
use greenbench_core::RunRecord;
use serde::Serialize;

use crate::context::ReportContext;
use crate::data;
use crate::groups::{self, ConfigGroup};
use crate::stats::{self, Correlation, Stat};

mod verdict;

pub use verdict::RULE;
use verdict::{verdict, Interval, PaperFinding};

/// Which coefficient the paper quotes for a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Headline {
    /// Pearson r.
    Pearson,
    /// Spearman's rank correlation ρ (monotone, robust to outliers).
    Spearman,
}

/// One row of the study.
#[derive(Debug, Clone, Serialize)]
pub struct PairResult {
    /// "training time vs training energy", …
    pub pair: &'static str,
    /// What one point is ("configuration" or "model at <context>"): a mean over repeats.
    pub unit: String,
    /// Pearson r of the configuration means.
    pub pearson: Stat<Correlation>,
    /// Pearson r of the means' logarithms (values spanning decades are then not driven by a few
    /// large ones).
    pub pearson_log: Stat<Correlation>,
    /// Spearman's rank correlation ρ, with its p-value and interval.
    pub spearman: Stat<Correlation>,
    /// The coefficient the paper quotes.
    pub headline: Headline,
    /// The paper's figure.
    pub paper: &'static str,
    /// How this sweep compares, in words.
    pub comparison: String,
}

/// One batch size of [`batch_size_profile`].
#[derive(Debug, Clone, PartialEq)]
pub struct BatchPoint {
    /// The batch size.
    pub batch: usize,
    /// Mean training energy relative to each model's smallest batch size.
    pub relative_energy: f64,
    /// Models averaged (those that ran ≥ 2 batch sizes and this one).
    pub models: usize,
    /// Mean test accuracy (fraction) of those models' runs at this batch size; `None` when no
    /// run recorded one.
    pub accuracy: Option<f64>,
}

/// Each model's mean training energy per batch size (its runs at that batch size pooled), for
/// the models that ran at least two batch sizes: the batch-size row compares each batch against
/// the model's smallest.
fn energy_by_batch<'r>(ctx: &ReportContext<'r>) -> BTreeMap<&'r str, BTreeMap<usize, f64>> {
    let mut per_model: BTreeMap<&str, BTreeMap<usize, Vec<f64>>> = BTreeMap::new();
    for &r in ctx.runs {
        if let Some(e) = ctx.basis.train_j(r) {
            per_model
                .entry(r.spec.model.as_str())
                .or_default()
                .entry(r.spec.batch_size)
                .or_default()
                .push(e);
        }
    }
    per_model
        .into_iter()
        .filter(|(_, by_batch)| by_batch.len() >= 2)
        .map(|(model, by_batch)| {
            let means = by_batch
                .into_iter()
                .filter_map(|(b, v)| Some((b, stats::mean(&v)?)))
                .collect();
            (model, means)
        })
        .collect()
}

/// Each model's mean training energy at its smallest batch size, from [`energy_by_batch`]
/// (positive ones only: the base each batch is compared with).
fn smallest_batch_energy<'r>(
    by_model: &BTreeMap<&'r str, BTreeMap<usize, f64>>,
) -> BTreeMap<&'r str, f64> {
    by_model
        .iter()
        .filter_map(|(&model, means)| {
            let (_, &base) = means.first_key_value()?;
            (base > 0.0).then_some((model, base))
        })
        .collect()
}

/// Mean training energy per batch size relative to each model's smallest batch size, averaged
/// over models that ran ≥ 2 batch sizes (`by_model`, from [`energy_by_batch`], with their
/// `bases` from [`smallest_batch_energy`]), with the mean test accuracy of their runs at that
/// batch size (per-epoch energy alone ignores that large batches may not learn).
fn batch_size_profile(
    ctx: &ReportContext,
    by_model: &BTreeMap<&str, BTreeMap<usize, f64>>,
    bases: &BTreeMap<&str, f64>,
) -> Vec<BatchPoint> {
    let runs = ctx.runs;
    let mut acc: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
    for (model, means) in by_model {
        let Some(base) = bases.get(model) else {
            continue;
        };
        for (&b, &m) in means {
            acc.entry(b).or_default().push(m / base);
        }
    }
    let profiled = |r: &&&RunRecord| by_model.contains_key(r.spec.model.as_str());
    acc.into_iter()
        .filter_map(|(b, v)| {
            let accuracies: Vec<f64> = runs
                .iter()
                .filter(profiled)
                .filter(|r| r.spec.batch_size == b)
                .filter_map(|r| data::accuracy(r))
                .collect();
            Some(BatchPoint {
                batch: b,
                relative_energy: stats::mean(&v)?,
                models: v.len(),
                accuracy: stats::mean(&accuracies),
            })
        })
        .collect()
}

/// One pair over `points`: each point a configuration's repeats as (x, y) of its runs.
fn pair(
    pair: &'static str,
    unit: String,
    points: &Points,
    headline: Headline,
    paper: &'static str,
    compare: impl Fn(&Stat<Correlation>) -> String,
) -> PairResult {
    let (g, r) = (&points.groups, &points.y_ranges);
    let pearson = stats::pearson_of_groups_within(g, r);
    let pearson_log = stats::log_pearson_of_groups_within(g, r);
    let spearman = stats::spearman_of_groups_within(g, r);
    let comparison = compare(match headline {
        Headline::Pearson => &pearson,
        Headline::Spearman => &spearman,
    });
    PairResult {
        pair,
        unit,
        pearson,
        pearson_log,
        spearman,
        headline,
        paper,
        comparison,
    }
}

/// A row's 95 % interval (of coefficient `c`), or why there is none.
fn interval(c: &Stat<Correlation>) -> Interval {
    match c {
        Err(e) => Interval::Missing(e.to_string()),
        Ok(c) => match c.ci95 {
            Some(ci) => Interval::Computed {
                lo: ci.lo,
                hi: ci.hi,
                ranges_drawn: ci.within_range,
            },
            None => Interval::Missing("too few resamples with a defined coefficient".into()),
        },
    }
}

/// The verdict of a row whose paper finding is `paper` (see [`verdict::verdict`]).
fn judge(paper: PaperFinding, estimated: bool) -> impl Fn(&Stat<Correlation>) -> String {
    move |c| verdict(paper, &interval(c), estimated)
}

/// The batch-size row's comment: its verdict, then `profile` (from [`batch_size_profile`]) as
/// "batch: relative energy (acc mean test accuracy)" or why there is none.
fn batch_size_comment(profile: &[BatchPoint], c: &Stat<Correlation>) -> String {
    let shape = if profile.len() >= 2 {
        profile
            .iter()
            .map(|p| {
                let acc = match p.accuracy {
                    Some(a) => format!("{:.0} %", a * 100.0),
                    None => "n/a".into(),
                };
                format!("{}: {:.2} (acc {acc})", p.batch, p.relative_energy)
            })
            .collect::<Vec<_>>()
            .join(", ")
    } else {
        "one batch size per model: no profile".into()
    };
    format!(
        "{}; energy relative to each model's smallest batch (mean test accuracy): {shape}",
        verdict(PaperFinding::Negative, &interval(c), false)
    )
}

/// Whether the training energy of every run that has one is estimated (CPU time × a power
/// model), so training time vs training energy holds by construction.
fn energy_estimated(ctx: &ReportContext) -> bool {
    let mut qualities = ctx
        .runs
        .iter()
        .filter_map(|r| ctx.basis.train(r))
        .map(|e| e.quality)
        .peekable();
    qualities.peek().is_some() && qualities.all(|q| q == Some(greenbench_core::Quality::Estimated))
}

/// A pair's points (each a configuration's runs as (x, y)) and each point's y range as factors
/// of its mean (`None`: y has no stated range).
struct Points {
    groups: Vec<Vec<(f64, f64)>>,
    y_ranges: Vec<Option<[f64; 2]>>,
}

/// A run's training energy on the context's basis (the energy of every energy pair's y).
fn train_energy(ctx: &ReportContext) -> impl Fn(&RunRecord) -> Option<&ComponentEnergy> {
    let basis = ctx.basis;
    move |r| basis.train(r)
}

/// The energy whose range a pair's y carries (`None` for a pair without energy).
type YEnergy<'f> = Option<&'f dyn Fn(&RunRecord) -> Option<&ComponentEnergy>>;

/// Each group's runs where `f` gives both values, as one point; groups without such a run are
/// left out. Where `y_energy` is given and every run of a group carries its range, the point's
/// y range is that range over the mean of its y.
fn points(
    groups: &[&ConfigGroup],
    f: &dyn Fn(&RunRecord) -> Option<(f64, f64)>,
    y_energy: YEnergy,
) -> Points {
    let mut out = Points {
        groups: Vec::new(),
        y_ranges: Vec::new(),
    };
    for g in groups {
        let v: Vec<(f64, f64)> = g.runs.iter().filter_map(|r| f(r)).collect();
        let Some(mean) = stats::mean(&v.iter().map(|p| p.1).collect::<Vec<_>>()) else {
            continue;
        };
        let range = y_energy
            .and_then(|e| g.range(e))
            .filter(|_| mean > 0.0)
            .map(|[l, h]| [l / mean, h / mean]);
        out.groups.push(v);
        out.y_ranges.push(range);
    }
    out
}

/// The two time pairs, one point per configuration (mean over its repeats): training time vs
/// training energy and training time vs inference time.
fn time_pairs(groups: &[&ConfigGroup], ctx: &ReportContext) -> [PairResult; 2] {
    let basis = ctx.basis;
    let train_s = |r: &RunRecord| r.train.as_ref().map(|t| t.duration_s);
    let infer_s = |r: &RunRecord| r.inference.as_ref().map(|i| i.duration_s);
    [
        pair(
            "training time vs training energy",
            "configuration".into(),
            &points(
                groups,
                &|r| Some((train_s(r)?, basis.train_j(r)?)),
                Some(&train_energy(ctx)),
            ),
            Headline::Pearson,
            "r ≈ 0.99",
            judge(PaperFinding::Value(0.99), energy_estimated(ctx)),
        ),
        pair(
            "training time vs inference time",
            "configuration".into(),
            &points(groups, &|r| Some((train_s(r)?, infer_s(r)?)), None),
            Headline::Pearson,
            "r ≈ 0.9",
            judge(PaperFinding::Value(0.9), false),
        ),
    ]
}

/// The four model-property pairs (MACs, MACs/parameter, parameters and test accuracy, each vs
/// training energy), one point per model (mean over repeats) under the setting with the most
/// models.
fn model_pairs(ctx: &ReportContext) -> [PairResult; 4] {
    let basis = ctx.basis;
    let all_groups = groups::config_groups(ctx.runs);
    let (setting, models) = groups::per_model(&all_groups);
    let unit_model = match &setting {
        Some(c) => format!("model ({c})"),
        None => "model".into(),
    };
    let train = train_energy(ctx);
    let per_model = |f: &dyn Fn(&RunRecord) -> Option<(f64, f64)>| points(&models, f, Some(&train));
    let e = |r: &RunRecord| basis.train_j(r);
    [
        pair(
            "MACs vs training energy",
            unit_model.clone(),
            &per_model(&|r| Some((data::macs(r)?, e(r)?))),
            Headline::Spearman,
            "ρ ≈ 0.8",
            judge(PaperFinding::Value(0.8), false),
        ),
        pair(
            "MACs/parameter vs training energy",
            unit_model.clone(),
            &per_model(&|r| Some((data::macs_per_param(r)?, e(r)?))),
            Headline::Spearman,
            "ρ ≈ 0.9 (0.902 / 0.915 / 0.853)",
            judge(PaperFinding::Value(0.9), false),
        ),
        pair(
            "parameters vs training energy",
            unit_model.clone(),
            &per_model(&|r| Some((data::params(r)?, e(r)?))),
            Headline::Spearman,
            "— (not reported)",
            judge(PaperFinding::NoFigure, false),
        ),
        pair(
            "test accuracy vs training energy",
            unit_model,
            &per_model(&|r| Some((data::accuracy(r)?, e(r)?))),
            Headline::Spearman,
            "no correlation",
            judge(PaperFinding::NoCorrelation, false),
        ),
    ]
}

/// The seven pairs of the paper, each on configuration means (a configuration: one model
/// under one setting, its repeats averaged). Time–energy, time–time and batch-size pairs use
/// every configuration (the batch-size pair each configuration's energy relative to its model's
/// mean at its smallest batch, over the models that ran two batch sizes or more); model-property
/// pairs use one point per model under the setting with the most models, as the paper compares
/// models at one setting.
pub fn correlation_study(ctx: &ReportContext) -> Vec<PairResult> {
    let (runs, basis) = (ctx.runs, ctx.basis);
    let by_model = energy_by_batch(ctx);
    let base = smallest_batch_energy(&by_model);
    let profile = batch_size_profile(ctx, &by_model, &base);
    let all = groups::config_groups(runs);
    let every: Vec<&ConfigGroup> = all.iter().collect();
    // Within each model: models' energies span decades, so pooled absolute energies would rank
    // the models, not the batch sizes.
    let relative = |r: &RunRecord| {
        let b = base.get(r.spec.model.as_str())?;
        Some((r.spec.batch_size as f64, basis.train_j(r)? / b))
    };
    let batch = pair(
        "batch size vs training energy",
        "configuration (energy relative to its model's smallest batch)".into(),
        &points(&every, &relative, Some(&train_energy(ctx))),
        Headline::Spearman,
        "falls with batch size, plateaus above ~96–128",
        |c| batch_size_comment(&profile, c),
    );
    let mut pairs = Vec::with_capacity(7);
    pairs.extend(time_pairs(&every, ctx));
    pairs.extend(model_pairs(ctx));
    pairs.push(batch);
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corr(coefficient: f64, lo: f64, hi: f64) -> Stat<Correlation> {
        Ok(Correlation {
            coefficient,
            n: 10,
            p_value: 0.5,
            p_method: stats::PMethod::ExactPermutation,
            ci95: Some(stats::BootstrapCi {
                lo,
                hi,
                resamples_used: 100,
                resamples: 100,
                two_level: false,
                within_range: false,
            }),
        })
    }

    fn point(batch: usize, relative_energy: f64, accuracy: Option<f64>) -> BatchPoint {
        BatchPoint {
            batch,
            relative_energy,
            models: 3,
            accuracy,
        }
    }

    #[test]
    fn batch_size_comment_gives_the_verdict_then_energy_and_accuracy() {
        let profile = [point(32, 1.0, Some(0.71)), point(64, 0.8, None)];
        assert_eq!(
            batch_size_comment(&profile, &corr(-0.6, -0.8, -0.3)),
            "agrees: 95 % CI [-0.80, -0.30] lies below 0, as does the paper's negative trend; \
             energy relative to each model's smallest batch (mean test accuracy): \
             32: 1.00 (acc 71 %), 64: 0.80 (acc n/a)"
        );
        assert!(batch_size_comment(&profile, &corr(0.6, 0.3, 0.8)).starts_with("differs"));
        assert!(batch_size_comment(&profile, &corr(-0.6, -0.8, 0.1)).starts_with("inconclusive"));
    }

    #[test]
    fn batch_size_comment_without_a_profile_says_why() {
        let c = Err(stats::NotComputed::Constant);
        assert_eq!(
            batch_size_comment(&[point(32, 1.0, Some(0.5))], &c),
            "inconclusive: no interval (n/a: constant input); energy relative to each model's \
             smallest batch (mean test accuracy): one batch size per model: no profile"
        );
    }

    #[test]
    fn a_coefficient_without_an_interval_is_inconclusive() {
        let mut c = corr(0.9, 0.0, 0.0);
        if let Ok(c) = &mut c {
            c.ci95 = None;
        }
        assert_eq!(
            judge(PaperFinding::Value(0.9), false)(&c),
            "inconclusive: no interval (too few resamples with a defined coefficient)"
        );
    }
}
