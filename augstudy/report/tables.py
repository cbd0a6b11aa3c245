"""Pivot a results table into the report's grids: the Figure-5 matrix and the Table-1 rows.

Seeds are pooled per cell: the mean and (sample) std of the metric over the seeds whose status is
``done``; a cell with no such seed is blank and carries the status of its runs (``failed``,
``diverged``), or ``missing`` when the table has no row for it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

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
        """Cell (i, j) as text (see ``format_cell``)."""
        return format_cell(self.mean[i, j], self.std[i, j], self.status[i, j], self.runs[i, j], self.n[i, j], sep=sep)

    def row(self, i: int) -> "Grid":
        """Row ``i`` alone, as a 1 x cols grid."""
        sl = slice(i, i + 1)
        return Grid([self.rows[i]], list(self.cols), self.mean[sl], self.std[sl], self.n[sl], self.runs[sl],
                    self.status[sl], self.n_seeds)

    def cells(self) -> pd.DataFrame:
        """Long form: one row per cell (``row, col, mean, std, n, runs, status``), in grid order."""
        r, c = np.meshgrid(range(len(self.rows)), range(len(self.cols)), indexing="ij")
        r, c = r.ravel(), c.ravel()
        return pd.DataFrame(
            {
                "row": [self.rows[i] for i in r],
                "col": [self.cols[j] for j in c],
                "mean": self.mean[r, c],
                "std": self.std[r, c],
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


def pairwise_grid(study: StudyResults, metric: str, method: str = "simclr") -> Grid:
    """The Figure-5 matrix of one method: rows = 1st transformation, cols = 2nd, diagonal = single."""
    t = study.table[study.table["method"] == method]
    grid = _empty(study.order, study.order, study.n_seeds)
    groups = dict(list(t.groupby(["op1", "op2"], sort=False)))
    for i, a in enumerate(study.order):
        for j, b in enumerate(study.order):
            _fill(grid, i, j, groups.get((a, b), t.iloc[:0]), metric)
    return grid


def label_grid(study: StudyResults, metric: str, methods: Sequence[str] | None = None) -> Grid:
    """Sweeps and lists: rows = methods, cols = column labels (``pipeline``), in study order."""
    methods = list(methods or study.methods)
    grid = _empty(methods, study.order, study.n_seeds)
    groups = dict(list(study.table.groupby(["method", "pipeline"], sort=False)))
    for i, m in enumerate(methods):
        for j, lab in enumerate(study.order):
            _fill(grid, i, j, groups.get((m, lab), study.table.iloc[:0]), metric)
    return grid


def format_cell(mean: float, std: float, status: str, runs: int = 0, n: int = 0, sep: str = " ± ") -> str:
    """A cell as text: ``56.3``, ``56.3 ± 1.2`` (several seeds), ``56.3*`` (some seeds failed), or its status."""
    if not math.isfinite(mean):
        return str(status)
    text = f"{mean:.1f}"
    if math.isfinite(std):
        text += f"{sep}{std:.1f}"
    return text + ("*" if runs > n else "")
