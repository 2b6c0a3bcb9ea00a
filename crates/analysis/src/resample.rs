//! Resampling statistics for correlations: exact permutation p-values for small samples and
//! percentile-bootstrap confidence intervals, both deterministic so a report is reproducible
//! byte for byte.

use serde::Serialize;

/// Largest sample for which the p-value enumerates every permutation (10! = 3 628 800).
pub const EXACT_MAX_N: usize = 10;

/// Bootstrap resamples drawn per interval.
pub const BOOTSTRAP_RESAMPLES: usize = 2000;

/// Fewest usable resamples (r defined) for an interval to be given.
pub const BOOTSTRAP_MIN_USED: usize = 100;

/// Seed of every bootstrap: the same data always give the same interval.
const BOOTSTRAP_SEED: u64 = 0x6772_6565_6e62_656e; // "greenben"

pub use greenbench_core::rng::SplitMix64;

/// How a p-value was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PMethod {
    /// Every permutation of y against x enumerated (n ≤ [`EXACT_MAX_N`]).
    #[serde(rename = "exact permutation")]
    ExactPermutation,
    /// Student's t distribution with n − 2 degrees of freedom.
    #[serde(rename = "t approximation")]
    TApproximation,
}

impl PMethod {
    /// One word for tight spaces (figure legends): `exact` or `t-approx.`.
    pub fn short(self) -> &'static str {
        match self {
            PMethod::ExactPermutation => "exact",
            PMethod::TApproximation => "t-approx.",
        }
    }
}

impl std::fmt::Display for PMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PMethod::ExactPermutation => "exact permutation",
            PMethod::TApproximation => "t approximation",
        })
    }
}

/// A 95 % percentile-bootstrap confidence interval of a correlation coefficient.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BootstrapCi {
    /// 2.5 % quantile of the resampled coefficients.
    pub lo: f64,
    /// 97.5 % quantile of the resampled coefficients.
    pub hi: f64,
    /// Resamples in which the coefficient was defined (the others had a constant series).
    pub resamples_used: usize,
    /// Resamples drawn.
    pub resamples: usize,
}

/// Centred copy of `v` (each value minus the mean).
fn centred(v: &[f64]) -> Vec<f64> {
    let m = v.iter().sum::<f64>() / v.len() as f64;
    v.iter().map(|a| a - m).collect()
}

/// Exact two-sided permutation p-value of the correlation of `x` and `y` (equal lengths, n ≥ 2,
/// neither constant): the fraction of all n! orderings of `y` against `x`, the observed one
/// included, whose |r| is at least |r observed| − 1e-12. Pass ranks for Spearman's ρ.
pub fn exact_permutation_p(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len();
    let (dx, mut dy) = (centred(x), centred(y));
    let sxx: f64 = dx.iter().map(|v| v * v).sum();
    let syy: f64 = dy.iter().map(|v| v * v).sum();
    let denom = sxx.sqrt() * syy.sqrt();
    let r = |dy: &[f64]| (dx.iter().zip(dy).map(|(a, b)| a * b).sum::<f64>() / denom).abs();
    let threshold = r(&dy) - 1e-12;
    let (mut hits, mut total) = (1u64, 1u64);
    // Heap's algorithm: each step swaps two entries and gives a new permutation.
    let mut c = vec![0usize; n];
    let mut i = 1;
    while i < n {
        if c[i] < i {
            dy.swap(if i % 2 == 0 { 0 } else { c[i] }, i);
            total += 1;
            hits += u64::from(r(&dy) >= threshold);
            c[i] += 1;
            i = 1;
        } else {
            c[i] = 0;
            i += 1;
        }
    }
    hits as f64 / total as f64
}

/// 95 % percentile bootstrap over `n` pairs resampled with replacement ([`BOOTSTRAP_RESAMPLES`]
/// times, fixed seed). A resample is given to `coef` as weights: how many times each pair was
/// drawn (a coefficient over the resample is the weighted one, with no copy or sort per
/// resample). Resamples where `coef` is undefined are skipped; `None` when fewer than
/// [`BOOTSTRAP_MIN_USED`] remain.
pub fn bootstrap_ci(n: usize, coef: impl Fn(&[f64]) -> Option<f64>) -> Option<BootstrapCi> {
    if n == 0 {
        return None;
    }
    let mut rng = SplitMix64::new(BOOTSTRAP_SEED);
    let mut w = vec![0.0; n];
    let mut rs = Vec::with_capacity(BOOTSTRAP_RESAMPLES);
    for _ in 0..BOOTSTRAP_RESAMPLES {
        w.iter_mut().for_each(|v| *v = 0.0);
        for _ in 0..n {
            w[rng.below(n)] += 1.0;
        }
        if let Some(r) = coef(&w).filter(|r| r.is_finite()) {
            rs.push(r);
        }
    }
    if rs.len() < BOOTSTRAP_MIN_USED {
        return None;
    }
    Some(BootstrapCi {
        lo: quantile(&rs, 0.025)?,
        hi: quantile(&rs, 0.975)?,
        resamples_used: rs.len(),
        resamples: BOOTSTRAP_RESAMPLES,
    })
}

