"""List studies: one bar per column label and method, the mean over seeds with its 95% interval
(``augstudy.stats``: seeds and test examples where per-example records exist, seeds only otherwise;
the caption says which); blank cells marked."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .curves import METHOD_COLORS
from .heatmap import method_label
from .tables import Grid


def bars_figure(grid: Grid, title: str, xlabel: str) -> Figure:
    """One horizontal bar per column label and method: the mean, error bars from its 95% interval
    (asymmetric where the interval is; ``Grid.errors``), never the std; blank ones marked."""
    n = len(grid.cols)
    fig, ax = plt.subplots(figsize=(6.0, 0.35 * n * max(1, len(grid.rows)) + 1.4))
    height = 0.8 / max(1, len(grid.rows))
    y = np.arange(n)
    for i, m in enumerate(grid.rows):
        yi = y + (i - (len(grid.rows) - 1) / 2) * height
        vals = np.nan_to_num(grid.mean[i])
        err = grid.errors(i)
        ax.barh(yi, vals, height=height * 0.9, xerr=err, color=METHOD_COLORS.get(m, "#555555"), label=method_label(m),
                error_kw={"lw": 0.8, "capsize": 2})
        right = vals + (err[1] if err is not None else 0)
        for j in range(n):
            text = f"{grid.mean[i, j]:.1f}" if np.isfinite(grid.mean[i, j]) else f"× {grid.status[i, j]}"
            ax.text(right[j] + 0.5, yi[j], text, va="center", fontsize=7)
    ax.set_yticks(y, grid.cols, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(f"{xlabel}\n{grid.interval_note()}", fontsize=8)
    ax.margins(x=0.15)
    ax.legend(fontsize=7, frameon=False, loc="best")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig
