//! Statistics on plain slices: Pearson and Spearman correlation with n, two-sided p-value (exact
//! permutation for n ≤ 10, t approximation above) and 95 % bootstrap interval, ordinary least
//! squares, MAPE, and cross-validation folds.
//!
//! Nothing here panics or returns NaN: input that cannot give a number (fewer than 3 points,
//! non-finite values, a constant series, collinear regressors) gives a [`NotComputed`] that says
//! why, and the report prints that reason instead of a number.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::resample::{
    exact_permutation_p, group_means, two_level_bca_within, BOOTSTRAP_RESAMPLES, EXACT_MAX_N,
};
pub use crate::resample::{quantile, BootstrapCi, PMethod};

/// Why a statistic was not computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum NotComputed {
    /// Fewer points than the statistic needs.
    TooFew {
        /// Points available.
        n: usize,
        /// Points needed.
        need: usize,
    },
    /// A value is NaN or infinite.
    NonFinite,
    /// One series is constant, so its correlation is undefined.
    Constant,
    /// The regressors are collinear (after dropping, nothing is left to fit).
    Singular,
    /// The two series have different lengths.
    LengthMismatch,
    /// A value is zero or negative, so it has no logarithm.
    NonPositive,
}

impl std::fmt::Display for NotComputed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotComputed::TooFew { n, need } => write!(f, "n/a: {n} points, need ≥ {need}"),
            NotComputed::NonFinite => f.write_str("n/a: non-finite input"),
            NotComputed::Constant => f.write_str("n/a: constant input"),
            NotComputed::Singular => f.write_str("n/a: collinear regressors"),
            NotComputed::LengthMismatch => f.write_str("n/a: series of different lengths"),
            NotComputed::NonPositive => f.write_str("n/a: a value ≤ 0 has no logarithm"),
        }
    }
}

/// A statistic or the reason it is absent.
pub type Stat<T> = Result<T, NotComputed>;

/// A correlation coefficient with its sample size, two-sided p-value (H0: no correlation) and
/// 95 % bootstrap confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Correlation {
    /// Pearson r or Spearman ρ, in [-1, 1].
    pub coefficient: f64,
    /// Number of pairs.
    pub n: usize,
    /// Two-sided p-value, obtained as `p_method` says.
    pub p_value: f64,
    /// Exact permutation for n ≤ 10, else the t distribution with n − 2 degrees of freedom.
    pub p_method: PMethod,
    /// 95 % BCa bootstrap interval of the coefficient (over configurations and their repeats);
    /// `None` when too few resamples had a defined coefficient.
    pub ci95: Option<BootstrapCi>,
}

/// Two-sided p-value of coefficient `r` of `x` and `y` (values for Pearson, ranks for
/// Spearman): exact permutation for n ≤ [`EXACT_MAX_N`], else the t approximation.
fn p_value_of(x: &[f64], y: &[f64], r: f64) -> (f64, PMethod) {
    if x.len() <= EXACT_MAX_N {
        (exact_permutation_p(x, y), PMethod::ExactPermutation)
    } else {
        (correlation_p_value(r, x.len()), PMethod::TApproximation)
    }
}

fn check_pairs(x: &[f64], y: &[f64]) -> Stat<()> {
    if x.len() != y.len() {
        return Err(NotComputed::LengthMismatch);
    }
    if x.len() < 3 {
        return Err(NotComputed::TooFew {
            n: x.len(),
            need: 3,
        });
    }
    if x.iter().chain(y).any(|v| !v.is_finite()) {
        return Err(NotComputed::NonFinite);
    }
    Ok(())
}

/// Arithmetic mean; `None` for an empty slice.
pub fn mean(x: &[f64]) -> Option<f64> {
    (!x.is_empty()).then(|| x.iter().sum::<f64>() / x.len() as f64)
}

/// Sample standard deviation (n − 1); `None` for fewer than 2 values.
pub fn std_dev(x: &[f64]) -> Option<f64> {
    let m = mean(x)?;
    (x.len() >= 2)
        .then(|| (x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (x.len() - 1) as f64).sqrt())
}

