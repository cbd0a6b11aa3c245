"""The pairwise heatmap (the paper's Figure 5): rows = 1st transformation, cols = 2nd, an Average column.

Blank cells (failed, diverged, missing) are hatched grey and say why. Each cell reads ``mean ± h``, h the
half-width of its 95% interval (augstudy.stats); cells tied with the best are outlined; ``*`` marks a
cell where some seeds did not finish.
"""
from __future__ import annotations

from typing import Optional, Sequence


import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from .tables import Grid  # noqa: E402

#: One colormap for every top-1 heatmap of the report; rank differences use a diverging one.
CMAP = "viridis"
DIVERGING_CMAP = "RdBu_r"
BLANK_COLOR = "#d9d9d9"
METRIC_LABELS = {
    "linear_top1": "linear-eval top-1 (%)",
    "knn_top1": "kNN top-1 (%)",
    "linear_top1_z": "linear-eval top-1 on g(h) (%)",
    "knn_top1_z": "kNN top-1 on g(h) (%)",
}
METHOD_LABELS = {"simclr": "SimCLR", "supervised": "Supervised", "byol": "BYOL", "moco": "MoCo v2",
                 "vicreg": "VICReg", "barlow_twins": "Barlow Twins"}


def method_label(method: str) -> str:
    """A method's display name; a spec with params keeps them: ``moco(queue_size=1024)`` -> ``MoCo v2(queue_size=1024)``."""
    name, paren, rest = str(method).partition("(")
    return METHOD_LABELS.get(name, name) + paren + rest


def grid_annotations(grid: Grid, multiline: bool = True, std: bool = True) -> np.ndarray:
    """The text of every cell: value (± std over seeds, unless ``std=False``), or why the cell is blank."""
    g = grid if std else Grid(grid.rows, grid.cols, grid.mean, np.full_like(grid.std, np.nan), grid.n, grid.runs,
                              grid.status, grid.n_seeds)
    out = np.empty(grid.mean.shape, dtype=object)
    for i, j in np.ndindex(*grid.mean.shape):
        out[i, j] = g.text(i, j, sep="\n± " if multiline else " ± ")
    return out


def draw_cells(
    ax: Axes,
    values: np.ndarray,
    annot: np.ndarray,
    rows: Sequence[str],
    cols: Sequence[str],
    *,
    cmap: str = CMAP,
    vmin: Optional[float] = None,
    vmax: Optional[float] = None,
    center: Optional[float] = None,
    cbar_ax: Optional[Axes] = None,
    cbar_label: str = "",
    fontsize: float = 8,
) -> Axes:
    """Draw ``values`` as a heatmap annotated with ``annot``; NaN cells hatched grey with their text."""
    values = np.asarray(values, dtype=float)
    blank = ~np.isfinite(values)
    # One pcolormesh and one text per cell, drawn directly: seaborn.heatmap draws the whole figure once per call
    # to check its tick labels (most of `augstudy plot`'s time); this keeps its look (white grid lines, text
    # black or white by the cell's luminance, colorbar without outline, no spines).
    finite = values[~blank]
    lo = float(finite.min()) if vmin is None and finite.size else vmin
    hi = float(finite.max()) if vmax is None and finite.size else vmax
    if center is not None and lo is not None and hi is not None:  # symmetric about the center, like seaborn
        half = max(hi - center, center - lo)
        lo, hi = center - half, center + half
    mesh = ax.pcolormesh(np.ma.masked_where(blank, values), cmap=cmap, vmin=lo, vmax=hi, edgecolors="white",
                         linewidth=0.6)
    n_rows, n_cols = values.shape
    ax.set(xlim=(0, n_cols), ylim=(0, n_rows))
    ax.invert_yaxis()
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_xticks(np.arange(n_cols) + 0.5, [str(c) for c in cols])
    ax.set_yticks(np.arange(n_rows) + 0.5, [str(r) for r in rows], va="center")
    if cbar_ax is not None:
        cb = ax.figure.colorbar(mesh, cax=cbar_ax, label=cbar_label)
        cb.outline.set_linewidth(0)
    colors = mesh.cmap(mesh.norm(np.where(blank, 0.0, values)))[..., :3]
    lum = np.where(colors <= 0.03928, colors / 12.92, ((colors + 0.055) / 1.055) ** 2.4) @ [0.2126, 0.7152, 0.0722]
    for (i, j), is_blank in np.ndenumerate(blank):
        if not is_blank and str(annot[i, j]):
            ax.text(j + 0.5, i + 0.5, str(annot[i, j]), ha="center", va="center", fontsize=fontsize,
                    color="#262626" if lum[i, j] > 0.408 else "#ffffff")
    for (i, j), is_blank in np.ndenumerate(blank):
        if not is_blank:
            continue
        ax.add_patch(Rectangle((j, i), 1, 1, facecolor=BLANK_COLOR, edgecolor="white", hatch="///", linewidth=0.6, zorder=2))
        text = str(annot[i, j])
        if text:
            ax.text(j + 0.5, i + 0.5, text, ha="center", va="center", fontsize=fontsize * 0.85, color="#333333", zorder=3,
                    bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.85})
    ax.tick_params(length=0)
    ax.set_yticklabels(ax.get_yticklabels(), rotation=0)
    longest = max((len(str(c)) for c in cols), default=0)
    if longest > 6:
        ax.set_xticklabels(ax.get_xticklabels(), rotation=35, ha="right", rotation_mode="anchor")
    return ax


