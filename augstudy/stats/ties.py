"""The set of policies not significantly worse than the best (Holm over paired tests against the best)."""
from __future__ import annotations

import numpy as np
from scipy import stats


def holm(p_values, alpha: float = 0.05) -> np.ndarray:
    """Holm step-down: a boolean array, True where the hypothesis is rejected."""
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p)
    reject = np.zeros(p.size, dtype=bool)
    m = p.size
    for rank, i in enumerate(order):
        if p[i] <= alpha / (m - rank):
            reject[i] = True
        else:
            break
    return reject


def tied_with_best(values: np.ndarray, alpha: float = 0.05) -> np.ndarray:
    """``values``: (policies, seeds), aligned by seed. True for the best and every policy not significantly
    worse than it (one-sided paired t-tests against the best, Holm-corrected)."""
    v = np.asarray(values, dtype=float)
    means = np.nanmean(v, axis=1)
    best = int(np.nanargmax(means))
    others = [k for k in range(v.shape[0]) if k != best]
    tied = np.ones(v.shape[0], dtype=bool)
    if not others or v.shape[1] < 2:
        return tied
    d = v[best][None, :] - v[others]
    with np.errstate(invalid="ignore", divide="ignore"):
        p = stats.ttest_1samp(d, 0.0, axis=1, alternative="greater", nan_policy="omit").pvalue
    p = np.where(np.isfinite(np.asarray(p, dtype=float)), p, 1.0)
    tied[others] = ~holm(p, alpha)
    return tied
