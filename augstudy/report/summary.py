"""``summary.md``: what was run, the figures, best and worst cells, rho against the paper, failures.

Plain GitHub Markdown; figures embedded with links relative to ``figures/``.
"""
from __future__ import annotations

import datetime as _dt
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import __version__
from .heatmap import METRIC_LABELS, method_label
from .paper import citation
from .results import StudyResults
from .tables import Grid, format_cell


@dataclass
class Section:
    """One block of the summary: a heading, Markdown text, and figures (relative paths) to embed."""

    heading: str
    text: str = ""
    images: list[str] = field(default_factory=list)
    after: str = ""  # Markdown below the figures


def _esc(s: Any) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


def md_table(header: list[str], rows: list[list[Any]]) -> str:
    """A Markdown table from a header and rows of cells."""
    out = ["| " + " | ".join(map(_esc, header)) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(map(_esc, r)) + " |" for r in rows]
    return "\n".join(out) + "\n"


def _duration(seconds: Any) -> str:
    try:
        s = float(seconds)
    except (TypeError, ValueError):
        return "unknown"
    if not np.isfinite(s):
        return "unknown"
    return str(_dt.timedelta(seconds=round(s)))


def _name(value: Any) -> str:
    if isinstance(value, dict):
        name = value.get("name") or value.get("encoder") or ""
        params = value.get("params") or value.get("encoder_params") or {}
        return f"{name} {params}".strip() if params else str(name)
    return "unknown" if value in (None, "") else str(value)


def run_facts(study: StudyResults) -> list[list[str]]:
    """Rows of the "what was run" table, from ``study.json`` (``unknown`` where it is missing)."""
    m = study.meta
    hw = m.get("hardware") or {}
    hardware = ", ".join(str(x) for x in (hw.get("cpu"), f"{hw['cores']} cores" if hw.get("cores") else None,
                                          hw.get("gpu") or None) if x) or "unknown"
    if "device" in study.table and study.table["device"].notna().any():
        hardware += f" (cells ran on: {', '.join(sorted(set(map(str, study.table['device'].dropna()))))})"
    seeds = sorted(study.table["seed"].dropna().unique().tolist())
    study_file = m.get("study_file")
    if study_file and os.path.isabs(study_file):  # runs record it absolute; show it relative where it can be
        rel = os.path.relpath(study_file)
        study_file = study_file if rel.startswith("..") else rel
    rows = [
        ["study file", f"`{study_file}`" if study_file else "unknown"],
        ["grid", f"{study.kind}: {', '.join(study.order)}" + (f" ({study.param})" if study.param else "")],
        ["dataset", _name(m.get("dataset"))],
        ["model", _name(m.get("model"))],
        ["methods", ", ".join(method_label(x) for x in study.methods)],
        ["seeds", ", ".join(str(s) for s in seeds)],
        ["hardware", hardware],
        ["wall time", _duration(m.get("wall_seconds"))],
        ["started / finished", f"{m.get('started') or '?'} / {m.get('finished') or '?'}"],
        ["augstudy version (run / report)", f"{m.get('augstudy_version') or 'unknown'} / {__version__}"],
        ["torch version", str(m.get("torch_version") or "unknown")],
    ]
    if m.get("state") and m["state"] != "finished":
        rows.append(["state", f"{m['state']} (the results may be partial)"])
    return rows


def best_worst(grid: Grid, k: int = 3, who: str = "", metric: str = "linear_top1") -> str:
    """Markdown: the ``k`` best and ``k`` worst cells with a value, per method (rows of a label grid)."""
    cells = grid.cells()
    cells = cells[np.isfinite(cells["mean"])].sort_values("mean", ascending=False, kind="stable")
    if cells.empty:
        return f"{who + ': ' if who else ''}no cell has a value.\n"
    pairwise = grid.rows == grid.cols
    name = lambda r: (r["row"] if r["row"] == r["col"] else f"{r['row']} + {r['col']}") if pairwise else r["col"]  # noqa: E731
    rows = lambda df: [[name(r), format_cell(r["mean"], r["std"], r["status"], r["runs"], r["n"])] for _, r in df.iterrows()]  # noqa: E731
    who = f"{who}: " if who else ""
    header = ["cell", METRIC_LABELS.get(metric, metric)]
    text = f"**{who}best cells**\n\n" + md_table(header, rows(cells.head(k)))
    if len(cells) > k:
        text += f"\n**{who}worst cells**\n\n" + md_table(header, rows(cells.iloc[::-1].head(k)))
    return text


def failed_rows(study: StudyResults, grids: dict[str, Grid]) -> list[list[str]]:
    """Runs that did not finish (``failed``/``diverged``) and cells with no row at all (``missing``)."""
    t = study.table
    rows = []
    for _, r in t[t["status"] != "done"].iterrows():
        cell = r["pipeline"] if r.get("pipeline") else (r["op1"] if r.get("op1") == r.get("op2") else f"{r.get('op1')} + {r.get('op2')}")
        err = str(r.get("error") or "").strip().splitlines()
        rows.append([cell, method_label(r["method"]), str(r["seed"]), r["status"], (err[-1][:120] if err else "")])
    for method, grid in grids.items():
        for _, c in grid.cells().iterrows():
            if c["status"] == "missing":
                cell = c["col"] if study.kind != "pairwise" else (c["row"] if c["row"] == c["col"] else f"{c['row']} + {c['col']}")
                rows.append([cell, method_label(method), "all", "missing", "no row in the results table"])
    return rows


