"""Reference values for crates/analysis/src/stats.rs tests.

Run: python3 -m venv /tmp/sp && /tmp/sp/bin/pip install scipy numpy && /tmp/sp/bin/python stats_reference.py
(values in the tests were produced with scipy 1.17.1, numpy from the same pip install).
"""
import numpy as np
from scipy import stats

x = [1, 2, 3, 4, 5, 6, 7, 8]
y = [2.1, 3.9, 6.2, 7.8, 10.5, 11.9, 14.2, 15.8]
r = stats.pearsonr(x, y)
print("pearson", repr(r.statistic), repr(r.pvalue))

a = [1, 2, 2, 3, 4, 4, 4, 5]
b = [3, 1, 4, 1, 5, 9, 2, 6]
s = stats.spearmanr(a, b)
print("spearman_ties", repr(s.statistic), repr(s.pvalue))
print("ranks_a", list(stats.rankdata(a)))
print("ranks_b", list(stats.rankdata(b)))
r = stats.pearsonr(a, b)
print("pearson_ties", repr(r.statistic), repr(r.pvalue))

# n = 3 (smallest n with a p-value)
r = stats.pearsonr([1, 2, 3], [1, 3, 2])
print("pearson_n3", repr(r.statistic), repr(r.pvalue))

# negative correlation
r = stats.spearmanr([10, 20, 30, 40, 50], [5, 4, 4, 2, 1])
print("spearman_neg", repr(r.statistic), repr(r.pvalue))

# OLS with intercept, two regressors
X1 = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])
X2 = np.array([2.0, 1.0, 4.0, 3.0, 6.0, 5.0, 8.0])
Y = np.array([3.1, 3.9, 7.2, 7.8, 11.1, 11.8, 15.2])
A = np.column_stack([np.ones_like(X1), X1, X2])
coef, res, rank, sv = np.linalg.lstsq(A, Y, rcond=None)
pred = A @ coef
r2 = 1 - ((Y - pred) ** 2).sum() / ((Y - Y.mean()) ** 2).sum()
print("ols_coef", [repr(c) for c in coef], "r2", repr(r2))

# Exact permutation p-values (n <= 10): every ordering of y against x, two-sided as
# P(|r_perm| >= |r_obs|), which is permutation_test on |r| with alternative="greater".
def exact_p(x, y, rank=False):
    if rank:
        x, y = stats.rankdata(x), stats.rankdata(y)
    x = np.asarray(x, float)

    # One sample (y) with pairings: its n! orderings against the fixed x.
    def abs_r(b, axis=-1):
        a = x - x.mean()
        b = b - b.mean(axis=axis, keepdims=True)
        return abs((a * b).sum(axis) / np.sqrt((a * a).sum() * (b * b).sum(axis)))

    res = stats.permutation_test(
        (np.asarray(y, float),), abs_r, vectorized=True,
        permutation_type="pairings", alternative="greater", n_resamples=np.inf)
    return res.pvalue

print("exact_pearson_n8", repr(exact_p(x, y)))
print("exact_pearson_ties", repr(exact_p(a, b)))
print("exact_spearman_ties", repr(exact_p(a, b, rank=True)))
print("exact_spearman_neg", repr(exact_p([10, 20, 30, 40, 50], [5, 4, 4, 2, 1], rank=True)))
print("exact_spearman_rho1_n4", repr(exact_p([1, 2, 3, 4], [3, 5, 8, 9], rank=True)))

# n = 11: above the exact limit, the t approximation.
x11 = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
y11 = [2.0, 1.0, 4.0, 3.0, 7.0, 5.0, 6.0, 9.0, 8.0, 11.0, 10.0]
r = stats.pearsonr(x11, y11)
print("pearson_n11", repr(r.statistic), repr(r.pvalue))
s = stats.spearmanr(x11, y11)
print("spearman_n11", repr(s.statistic), repr(s.pvalue))