/// Two-sided p-value of a correlation coefficient `r` over `n` pairs (t test, n − 2 df).
fn correlation_p_value(r: f64, n: usize) -> f64 {
    let df = (n - 2) as f64;
    if r.abs() >= 1.0 {
        return 0.0;
    }
    let t = r * (df / (1.0 - r * r)).sqrt();
    match StudentsT::new(0.0, 1.0, df) {
        Ok(dist) => (2.0 * dist.sf(t.abs())).min(1.0),
        Err(_) => f64::NAN, // unreachable: df ≥ 1 here
    }
}

fn pearson_unchecked(x: &[f64], y: &[f64]) -> Stat<f64> {
    let n = x.len() as f64;
    let mx = x.iter().sum::<f64>() / n;
    let my = y.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        let (dx, dy) = (a - mx, b - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    // Relative tolerance: a series whose spread is rounding noise is constant.
    let scale = |m: f64| (m.abs() * 1e-12).powi(2) * n;
    if sxx <= scale(mx) || syy <= scale(my) {
        return Err(NotComputed::Constant);
    }
    Ok((sxy / (sxx.sqrt() * syy.sqrt())).clamp(-1.0, 1.0))
}

/// Pearson's r alone (no p-value, no interval): for callers that only need the coefficient.
pub fn pearson_r(x: &[f64], y: &[f64]) -> Stat<f64> {
    check_pairs(x, y)?;
    pearson_unchecked(x, y)
}

/// Pearson's r with n, two-sided p-value and 95 % BCa bootstrap interval, one point per pair.
pub fn pearson(x: &[f64], y: &[f64]) -> Stat<Correlation> {
    check_pairs(x, y)?;
    pearson_of_groups(&singletons(x, y))
}

/// Each pair as a configuration with one repeat.
fn singletons(x: &[f64], y: &[f64]) -> Vec<Vec<(f64, f64)>> {
    x.iter().zip(y).map(|(a, b)| vec![(*a, *b)]).collect()
}

/// The configuration means of `groups` (each a configuration's repeats as (x, y)), checked as
/// pairs.
fn checked_means(groups: &[Vec<(f64, f64)>]) -> Stat<(Vec<f64>, Vec<f64>)> {
    if groups.iter().any(|g| g.is_empty()) {
        return Err(NotComputed::TooFew { n: 0, need: 1 });
    }
    if groups
        .iter()
        .flatten()
        .any(|(a, b)| !a.is_finite() || !b.is_finite())
    {
        return Err(NotComputed::NonFinite);
    }
    let (x, y) = group_means(groups);
    check_pairs(&x, &y)?;
    Ok((x, y))
}

/// Pearson's r of configuration means (`groups`: each configuration's repeats as (x, y)) with
/// n (configurations), two-sided p-value and 95 % BCa interval from the two-level bootstrap
/// (configurations, then repeats within each).
pub fn pearson_of_groups(groups: &[Vec<(f64, f64)>]) -> Stat<Correlation> {
    pearson_of_groups_within(groups, &[])
}

/// [`pearson_of_groups`] whose bootstrap draws each configuration's y within its estimate's
/// range (`y_ranges`: per configuration `[low / mean, high / mean]`, see
/// [`crate::resample::two_level_bca_within`]); the coefficient and p are those of the means.
pub fn pearson_of_groups_within(
    groups: &[Vec<(f64, f64)>],
    y_ranges: &[Option<[f64; 2]>],
) -> Stat<Correlation> {
    of_scaled_means(groups, y_ranges, |v| Some(v.to_vec()))
}

/// The shared body of the coefficients of configuration means: Pearson's r of `scale`d means
/// (identity, logarithms, ranks), its p, and the two-level bootstrap's interval with every
/// resample's means scaled the same way. `scale` gives `None` where it cannot (a mean ≤ 0 for
/// logarithms): then the coefficient is not computed, and such a resample is skipped.
fn of_scaled_means(
    groups: &[Vec<(f64, f64)>],
    y_ranges: &[Option<[f64; 2]>],
    scale: impl Fn(&[f64]) -> Option<Vec<f64>>,
) -> Stat<Correlation> {
    let (x, y) = checked_means(groups)?;
    let (Some(sx), Some(sy)) = (scale(&x), scale(&y)) else {
        return Err(NotComputed::NonPositive);
    };
    let r = pearson_unchecked(&sx, &sy)?;
    let (p_value, p_method) = p_value_of(&sx, &sy, r);
    Ok(Correlation {
        coefficient: r,
        n: x.len(),
        p_value,
        p_method,
        ci95: two_level_bca_within(
            groups,
            y_ranges,
            |a, b| pearson_unchecked(&scale(a)?, &scale(b)?).ok(),
            BOOTSTRAP_RESAMPLES,
        ),
    })
}

/// Pearson's r of the logarithms of configuration means (ln x̄, ln ȳ), as
/// [`pearson_of_groups`]: values spanning decades are then not driven by a few large ones.
/// Not computed when a mean is ≤ 0. (The report uses [`log_pearson_of_groups_within`]; this plain
/// form is checked against scipy.)
#[cfg(test)]
pub fn log_pearson_of_groups(groups: &[Vec<(f64, f64)>]) -> Stat<Correlation> {
    log_pearson_of_groups_within(groups, &[])
}

/// [`log_pearson_of_groups`] with y drawn within its range, as [`pearson_of_groups_within`].
pub fn log_pearson_of_groups_within(
    groups: &[Vec<(f64, f64)>],
    y_ranges: &[Option<[f64; 2]>],
) -> Stat<Correlation> {
    // A resample's means are positive when the runs are: every mean is one of theirs.
    of_scaled_means(groups, y_ranges, |v| {
        v.iter()
            .all(|a| *a > 0.0)
            .then(|| v.iter().map(|a| a.ln()).collect())
    })
}

/// Ranks from 1, ties receiving the average of the ranks they span (as `scipy.stats.rankdata`).
/// NaN sorts last; callers check finiteness first.
pub fn average_ranks(x: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..x.len()).collect();
    idx.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut ranks = vec![0.0; x.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && x[idx[j + 1]] == x[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            ranks[k] = avg;
        }
        i = j + 1;
    }
    ranks
}

