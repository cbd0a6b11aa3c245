"""A mean over seeds with its 95% interval, from both sources of noise: training seeds and the test set.

Choice (a documented alternative to a hierarchical bootstrap, which under-covers with 2-5 seeds):
with per-example records, the seeds x examples table of correctness ``X`` (percent) is read as a
two-way random-effects layout (seed effect, example effect, their interaction as the residual). The
variance of its grand mean is ``(MS_seeds + MS_examples - MS_residual) / (n N)`` (the usual ANOVA
estimator: each component is counted once; adding the seed-to-seed variance and the variance of the
per-example means would count the interaction twice and over-cover), with Satterthwaite degrees of
freedom (capped, see :func:`mean_variance`), and the interval is Student-t. The tests/test_stats.py
simulations check 93-97% coverage at several seed-noise levels with 3 and 5 seeds (with 2 seeds it
covers about 91-95%: too few seeds to know their spread). Without records the interval is t over the seed values ("seeds": the finite
test set is then not in it); with one seed and records it comes from the test examples only
("examples": seed-to-seed noise is not in it).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

#: What an interval accounts for.
KINDS = {
    "seeds+examples": "training seeds and test examples",
    "seeds": "training seeds only (no per-example records)",
    "examples": "test examples only (one seed)",
    "none": "no interval (one seed, no per-example records)",
}


@dataclass(frozen=True)
class Interval:
    mean: float
    lower: float
    upper: float
    n_seeds: int
    kind: str  # "seeds+examples" | "seeds" | "examples" | "none"
    n_examples: int = 0

    @property
    def half(self) -> float:
        return (self.upper - self.lower) / 2


def mean_variance(x: np.ndarray) -> tuple[float, float]:
    """Variance of the grand mean of a (seeds, examples) table and its Satterthwaite degrees of freedom.

    Two-way random effects without replication: ``Var = (MS_s + MS_e - MS_r) / (n N)``. One seed:
    the variance of the example mean, ``s^2 / N`` with ``N - 1`` degrees of freedom."""
    x = np.atleast_2d(np.asarray(x, dtype=float))
    n, N = x.shape
    if N < 2:
        return float("nan"), float("nan")
    if n == 1:
        return float(x.var(ddof=1) / N), float(N - 1)
    grand = x.mean()
    rows, cols = x.mean(axis=1), x.mean(axis=0)
    ss_s = N * np.sum((rows - grand) ** 2)
    ss_e = n * np.sum((cols - grand) ** 2)
    ss_r = max(float(np.sum((x - grand) ** 2)) - ss_s - ss_e, 0.0)
    df_s, df_e, df_r = n - 1, N - 1, (n - 1) * (N - 1)
    ms_s, ms_e, ms_r = ss_s / df_s, ss_e / df_e, ss_r / df_r
    total = ms_s + ms_e - ms_r
    if total <= 0:  # all components estimated at zero or below: keep the largest one alone
        total = max(ms_s, ms_e, ms_r)
    den = ms_s**2 / df_s + ms_e**2 / df_e + ms_r**2 / df_r
    df = total**2 / den if den > 0 else float(n - 1)
    # Satterthwaite alone is anti-conservative with 2-5 seeds (coverage 0.87-0.93 in the simulations of
    # tests/test_stats.py): cap it at (n - 1) / share, the share of the seed component in the variance
    # (n - 1 when seeds dominate, many when the test set does); measured 0.94-0.97 with 3 and 5 seeds
    share = min(max(ms_s / total, 1e-9), 1.0)
    df = min(df, df_s / share)
    return float(total / (n * N)), float(max(df, 1.0))


def components(x: np.ndarray) -> tuple[float, float]:
    """The two parts of the grand-mean variance of a (seeds, examples) table with ``n >= 2`` seeds:
    ``(seed_var, test_var)`` with ``Var = seed_var / n + test_var``; ``seed_var`` (MS_seeds / N) is the
    variance of one seed's mean, ``test_var`` ((MS_examples - MS_residual) / (n N)) the part of the
    finite test set, which more seeds do not remove (the seed planner's inputs)."""
    x = np.atleast_2d(np.asarray(x, dtype=float))
    n, N = x.shape
    grand = x.mean()
    rows, cols = x.mean(axis=1), x.mean(axis=0)
    ss_s = N * np.sum((rows - grand) ** 2)
    ss_e = n * np.sum((cols - grand) ** 2)
    ss_r = max(float(np.sum((x - grand) ** 2)) - ss_s - ss_e, 0.0)
    ms_s, ms_e, ms_r = ss_s / (n - 1), ss_e / (N - 1), ss_r / ((n - 1) * (N - 1))
    return float(ms_s / N), float(max(ms_e - ms_r, 0.0) / (n * N))


def interval(values, correct: np.ndarray | None = None, level: float = 0.95) -> Interval:
    """The mean of per-seed values (percent) with its ``level`` interval.

    ``correct``: optional per-example records, a (seeds, examples) 0/1 array in the order of ``values``.
    """
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(v)
    if correct is not None:
        correct = np.atleast_2d(np.asarray(correct))
        correct = correct[ok] if correct.shape[0] == v.size else None
    v = v[ok]
    n = v.size
    if n == 0:
        return Interval(float("nan"), float("nan"), float("nan"), 0, "none")
    mean = float(v.mean())
    q = 0.5 + level / 2
    if correct is not None and correct.shape[1] >= 2:
        var, df = mean_variance(correct * 100.0)
        half = stats.t.ppf(q, df) * np.sqrt(var)
        return Interval(mean, mean - half, mean + half, n, "seeds+examples" if n > 1 else "examples", correct.shape[1])
    if n == 1:
        return Interval(mean, float("nan"), float("nan"), 1, "none")
    half = stats.t.ppf(q, n - 1) * v.std(ddof=1) / np.sqrt(n)
    return Interval(mean, mean - half, mean + half, n, "seeds")
