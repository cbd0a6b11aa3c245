"""Pivot a results table into the report's grids: the Figure-5 matrix and the Table-1 rows.

Seeds are pooled per cell: the mean and (sample) std of the metric over the seeds whose status is
``done``, and the half-width of its 95% interval and whether it is tied with the best (``augstudy.stats``,
over seeds and, with per-example records, test examples); a cell with no such seed is blank and carries the status of its runs (``failed``,
``diverged``), or ``missing`` when the table has no row for it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
import pandas as pd

from .results import StudyResults

#: Statuses a blank cell can carry, besides ``done``.
MISSING = "missing"
NO_VALUE = "no value"  # done, but the metric was not computed


@dataclass
class Grid:
    """A rows x cols grid of cells: mean and std of the metric over seeds, seeds pooled, status."""

    rows: list[str]
    cols: list[str]
    mean: np.ndarray  # float, NaN where blank
    std: np.ndarray  # float, NaN with fewer than 2 seeds
    n: np.ndarray  # int: seeds with a value
    runs: np.ndarray  # int: rows in the table for the cell (seeds tried)
    status: np.ndarray  # object: done | failed | diverged | missing | no value
    n_seeds: int  # seeds in the study
    half: Optional[np.ndarray] = None  # float: half-width of the cell's 95% interval (augstudy.stats), NaN if none
    tied: Optional[np.ndarray] = None  # bool: not significantly worse than the best cell of the grid (Holm)
    kinds: tuple = ()  # what the intervals account for (augstudy.stats.KINDS keys present)
    lower: Optional[np.ndarray] = None  # float: the cell's 95% interval (augstudy.stats), NaN if none
    upper: Optional[np.ndarray] = None

    def frame(self, what: str = "mean") -> pd.DataFrame:
        """One of ``mean``, ``std``, ``n``, ``status`` as a labelled DataFrame."""
        return pd.DataFrame(getattr(self, what), index=self.rows, columns=self.cols)

    @property
    def row_average(self) -> np.ndarray:
        """Mean of each row over its cells with a value (the paper's "Average" column); NaN if none."""
        with np.errstate(invalid="ignore"):
            counts = np.isfinite(self.mean).sum(axis=1)
            sums = np.nansum(self.mean, axis=1)
            return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)

    def text(self, i: int, j: int, sep: str = " ± ") -> str:
        """Cell (i, j) as text (see ``format_cell``): ± the 95% interval's half-width where there is one."""
        half = self.half[i, j] if self.half is not None else math.nan
        return format_cell(self.mean[i, j], half, self.status[i, j], self.runs[i, j], self.n[i, j], sep=sep)

    def row(self, i: int) -> "Grid":
        """Row ``i`` alone, as a 1 x cols grid."""
        sl = slice(i, i + 1)
        part = lambda a: None if a is None else a[sl]  # noqa: E731
        return Grid([self.rows[i]], list(self.cols), self.mean[sl], self.std[sl], self.n[sl], self.runs[sl],
                    self.status[sl], self.n_seeds, part(self.half), part(self.tied), self.kinds, part(self.lower),
                    part(self.upper))

    def errors(self, i: int) -> Optional[np.ndarray]:
        """Row ``i``'s error bars as matplotlib wants them, ``(2, cols)``: mean - lower and upper - mean of
        each cell's 95% interval (asymmetric where the interval is; 0 where a cell has none); None when
        no cell of the row has an interval. Never the std."""
        if self.lower is None or self.upper is None:
            return None
        lo, hi = self.mean[i] - self.lower[i], self.upper[i] - self.mean[i]
        ok = np.isfinite(lo) & np.isfinite(hi)
        if not ok.any():
            return None
        return np.vstack([np.where(ok, lo, 0.0), np.where(ok, hi, 0.0)])

    def interval_note(self) -> str:
        """What the error bars are, for a caption: the 95% interval and what it accounts for."""
        from ..stats import KINDS

        kinds = [k for k in self.kinds if k != "none"]
        if not kinds:
            return "no error bars: no cell has an interval (one seed and no per-example records)"
        return "error bars: 95% interval over " + "; ".join(KINDS[k] for k in kinds)

    def cells(self) -> pd.DataFrame:
        """Long form: one row per cell (``row, col, mean, std, half, n, runs, status``), in grid order
        (``half``: the half-width of the cell's 95% interval, NaN without one)."""
        r, c = np.meshgrid(range(len(self.rows)), range(len(self.cols)), indexing="ij")
        r, c = r.ravel(), c.ravel()
        return pd.DataFrame(
            {
                "row": [self.rows[i] for i in r],
                "col": [self.cols[j] for j in c],
                "mean": self.mean[r, c],
                "std": self.std[r, c],
                "half": self.half[r, c] if self.half is not None else np.full(r.size, np.nan),
                "n": self.n[r, c],
                "runs": self.runs[r, c],
                "status": self.status[r, c],
            }
        )