/// Linear-interpolated quantile (`q` in 0..=1) of finite values, as numpy's default; `None` if
/// empty.
pub fn quantile(x: &[f64], q: f64) -> Option<f64> {
    let mut v: Vec<f64> = x.iter().copied().filter(|v| v.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let pos = q.clamp(0.0, 1.0) * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    Some(v[lo] + (v[hi] - v[lo]) * (pos - lo as f64))
}

/// Pearson's r of `x` and `y` with weights `w` (a bootstrap resample: pair i counted `w[i]`
/// times); `None` when either series is constant over the pairs with weight.
pub fn weighted_pearson(x: &[f64], y: &[f64], w: &[f64]) -> Option<f64> {
    let total: f64 = w.iter().sum();
    let wmean = |v: &[f64]| v.iter().zip(w).map(|(a, b)| a * b).sum::<f64>() / total;
    let (mx, my) = (wmean(x), wmean(y));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for ((a, b), wi) in x.iter().zip(y).zip(w) {
        let (dx, dy) = (a - mx, b - my);
        sxy += wi * dx * dy;
        sxx += wi * dx * dx;
        syy += wi * dy * dy;
    }
    // As `stats::pearson`: a spread that is rounding noise is constant.
    let scale = |m: f64| (m.abs() * 1e-12).powi(2) * total;
    if total <= 0.0 || sxx <= scale(mx) || syy <= scale(my) {
        return None;
    }
    Some((sxy / (sxx.sqrt() * syy.sqrt())).clamp(-1.0, 1.0))
}

/// Average ranks (from 1, ties sharing the mean of their positions) of `v` in a resample
/// weighted by `w`, given `order`, the indices of `v` sorted by value. Pairs of weight 0 get a
/// rank that their weight then ignores.
pub fn weighted_ranks(v: &[f64], order: &[usize], w: &[f64]) -> Vec<f64> {
    let mut ranks = vec![0.0; v.len()];
    let (mut start, mut i) = (0.0, 0);
    while i < order.len() {
        let (mut j, mut g) = (i, w[order[i]]);
        while j + 1 < order.len() && v[order[j + 1]] == v[order[i]] {
            j += 1;
            g += w[order[j]];
        }
        for &k in &order[i..=j] {
            ranks[k] = start + (g + 1.0) / 2.0;
        }
        start += g;
        i = j + 1;
    }
    ranks
}

/// The indices of `v` sorted by value (for [`weighted_ranks`]).
pub fn sort_order(v: &[f64]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    idx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_rank_agreement_over_four_has_p_one_twelfth() {
        let p = exact_permutation_p(&[1.0, 2.0, 3.0, 4.0], &[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(p, 1.0 / 12.0);
    }

    #[test]
    fn exact_p_counts_ties_in_the_statistic() {
        // r = 0.5 over 3: |r_perm| ∈ {1, 0.5, 0.5, 0.5, 0.5, 1} → every permutation counts.
        assert_eq!(exact_permutation_p(&[1.0, 2.0, 3.0], &[1.0, 3.0, 2.0]), 1.0);
        // r = 1 over 3: only the identity and the reversal reach |r| = 1.
        assert_eq!(
            exact_permutation_p(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.0]),
            2.0 / 6.0
        );
    }

    #[test]
    fn bootstrap_skips_undefined_resamples_and_gives_up_when_all_are() {
        let (x, y) = ([1.0, 2.0, 3.0], [1.0, 3.0, 2.0]);
        // Three points: a resample of one point repeated (1 in 9) is constant and skipped.
        let ci = bootstrap_ci(3, |w| weighted_pearson(&x, &y, w)).unwrap();
        assert!(
            ci.resamples_used < ci.resamples && ci.resamples_used > 1600,
            "{ci:?}"
        );
        let flat = [1.0; 3];
        assert_eq!(bootstrap_ci(3, |w| weighted_pearson(&flat, &y, w)), None);
    }

    #[test]
    fn resampling_needs_no_other_module_of_the_crate() {
        // stats builds on resample (p-values, intervals); resample must not lean back on stats.
        let needle = format!("crate::{}", "stats");
        assert!(
            !include_str!("resample.rs").contains(&needle),
            "resample.rs names {needle}: move what it needs here, stats re-exports it"
        );
    }
}
