//! Ridge regression on standardised regressors, and the choice of its terms and penalty by
//! leave-one-group-out cross-validation: a fit that stays sensible when regressors are nearly
//! collinear (an MLP's parameters and MACs move in step), where least squares gives huge
//! coefficients of opposite sign.

use serde::Serialize;

use crate::stats;

/// The penalties tried (per observation, on standardised regressors); 0 is least squares.
pub const LAMBDAS: [f64; 7] = [0.0, 1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0];

/// A ridge fit `y ≈ b0 + Σ bj·xj` over the columns in `terms`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RidgeFit {
    /// Columns used (0-based, ascending); the others have coefficient 0.
    pub terms: Vec<usize>,
    /// Penalty λ: the fit minimises RSS + λ·n·Σ βj² over standardised coefficients βj.
    pub lambda: f64,
    /// Intercept first, then one coefficient per column in the data's own units.
    pub coefficients: Vec<f64>,
    /// Coefficient of determination on the fitted data.
    pub r_squared: f64,
    /// Rows the fit used (runs with every regressor and a positive target).
    pub n: usize,
}

impl RidgeFit {
    /// The fitted value for one row of regressors.
    pub fn predict(&self, row: &[f64]) -> f64 {
        crate::stats::linear_predict(&self.coefficients, row)
    }
}

/// Solves `a x = b` (k × k) by Gaussian elimination with partial pivoting; `None` when a pivot
/// is below 1e-10 of the largest diagonal entry (singular to working precision).
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let k = b.len();
    let scale = (0..k).map(|i| a[i][i].abs()).fold(0.0, f64::max);
    for c in 0..k {
        let p = (c..k).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))?;
        // Also refuses a NaN pivot.
        if a[p][c].abs().partial_cmp(&(1e-10 * scale)) != Some(std::cmp::Ordering::Greater) {
            return None;
        }
        a.swap(c, p);
        b.swap(c, p);
        let pivot_row = a[c].clone();
        for r in c + 1..k {
            let f = a[r][c] / pivot_row[c];
            for (x, pv) in a[r][c..].iter_mut().zip(&pivot_row[c..]) {
                *x -= f * pv;
            }
            b[r] -= f * b[c];
        }
    }
    let mut x = vec![0.0; k];
    for i in (0..k).rev() {
        let s: f64 = (i + 1..k).map(|j| a[i][j] * x[j]).sum();
        x[i] = (b[i] - s) / a[i][i];
    }
    Some(x)
}

/// Ridge regression of `y` on the columns `terms` of `rows`, each standardised by its mean and
/// (population) standard deviation in these rows, intercept not penalised. A column constant in
/// these rows gets coefficient 0. `None` for λ = 0 with collinear columns, or non-finite input.
pub fn ridge(rows: &[Vec<f64>], y: &[f64], terms: &[usize], lambda: f64) -> Option<RidgeFit> {
    if rows.len() != y.len() || rows.iter().flatten().chain(y).any(|v| !v.is_finite()) {
        return None;
    }
    let all: Vec<usize> = (0..y.len()).collect();
    ridge_on(rows, y, &all, terms, lambda)
}

