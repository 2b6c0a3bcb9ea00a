//! Ordinary least squares, kept as the reference the ridge and estimator tests compare
//! against (the estimator itself fits by ridge regression, `crate::ridge`).

use serde::Serialize;

use super::{linear_predict, NotComputed, Stat};

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

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-300)
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
}
