"""Seed planner: seeds for a wanted power to detect a difference, from the seed-to-seed spread."""
from __future__ import annotations

import numpy as np
from scipy import stats


def paired_power(n: int, detect: float, sd_diff: float, alpha: float = 0.05) -> float:
    """Power of a two-sided paired t-test with ``n`` seeds (noncentral t)."""
    if n < 2:
        return 0.0
    df = n - 1
    nc = detect / sd_diff * np.sqrt(n)
    crit = stats.t.ppf(1 - alpha / 2, df)
    return float(stats.nct.sf(crit, df, nc) + stats.nct.cdf(-crit, df, nc))


def seeds_for_power(detect: float, sd_diff: float, power: float = 0.8, alpha: float = 0.05, max_seeds: int = 1000) -> int:
    """The smallest number of seeds whose paired t-test detects ``detect`` points with ``power``.

    ``sd_diff``: the seed-to-seed standard deviation of a paired difference (for two independent
    policies with seed spread s, about s * sqrt(2))."""
    if detect <= 0 or sd_diff <= 0:
        raise ValueError("detect and sd_diff must be positive")
    for n in range(2, max_seeds + 1):
        if paired_power(n, detect, sd_diff, alpha) >= power:
            return n
    return max_seeds
