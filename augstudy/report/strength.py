"""The color-strength table (the paper's Table 1) in Markdown, CSV and LaTeX, and top-1 against strength.

Rows: each method of the study, the paper's row beside ours; columns: the sweep's labels (``1/8`` ...
``1 (+blur)``). The paper's ``AutoAug`` column has no counterpart in a strength sweep: it is kept as a
paper-only column. Sweeps over another parameter get the same table without paper rows.
"""
from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass
from pathlib import Path


import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from scipy.stats import spearmanr  # noqa: E402

from . import paper  # noqa: E402
from ._io import write_text  # noqa: E402
from .heatmap import METRIC_LABELS, method_label  # noqa: E402
from .results import StudyResults  # noqa: E402
from .tables import Grid, label_grid  # noqa: E402

PAPER_METHODS = ("simclr", "supervised")
TICK_WIDTH = 10  # longer column labels wrap onto more lines, so neighbouring ticks do not overlap


@dataclass
class StrengthTable:
    """Table 1 for one study: ``rows`` (label, method, source) x ``columns``; numbers and their text."""

    columns: list[str]  # column labels (the paper's names where they map)
    rows: list[tuple[str, str, str]]  # (row label, method, "ours" | "paper")
    mean: np.ndarray
    std: np.ndarray
    text: np.ndarray  # object: what the Markdown / LaTeX cells say
    paper_only: list[str]  # paper columns the study has no counterpart for
    grid: Grid  # ours, rows = methods, cols = the study's own labels

    def frame(self) -> pd.DataFrame:
        """The table as text, index = row label."""
        return pd.DataFrame(self.text, index=[r[0] for r in self.rows], columns=self.columns)


def strength_table(study: StudyResults, metric: str) -> StrengthTable:
    """Pool seeds per (method, label) and put the paper's Table 1 rows beside ours where labels map."""
    grid = label_grid(study, metric)
    values = study.table.groupby("pipeline", sort=False)["value"].first() if "value" in study.table else {}
    mapped = [paper.paper_strength(lab, values.get(lab) if len(values) else None) for lab in grid.cols]
    with_paper = any(mapped)
    p_t1 = paper.table1()
    columns = [m or lab for m, lab in zip(mapped, grid.cols)]
    paper_only = [c for c in p_t1.columns if c not in columns] if with_paper else []
    columns += paper_only
    rows, means, stds, texts = [], [], [], []
    methods = list(grid.rows) + [m for m in PAPER_METHODS if with_paper and m not in grid.rows]
    for m in methods:
        if m in grid.rows:
            i = grid.rows.index(m)
            rows.append((f"{method_label(m)} (this study)", m, "ours"))
            pad = [math.nan] * len(paper_only)
            means.append(list(grid.mean[i]) + pad)
            stds.append(list(grid.std[i]) + pad)
            texts.append([grid.text(i, j) for j in range(len(grid.cols))] + ["—"] * len(paper_only))
        if with_paper and m in PAPER_METHODS:
            pv = [p_t1.loc[m, c] if c in p_t1.columns else math.nan for c in columns]
            rows.append((f"{method_label(m)} (paper)", m, "paper"))
            means.append(pv)
            stds.append([math.nan] * len(columns))
            texts.append([f"{v:.1f}" if math.isfinite(v) else "—" for v in pv])
    return StrengthTable(columns=columns, rows=rows, mean=np.array(means, float), std=np.array(stds, float),
                         text=np.array(texts, dtype=object), paper_only=paper_only, grid=grid)


def strength_rho(table: StrengthTable, method: str = "simclr") -> tuple[float, int]:
    """Spearman rho of our row against the paper's over the strengths both have (NaN below 3)."""
    idx = {(m, s): k for k, (_, m, s) in enumerate(table.rows)}
    if (method, "ours") not in idx or (method, "paper") not in idx:
        return math.nan, 0
    ours, theirs = table.mean[idx[(method, "ours")]], table.mean[idx[(method, "paper")]]
    both = np.isfinite(ours) & np.isfinite(theirs)
    n = int(both.sum())
    if n < 3 or np.ptp(ours[both]) == 0:
        return math.nan, n
    return float(spearmanr(ours[both], theirs[both]).statistic), n


def strength_rho_interval(study: StudyResults, table: StrengthTable, metric: str, method: str = "simclr"):
    """:func:`strength_rho` with its bootstrap interval over seeds and (with records) test examples."""
    from ..stats.rank import spearman_interval

    idx = {(m, s): k for k, (_, m, s) in enumerate(table.rows)}
    theirs = table.mean[idx[(method, "paper")]][: len(table.grid.cols)]
    t = study.table[(study.table["method"] == method) & (study.table["status"] == "done")].dropna(subset=[metric])
    seeds = sorted(t["seed"].unique())
    groups = {k: g.drop_duplicates("seed").sort_values("seed") for k, g in t.groupby("pipeline", sort=False)}
    labels = [lab for j, lab in enumerate(table.grid.cols) if np.isfinite(theirs[j]) and lab in groups]
    values = np.full((len(labels), len(seeds)), np.nan)
    for k, lab in enumerate(labels):
        values[k, [seeds.index(s) for s in groups[lab]["seed"]]] = groups[lab][metric].to_numpy()
    correct = None
    if study.records is not None and labels and np.isfinite(values).all():
        parts = [study.records.correct(groups[lab]["cell_id"].astype(str), metric) for lab in labels]
        correct = np.stack(parts) if all(p is not None for p in parts) else None
    ref = np.array([theirs[table.grid.cols.index(lab)] for lab in labels])
    return spearman_interval(values, ref, correct)