/// Spearman's ρ (Pearson's r of average ranks) with n, two-sided p-value (exact permutation of
/// the ranks for n ≤ 10, else the t approximation of `scipy.stats.spearmanr`) and 95 % BCa
/// bootstrap interval (pairs resampled, then ranked again), one point per pair.
pub fn spearman(x: &[f64], y: &[f64]) -> Stat<Correlation> {
    check_pairs(x, y)?;
    spearman_of_groups(&singletons(x, y))
}

/// Spearman's ρ of configuration means, as [`pearson_of_groups`] (each resample's means ranked
/// again).
pub fn spearman_of_groups(groups: &[Vec<(f64, f64)>]) -> Stat<Correlation> {
    spearman_of_groups_within(groups, &[])
}

/// [`spearman_of_groups`] with y drawn within its range, as [`pearson_of_groups_within`].
pub fn spearman_of_groups_within(
    groups: &[Vec<(f64, f64)>],
    y_ranges: &[Option<[f64; 2]>],
) -> Stat<Correlation> {
    of_scaled_means(groups, y_ranges, |v| Some(average_ranks(v)))
}

/// Mean absolute percentage error in percent over pairs whose actual value is non-zero.
pub fn mape(predicted: &[f64], actual: &[f64]) -> Stat<f64> {
    if predicted.len() != actual.len() {
        return Err(NotComputed::LengthMismatch);
    }
    if predicted.iter().chain(actual).any(|v| !v.is_finite()) {
        return Err(NotComputed::NonFinite);
    }
    let errs: Vec<f64> = predicted
        .iter()
        .zip(actual)
        .filter(|(_, a)| **a != 0.0)
        .map(|(p, a)| ((p - a) / a).abs() * 100.0)
        .collect();
    mean(&errs).ok_or(NotComputed::TooFew { n: 0, need: 1 })
}

