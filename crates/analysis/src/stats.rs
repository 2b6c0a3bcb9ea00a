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
/// Not computed when a mean is ≤ 0.
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

/// An ordinary-least-squares fit `y ≈ b0 + Σ bi·xi`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OlsFit {
    /// Intercept first, then one coefficient per regressor (0 for a dropped one).
    pub coefficients: Vec<f64>,
    /// Regressors dropped because constant or collinear with earlier ones (0-based).
    pub dropped: Vec<usize>,
    /// Coefficient of determination on the fitted data.
    pub r_squared: f64,
    /// Residual standard error (√(RSS / (n − p))); `None` when n = p.
    pub residual_se: Option<f64>,
    /// Rows the fit used (runs with every regressor and a positive target).
    pub n: usize,
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

impl OlsFit {
    /// The fitted value for one row of regressors.
    pub fn predict(&self, row: &[f64]) -> f64 {
        linear_predict(&self.coefficients, row)
    }
}

/// OLS with an intercept; `rows[i]` holds the regressors of observation i. Collinear regressors
/// are an error ([`NotComputed::Singular`]).
pub fn ols(rows: &[Vec<f64>], y: &[f64]) -> Stat<OlsFit> {
    let fit = ols_dropping_collinear(rows, y)?;
    if fit.dropped.is_empty() {
        Ok(fit)
    } else {
        Err(NotComputed::Singular)
    }
}

/// OLS with an intercept that drops each regressor that is constant or a linear combination of
/// the ones before it (its coefficient is 0 and its index is listed in `dropped`), as R's `lm`.
/// Solved by modified Gram–Schmidt QR, not normal equations.
pub fn ols_dropping_collinear(rows: &[Vec<f64>], y: &[f64]) -> Stat<OlsFit> {
    let (n, p) = check_design(rows, y)?;
    // Columns: intercept, then regressors.
    let mut cols: Vec<Vec<f64>> = vec![vec![1.0; n]];
    cols.extend((0..p).map(|j| rows.iter().map(|r| r[j]).collect()));
    let qr = Qr::dropping_collinear(&cols)?;
    let k = qr.kept.len();
    if n < k {
        return Err(NotComputed::TooFew { n, need: k });
    }
    let b = qr.solve(y);
    let mut coefficients = vec![0.0; p + 1];
    for (i, &c) in qr.kept.iter().enumerate() {
        coefficients[c] = b[i];
    }
    let mut fit = OlsFit {
        coefficients,
        dropped: qr.dropped,
        r_squared: 0.0,
        residual_se: None,
        n,
    };
    let my = y.iter().sum::<f64>() / n as f64;
    let rss: f64 = rows
        .iter()
        .zip(y)
        .map(|(row, yi)| (yi - fit.predict(row)).powi(2))
        .sum();
    let tss: f64 = y.iter().map(|v| (v - my).powi(2)).sum();
    fit.r_squared = if tss > 0.0 { 1.0 - rss / tss } else { 1.0 };
    fit.residual_se = (n > k).then(|| (rss / (n - k) as f64).sqrt());
    Ok(fit)
}

/// `(n, p)` of a regression of `y` on `rows`: as many rows as observations, each of `p` finite
/// regressors, at least 3 observations.
fn check_design(rows: &[Vec<f64>], y: &[f64]) -> Stat<(usize, usize)> {
    let n = y.len();
    if rows.len() != n {
        return Err(NotComputed::LengthMismatch);
    }
    let p = rows.first().map_or(0, Vec::len);
    if rows.iter().any(|r| r.len() != p) {
        return Err(NotComputed::LengthMismatch);
    }
    if rows.iter().flatten().chain(y).any(|v| !v.is_finite()) {
        return Err(NotComputed::NonFinite);
    }
    if n < 3 {
        return Err(NotComputed::TooFew { n, need: 3 });
    }
    Ok((n, p))
}

/// A thin QR decomposition of the columns that are not constant or a linear combination of the
/// ones before them (modified Gram–Schmidt).
struct Qr {
    /// Orthonormal columns, one per kept column.
    q: Vec<Vec<f64>>,
    /// `r[row of q][column]`, over all columns.
    r: Vec<Vec<f64>>,
    /// Indices of the kept columns (0 = intercept).
    kept: Vec<usize>,
    /// Indices of the dropped regressors (column − 1).
    dropped: Vec<usize>,
}