def to_markdown(table: StrengthTable, corner: str = "Method") -> str:
    """A GitHub Markdown table."""
    esc = lambda s: str(s).replace("|", "\\|")  # noqa: E731
    lines = ["| " + " | ".join([corner, *map(esc, table.columns)]) + " |", "|" + "---|" + "---:|" * len(table.columns)]
    for (label, _, _), cells in zip(table.rows, table.text):
        lines.append("| " + " | ".join([esc(label), *map(esc, cells)]) + " |")
    return "\n".join(lines) + "\n"


def to_latex(table: StrengthTable, caption: str = "", corner: str = "Method") -> str:
    """A booktabs LaTeX table (needs ``\\usepackage{booktabs}``)."""
    def tex(s: str) -> str:
        s = str(s)
        for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"), ("#", r"\#")):
            s = s.replace(a, b)
        return s.replace(" ± ", r" $\pm$ ").replace("—", "--")

    lines = [r"\begin{table}[t]", r"\centering", r"\begin{tabular}{l" + "r" * len(table.columns) + "}", r"\toprule",
             " & ".join([corner, *map(tex, table.columns)]) + r" \\", r"\midrule"]
    for (label, _, _), cells in zip(table.rows, table.text):
        lines.append(" & ".join([tex(label), *map(tex, cells)]) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    if caption:
        lines.append(r"\caption{" + tex(caption) + "}")
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


def to_csv(table: StrengthTable) -> str:
    """Numbers, one row per table row: ``method, source, <column>...`` (means) then ``<column> std``."""
    data = {"row": [r[0] for r in table.rows], "method": [r[1] for r in table.rows], "source": [r[2] for r in table.rows]}
    for j, c in enumerate(table.columns):
        data[c] = np.round(table.mean[:, j], 3)
    if np.isfinite(table.std).any():
        for j, c in enumerate(table.columns):
            data[f"{c} std"] = np.round(table.std[:, j], 3)
    return pd.DataFrame(data).to_csv(index=False, lineterminator="\n")


def write_tables(table: StrengthTable, stem: Path, caption: str) -> list[Path]:
    """``stem.md``, ``stem.csv``, ``stem.tex``."""
    return [
        write_text(stem.with_name(stem.name + ".md"), to_markdown(table)),
        write_text(stem.with_name(stem.name + ".csv"), to_csv(table)),
        write_text(stem.with_name(stem.name + ".tex"), to_latex(table, caption)),
    ]


def strength_figure(table: StrengthTable, title: str, metric: str, param: str | None) -> Figure:
    """Top-1 against the swept column for each method: this study (left), the paper (right, if it maps)."""
    has_paper = any(s == "paper" for _, _, s in table.rows)
    ours_cols = len(table.columns) - len(table.paper_only)
    x = np.arange(ours_cols)
    fig, axes = plt.subplots(1, 2 if has_paper else 1, figsize=(9.5 if has_paper else 5.2, 3.6), squeeze=False)
    colors = {"simclr": "#1f77b4", "supervised": "#d62728"}
    for ax, source, sub in zip(axes[0], ("ours", "paper"), ("This study", "Paper (ImageNet, ResNet-50)")):
        for k, (label, m, s) in enumerate(r for r in table.rows if r[2] == source):
            row = table.rows.index((label, m, s))
            y = table.mean[row, :ours_cols]
            # ours: the 95% interval of each column (asymmetric where it is), never the std; the paper has none
            e = table.grid.errors(table.grid.rows.index(m)) if source == "ours" and m in table.grid.rows else None
            c = colors.get(m)
            ax.errorbar(x, y, yerr=e, marker="o", ms=4, capsize=3, color=c, label=method_label(m))
            for xi, yi in zip(x, y):
                if np.isfinite(yi):
                    ax.annotate(f"{yi:.1f}", (xi, yi), textcoords="offset points", xytext=(0, 7), ha="center", fontsize=7,
                                color=c, bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8})
            if source == "ours":
                for j in np.flatnonzero(~np.isfinite(y)):  # failed / missing: marked on the axis
                    ax.annotate(f"× {table.text[row, j]}", (x[j], 0), xycoords=("data", "axes fraction"),
                                xytext=(0, 4 + 10 * k), textcoords="offset points", ha="center", fontsize=7, color=c)
        ax.set_xticks(x, [textwrap.fill(str(c), TICK_WIDTH) for c in table.columns[:ours_cols]], fontsize=8)
        xl = "color strength" if has_paper else (param or "column")
        ax.set_xlabel(f"{xl}\n{table.grid.interval_note()}" if source == "ours" else xl, fontsize=8)
        ax.set_ylabel(METRIC_LABELS.get(metric, metric) if source == "ours" else "top-1 (%)", fontsize=8)
        ax.set_title(sub, fontsize=9)
        ax.margins(y=0.2)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, frameon=False)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