/// `b0 + Σ bᵢ·xᵢ` for coefficients `[b0, b1, …]` (intercept first) and a row `[x1, …]`.
pub fn linear_predict(coefficients: &[f64], row: &[f64]) -> f64 {
    coefficients.first().copied().unwrap_or(0.0)
        + coefficients
            .iter()
            .skip(1)
            .zip(row)
            .map(|(b, x)| b * x)
            .sum::<f64>()
}

/// One cross-validation split: indices to fit on and indices to predict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fold {
    /// Training indices.
    pub train: Vec<usize>,
    /// Held-out indices.
    pub test: Vec<usize>,
}

/// One fold per distinct group (sorted), holding out every item of that group. Fewer than two
/// groups give no folds.
pub fn leave_one_group_out<G: Ord + Clone>(groups: &[G]) -> Vec<(G, Fold)> {
    let mut distinct: Vec<G> = groups.to_vec();
    distinct.sort();
    distinct.dedup();
    if distinct.len() < 2 {
        return Vec::new();
    }
    distinct
        .into_iter()
        .map(|g| {
            let (test, train): (Vec<usize>, Vec<usize>) =
                (0..groups.len()).partition(|&i| groups[i] == g);
            (g, Fold { train, test })
        })
        .collect()
}

#[cfg(test)]
mod ols;
#[cfg(test)]
pub use ols::{ols, ols_dropping_collinear};

#[cfg(test)]
mod scipy_tests;

#[cfg(test)]
mod tests {
    //! Reference values from scipy 1.17.1 / numpy, produced by
    //! `tests/reference/stats_reference.py` (the script prints each value used here).
    use super::*;

