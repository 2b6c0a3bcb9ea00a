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

/// Mean training energy per batch size relative to each model's smallest batch size, averaged
/// over models that ran ≥ 2 batch sizes: (batch size, relative energy, models).
pub fn batch_size_profile(ctx: &ReportContext) -> Vec<(usize, f64, usize)> {
    let (runs, basis) = (ctx.runs, ctx.basis);
    let mut per_model: BTreeMap<&str, BTreeMap<usize, Vec<f64>>> = BTreeMap::new();
    for r in runs {
        if let Some(e) = basis.train_j(r) {
            per_model
                .entry(&r.spec.model)
                .or_default()
                .entry(r.spec.batch_size)
                .or_default()
                .push(e);
        }
    }
    let mut acc: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
    for by_batch in per_model.values().filter(|m| m.len() >= 2) {
        let means: Vec<(usize, f64)> = by_batch
            .iter()
            .filter_map(|(b, v)| Some((*b, stats::mean(v)?)))
            .collect();
        let Some(&(_, base)) = means.first() else {
            continue;
        };
        if base <= 0.0 {
            continue;
        }
        for (b, m) in means {
            acc.entry(b).or_default().push(m / base);
        }
    }
    acc.into_iter()
        .filter_map(|(b, v)| Some((b, stats::mean(&v)?, v.len())))
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

fn near(target: f64) -> impl Fn(&Stat<Correlation>) -> String {
    move |c| match c {
        Err(e) => format!("not comparable ({e})"),
        Ok(c) if (c.coefficient - target).abs() <= 0.1 => {
            format!("close to the paper (Δ {:+.2})", c.coefficient - target)
        }
        Ok(c) if c.coefficient > target => {
            format!("stronger than the paper (Δ {:+.2})", c.coefficient - target)
        }
        Ok(c) => format!("weaker than the paper (Δ {:+.2})", c.coefficient - target),
    }
}

fn none_expected(c: &Stat<Correlation>) -> String {
    match c {
        Err(e) => format!("not comparable ({e})"),
        Ok(c) if c.p_value >= 0.05 => "agrees: no significant correlation (p ≥ 0.05)".into(),
        Ok(c) => format!(
            "differs: significant at p = {}",
            crate::numbers::sig(c.p_value, 2)
        ),
    }
}

/// How the energy of a sweep moves with batch size, for the batch-size pair: the trend its
/// coefficient `c` shows, then `profile` (from [`batch_size_profile`]) as "batch: relative
/// energy" or why there is none.
fn batch_size_comment(profile: &[(usize, f64, usize)], c: &Stat<Correlation>) -> String {
    let shape = if profile.len() >= 2 {
        profile
            .iter()
            .map(|(b, v, _)| format!("{b}: {v:.2}"))
            .collect::<Vec<_>>()
            .join(", ")
    } else {
        "one batch size per model: no profile".into()
    };
    let trend = match c {
        Ok(c) if c.coefficient < 0.0 && c.p_value < 0.05 => "falls with batch size",
        Ok(c) if c.coefficient > 0.0 && c.p_value < 0.05 => "rises with batch size (differs)",
        Ok(_) => "no significant trend",
        Err(_) => "not comparable",
    };
    format!("{trend}; energy relative to each model's smallest batch: {shape}")
}

/// Comment on a pair the paper gives no figure for: significant at p < 0.05 or not.
fn no_paper_figure(c: &Stat<Correlation>) -> String {
    match c {
        Ok(c) if c.p_value < 0.05 => "significant (the paper gives no figure)".into(),
        Ok(_) => "not significant (the paper gives no figure)".into(),
        Err(e) => format!("not comparable ({e})"),
    }
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
            near(0.99),
        ),
        pair(
            "training time vs inference time",
            "configuration".into(),
            &points(groups, &|r| Some((train_s(r)?, infer_s(r)?)), None),
            Headline::Pearson,
            "r ≈ 0.9",
            near(0.9),
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
            near(0.8),
        ),
        pair(
            "MACs/parameter vs training energy",
            unit_model.clone(),
            &per_model(&|r| Some((data::macs_per_param(r)?, e(r)?))),
            Headline::Spearman,
            "ρ ≈ 0.9 (0.902 / 0.915 / 0.853)",
            near(0.9),
        ),
        pair(
            "parameters vs training energy",
            unit_model.clone(),
            &per_model(&|r| Some((data::params(r)?, e(r)?))),
            Headline::Spearman,
            "— (not reported)",
            no_paper_figure,
        ),
        pair(
            "test accuracy vs training energy",
            unit_model,
            &per_model(&|r| Some((data::accuracy(r)?, e(r)?))),
            Headline::Spearman,
            "no correlation",
            none_expected,
        ),
    ]
}

/// The seven pairs of the paper, each on configuration means (a configuration: one model
/// under one setting, its repeats averaged). Time–energy, time–time and batch-size pairs use
/// every configuration; model-property pairs use one point per model under the setting with
/// the most models, as the paper compares models at one setting.
pub fn correlation_study(ctx: &ReportContext) -> Vec<PairResult> {
    let (runs, basis) = (ctx.runs, ctx.basis);
    let profile = batch_size_profile(ctx);
    let all = groups::config_groups(runs);
    let every: Vec<&ConfigGroup> = all.iter().collect();
    let batch = pair(
        "batch size vs training energy",
        "configuration".into(),
        &points(
            &every,
            &|r| Some((r.spec.batch_size as f64, basis.train_j(r)?)),
            Some(&train_energy(ctx)),
        ),
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

    fn corr(coefficient: f64, p_value: f64) -> Stat<Correlation> {
        Ok(Correlation {
            coefficient,
            n: 10,
            p_value,
            p_method: stats::PMethod::ExactPermutation,
            ci95: None,
        })
    }

    #[test]
    fn batch_size_comment_names_the_trend_and_the_profile() {
        let profile = [(32, 1.0, 3), (64, 0.8, 3)];
        assert_eq!(
            batch_size_comment(&profile, &corr(-0.6, 0.01)),
            "falls with batch size; energy relative to each model's smallest batch: 32: 1.00, 64: 0.80"
        );
        assert!(batch_size_comment(&profile, &corr(0.6, 0.01)).starts_with("rises"));
        assert!(batch_size_comment(&profile, &corr(-0.6, 0.2)).starts_with("no significant"));
    }

    #[test]
    fn batch_size_comment_without_a_profile_says_why() {
        let c = Err(stats::NotComputed::Constant);
        assert_eq!(
            batch_size_comment(&[(32, 1.0, 3)], &c),
            "not comparable; energy relative to each model's smallest batch: one batch size per model: no profile"
        );
    }

    #[test]
    fn no_paper_figure_says_whether_significant() {
        assert!(no_paper_figure(&corr(0.5, 0.01)).starts_with("significant"));
        assert!(no_paper_figure(&corr(0.5, 0.3)).starts_with("not significant"));
    }
}
