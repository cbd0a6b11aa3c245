"""Paired comparison of two policies (or methods) on the same seeds.

Choice: a paired t-test over seeds on the per-seed differences (scipy.stats.ttest_rel), the interval
from the same t distribution. Pairing on seeds removes the seed effect shared by both policies.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Paired:
    difference: float
    lower: float
    upper: float
    p_value: float
    n_seeds: int

    def sentence(self, a: str, b: str, alpha: float = 0.05) -> str:
        if np.isfinite(self.p_value) and self.p_value < alpha:
            better, worse = (a, b) if self.difference > 0 else (b, a)
            return f"{better} is better than {worse} (p = {self.p_value:.3g})"
        if self.n_seeds < 2:
            return (f"cannot test {a} against {b} with {self.n_seeds} common seed(s): a paired test over seeds "
                    "needs at least 2; run more seeds (add them to the study's seeds: and rerun)")
        return f"no difference detected between {a} and {b} at {self.n_seeds} seeds (p = {self.p_value:.3g})"


def paired(a, b, level: float = 0.95) -> Paired:
    """Compare per-seed values ``a`` and ``b`` (aligned by seed): mean difference a - b, interval, p-value."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError("paired values must be aligned by seed")
    ok = np.isfinite(a) & np.isfinite(b)
    d = a[ok] - b[ok]
    n = d.size
    if n < 2 or np.all(d == d[0]):
        diff = float(d.mean()) if n else float("nan")
        return Paired(diff, float("nan"), float("nan"), 1.0 if n and diff == 0 else float("nan"), n)
    res = stats.ttest_rel(a[ok], b[ok])
    half = stats.t.ppf(0.5 + level / 2, df=n - 1) * d.std(ddof=1) / np.sqrt(n)
    return Paired(float(d.mean()), float(d.mean() - half), float(d.mean() + half), float(res.pvalue), n)