def _pool(rows: pd.DataFrame, metric: str) -> tuple[float, float, int, int, str]:
    if rows.empty:
        return math.nan, math.nan, 0, 0, MISSING
    done = rows[rows["status"] == "done"]
    values = done[metric].dropna().to_numpy(dtype=float) if metric in done else np.array([])
    values = values[np.isfinite(values)]
    if len(values):
        std = float(np.std(values, ddof=1)) if len(values) > 1 else math.nan
        return float(values.mean()), std, len(values), len(rows), "done"
    bad = [s for s in rows["status"] if s != "done"]
    return math.nan, math.nan, 0, len(rows), str(bad[0]) if bad else NO_VALUE


def _empty(rows: Sequence[str], cols: Sequence[str], n_seeds: int) -> Grid:
    shape = (len(rows), len(cols))
    return Grid(
        rows=list(rows),
        cols=list(cols),
        mean=np.full(shape, np.nan),
        std=np.full(shape, np.nan),
        n=np.zeros(shape, int),
        runs=np.zeros(shape, int),
        status=np.full(shape, MISSING, dtype=object),
        n_seeds=n_seeds,
    )


def _fill(grid: Grid, i: int, j: int, rows: pd.DataFrame, metric: str) -> None:
    grid.mean[i, j], grid.std[i, j], grid.n[i, j], grid.runs[i, j], grid.status[i, j] = _pool(rows, metric)


def _attach_stats(grid: Grid, study: StudyResults, metric: str, where) -> Grid:
    """Fill ``half``, ``tied`` and ``kinds`` from the study's statistics; ``where(row) -> (i, j) or None``."""
    grid.half = np.full(grid.mean.shape, np.nan)
    grid.lower = np.full(grid.mean.shape, np.nan)
    grid.upper = np.full(grid.mean.shape, np.nan)
    grid.tied = np.zeros(grid.mean.shape, dtype=bool)
    stats = study.policy_stats(metric)
    kinds = []
    for _, r in stats.iterrows():
        ij = where(r)
        if ij is None or not np.isfinite(grid.mean[ij]):
            continue
        grid.half[ij] = (r["upper"] - r["lower"]) / 2
        grid.lower[ij], grid.upper[ij] = r["lower"], r["upper"]
        grid.tied[ij] = bool(r["tied_with_best"])
        kinds.append(r["interval_kind"])
    grid.kinds = tuple(dict.fromkeys(kinds))
    return grid


def pairwise_grid(study: StudyResults, metric: str, method: str = "simclr") -> Grid:
    """The Figure-5 matrix of one method: rows = 1st transformation, cols = 2nd, diagonal = single.
    Computed once per loaded study (the heatmap, the comparison and report.html share it; do not modify it)."""
    key = f"grid:{metric}:{method}"
    if key not in study.cache:
        study.cache[key] = _pairwise_grid(study, metric, method)
    return study.cache[key]


def _pairwise_grid(study: StudyResults, metric: str, method: str) -> Grid:
    t = study.table[study.table["method"] == method]
    grid = _empty(study.order, study.order, study.n_seeds)
    groups = dict(list(t.groupby(["op1", "op2"], sort=False)))
    for i, a in enumerate(study.order):
        for j, b in enumerate(study.order):
            _fill(grid, i, j, groups.get((a, b), t.iloc[:0]), metric)
    pos = {o: k for k, o in enumerate(study.order)}

    def where(r):
        op2 = r["op2"] if r.get("op2") else r["op1"]
        return (pos[r["op1"]], pos[op2]) if r["method"] == method and r["op1"] in pos and op2 in pos else None

    return _attach_stats(grid, study, metric, where)


def label_grid(study: StudyResults, metric: str, methods: Sequence[str] | None = None) -> Grid:
    """Sweeps and lists: rows = methods, cols = column labels (``pipeline``), in study order."""
    methods = list(methods or study.methods)
    grid = _empty(methods, study.order, study.n_seeds)
    groups = dict(list(study.table.groupby(["method", "pipeline"], sort=False)))
    for i, m in enumerate(methods):
        for j, lab in enumerate(study.order):
            _fill(grid, i, j, groups.get((m, lab), study.table.iloc[:0]), metric)
    mi, li = {m: k for k, m in enumerate(methods)}, {lab: k for k, lab in enumerate(study.order)}
    return _attach_stats(grid, study, metric,
                         lambda r: (mi[r["method"]], li[r["pipeline"]]) if r["method"] in mi and r["pipeline"] in li else None)


def format_cell(mean: float, std: float, status: str, runs: int = 0, n: int = 0, sep: str = " ± ") -> str:
    """A cell as text: ``56.3``, ``56.3 ± 1.2`` (± the half-width given, the 95% interval's in the report),
    ``56.3*`` (some seeds failed), or its status."""
    if not math.isfinite(mean):
        return str(status)
    text = f"{mean:.1f}"
    if math.isfinite(std):
        text += f"{sep}{std:.1f}"
    return text + ("*" if runs > n else "")
