"""Several methods in one study: a method x policy table (and heatmap), and where the methods' rankings
of the policies agree (Spearman rank correlation between each pair of methods over the policies both have).

Reads the grids the other report modules made from the results files; nothing here knows a method.
"""
from __future__ import annotations

import math
from itertools import combinations
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy.stats import spearmanr

from ._io import save_figure, write_text
from .heatmap import METRIC_LABELS, draw_cells, method_label, title_for
from .summary import Section, md_table
from ..stats import KINDS
from .tables import Grid, format_cell


def policy_table(grids: dict[str, Grid]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two frames indexed by policy (a pairwise cell "a + b", or a sweep/list column), one column per
    method: the mean over seeds, and the cell's text (``56.3 ± 1.2``, or why it is blank)."""
    means, texts = {}, {}
    for method, grid in grids.items():
        cells = grid.cells()
        pairwise = grid.rows == grid.cols
        names = [(r if r == c else f"{r} + {c}") if pairwise else c for r, c in zip(cells["row"], cells["col"])]
        means[method] = pd.Series(cells["mean"].to_numpy(float), index=names)
        texts[method] = pd.Series([format_cell(m, h, st, ru, n) for m, h, st, ru, n in
                                   zip(cells["mean"], cells["half"], cells["status"], cells["runs"], cells["n"])], index=names)
    return pd.DataFrame(means), pd.DataFrame(texts)


def rank_agreement(means: pd.DataFrame) -> list[dict]:
    """For each pair of methods: Spearman rho over the policies both have a value for, their number, each
    one's best policy, the policies in both top-3s, and the (up to 3) policies whose ranks differ most (1 = best)."""
    out = []
    for a, b in combinations(means.columns, 2):
        both = means[[a, b]].dropna()
        rho = float(spearmanr(both[a], both[b]).statistic) if len(both) >= 3 else math.nan
        ranks = both.rank(ascending=False)
        diff = (ranks[a] - ranks[b]).abs().sort_values(ascending=False, kind="stable")
        top = lambda m: list(both[m].sort_values(ascending=False, kind="stable").index[:3])  # noqa: E731
        out.append({"a": a, "b": b, "rho": rho, "n": len(both),
                    "best_a": both[a].idxmax() if len(both) else None, "best_b": both[b].idxmax() if len(both) else None,
                    "top_both": [p for p in top(a) if p in top(b)], "disagree": list(diff.index[diff > 0][:3]),
                    "ranks": ranks})
    return out


def methods_figure(means: pd.DataFrame, texts: pd.DataFrame, title: str, metric: str) -> Figure:
    """The method x policy table as a heatmap: rows = policies, one column per method."""
    fig, ax = plt.subplots(figsize=(1.6 + 1.3 * len(means.columns), 1.2 + 0.32 * len(means)))
    cax = fig.add_axes([0.92, 0.25, 0.02, 0.5])
    draw_cells(ax, means.to_numpy(float), texts.to_numpy(object), list(means.index),
               [method_label(m) for m in means.columns], cbar_ax=cax, cbar_label=METRIC_LABELS.get(metric, metric))
    ax.set_title(title, fontsize=10)
    fig.subplots_adjust(left=0.3, right=0.88)
    return fig


def _rho(r: dict) -> str:
    return f"{r['rho']:.2f}" if math.isfinite(r["rho"]) else "not defined"


def methods_section(grids: dict[str, Grid], metric: str, out: Path, sfx: str, study_name: str,
                    n_seeds: int, written: list[Path]) -> Section:
    """Write ``methods_<metric>.csv/.png`` and return the summary's section: the table, rho per pair, where they agree."""
    means, texts = policy_table(grids)
    stem = out / f"methods_{sfx}"
    written.append(write_text(stem.with_suffix(".csv"), means.round(3).to_csv(index_label="policy", lineterminator="\n")))
    written += save_figure(methods_figure(means, texts, title_for(study_name, "methods x policies", metric, n_seeds), metric), stem)
    labels = [method_label(m) for m in means.columns]
    kinds = [k for g in grids.values() for k in g.kinds]
    over = "; ".join(KINDS[k] for k in dict.fromkeys(kinds) if k != "none") or "none: one seed, no per-example records"
    text = (f"Each policy's top-1 under each method (mean ± the half-width of its 95% interval, over {over}); "
            f"data: [`{stem.name}.csv`]({stem.name}.csv).\n\n")
    text += md_table(["policy", *labels], [[p, *texts.loc[p]] for p in texts.index])
    lines, rows = [], []
    for r in rank_agreement(means):
        la, lb = method_label(r["a"]), method_label(r["b"])
        rows.append([f"{la} vs {lb}", _rho(r), str(r["n"]), f"{r['best_a']} / {r['best_b']}"])
        if r["n"] >= 3:
            same = "the same best policy" if r["best_a"] == r["best_b"] else "different best policies"
            top = f"in both top 3: {', '.join(r['top_both'])}" if r["top_both"] else "no policy in both top 3"
            apart = ("the same ranking" if not r["disagree"] else "ranks furthest apart: " + ", ".join(
                f"{p} ({r['ranks'].loc[p, r['a']]:g} vs {r['ranks'].loc[p, r['b']]:g})" for p in r["disagree"]))
            lines.append(f"- **{la} vs {lb}** (rho {_rho(r)}): {same}; {top}; {apart}.")
    after = ("**Where the methods' rankings of the policies agree** (Spearman rank correlation over the policies "
             "both methods have a value for; ranks 1 = best):\n\n")
    after += md_table(["methods", "Spearman rho", "policies", "best policy (each)"], rows)
    if lines:
        after += "\n" + "\n".join(lines) + "\n"
    return Section("Methods x policies", text, [f"{stem.name}.png"], after)