/// [`ridge`] on the rows `idx` only (finite input assumed), without copying them.
fn ridge_on(
    rows: &[Vec<f64>],
    all_y: &[f64],
    idx: &[usize],
    terms: &[usize],
    lambda: f64,
) -> Option<RidgeFit> {
    let n = idx.len();
    if n == 0 {
        return None;
    }
    let nf = n as f64;
    let y: Vec<f64> = idx.iter().map(|&i| all_y[i]).collect();
    let my = y.iter().sum::<f64>() / nf;
    let col = |j: usize| -> Vec<f64> { idx.iter().map(|&i| rows[i][j]).collect() };
    // (column, mean, sd) of the columns that vary here.
    let used: Vec<(usize, f64, f64)> = terms
        .iter()
        .filter_map(|&j| {
            let c = col(j);
            let m = c.iter().sum::<f64>() / nf;
            let sd = (c.iter().map(|v| (v - m).powi(2)).sum::<f64>() / nf).sqrt();
            (sd > 1e-12 * m.abs().max(1.0)).then_some((j, m, sd))
        })
        .collect();
    let z: Vec<Vec<f64>> = used
        .iter()
        .map(|&(j, m, sd)| col(j).iter().map(|v| (v - m) / sd).collect())
        .collect();
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let yc: Vec<f64> = y.iter().map(|v| v - my).collect();
    let a: Vec<Vec<f64>> = (0..z.len())
        .map(|i| {
            (0..z.len())
                .map(|j| dot(&z[i], &z[j]) + if i == j { lambda * nf } else { 0.0 })
                .collect()
        })
        .collect();
    let beta = solve(a, z.iter().map(|zi| dot(zi, &yc)).collect())?;
    let p = rows.first().map_or(0, Vec::len);
    let mut coefficients = vec![0.0; p + 1];
    coefficients[0] = my;
    for (&(j, m, sd), b) in used.iter().zip(&beta) {
        coefficients[j + 1] = b / sd;
        coefficients[0] -= b / sd * m;
    }
    let mut fit = RidgeFit {
        terms: terms.to_vec(),
        lambda,
        coefficients,
        r_squared: 1.0,
        n,
    };
    let rss: f64 = idx
        .iter()
        .zip(&y)
        .map(|(&i, v)| (v - fit.predict(&rows[i])).powi(2))
        .sum();
    let tss = dot(&yc, &yc);
    if tss > 0.0 {
        fit.r_squared = 1.0 - rss / tss;
    }
    Some(fit)
}

/// Mean absolute percentage error, in percent, of `exp(predicted)` against `exp(actual)` (the
/// targets are logarithms, so this is the error on the original scale).
pub fn log_mape_pct(predicted: &[f64], actual: &[f64]) -> f64 {
    let e: Vec<f64> = predicted
        .iter()
        .zip(actual)
        .map(|(p, a)| ((p - a).exp() - 1.0).abs() * 100.0)
        .collect();
    stats::mean(&e).unwrap_or(f64::INFINITY)
}

/// The chosen terms and penalty, fitted on all rows, with the cross-validation error that chose
/// them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Selection {
    /// The fit with the chosen terms and λ on every row.
    pub fit: RidgeFit,
    /// Leave-one-group-out error (MAPE, %, on the original scale) of the chosen candidate;
    /// `None` with fewer than two groups (nothing to choose by: all candidate columns, the
    /// smallest λ that fits).
    pub cv_error_pct: Option<f64>,
    /// Candidates compared (term sets × penalties).
    pub candidates: usize,
}

/// Held-out predictions of `terms` and `lambda` over `folds`, in row order of the held-out
/// indices; `None` when a fold cannot be fitted.
fn held_out(
    rows: &[Vec<f64>],
    y: &[f64],
    folds: &[stats::Fold],
    terms: &[usize],
    lambda: f64,
) -> Option<(Vec<f64>, Vec<f64>)> {
    let (mut pred, mut actual) = (Vec::new(), Vec::new());
    for f in folds {
        let fit = ridge_on(rows, y, &f.train, terms, lambda)?;
        pred.extend(f.test.iter().map(|&i| fit.predict(&rows[i])));
        actual.extend(f.test.iter().map(|&i| y[i]));
    }
    Some((pred, actual))
}

/// Every subset of `columns` (the empty one first, then by size), as sorted column lists.
fn subsets(columns: &[usize]) -> Vec<Vec<usize>> {
    let mut all: Vec<Vec<usize>> = (0u32..1 << columns.len())
        .map(|mask| {
            (0..columns.len())
                .filter(|b| mask & (1 << b) != 0)
                .map(|b| columns[b])
                .collect()
        })
        .collect();
    all.sort_by_key(Vec::len);
    all
}

