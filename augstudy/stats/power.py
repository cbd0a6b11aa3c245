"""Seed planner: seeds for a wanted power to detect a difference, from the seed-to-seed spread and
the test set's noise (which more seeds do not remove)."""
from __future__ import annotations

from typing import Optional

import numpy as np
from scipy import stats


def _df(n: int, sd_diff: float, test_var: float) -> float:
    """Degrees of freedom of the paired test with ``n`` seeds, as augstudy.stats.intervals.mean_variance
    caps them: (n - 1) over the seed component's share of the variance."""
    seed_var = sd_diff**2 / n
    share = seed_var / (seed_var + test_var) if seed_var + test_var > 0 else 1.0
    return (n - 1) / max(share, 1e-9)


def paired_power(n: int, detect: float, sd_diff: float, alpha: float = 0.05, test_var: float = 0.0) -> float:
    """Power of a two-sided paired t-test with ``n`` seeds (noncentral t).

    ``sd_diff``: seed-to-seed sd of a per-seed difference; ``test_var``: the variance (points^2) of the
    difference that comes from the finite test set (0 without per-example records)."""
    if n < 2:
        return 0.0
    se = np.sqrt(sd_diff**2 / n + test_var)
    df = _df(n, sd_diff, test_var)
    nc = detect / se
    crit = stats.t.ppf(1 - alpha / 2, df)
    return float(stats.nct.sf(crit, df, nc) + stats.nct.cdf(-crit, df, nc))


def seeds_for_power(detect: float, sd_diff: float, power: float = 0.8, alpha: float = 0.05, max_seeds: int = 1000,
                    test_var: float = 0.0) -> Optional[int]:
    """The smallest number of seeds whose paired test detects ``detect`` points with ``power``.

    ``sd_diff``: the seed-to-seed standard deviation of a paired difference (for two independent
    policies with seed spread s, about s * sqrt(2)); ``test_var``: see :func:`paired_power`. None when
    no number of seeds reaches the power (the test set's noise alone is too large: a bigger test set
    is needed)."""
    if detect <= 0 or sd_diff < 0 or (sd_diff == 0 and test_var <= 0):
        raise ValueError("detect must be positive, and sd_diff or test_var too")
    limit = stats.norm.sf(stats.norm.ppf(1 - alpha / 2) - detect / np.sqrt(test_var)) if test_var > 0 else 1.0
    if limit < power:
        return None
    for n in range(2, max_seeds + 1):
        if paired_power(n, detect, sd_diff, alpha, test_var) >= power:
            return n
    return None