impl Qr {
    /// Decomposes `cols` (column 0 the intercept, which must not be dropped).
    fn dropping_collinear(cols: &[Vec<f64>]) -> Stat<Qr> {
        let m = cols.len();
        let mut qr = Qr {
            q: Vec::new(),
            r: vec![vec![0.0; m]; m],
            kept: Vec::new(),
            dropped: Vec::new(),
        };
        for (c, col) in cols.iter().enumerate() {
            let norm0 = col.iter().map(|v| v * v).sum::<f64>().sqrt();
            let mut v = col.clone();
            for (qi, qv) in qr.q.iter().enumerate() {
                let d: f64 = qv.iter().zip(&v).map(|(a, b)| a * b).sum();
                qr.r[qi][c] = d;
                v.iter_mut().zip(qv).for_each(|(a, b)| *a -= d * b);
            }
            let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
            if norm0 == 0.0 || norm <= 1e-9 * norm0 {
                if c == 0 {
                    return Err(NotComputed::Singular);
                }
                qr.dropped.push(c - 1);
                continue;
            }
            qr.r[qr.q.len()][c] = norm;
            v.iter_mut().for_each(|a| *a /= norm);
            qr.q.push(v);
            qr.kept.push(c);
        }
        Ok(qr)
    }

    /// The coefficients of the kept columns: R b = Qᵀ y by back substitution.
    fn solve(&self, y: &[f64]) -> Vec<f64> {
        let k = self.kept.len();
        let qty: Vec<f64> = self
            .q
            .iter()
            .map(|qv| qv.iter().zip(y).map(|(a, b)| a * b).sum())
            .collect();
        let mut b = vec![0.0; k];
        for i in (0..k).rev() {
            let s = (i + 1..k).fold(qty[i], |s, j| s - self.r[i][self.kept[j]] * b[j]);
            b[i] = s / self.r[i][self.kept[i]];
        }
        b
    }
}

/// One cross-validation split: indices to fit on and indices to predict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fold {
    /// Training indices.
    pub train: Vec<usize>,
    /// Held-out indices.
    pub test: Vec<usize>,
}

/// `k` folds over `n` items, item i held out in fold i mod k (deterministic; shuffle the data
/// first if its order matters). `k` is clamped to 2..=n; fewer than 2 items give no folds.
pub fn k_fold(n: usize, k: usize) -> Vec<Fold> {
    if n < 2 {
        return Vec::new();
    }
    let k = k.clamp(2, n);
    (0..k)
        .map(|f| Fold {
            train: (0..n).filter(|i| i % k != f).collect(),
            test: (0..n).filter(|i| i % k == f).collect(),
        })
        .collect()
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
    fn ols_matches_numpy_lstsq() {
        let x1 = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0];
        let x2 = [2.0, 1.0, 4.0, 3.0, 6.0, 5.0, 8.0];
        let y = [3.1, 3.9, 7.2, 7.8, 11.1, 11.8, 15.2];
        let rows: Vec<Vec<f64>> = x1.iter().zip(&x2).map(|(a, b)| vec![*a, *b]).collect();
        let fit = ols(&rows, &y).unwrap();
        let want = [0.4916666666666663, 1.3416666666666675, 0.6583333333333325];
        for (g, w) in fit.coefficients.iter().zip(want) {
            assert!(close(*g, w, 1e-10), "{:?}", fit.coefficients);
        }
        assert!(close(fit.r_squared, 0.9998550580596002, 1e-12));
        assert!(fit.dropped.is_empty());
    }

    #[test]
    fn ols_degenerate_cases() {
        // Second regressor = 2 × first: dropped by the dropping variant, an error for `ols`.
        let rows: Vec<Vec<f64>> = (0..6).map(|i| vec![i as f64, 2.0 * i as f64]).collect();
        let y: Vec<f64> = (0..6).map(|i| 1.0 + 3.0 * i as f64).collect();
        assert_eq!(ols(&rows, &y), Err(NotComputed::Singular));
        let fit = ols_dropping_collinear(&rows, &y).unwrap();
        assert_eq!(fit.dropped, vec![1]);
        assert!(close(fit.coefficients[0], 1.0, 1e-9) && close(fit.coefficients[1], 3.0, 1e-9));
        // Constant regressor (collinear with the intercept).
        let rows: Vec<Vec<f64>> = (0..4).map(|i| vec![5.0, i as f64]).collect();
        assert_eq!(
            ols_dropping_collinear(&rows, &[1.0, 2.0, 3.0, 4.0])
                .unwrap()
                .dropped,
            vec![0]
        );
        assert_eq!(
            ols(&[vec![1.0], vec![2.0]], &[1.0, 2.0]),
            Err(NotComputed::TooFew { n: 2, need: 3 })
        );
        assert_eq!(
            ols(&[vec![1.0], vec![f64::NAN], vec![3.0]], &[1.0, 2.0, 3.0]),
            Err(NotComputed::NonFinite)
        );
    }

    #[test]
    fn folds_cover_every_item_once() {
        let folds = k_fold(7, 3);
        assert_eq!(folds.len(), 3);
        let mut seen: Vec<usize> = folds.iter().flat_map(|f| f.test.clone()).collect();
        seen.sort();
        assert_eq!(seen, (0..7).collect::<Vec<_>>());
        assert!(folds.iter().all(|f| f.train.len() + f.test.len() == 7));
        assert!(k_fold(1, 5).is_empty());
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
}