    /// `scipy.stats.permutation_test` over all n! orderings (see the reference script).
    const EXACT_N8_PEARSON: f64 = 2.0 / 40320.0; // 4.96031746031746e-05
    const EXACT_TIES_PEARSON: f64 = 0.20982142857142858;
    const EXACT_TIES_SPEARMAN: f64 = 0.15863095238095237;
    const EXACT_NEG_SPEARMAN: f64 = 0.03333333333333333;
    /// `scipy.stats.pearsonr` / `spearmanr` (coefficient, p) for n = 11.
    const N11_PEARSON: (f64, f64) = (0.9363636363636361, 2.2082076449178158e-05);
    const N11_SPEARMAN: (f64, f64) = (0.9363636363636365, 2.2082076449177507e-05);

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-300)
    }

    #[test]
    fn t_approximation_matches_scipy() {
        // scipy's asymptotic p-values for r over n (pearsonr / spearmanr).
        for (r, n, p) in [
            (0.9987517971962037, 8, 4.857231641803916e-09),
            (0.5, 3, 0.6666666666666666),
            (0.5030376637372143, 8, 0.20384044873915932),
            (0.5495502618648208, 8, 0.15825612767878006),
            (-0.9746794344808964, 5, 0.0048182304681985335),
        ] {
            assert!(close(correlation_p_value(r, n), p, 1e-6), "r {r}, n {n}");
        }
    }

    #[test]
    fn pearson_matches_scipy() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
        let y = [2.1, 3.9, 6.2, 7.8, 10.5, 11.9, 14.2, 15.8];
        let c = pearson(&x, &y).unwrap();
        assert!(close(c.coefficient, 0.9987517971962037, 1e-12), "{c:?}");
        assert_eq!(c.p_method, PMethod::ExactPermutation);
        // Only the identity and the reversal reach |r| ≥ 0.9988: 2 of 8!.
        assert_eq!(c.p_value, EXACT_N8_PEARSON);
        assert_eq!(c.n, 8);
        // n = 3: r = 0.5, and every ordering has |r| ≥ 0.5.
        let c = pearson(&[1.0, 2.0, 3.0], &[1.0, 3.0, 2.0]).unwrap();
        assert!(close(c.coefficient, 0.5, 1e-12) && c.p_value == 1.0);
        // With ties (Pearson of the raw values).
        let a = [1.0, 2.0, 2.0, 3.0, 4.0, 4.0, 4.0, 5.0];
        let b = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0];
        let c = pearson(&a, &b).unwrap();
        assert!(close(c.coefficient, 0.5030376637372143, 1e-12));
        assert!(close(c.p_value, EXACT_TIES_PEARSON, 1e-12), "{c:?}");
    }

    #[test]
    fn spearman_with_ties_matches_scipy() {
        let a = [1.0, 2.0, 2.0, 3.0, 4.0, 4.0, 4.0, 5.0];
        let b = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0];
        assert_eq!(
            average_ranks(&a),
            vec![1.0, 2.5, 2.5, 4.0, 6.0, 6.0, 6.0, 8.0]
        );
        assert_eq!(
            average_ranks(&b),
            vec![4.0, 1.5, 5.0, 1.5, 6.0, 8.0, 3.0, 7.0]
        );
        let c = spearman(&a, &b).unwrap();
        assert!(close(c.coefficient, 0.5495502618648208, 1e-12), "{c:?}");
        assert!(close(c.p_value, EXACT_TIES_SPEARMAN, 1e-12), "{c:?}");
        let c = spearman(&[10.0, 20.0, 30.0, 40.0, 50.0], &[5.0, 4.0, 4.0, 2.0, 1.0]).unwrap();
        assert!(close(c.coefficient, -0.9746794344808964, 1e-12));
        assert!(close(c.p_value, EXACT_NEG_SPEARMAN, 1e-12), "{c:?}");
    }

    #[test]
    fn perfect_rank_agreement_over_four_models_is_not_significant() {
        // The report once printed p = 2.2e-16 here; exactly, ρ = +1 and −1 are 2 of 24 orderings.
        let c = spearman(&[1e5, 2e5, 4e5, 8e5], &[3.0, 5.0, 8.0, 9.0]).unwrap();
        assert!(close(c.coefficient, 1.0, 1e-12), "{c:?}");
        assert_eq!(c.p_value, 1.0 / 12.0);
        assert_eq!(c.p_method, PMethod::ExactPermutation);
        assert_eq!(c.p_method.to_string(), "exact permutation");
        let ci = c.ci95.unwrap();
        // Every resample of a monotone relation is monotone: the interval collapses to 1.
        assert!(
            close(ci.lo, 1.0, 1e-12) && close(ci.hi, 1.0, 1e-12),
            "{ci:?}"
        );
    }

    #[test]
    fn eleven_pairs_fall_back_to_the_t_approximation() {
        let x: Vec<f64> = (1..=11).map(f64::from).collect();
        let y = [2.0, 1.0, 4.0, 3.0, 7.0, 5.0, 6.0, 9.0, 8.0, 11.0, 10.0];
        let c = pearson(&x, &y).unwrap();
        assert_eq!(c.p_method, PMethod::TApproximation);
        assert!(close(c.coefficient, N11_PEARSON.0, 1e-12), "{c:?}");
        assert!(close(c.p_value, N11_PEARSON.1, 1e-6), "{c:?}");
        let c = spearman(&x, &y).unwrap();
        assert_eq!(c.p_method, PMethod::TApproximation);
        assert!(close(c.coefficient, N11_SPEARMAN.0, 1e-12), "{c:?}");
        assert!(close(c.p_value, N11_SPEARMAN.1, 1e-6), "{c:?}");
        let ci = c.ci95.unwrap();
        assert!(ci.lo < c.coefficient && c.coefficient <= ci.hi, "{ci:?}");
        let json = serde_json::to_string(&c).unwrap();
        assert!(json.contains(r#""p_method":"t approximation""#), "{json}");
    }

    #[test]
    fn degenerate_input_says_why() {
        assert_eq!(
            pearson(&[1.0, 2.0], &[1.0, 2.0]),
            Err(NotComputed::TooFew { n: 2, need: 3 })
        );
        assert_eq!(
            spearman(&[], &[]),
            Err(NotComputed::TooFew { n: 0, need: 3 })
        );
        assert_eq!(
            pearson(&[1.0, f64::NAN, 3.0], &[1.0, 2.0, 3.0]),
            Err(NotComputed::NonFinite)
        );
        assert_eq!(
            spearman(&[1.0, 2.0, f64::INFINITY], &[1.0, 2.0, 3.0]),
            Err(NotComputed::NonFinite)
        );
        assert_eq!(
            pearson(&[2.0; 5], &[1.0, 2.0, 3.0, 4.0, 5.0]),
            Err(NotComputed::Constant)
        );
        assert_eq!(
            spearman(&[1.0, 2.0, 3.0], &[7.0; 3]),
            Err(NotComputed::Constant)
        );
        assert_eq!(
            pearson(&[1.0, 2.0, 3.0], &[1.0, 2.0]),
            Err(NotComputed::LengthMismatch)
        );
        assert_eq!(NotComputed::Constant.to_string(), "n/a: constant input");
        assert!(!NotComputed::TooFew { n: 2, need: 3 }
            .to_string()
            .contains("NaN"));
        // Perfect correlation over 4: the exact p is 2/24, not ≈ 0; never NaN.
        let c = pearson(&[1.0, 2.0, 3.0, 4.0], &[2.0, 4.0, 6.0, 8.0]).unwrap();
        assert!(
            (c.coefficient - 1.0).abs() < 1e-12 && c.p_value == 1.0 / 12.0,
            "{c:?}"
        );
        // Perfect correlation over 12 (t approximation): p = 0, not NaN.
        let x: Vec<f64> = (0..12).map(f64::from).collect();
        assert_eq!(pearson(&x, &x).unwrap().p_value, 0.0);
    }

    #[test]
    fn leave_one_group_out_holds_out_each_group_once() {
        let g = ["b", "a", "b", "c"];
        let lo = leave_one_group_out(&g);
        assert_eq!(lo.len(), 3);
        assert_eq!(lo[1].0, "b");
        assert_eq!(lo[1].1.test, vec![0, 2]);
        assert!(leave_one_group_out(&["x", "x"]).is_empty());
    }

    #[test]
    fn mape_quantile_mean_std() {
        assert!(close(
            mape(&[110.0, 90.0], &[100.0, 100.0]).unwrap(),
            10.0,
            1e-12
        ));
        assert!(mape(&[1.0], &[0.0]).is_err());
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0], 0.5), Some(2.5));
        assert_eq!(quantile(&[], 0.5), None);
        assert_eq!(std_dev(&[1.0]), None);
        assert!(close(
            std_dev(&[1.0, 2.0, 3.0, 4.0]).unwrap(),
            1.2909944487358056,
            1e-12
        ));
    }

    #[test]
    fn the_exact_p_floor_is_one_or_two_over_n_factorial() {
        // Four pairs in the same order, neither series evenly spaced: Pearson's exact p reaches
        // 1/4! = 1/24 (only the observed ordering has |r| this large), Spearman's 2/4! = 1/12
        // (the reversed ranks tie it).
        let (x, y) = ([1.0, 2.0, 4.0, 8.0], [1.0, 3.0, 4.0, 9.0]);
        let p = pearson(&x, &y).unwrap().p_value;
        assert!((p - 1.0 / 24.0).abs() < 1e-12, "{p}");
        let rho = spearman(&x, &y).unwrap().p_value;
        assert!((rho - 1.0 / 12.0).abs() < 1e-12, "{rho}");
    }

    #[test]
    fn the_correlation_bootstrap_draws_energy_within_its_range_and_says_so() {
        // Eight configurations, one run each, energy nearly proportional to time.
        let groups: Vec<Vec<(f64, f64)>> = (1..=8)
            .map(|i| {
                let t = i as f64;
                vec![(t, 10.0 * t + if i % 2 == 0 { 1.5 } else { -1.5 })]
            })
            .collect();
        let plain = pearson_of_groups(&groups).unwrap();
        let wide = vec![Some([0.4, 1.9]); groups.len()];
        let within = pearson_of_groups_within(&groups, &wide).unwrap();
        assert_eq!(plain.coefficient, within.coefficient);
        let (p, w) = (plain.ci95.unwrap(), within.ci95.unwrap());
        assert!(w.hi - w.lo > p.hi - p.lo, "{p:?} vs {w:?}");
        assert!(
            w.method().contains("within its estimate's range"),
            "{}",
            w.method()
        );
        assert!(!p.method().contains("range"), "{}", p.method());
    }
}
