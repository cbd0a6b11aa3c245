"""Training curves: loss against epoch for every cell, as small multiples.

Read from ``cells/<cell_id>/curve.csv`` (``epoch, loss``), else ``metrics.json``'s ``loss_per_epoch``.
Pairwise studies are laid out as the matrix (rows = 1st, cols = 2nd transformation); sweeps and lists
one panel per column label. One line per method and seed.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Optional


import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from .heatmap import method_label  # noqa: E402
from .results import StudyResults  # noqa: E402

METHOD_COLORS = {"simclr": "#1f77b4", "supervised": "#d62728", "byol": "#2ca02c", "moco": "#ff7f0e", "vicreg": "#9467bd",
                 "barlow_twins": "#8c564b"}


def load_curve(cell_dir: Path) -> Optional[pd.DataFrame]:
    """``epoch, loss`` of one cell, or None when the cell left no curve (or an unreadable one)."""
    cell_dir = Path(cell_dir)
    try:
        if (cell_dir / "curve.csv").is_file():
            df = pd.read_csv(cell_dir / "curve.csv")
            if {"epoch", "loss"} <= set(df.columns) and len(df):
                return df[["epoch", "loss"]].apply(pd.to_numeric, errors="coerce")
        if (cell_dir / "metrics.json").is_file():
            losses = json.loads((cell_dir / "metrics.json").read_text(encoding="utf-8")).get("loss_per_epoch") or []
            if losses:
                return pd.DataFrame({"epoch": np.arange(1, len(losses) + 1), "loss": pd.to_numeric(losses, errors="coerce")})
    except (OSError, ValueError, pd.errors.ParserError):
        return None
    return None


def _panels(study: StudyResults) -> tuple[int, int, dict, list[str]]:
    """(n_rows, n_cols, {panel key: (r, c)}, column name(s) of the key in the table)."""
    if study.kind == "pairwise":
        n = len(study.order)
        return n, n, {(a, b): (i, j) for i, a in enumerate(study.order) for j, b in enumerate(study.order)}, ["op1", "op2"]
    n = len(study.order)
    n_cols = min(n, 5)
    n_rows = math.ceil(n / n_cols)
    return n_rows, n_cols, {lab: divmod(k, n_cols) for k, lab in enumerate(study.order)}, ["pipeline"]


def curves_figure(study: StudyResults, title: str) -> tuple[Optional[Figure], int]:
    """Small multiples of loss against epoch; returns the figure and the number of curves drawn
    (``(None, 0)`` when no cell left a curve: the empty grid of panels is not drawn)."""
    n_rows, n_cols, where, keys = _panels(study)
    groups = study.table.groupby(keys[0] if len(keys) == 1 else keys, sort=False)
    found = []  # (panel, method, curve), read before any figure is made
    for key, rows in groups:
        pos = where.get(key)
        if pos is None:
            continue
        for _, row in rows.iterrows():
            curve = load_curve(study.path / "cells" / str(row.get("cell_id"))) if row.get("cell_id") else None
            if curve is not None and not curve["loss"].isna().all():
                found.append((pos, row["method"], curve))
    if not found:
        return None, 0
    size = 1.25 if study.kind == "pairwise" else 1.9
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(size * n_cols + 0.8, size * 0.85 * n_rows + 1.0), squeeze=False,
                             sharex=True, sharey=study.table["method"].nunique() == 1)
    drawn, methods_drawn = 0, set()
    for pos, m, curve in found:
        axes[pos].plot(curve["epoch"], curve["loss"], color=METHOD_COLORS.get(str(m).partition("(")[0], "#555555"), lw=1.0,
                       alpha=0.8, label=method_label(m) if m not in methods_drawn else None)
        methods_drawn.add(m)
        drawn += 1
    for (key, (r, c)) in where.items():
        ax = axes[r, c]
        ax.tick_params(labelsize=6, length=2)
        if not ax.lines:
            ax.text(0.5, 0.5, "no curve", transform=ax.transAxes, ha="center", va="center", fontsize=7, color="#888888")
            ax.set_facecolor("#f2f2f2")
            ax.tick_params(left=False, labelleft=False)
        label = key if isinstance(key, str) else (key[0] if key[0] == key[1] else f"{key[0]} + {key[1]}")
        if study.kind != "pairwise":
            ax.set_title(label, fontsize=8)
    if study.kind == "pairwise":
        for i, a in enumerate(study.order):
            axes[i, 0].set_ylabel(a, fontsize=8)
            axes[0, i].set_title(a, fontsize=8)
        fig.supylabel("1st transformation  (loss)", fontsize=9)
        fig.supxlabel("2nd transformation  (epoch)", fontsize=9)
    else:
        for k in range(len(where), n_rows * n_cols):
            axes.flat[k].set_visible(False)
        fig.supylabel("loss", fontsize=9)
        fig.supxlabel("epoch", fontsize=9)
    if methods_drawn:
        fig.legend(loc="upper right", fontsize=7, frameon=False)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig, drawn
