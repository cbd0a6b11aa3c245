"""List studies: one bar per column label and method (mean ± std over seeds); blank cells marked."""
from __future__ import annotations


import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from .curves import METHOD_COLORS  # noqa: E402
from .heatmap import method_label  # noqa: E402
from .tables import Grid  # noqa: E402


def bars_figure(grid: Grid, title: str, xlabel: str) -> Figure:
    """List studies: one horizontal bar per column label and method, mean ± std; blank ones marked."""
    n = len(grid.cols)
    fig, ax = plt.subplots(figsize=(6.0, 0.35 * n * max(1, len(grid.rows)) + 1.4))
    height = 0.8 / max(1, len(grid.rows))
    y = np.arange(n)
    for i, m in enumerate(grid.rows):
        yi = y + (i - (len(grid.rows) - 1) / 2) * height
        vals = np.nan_to_num(grid.mean[i])
        err = np.where(np.isfinite(grid.std[i]), grid.std[i], 0)
        ax.barh(yi, vals, height=height * 0.9, xerr=err if np.isfinite(grid.std[i]).any() else None, color=METHOD_COLORS.get(m, "#555555"), label=method_label(m),
                error_kw={"lw": 0.8, "capsize": 2})
        for j in range(n):
            text = f"{grid.mean[i, j]:.1f}" if np.isfinite(grid.mean[i, j]) else f"× {grid.status[i, j]}"
            ax.text(vals[j] + err[j] + 0.5, yi[j], text, va="center", fontsize=7)
    ax.set_yticks(y, grid.cols, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel, fontsize=8)
    ax.margins(x=0.15)
    ax.legend(fontsize=7, frameon=False, loc="lower right")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig
