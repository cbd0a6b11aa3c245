"""The study's pairwise matrix beside the paper's Figure 5: Spearman rank correlation and rank differences.

Cells compared are those both share: pairs of operators the paper has (crop, cutout, color, sobel,
noise, blur, rotate; matched by base name) where the study has a value. Plugin operators are drawn
without a paper value.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional


import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
from scipy.stats import rankdata, spearmanr  # noqa: E402

from ..stats.rank import Rho, spearman_interval  # noqa: E402
from . import paper  # noqa: E402
from .heatmap import DIVERGING_CMAP, draw_cells, grid_annotations  # noqa: E402
from .tables import Grid  # noqa: E402


@dataclass
class Comparison:
    """Our grid against Figure 5: rho over the ``n`` shared cells, the paper's values and rank differences."""

    rho: float  # Spearman rank correlation (NaN when fewer than 3 shared cells or constant values)
    pvalue: float
    n: int  # cells used
    shared_operators: list[str]  # our operators the paper has
    paper_values: np.ndarray  # the paper's top-1 at our rows/cols (NaN where it has none)
    rank_diff: np.ndarray  # our rank - paper's rank over the shared cells (1 = best); NaN elsewhere
    interval: Optional[Rho] = None  # rho's bootstrap interval over seeds (and test examples), when computed

    def describe(self) -> str:
        if not math.isfinite(self.rho):
            return f"Spearman rho vs the paper: not defined ({self.n} shared cell{'s' if self.n != 1 else ''})"
        text = f"Spearman rho vs the paper = {self.rho:.2f} over {self.n} shared cells (p = {self.pvalue:.2g})"
        iv = self.interval
        if iv is not None and math.isfinite(iv.lower):
            over = {"seeds+examples": "seeds and test examples", "seeds": "seeds only",
                    "examples": "test examples only"}[iv.kind]
            text += f", 95% bootstrap interval [{iv.lower:.2f}, {iv.upper:.2f}] over {over}"
        elif iv is not None:
            text += ", no interval (one seed, no per-example records)"
        return text


def paper_values_for(rows: list[str], cols: list[str]) -> np.ndarray:
    """The paper's Figure-5 top-1 for our rows x cols (NaN for operators the paper lacks)."""
    f5 = paper.figure5()
    out = np.full((len(rows), len(cols)), np.nan)
    for i, a in enumerate(rows):
        for j, b in enumerate(cols):
            pa, pb = paper.paper_operator(a), paper.paper_operator(b)
            if pa and pb:
                out[i, j] = f5.loc[pa, pb]
    return out


def rho_interval(study, grid: Grid, metric: str, method: str = "simclr", n_boot: int = 2000) -> Rho:
    """Rho of ``grid`` against Figure 5 with its bootstrap interval over seeds and (with records) test examples."""
    theirs = paper_values_for(grid.rows, grid.cols)
    t = study.table[(study.table["method"] == method) & (study.table["status"] == "done")].dropna(subset=[metric])
    seeds = sorted(t["seed"].unique())
    by = {k: g.drop_duplicates("seed") for k, g in t.groupby(["op1", "op2"], sort=False)}
    cells, ref = [], []
    for i, a in enumerate(grid.rows):
        for j, b in enumerate(grid.cols):
            if np.isfinite(theirs[i, j]) and np.isfinite(grid.mean[i, j]) and (a, b) in by:
                cells.append(by[(a, b)])
                ref.append(theirs[i, j])
    values = np.full((len(cells), len(seeds)), np.nan)
    rec = study.records
    correct = None
    for k, g in enumerate(cells):
        values[k, [seeds.index(s) for s in g["seed"]]] = g[metric].to_numpy()
    if rec is not None and cells and np.isfinite(values).all():
        parts = [rec.correct(g.sort_values("seed")["cell_id"].astype(str), metric) for g in cells]
        if all(p is not None for p in parts):
            correct = np.stack(parts)
    return spearman_interval(values, np.array(ref), correct, n_boot=n_boot)


