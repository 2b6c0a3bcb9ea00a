//! Resampling statistics for correlations: exact permutation p-values for small samples and
//! bias-corrected and accelerated (BCa) bootstrap intervals over configurations and their
//! repeats, both deterministic so a report is reproducible byte for byte.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal};

/// Largest sample for which the p-value enumerates every permutation (10! = 3 628 800).
pub const EXACT_MAX_N: usize = 10;

/// Bootstrap resamples drawn per interval (as `scipy.stats.bootstrap`'s default).
pub const BOOTSTRAP_RESAMPLES: usize = 9999;

/// Fewest usable resamples (coefficient defined) for an interval to be given.
pub const BOOTSTRAP_MIN_USED: usize = 100;

/// Seed of every bootstrap: the same data always give the same interval.
const BOOTSTRAP_SEED: u64 = 0x6772_6565_6e62_656e; // "greenben"

pub use greenbench_core::SplitMix64;

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

/// A 95 % BCa bootstrap confidence interval of a correlation coefficient.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BootstrapCi {
    /// Lower bound: the resampled coefficients' quantile at the BCa-adjusted 2.5 %.
    pub lo: f64,
    /// Upper bound: the resampled coefficients' quantile at the BCa-adjusted 97.5 %.
    pub hi: f64,
    /// Resamples in which the coefficient was defined (the others had a constant series).
    pub resamples_used: usize,
    /// Resamples drawn.
    pub resamples: usize,
    /// Whether repeats were resampled within each configuration too (some point had ≥ 2
    /// repeats), so the interval carries measurement noise.
    pub two_level: bool,
    /// Whether each resample drew a configuration's y (its energy) uniformly within its
    /// estimate's range, so the interval carries the estimate's uncertainty too.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub within_range: bool,
}

impl BootstrapCi {
    /// How the interval was obtained, in words: `BCa bootstrap (configurations, then their
    /// repeats)` or `BCa bootstrap (points)`.
    pub fn method(&self) -> &'static str {
        match (self.two_level, self.within_range) {
            (true, false) => "BCa bootstrap (configurations, then their repeats)",
            (false, false) => "BCa bootstrap (points)",
            (true, true) => {
                "BCa bootstrap (configurations, then their repeats; energy drawn within its estimate's range)"
            }
            (false, true) => {
                "BCa bootstrap (points; energy drawn within its estimate's range)"
            }
        }
    }
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

/// The mean of each configuration's x and y (over its repeats).
pub fn group_means(groups: &[Vec<(f64, f64)>]) -> (Vec<f64>, Vec<f64>) {
    groups
        .iter()
        .map(|g| {
            let n = g.len() as f64;
            (
                g.iter().map(|p| p.0).sum::<f64>() / n,
                g.iter().map(|p| p.1).sum::<f64>() / n,
            )
        })
        .unzip()
}

/// 95 % BCa interval of `coef` (a coefficient of configuration means) by a two-level bootstrap
/// ([`BOOTSTRAP_RESAMPLES`] times, fixed seed): each resample draws the configurations with
/// replacement, then each drawn configuration's repeats (its runs' (x, y)) with replacement,
/// and gives `coef` the resampled means. Resamples where `coef` is undefined are skipped;
/// `None` when fewer than [`BOOTSTRAP_MIN_USED`] remain, a configuration has no repeat, or the
/// coefficient of the means is undefined.
///
/// BCa as `scipy.stats.bootstrap(method='BCa')`, which this is exactly with one repeat per
/// configuration: bias z₀ from the fraction of resampled coefficients below the estimate (ties
/// counted half; kept within 1/(2B) of 0 and 1 so z₀ stays finite), acceleration from the
/// leave-one-configuration-out jackknife (leaves with an undefined coefficient skipped).
/// With repeats, resampling them adds their noise to means that already carry it, which
/// attenuates the coefficient: BCa would read that shift as bias and move the interval off
/// the data. So z₀ is taken from the same resamples' configuration-level coefficients (the
/// drawn configurations' observed means), and the two-level coefficients are centred on those
/// (shifted by the difference of the two medians) before the quantiles are read: the repeats
/// widen the interval without moving it. (The report draws within ranges,
/// [`two_level_bca_within`]; this plain form is what the tests check against scipy.)
#[cfg(test)]
pub fn two_level_bca(
    groups: &[Vec<(f64, f64)>],
    coef: impl Fn(&[f64], &[f64]) -> Option<f64>,
) -> Option<BootstrapCi> {
    two_level_bca_with(groups, coef, BOOTSTRAP_RESAMPLES)
}