/// Chooses the subset of `columns` and the λ in [`LAMBDAS`] with the lowest leave-one-group-out
/// error (ties go to fewer terms, then the smaller λ) and fits it on every row.
pub fn select<G: Ord + Clone>(
    rows: &[Vec<f64>],
    y: &[f64],
    groups: &[G],
    columns: &[usize],
) -> Option<Selection> {
    let folds: Vec<stats::Fold> = stats::leave_one_group_out(groups)
        .into_iter()
        .map(|(_, f)| f)
        .collect();
    if rows.len() != y.len() || rows.iter().flatten().chain(y).any(|v| !v.is_finite()) {
        return None;
    }
    let sets = subsets(columns);
    let candidates = sets.len() * LAMBDAS.len();
    if folds.is_empty() {
        let fit = LAMBDAS.iter().find_map(|&l| ridge(rows, y, columns, l))?;
        return Some(Selection {
            fit,
            cv_error_pct: None,
            candidates,
        });
    }
    let mut best: Option<(f64, &[usize], f64)> = None;
    for terms in &sets {
        for &lambda in &LAMBDAS {
            let Some((p, a)) = held_out(rows, y, &folds, terms, lambda) else {
                continue;
            };
            let err = log_mape_pct(&p, &a);
            if best.is_none_or(|(e, _, _)| err < e * (1.0 - 1e-9)) {
                best = Some((err, terms, lambda));
            }
        }
    }
    let (err, terms, lambda) = best?;
    Some(Selection {
        fit: ridge(rows, y, terms, lambda)?,
        cv_error_pct: Some(err),
        candidates,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ridge_at_zero_is_least_squares_and_shrinks_as_lambda_grows() {
        let rows: Vec<Vec<f64>> = (0..7)
            .map(|i| vec![i as f64 + 1.0, [2.0, 1.0, 4.0, 3.0, 6.0, 5.0, 8.0][i]])
            .collect();
        let y = [3.1, 3.9, 7.2, 7.8, 11.1, 11.8, 15.2];
        let ols = stats::ols(&rows, &y).unwrap();
        let r0 = ridge(&rows, &y, &[0, 1], 0.0).unwrap();
        for (a, b) in r0.coefficients.iter().zip(&ols.coefficients) {
            assert!(
                (a - b).abs() < 1e-9,
                "{:?} vs {:?}",
                r0.coefficients,
                ols.coefficients
            );
        }
        let r1 = ridge(&rows, &y, &[0, 1], 10.0).unwrap();
        let norm = |f: &RidgeFit| f.coefficients[1..].iter().map(|b| b * b).sum::<f64>();
        assert!(norm(&r1) < norm(&r0) && r1.r_squared < r0.r_squared);
        // Exactly collinear columns: least squares is singular, ridge is not.
        let rows: Vec<Vec<f64>> = (0..5).map(|i| vec![i as f64, 2.0 * i as f64]).collect();
        let y = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert!(ridge(&rows, &y, &[0, 1], 0.0).is_none());
        assert!(ridge(&rows, &y, &[0, 1], 1e-3).is_some());
    }

    #[test]
    fn subsets_start_empty_and_grow() {
        let s = subsets(&[0, 2]);
        assert_eq!(s, vec![vec![], vec![0], vec![2], vec![0, 2]]);
    }

    #[test]
    fn selection_keeps_the_term_that_predicts_held_out_groups() {
        // y depends on column 0 only; column 1 is noise.
        let rows: Vec<Vec<f64>> = (0..12)
            .map(|i| vec![i as f64, ((i * 7) % 5) as f64])
            .collect();
        let y: Vec<f64> = (0..12).map(|i| 0.1 * i as f64).collect();
        let groups: Vec<usize> = (0..12).map(|i| i / 2).collect();
        let s = select(&rows, &y, &groups, &[0, 1]).unwrap();
        assert_eq!(s.fit.terms, vec![0]);
        assert_eq!(s.fit.lambda, 0.0);
        assert!(s.cv_error_pct.unwrap() < 1e-9);
        assert_eq!(s.candidates, 4 * LAMBDAS.len());
    }
}