def compare_with_paper(grid: Grid, study=None, metric: str = "linear_top1", method: str = "simclr") -> Comparison:
    """Spearman rank correlation of ``grid`` (a pairwise matrix) with the paper's Figure 5 over shared cells;
    with ``study``, also its bootstrap interval (``Comparison.interval``)."""
    theirs = paper_values_for(grid.rows, grid.cols)
    shared = np.isfinite(theirs) & np.isfinite(grid.mean)
    n = int(shared.sum())
    rank_diff = np.full(grid.mean.shape, np.nan)
    rho = pvalue = math.nan
    if n:
        ours_v, theirs_v = grid.mean[shared], theirs[shared]
        rank_diff[shared] = rankdata(-ours_v) - rankdata(-theirs_v)
        if n >= 3 and np.ptp(ours_v) > 0:
            res = spearmanr(ours_v, theirs_v)
            rho, pvalue = float(res.statistic), float(res.pvalue)
    ops = [o for o in grid.rows if paper.paper_operator(o)]
    iv = rho_interval(study, grid, metric, method) if study is not None and math.isfinite(rho) else None
    return Comparison(rho=rho, pvalue=pvalue, n=n, shared_operators=ops, paper_values=theirs, rank_diff=rank_diff,
                      interval=iv)


def comparison_figure(grid: Grid, comp: Comparison, title: str) -> Figure:
    """Three panels: the paper's Figure 5 on our operators, our matrix, and our rank minus the paper's."""
    n_rows, n_cols = grid.mean.shape
    cell = 0.55
    fig = plt.figure(figsize=(3 * (cell * n_cols + 1.3) + 0.8, cell * n_rows + 2.4), layout="constrained")
    gs = fig.add_gridspec(1, 6, width_ratios=[n_cols, 0.3] * 3)
    axes = [fig.add_subplot(gs[k]) for k in (0, 2, 4)]
    caxes = [fig.add_subplot(gs[k]) for k in (1, 3, 5)]
    fs = 7 if n_cols > 5 else 8

    theirs = comp.paper_values
    paper_text = np.array([[f"{v:.1f}" if np.isfinite(v) else "" for v in row] for row in theirs], dtype=object)
    seeds = f"{grid.n_seeds} seed{'s' if grid.n_seeds != 1 else ''}"
    panels = ((theirs, paper_text, "Paper (ImageNet, ResNet-50)" + ("\nhatched: not in the paper" if np.isnan(theirs).any() else "")),
              (grid.mean, grid_annotations(grid, multiline=False, std=False), f"This study (mean of {seeds})"))
    for ax, cax, (values, text, sub) in zip(axes, caxes, panels):
        draw_cells(ax, values, text, grid.rows, grid.cols, fontsize=fs, cbar_ax=cax, cbar_label="top-1 (%)")
        ax.set_title(sub, fontsize=9)
    diff = comp.rank_diff
    lim = max(1.0, float(np.nanmax(np.abs(diff)))) if np.isfinite(diff).any() else 1.0
    diff_text = np.vectorize(lambda v: f"{v:+g}" if np.isfinite(v) else "")(diff).astype(object)
    draw_cells(axes[2], diff, diff_text, grid.rows, grid.cols, cmap=DIVERGING_CMAP, vmin=-lim, vmax=lim, center=0,
               fontsize=fs, cbar_ax=caxes[2], cbar_label="rank ours − rank paper")
    caxes[2].yaxis.set_major_locator(MaxNLocator(integer=True))
    axes[2].set_title("Rank difference (+ = lower in this study)", fontsize=9)
    for ax in axes:
        ax.set_xlabel("2nd transformation", fontsize=8)
        if n_cols > 5 or max(len(c) for c in grid.cols) > 6:
            ax.set_xticklabels(ax.get_xticklabels(), rotation=40, ha="right", rotation_mode="anchor")
    axes[0].set_ylabel("1st transformation")
    for ax in axes[1:]:
        ax.set_yticklabels([])
    fig.suptitle(f"{title}\n{comp.describe()}", fontsize=10)
    fig.supxlabel("Paper: " + paper.citation(), fontsize=6.5, color="#555555")
    return fig