/// [`two_level_bca`] with `resamples` resamples instead of [`BOOTSTRAP_RESAMPLES`] (a check
/// against a reference with less Monte Carlo error).
#[cfg(test)]
pub fn two_level_bca_with(
    groups: &[Vec<(f64, f64)>],
    coef: impl Fn(&[f64], &[f64]) -> Option<f64>,
    resamples: usize,
) -> Option<BootstrapCi> {
    two_level_bca_within(groups, &[], coef, resamples)
}

/// [`two_level_bca_with`] where a configuration's y is an estimate with a range: `y_ranges[i]`
/// is configuration `i`'s range as factors of its mean (`[low / mean, high / mean]`; `None` or
/// missing: no range). Each resample multiplies a drawn configuration's resampled y mean by a
/// factor drawn uniformly in its range, independently per draw, so the interval is at least as
/// wide as the estimates allow (like the repeats, the draws widen the interval without moving
/// it). With no range this is [`two_level_bca_with`] exactly, draw for draw.
pub fn two_level_bca_within(
    groups: &[Vec<(f64, f64)>],
    y_ranges: &[Option<[f64; 2]>],
    coef: impl Fn(&[f64], &[f64]) -> Option<f64>,
    resamples: usize,
) -> Option<BootstrapCi> {
    let n = groups.len();
    if n == 0 || groups.iter().any(|g| g.is_empty()) {
        return None;
    }
    let (mx, my) = group_means(groups);
    let estimate = coef(&mx, &my).filter(|r| r.is_finite())?;
    let range = |i: usize| {
        y_ranges
            .get(i)
            .copied()
            .flatten()
            .filter(|[l, h]| l.is_finite() && h.is_finite() && l < h)
    };
    let within_range = (0..n).any(|i| range(i).is_some());
    let repeats = groups.iter().any(|g| g.len() > 1);
    let two_level = repeats || within_range;
    let mut rng = SplitMix64::new(BOOTSTRAP_SEED);
    let (mut xs, mut ys) = (vec![0.0; n], vec![0.0; n]);
    let (mut xo, mut yo) = (vec![0.0; n], vec![0.0; n]);
    // Per resample: the coefficient of the drawn configurations' observed means, and of their
    // resampled repeats' means.
    let (mut outer, mut both) = (Vec::with_capacity(resamples), Vec::with_capacity(resamples));
    for _ in 0..resamples {
        for k in 0..n {
            let i = rng.below(n);
            let g = &groups[i];
            (xo[k], yo[k]) = (mx[i], my[i]);
            if g.len() == 1 {
                (xs[k], ys[k]) = g[0];
            } else {
                let (mut sx, mut sy) = (0.0, 0.0);
                for _ in 0..g.len() {
                    let (a, b) = g[rng.below(g.len())];
                    sx += a;
                    sy += b;
                }
                xs[k] = sx / g.len() as f64;
                ys[k] = sy / g.len() as f64;
            }
            if let Some([l, h]) = range(i) {
                ys[k] *= l + (h - l) * rng.unit();
            }
        }
        let r_outer = coef(&xo, &yo).filter(|r| r.is_finite());
        let r_both = if two_level {
            coef(&xs, &ys).filter(|r| r.is_finite())
        } else {
            r_outer
        };
        if let (Some(a), Some(b)) = (r_outer, r_both) {
            outer.push(a);
            both.push(b);
        }
    }
    if outer.len() < BOOTSTRAP_MIN_USED {
        return None;
    }
    if two_level {
        let shift = quantile(&outer, 0.5)? - quantile(&both, 0.5)?;
        both.iter_mut()
            .for_each(|r| *r = (*r + shift).clamp(-1.0, 1.0));
    }
    let (a1, a2) = bca_levels(&outer, estimate, &jackknife(&mx, &my, &coef))?;
    Some(BootstrapCi {
        lo: quantile(&both, a1)?,
        hi: quantile(&both, a2)?,
        resamples_used: both.len(),
        resamples,
        two_level: repeats,
        within_range,
    })
}

