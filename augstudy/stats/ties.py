"""The set of policies not significantly worse than the best (Holm over paired tests against the best)."""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from .paired import paired


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


def vs_best(values: np.ndarray, correct: Optional[Sequence[Optional[np.ndarray]]] = None,
            alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray, int]:
    """``values``: (policies, seeds), aligned by seed (NaN where a seed is missing); ``correct``: per policy,
    its (seeds, examples) 0/1 records in the same seed order, or None.

    Returns ``(tied, p, best)``: True for the best and every policy not significantly worse than it
    (one-sided paired tests against the best, over seeds and test examples where both have records,
    else over seeds; Holm-corrected), the uncorrected one-sided p-values (NaN for the best) and the
    best's index."""
    v = np.asarray(values, dtype=float)
    means = np.nanmean(v, axis=1)
    best = int(np.nanargmax(means))
    p = np.full(v.shape[0], np.nan)
    tied = np.ones(v.shape[0], dtype=bool)
    others = [k for k in range(v.shape[0]) if k != best and np.isfinite(means[k])]
    if not others:
        return tied, p, best
    rec = list(correct) if correct is not None else [None] * v.shape[0]
    for k in others:
        r = paired(v[best], v[k], rec[best], rec[k], alternative="greater")
        p[k] = r.p_value if np.isfinite(r.p_value) else 1.0
    tied[others] = ~holm(p[others], alpha)
    return tied, p, best


def tied_with_best(values: np.ndarray, alpha: float = 0.05,
                   correct: Optional[Sequence[Optional[np.ndarray]]] = None) -> np.ndarray:
    """True for the best and every policy not significantly worse than it (see :func:`vs_best`)."""
    return vs_best(values, correct, alpha)[0]