def mark_tied(ax: Axes, tied: np.ndarray, color: str = "#e8175d") -> None:
    """Outline the cells tied with the best (a thick frame inside each)."""
    for (i, j), t in np.ndenumerate(tied):
        if t:
            ax.add_patch(Rectangle((j + 0.05, i + 0.05), 0.9, 0.9, fill=False, edgecolor=color, linewidth=2.2, zorder=4))


def title_for(study: str, what: str, metric: str, n_seeds: int) -> str:
    return f"{study}: {what}, {METRIC_LABELS.get(metric, metric)}, {n_seeds} seed{'s' if n_seeds != 1 else ''}"


def heatmap_figure(grid: Grid, title: str, cbar_label: str = "top-1 (%)") -> Figure:
    """Figure 5 for one method: the matrix, an Average column and a colorbar, all on one color scale."""
    n_rows, n_cols = grid.mean.shape
    multiline = grid.n_seeds > 1 or (grid.half is not None and bool(np.isfinite(grid.half).any()))
    cell = 0.95 if multiline else 0.8
    fig = plt.figure(figsize=(cell * (n_cols + 1) + 2.4, cell * n_rows + 1.3), layout="constrained")
    gs = fig.add_gridspec(1, 3, width_ratios=[n_cols, 1, 0.25])
    ax, ax_avg, cax = fig.add_subplot(gs[0]), fig.add_subplot(gs[1]), fig.add_subplot(gs[2])
    finite = np.concatenate([grid.mean[np.isfinite(grid.mean)], grid.row_average[np.isfinite(grid.row_average)]])
    vmin, vmax = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 100.0)
    if vmin == vmax:
        vmin, vmax = vmin - 1, vmax + 1
    draw_cells(ax, grid.mean, grid_annotations(grid, multiline), grid.rows, grid.cols, vmin=vmin, vmax=vmax,
               cbar_ax=cax, cbar_label=cbar_label)
    avg = grid.row_average[:, None]
    avg_text = np.array([[f"{v:.1f}" if np.isfinite(v) else "—"] for v in avg[:, 0]], dtype=object)
    draw_cells(ax_avg, avg, avg_text, grid.rows, ["Average"], vmin=vmin, vmax=vmax)
    ax_avg.set_yticks([])
    ax_avg.set_xticklabels(["Average"], rotation=0)
    ax.set_xlabel("2nd transformation")
    ax.set_ylabel("1st transformation")
    fig.suptitle(title, fontsize=10)
    notes = []
    if grid.tied is not None and grid.tied.any():
        mark_tied(ax, grid.tied)
        notes.append("outlined: tied with the best (not significantly worse, Holm over paired tests, α = 0.05)")
    if grid.half is not None and np.isfinite(grid.half).any():
        notes.append("± 95% interval over " + ("seeds and test examples" if grid.kinds == ("seeds+examples",)
                                              else ", ".join(grid.kinds)))
    if ((grid.runs > grid.n) & (grid.n > 0)).any():
        notes.append("* some seeds of this cell failed")
    if (grid.status != "done").any():
        notes.append("hatched: no value (failed, diverged or missing)")
    if notes:
        fig.supxlabel("\n".join(notes), fontsize=7, color="#444444")
    return fig