def render(study: StudyResults, metric: str, sections: list[Section], failed: list[list[str]], n_cells: int) -> str:
    """The whole ``summary.md``."""
    n_runs = len(study.table)
    n_done = int((study.table["status"] == "done").sum())
    out = [
        f"# {study.name}: augmentation study report\n",
        f"Metric: **{METRIC_LABELS.get(metric, metric)}**, {study.n_seeds} seed{'s' if study.n_seeds != 1 else ''}. "
        f"{n_done} of {n_runs} runs done" + (f"; **{len(failed)} incomplete** (see [Failed and missing cells](#failed-and-missing-cells))." if failed else ".")
        + "\n",
        "## What was run\n",
        md_table(["", ""], run_facts(study)),
    ]
    for s in sections:
        out.append(f"## {s.heading}\n")
        if s.text:
            out.append(s.text.rstrip() + "\n")
        out += [f"![{s.heading}]({img})\n" for img in s.images]
        if s.after:
            out.append(s.after.rstrip() + "\n")
    out.append("## Failed and missing cells\n")
    if failed:
        out.append("These cells are blank and marked (hatched, or ×) in the figures.\n")
        out.append(md_table(["cell", "method", "seed", "status", "error"], failed))
    else:
        out.append(f"None: all {n_cells} cells have a value.\n")
    out.append("---\n")
    out.append(f"Paper numbers: {citation()} (ImageNet; compare ranks, not absolute values).\n")
    out.append(f"Written by `augstudy plot` from `{study.path.name}/results.csv`.\n")
    return "\n".join(out)


def _policy_name(r) -> str:
    return str(r["pipeline"]) if r.get("pipeline") else str(r["op1"])


def statistics_section(study: StudyResults, metric: str, rho_text: str = "") -> Section:
    """What the data support: the intervals' sources, the set tied with the best (Holm), the best against
    the runner-up with a paired test, and claims worded by significance only."""
    from ..stats import KINDS, compare

    s = study.policy_stats(metric)
    lines = []
    if s.empty:
        return Section("Statistics", "No finished cell has a value of this metric.\n")
    kinds = list(dict.fromkeys(s["interval_kind"]))
    lines.append("Intervals are 95%, over " + "; ".join(KINDS[k] for k in kinds) + ". In the tables ± is the half-width.")
    if "seeds" in kinds or "none" in kinds:
        lines.append("These cells have no per-example records (they ran before records existed): their intervals and "
                     "tests leave the finite test set's noise out. `augstudy run STUDY.yaml --add-records` reruns them "
                     "with records.")
    if "examples" in kinds:
        lines.append("One seed: the intervals come from the test examples only and say nothing about seed-to-seed "
                     "variation; run more seeds to compare policies.")
    lines.append("")
    for method, sub in s.groupby("method", sort=False):
        sub = sub.sort_values("mean", ascending=False, kind="stable")
        who = method_label(method)
        best = sub.iloc[0]
        tied = sub[sub["tied_with_best"]]
        names = [_policy_name(r) for _, r in tied.iterrows()]
        lines.append(f"**{who}: tied with the best** ({len(tied)} of {len(sub)}; not significantly worse than "
                     f"{_policy_name(best)}, one-sided paired tests against it, Holm-corrected, α = 0.05): "
                     + ", ".join(names) + ".")
        if len(sub) > 1:
            second = sub.iloc[1]
            try:
                r = compare(study.table, _policy_name(best), _policy_name(second), metric=metric, method=method,
                            records=study.records)
                verdict = (f"{_policy_name(best)} beats {_policy_name(second)}" if r.p_value < 0.05 else
                           f"{_policy_name(best)} and {_policy_name(second)} are indistinguishable at "
                           f"{r.n_seeds} seed(s)") if np.isfinite(r.p_value) else "no paired test possible"
                lines.append(f"Best against runner-up: {_policy_name(best)} − {_policy_name(second)} = {r.difference:+.2f} "
                             f"points, 95% interval [{r.lower:.2f}, {r.upper:.2f}], p = {r.p_value:.3g} ({r.how()}): "
                             f"{verdict}.")
            except Exception as e:  # noqa: BLE001 - a name the selector cannot take; the table below still holds
                lines.append(f"(best against runner-up: not computed: {e})")
        lines.append("")
        rows = [[_policy_name(r), f"{r['mean']:.1f}",
                 f"[{r['lower']:.1f}, {r['upper']:.1f}]" if np.isfinite(r["lower"]) else "—", str(r["n_seeds"]),
                 "yes" if r["tied_with_best"] else "no",
                 "—" if not np.isfinite(r["p_vs_best"]) else f"{r['p_vs_best']:.2g}"] for _, r in sub.iterrows()]
        lines.append(md_table(["policy", "mean", "95% interval", "seeds", "tied with best", "p vs best (one-sided)"],
                              rows))
    if rho_text:
        lines.append(rho_text + ".")
    return Section("Statistics", "\n".join(lines) + "\n")
