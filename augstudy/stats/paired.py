"""Paired comparison of two policies (or methods) on the same seeds and the same test examples.

With per-example records of both: the seeds x examples table of differences ``c_A - c_B`` (percent)
gets the two-way variance of :func:`augstudy.stats.intervals.mean_variance` (seeds and test examples,
paired on both) and a t-test with Satterthwaite degrees of freedom; with one seed, the test examples
alone (a paired test on the examples). Without records: a paired t-test over seeds
(scipy.stats.ttest_rel), which leaves the finite test set out.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from .intervals import mean_variance


@dataclass(frozen=True)
class Paired:
    difference: float
    lower: float
    upper: float
    p_value: float
    n_seeds: int
    kind: str = "seeds"  # "seeds+examples" | "seeds" | "examples"

    def how(self) -> str:
        return {"seeds+examples": "paired over seeds and test examples",
                "examples": "paired over test examples only: one seed, seed-to-seed noise not included",
                "seeds": "paired t over seeds; no per-example records, the test set's noise not included"}[self.kind]

    def sentence(self, a: str, b: str, alpha: float = 0.05) -> str:
        one = ("; one seed: this compares the two trained models on the test examples, it says nothing about "
               "seed-to-seed variation (run more seeds to compare the policies)") if self.kind == "examples" else ""
        if np.isfinite(self.p_value) and self.p_value < alpha:
            better, worse = (a, b) if self.difference > 0 else (b, a)
            return f"{better} is better than {worse} (p = {self.p_value:.3g}){one}"
        if self.kind == "seeds" and self.n_seeds < 2:
            return (f"cannot test {a} against {b} with {self.n_seeds} common seed(s): a paired test over seeds "
                    "needs at least 2; run more seeds (add them to the study's seeds: and rerun)")
        return f"no difference detected between {a} and {b} at {self.n_seeds} seed(s) (p = {self.p_value:.3g}){one}"


def paired(a, b, correct_a=None, correct_b=None, level: float = 0.95, alternative: str = "two-sided") -> Paired:
    """Compare per-seed values ``a`` and ``b`` (aligned by seed): mean difference a - b, interval, p-value.

    ``correct_a``, ``correct_b``: optional (seeds, examples) 0/1 records in the same seed order."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError("paired values must be aligned by seed")
    ok = np.isfinite(a) & np.isfinite(b)
    d = a[ok] - b[ok]
    n = d.size
    q = 0.5 + level / 2
    if correct_a is not None and correct_b is not None and n:
        ca, cb = np.atleast_2d(correct_a), np.atleast_2d(correct_b)
        if ca.shape == cb.shape and ca.shape[0] == a.size and ca.shape[1] >= 2:
            x = (ca[ok].astype(float) - cb[ok].astype(float)) * 100.0
            diff = float(d.mean())
            var, df = mean_variance(x)
            kind = "seeds+examples" if n > 1 else "examples"
            if not var > 0:
                return Paired(diff, diff, diff, 1.0 if diff == 0 else 0.0, n, kind)
            se = np.sqrt(var)
            t = diff / se
            p = {"two-sided": 2 * stats.t.sf(abs(t), df), "greater": stats.t.sf(t, df),
                 "less": stats.t.cdf(t, df)}[alternative]
            half = stats.t.ppf(q, df) * se
            return Paired(diff, diff - half, diff + half, float(p), n, kind)
    if n < 2 or np.all(d == d[0]):
        diff = float(d.mean()) if n else float("nan")
        return Paired(diff, float("nan"), float("nan"), 1.0 if n >= 2 and diff == 0 else float("nan"), n)
    res = stats.ttest_rel(a[ok], b[ok], alternative=alternative)
    half = stats.t.ppf(q, df=n - 1) * d.std(ddof=1) / np.sqrt(n)
    return Paired(float(d.mean()), float(d.mean() - half), float(d.mean() + half), float(res.pvalue), n)