/// The coefficient of the means with each configuration left out in turn (undefined ones
/// skipped).
fn jackknife(mx: &[f64], my: &[f64], coef: &impl Fn(&[f64], &[f64]) -> Option<f64>) -> Vec<f64> {
    (0..mx.len())
        .filter_map(|i| {
            let leave = |v: &[f64]| -> Vec<f64> {
                v.iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .map(|(_, a)| *a)
                    .collect()
            };
            coef(&leave(mx), &leave(my)).filter(|r| r.is_finite())
        })
        .collect()
}

/// The BCa quantile levels for a 95 % interval from the resampled coefficients, the estimate
/// and its jackknife values.
fn bca_levels(resampled: &[f64], estimate: f64, jack: &[f64]) -> Option<(f64, f64)> {
    let normal = Normal::new(0.0, 1.0).ok()?;
    let b = resampled.len() as f64;
    let below = resampled.iter().filter(|&&r| r < estimate).count() as f64;
    let at_or_below = resampled.iter().filter(|&&r| r <= estimate).count() as f64;
    let share = ((below + at_or_below) / (2.0 * b)).clamp(0.5 / b, 1.0 - 0.5 / b);
    let z0 = normal.inverse_cdf(share);
    let accel = if jack.len() >= 2 {
        let dot = jack.iter().sum::<f64>() / jack.len() as f64;
        let num: f64 = jack.iter().map(|t| (dot - t).powi(3)).sum();
        let den: f64 = jack.iter().map(|t| (dot - t).powi(2)).sum();
        if den > 0.0 {
            num / (6.0 * den.powf(1.5))
        } else {
            0.0
        }
    } else {
        0.0
    };
    let level = |z: f64| normal.cdf(z0 + (z0 + z) / (1.0 - accel * (z0 + z)));
    let z = normal.inverse_cdf(0.025);
    Some((level(z), level(-z)))
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

    /// Pearson's r of two slices (for the tests; stats has the checked one).
    fn r(x: &[f64], y: &[f64]) -> Option<f64> {
        let n = x.len() as f64;
        let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
        let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
        let sxx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
        let syy: f64 = y.iter().map(|b| (b - my).powi(2)).sum();
        (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
    }

    fn singletons(x: &[f64], y: &[f64]) -> Vec<Vec<(f64, f64)>> {
        x.iter().zip(y).map(|(a, b)| vec![(*a, *b)]).collect()
    }

    #[test]
    fn bootstrap_skips_undefined_resamples_and_gives_up_when_all_are() {
        let (x, y) = ([1.0, 2.0, 3.0], [1.0, 3.0, 2.0]);
        // Three points: a resample of one point repeated (1 in 9) is constant and skipped.
        let ci = two_level_bca(&singletons(&x, &y), r).unwrap();
        assert!(
            ci.resamples_used < ci.resamples && ci.resamples_used > 8000,
            "{ci:?}"
        );
        assert!(!ci.two_level);
        let flat = [1.0; 3];
        assert_eq!(two_level_bca(&singletons(&flat, &y), r), None);
    }

    #[test]
    fn repeats_widen_the_interval() {
        // Twelve configurations on a line; their repeats scatter around it.
        let x: Vec<f64> = (1..=12).map(f64::from).collect();
        let y: Vec<f64> = x.iter().map(|v| 2.0 * v + (v * 1.7).sin()).collect();
        let one = two_level_bca(&singletons(&x, &y), r).unwrap();
        let noisy: Vec<Vec<(f64, f64)>> = x
            .iter()
            .zip(&y)
            .map(|(a, b)| vec![(*a, b - 4.0), (*a, *b), (*a, b + 4.0)])
            .collect();
        let two = two_level_bca(&noisy, r).unwrap();
        assert!(two.two_level);
        assert!(two.lo < one.lo - 0.01, "{one:?} {two:?}");
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
