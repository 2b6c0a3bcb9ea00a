//! The correlation statistics against scipy: coefficients and p-values exactly (to rounding),
//! BCa bootstrap intervals within ±0.02 of `scipy.stats.bootstrap(method='BCa')` on the same
//! points, both with 100 000 resamples. Expected values: `tests/data/correlation_expected.json`,
//! written by `scripts/check/correlation_expected.py` (this test needs no python).
//!
//! The report draws 9999 resamples (scipy's default): their Monte Carlo error alone is up to
//! ±0.03 at a heavy lower tail (scipy's own 9999-resample bound of the first case moves from
//! 0.66 to 0.72 with its seed), so the report's intervals are checked to ±0.05.

use crate::resample::two_level_bca_with;
use crate::stats::{self, Correlation, Stat};
use serde::Deserialize;

#[derive(Deserialize)]
struct Expected {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    x: Vec<f64>,
    y: Vec<f64>,
    pearson: Coefficient,
    spearman: Coefficient,
    log_pearson: Coefficient,
}

#[derive(Deserialize)]
struct Coefficient {
    coefficient: f64,
    p: f64,
    p_method: String,
    ci95_bca: Option<[f64; 2]>,
}

fn expected() -> Expected {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/correlation_expected.json"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {path}: {e}"))
}

/// One point per configuration (one repeat each): the two-level bootstrap is scipy's paired one.
fn groups(c: &Case) -> Vec<Vec<(f64, f64)>> {
    c.x.iter().zip(&c.y).map(|(a, b)| vec![(*a, *b)]).collect()
}

fn check(case: &str, what: &str, got: &Stat<Correlation>, want: &Coefficient, tol_ci: f64) {
    let got = got
        .as_ref()
        .unwrap_or_else(|e| panic!("{case}, {what}: not computed ({e})"));
    assert!(
        (got.coefficient - want.coefficient).abs() < 1e-12,
        "{case}, {what}: coefficient {} vs scipy {}",
        got.coefficient,
        want.coefficient
    );
    assert_eq!(got.p_method.to_string(), want.p_method, "{case}, {what}");
    let tol = 1e-9 * want.p.abs().max(1e-300);
    assert!(
        (got.p_value - want.p).abs() <= tol.max(1e-15),
        "{case}, {what}: p {} vs scipy {}",
        got.p_value,
        want.p
    );
    if let Some([lo, hi]) = want.ci95_bca {
        let ci = got
            .ci95
            .unwrap_or_else(|| panic!("{case}, {what}: no interval, scipy has [{lo}, {hi}]"));
        assert!(
            (ci.lo - lo).abs() <= tol_ci && (ci.hi - hi).abs() <= tol_ci,
            "{case}, {what}: BCa [{}, {}] vs scipy [{lo}, {hi}] (±{tol_ci})",
            ci.lo,
            ci.hi
        );
    }
}

#[test]
fn coefficients_p_values_and_report_intervals_match_scipy() {
    let e = expected();
    assert_eq!(e.cases.len(), 3);
    for c in &e.cases {
        let g = groups(c);
        let tol = 0.05;
        check(
            &c.name,
            "pearson",
            &stats::pearson_of_groups(&g),
            &c.pearson,
            tol,
        );
        check(
            &c.name,
            "spearman",
            &stats::spearman_of_groups(&g),
            &c.spearman,
            tol,
        );
        check(
            &c.name,
            "log pearson",
            &stats::log_pearson_of_groups(&g),
            &c.log_pearson,
            tol,
        );
        // The one-point-per-pair entry points agree with the grouped ones.
        check(
            &c.name,
            "pearson (pairs)",
            &stats::pearson(&c.x, &c.y),
            &c.pearson,
            tol,
        );
        check(
            &c.name,
            "spearman (pairs)",
            &stats::spearman(&c.x, &c.y),
            &c.spearman,
            tol,
        );
    }
}

/// A coefficient of means for the bootstrap: Pearson's r, of ranks for Spearman, of logs.
fn coefficient(kind: &str) -> impl Fn(&[f64], &[f64]) -> Option<f64> + '_ {
    move |x, y| {
        let (x, y) = match kind {
            "spearman" => (stats::average_ranks(x), stats::average_ranks(y)),
            "log pearson" => (
                x.iter().map(|v| v.ln()).collect(),
                y.iter().map(|v| v.ln()).collect(),
            ),
            _ => (x.to_vec(), y.to_vec()),
        };
        stats::pearson_r(&x, &y).ok()
    }
}

#[test]
fn bca_intervals_match_scipy_within_0_02() {
    for c in &expected().cases {
        let g = groups(c);
        for (kind, want) in [
            ("pearson", &c.pearson),
            ("spearman", &c.spearman),
            ("log pearson", &c.log_pearson),
        ] {
            let Some([lo, hi]) = want.ci95_bca else {
                continue;
            };
            let ci = two_level_bca_with(&g, coefficient(kind), 100_000)
                .unwrap_or_else(|| panic!("{}, {kind}: no interval", c.name));
            assert!(
                (ci.lo - lo).abs() <= 0.02 && (ci.hi - hi).abs() <= 0.02,
                "{}, {kind}: BCa [{}, {}] vs scipy [{lo}, {hi}]",
                c.name,
                ci.lo,
                ci.hi
            );
        }
    }
}
