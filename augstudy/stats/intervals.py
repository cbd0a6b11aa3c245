"""A mean over seeds with its 95% interval.

Choice (documented alternative to a hierarchical bootstrap, which under-covers with 2-5 seeds):
a Student-t interval on the seed means, ``mean +- t(df) * sqrt(s^2/n + v_test)`` (Welch-Satterthwaite df), where ``v_test`` is
the variance of the mean over the shared test set, estimated from per-example records when given
(the variance of each example's seed-averaged correctness over the number of examples). The test set
is the same for every seed, so its sampling noise is not in the seed-to-seed spread and is added.
With one seed the interval comes from the test examples only (normal approximation).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Interval:
    mean: float
    lower: float
    upper: float
    n_seeds: int
    kind: str  # "seeds+examples" | "seeds" | "examples" | "none"


def test_set_variance(correct: np.ndarray | None) -> float | None:
    """Variance (in percent^2) of the test-set mean, from a (seeds, examples) 0/1 array; None without records."""
    if correct is None:
        return None
    c = np.atleast_2d(np.asarray(correct, dtype=float))
    per_example = c.mean(axis=0) * 100.0
    n = per_example.size
    if n < 2:
        return None
    return float(per_example.var(ddof=1) / n)


def interval(values, correct: np.ndarray | None = None, level: float = 0.95) -> Interval:
    """The mean of per-seed values (percent) with its ``level`` interval; ``correct``: optional per-example records."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    n = v.size
    vt = test_set_variance(correct)
    if n == 0:
        return Interval(float("nan"), float("nan"), float("nan"), 0, "none")
    mean = float(v.mean())
    if n == 1:
        if vt is None:
            return Interval(mean, float("nan"), float("nan"), 1, "none")
        half = stats.norm.ppf(0.5 + level / 2) * np.sqrt(vt)
        return Interval(mean, mean - half, mean + half, 1, "examples")
    a, b = v.var(ddof=1) / n, (vt or 0.0)
    m = np.atleast_2d(correct).shape[1] if vt is not None else 2
    # Welch-Satterthwaite degrees of freedom of the two variance components
    df = (a + b) ** 2 / (a**2 / (n - 1) + b**2 / (m - 1)) if a + b > 0 else n - 1
    half = stats.t.ppf(0.5 + level / 2, df=df) * np.sqrt(a + b)
    return Interval(mean, mean - half, mean + half, n, "seeds+examples" if vt is not None else "seeds")
