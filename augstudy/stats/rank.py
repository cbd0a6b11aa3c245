"""Spearman rank correlation against reference values (the paper's) with a bootstrap interval.

The bootstrap resamples, jointly for every cell, the training seeds (seed indices, with replacement)
and, where per-example records exist, the test examples (example indices, with replacement: the
test set is shared by all cells); each replicate recomputes every cell's mean and rho. The interval
is the 2.5-97.5 percentile range. Without records only seeds are resampled (kind "seeds"); with one
seed and no records there is nothing to resample (no interval).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
from scipy.stats import rankdata, spearmanr


@dataclass(frozen=True)
class Rho:
    rho: float
    lower: float
    upper: float
    n: int  # cells compared
    kind: str  # "seeds+examples" | "seeds" | "examples" | "none"

    def describe(self, level: float = 0.95) -> str:
        if not np.isfinite(self.rho):
            return f"Spearman rho not defined ({self.n} shared cells)"
        if not np.isfinite(self.lower):
            return f"Spearman rho = {self.rho:.2f} over {self.n} cells (no interval: one seed, no per-example records)"
        over = {"seeds+examples": "seeds and test examples", "seeds": "seeds only (no per-example records)",
                "examples": "test examples only (one seed)"}[self.kind]
        return (f"Spearman rho = {self.rho:.2f}, {level:.0%} bootstrap interval [{self.lower:.2f}, {self.upper:.2f}] "
                f"over {self.n} cells (resampling {over})")


def _rank_rows(x: np.ndarray) -> np.ndarray:
    return rankdata(x, axis=1)


def spearman_interval(values: np.ndarray, reference: np.ndarray, correct: Optional[np.ndarray] = None,
                      n_boot: int = 2000, level: float = 0.95, seed: int = 0) -> Rho:
    """``values``: (cells, seeds) per-seed metric (NaN where missing); ``reference``: (cells,);
    ``correct``: optional (cells, seeds, examples) 0/1 records (all cells, all seeds with a value)."""
    v = np.asarray(values, dtype=float)
    ref = np.asarray(reference, dtype=float)
    ok = np.isfinite(ref) & np.isfinite(v).any(axis=1)
    v, ref = v[ok], ref[ok]
    if correct is not None:
        correct = np.asarray(correct)[ok]
    n = int(ok.sum())
    means = np.nanmean(v, axis=1) if n else np.array([])
    if n < 3 or np.ptp(means) == 0:
        return Rho(float("nan"), float("nan"), float("nan"), n, "none")
    rho = float(spearmanr(means, ref).statistic)
    C, S = v.shape
    rng = np.random.default_rng(seed)
    if correct is not None:
        N = correct.shape[2]
        w = np.stack([np.bincount(rng.integers(0, N, N), minlength=N) for _ in range(n_boot)], axis=1)
        acc = (correct.reshape(C * S, N).astype(np.float32) @ w.astype(np.float32)).reshape(C, S, n_boot) * (100.0 / N)
        kind = "seeds+examples" if S > 1 else "examples"
    elif S > 1:
        acc = np.repeat(v[:, :, None], n_boot, axis=2)
        kind = "seeds"
    else:
        return Rho(rho, float("nan"), float("nan"), n, "none")
    have = np.isfinite(v)
    if S > 1:
        ws = np.stack([np.bincount(rng.integers(0, S, S), minlength=S) for _ in range(n_boot)], axis=1)  # (S, B)
    else:
        ws = np.ones((1, n_boot))
    wcs = have[:, :, None] * ws[None, :, :]  # (C, S, B)
    tot = wcs.sum(axis=1)
    boot = np.where(tot > 0, (np.nan_to_num(acc) * wcs).sum(axis=1) / np.maximum(tot, 1), np.nan)  # (C, B)
    b = boot.T  # (B, C)
    keep = np.isfinite(b).all(axis=1) & (np.ptp(np.nan_to_num(b), axis=1) > 0)
    rb = _rank_rows(b[keep])
    rr = rankdata(ref)
    rb = rb - rb.mean(axis=1, keepdims=True)
    rr = rr - rr.mean()
    rhos = (rb @ rr) / (np.sqrt((rb**2).sum(axis=1)) * np.sqrt((rr**2).sum()))
    lo, hi = np.quantile(rhos, [(1 - level) / 2, (1 + level) / 2]) if rhos.size else (np.nan, np.nan)
    return Rho(rho, float(lo), float(hi), n, kind)
