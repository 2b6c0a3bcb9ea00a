#!/usr/bin/env python3
"""Expected correlation statistics from scipy, for crates/analysis/src/stats/scipy_tests.rs.

Writes crates/analysis/tests/data/correlation_expected.json: for each data set its points and
scipy's Pearson r and Spearman rho (with their p-values as greenbench computes them: exact
permutation for n <= 10, else the t distribution), Pearson r of the logarithms, and 95 % BCa
bootstrap intervals (scipy.stats.bootstrap, paired, 100 000 resamples:
scipy's own Monte Carlo error is then small beside the test's ±0.02; greenbench draws 9999). The Rust test reads the
JSON and needs no python. Run from the repository root:

    pip install --user scipy numpy
    python3 scripts/check/correlation_expected.py
"""
import json
import math
from pathlib import Path

import numpy as np
from scipy import stats

OUT = Path("crates/analysis/tests/data/correlation_expected.json")


def pearson(x, y, axis=-1):
    return stats.pearsonr(x, y, axis=axis).statistic


def spearman(x, y, axis=-1):
    rx = stats.rankdata(x, axis=axis)
    ry = stats.rankdata(y, axis=axis)
    return stats.pearsonr(rx, ry, axis=axis).statistic


def log_pearson(x, y, axis=-1):
    return stats.pearsonr(np.log(x), np.log(y), axis=axis).statistic


def bca(stat, x, y):
    res = stats.bootstrap(
        (x, y), stat, paired=True, vectorized=True, n_resamples=100_000,
        method="BCa", confidence_level=0.95, rng=np.random.default_rng(20261205),
    )
    ci = [float(res.confidence_interval.low), float(res.confidence_interval.high)]
    # scipy gives NaN where BCa degenerates (e.g. every resample's rho is 1): no expectation.
    return None if any(math.isnan(v) for v in ci) else ci


def p_value(stat, x, y):
    """Two-sided p as greenbench computes it: every pairing enumerated for n <= 10, else the t test."""
    if len(x) <= 10:
        # Every ordering of x against y, counting those whose |r| reaches the observed |r|
        # (scipy.stats.permutation_test of |r|, ranks for Spearman's rho).
        if stat is spearman:
            x, y = stats.rankdata(x), stats.rankdata(y)
        res = stats.permutation_test(
            (x,), lambda xx, axis=-1: np.abs(pearson(xx, y, axis=axis)),
            permutation_type="pairings", n_resamples=np.inf, alternative="greater",
            vectorized=True, batch=5000,
        )
        return float(res.pvalue), "exact permutation"
    r = stat(x, y)
    df = len(x) - 2
    t = r * math.sqrt(df / (1 - r * r))
    return float(2 * stats.t.sf(abs(t), df)), "t approximation"


def case(name, x, y):
    x, y = np.asarray(x, float), np.asarray(y, float)
    out = {"name": name, "x": x.tolist(), "y": y.tolist()}
    for key, stat in [("pearson", pearson), ("spearman", spearman), ("log_pearson", log_pearson)]:
        xx, yy = (np.log(x), np.log(y)) if key == "log_pearson" else (x, y)
        base = pearson if key == "log_pearson" else stat
        p, method = p_value(base if key != "spearman" else spearman, xx, yy)
        out[key] = {
            "coefficient": float(stat(x, y)),
            "p": p,
            "p_method": method,
            "ci95_bca": bca(stat, x, y),
        }
    # scipy's own p-values, as a cross-check of the t approximation.
    out["scipy_pearsonr_p"] = float(stats.pearsonr(x, y).pvalue)
    out["scipy_spearmanr_p"] = float(stats.spearmanr(x, y).pvalue)
    return out


def main():
    rng = np.random.default_rng(7)
    # Sixteen configurations whose energy spans three decades, loosely following MACs.
    macs = np.geomspace(2e6, 4e9, 16)
    energy = macs * 3e-6 * np.exp(rng.normal(0, 0.9, 16))
    # Eight configurations: the exact-permutation regime.
    x8 = np.array([1.0, 2.5, 3.0, 4.2, 5.1, 6.0, 7.7, 9.0])
    y8 = np.array([2.0, 1.5, 4.0, 3.1, 6.5, 5.0, 9.0, 7.0])
    # Twelve points with a strong but imperfect linear trend (a t-distribution p far below 1e-4).
    x12 = np.arange(1.0, 13.0)
    y12 = 3.0 * x12 + 5.0 + np.array([0.4, -1.1, 0.8, 1.9, -0.7, 0.2, -1.5, 1.0, 0.3, -0.9, 1.2, -0.4])
    cases = [
        case("sixteen configurations over three decades", macs, energy),
        case("eight configurations", x8, y8),
        case("twelve points on a line", x12, y12),
    ]
    import scipy

    OUT.write_text(json.dumps({"scipy": scipy.__version__, "cases": cases}, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
