"""``plot_study``: every figure, table and ``summary.md`` of one study, into ``results/<study>/figures/``."""
from __future__ import annotations

import math
from pathlib import Path

from ..errors import AugstudyError
from ._io import save_figure, write_text
from .bars import bars_figure
from .comparison import compare_with_paper, comparison_figure
from .curves import curves_figure
from .html import index_row, write_index, write_report
from .heatmap import METRIC_LABELS, heatmap_figure, method_label, title_for
from .methods import methods_section
from .removal import baseline_of, removal_sections
from .results import METRICS, StudyResults, load_study, study_dirs
from .strength import (strength_figure, strength_rho, strength_rho_interval, strength_table, to_markdown,
                       write_tables)
from .summary import Section, best_worst, failed_rows, md_table, render, statistics_section
from .tables import label_grid, pairwise_grid

DEFAULT_METRIC = "linear_top1"


def _check_metric(study: StudyResults, metric: str) -> None:
    if metric not in METRICS:
        raise AugstudyError(f"unknown metric {metric!r}; expected one of {', '.join(METRICS)}")
    if metric not in study.table.columns:
        raise AugstudyError(f"{study.path / 'results.csv'}: no column {metric!r}; the results table has none of that metric")


def _pairwise(study: StudyResults, metric: str, out: Path, sfx: str, written: list[Path], sections: list[Section]) -> dict:
    grids = {m: pairwise_grid(study, metric, m) for m in study.methods}
    for method, grid in grids.items():
        stem = out / f"heatmap_{method}_{sfx}"
        written += save_figure(heatmap_figure(grid, title_for(study.name, method_label(method), metric, study.n_seeds)), stem)
        written.append(write_text(stem.with_suffix(".csv"), grid.frame().round(3).to_csv(lineterminator="\n")))
        text = (f"Rows: 1st transformation; columns: 2nd; diagonal: the single transformation. "
                f"Data: [`{stem.name}.csv`]({stem.name}.csv).")
        sections.append(Section(f"Pairwise heatmap: {method_label(method)}", text, [f"{stem.name}.png"],
                                best_worst(grid, who=method_label(method), metric=metric)))
    simclr = grids.get("simclr")
    if simclr is not None:
        comp = compare_with_paper(simclr, study, metric)
        study.cache[f"comparison:{metric}"] = comp
        stem = out / f"paper_comparison_{sfx}"
        title = title_for(study.name, "SimCLR vs the paper's Figure 5", metric, study.n_seeds)
        written += save_figure(comparison_figure(simclr, comp, title), stem)
        lacking = [o for o in simclr.rows if o not in comp.shared_operators]
        text = f"**{comp.describe()}.**"
        text += f" Operators the paper lacks (drawn without a paper value): {', '.join(lacking)}." if lacking else ""
        text += (" The paper's numbers are ImageNet linear evaluation; the rank difference is this study's rank of a"
                 " cell minus the paper's (1 = best), over the shared cells.")
        if metric.startswith("knn"):
            text += " (This study's kNN top-1 is compared with the paper's linear top-1: ranks only.)"
        sections.append(Section("Against the paper (Figure 5)", text, [f"{stem.name}.png"]))
    return grids


def _sweep(study: StudyResults, metric: str, out: Path, sfx: str, written: list[Path], sections: list[Section]) -> dict:
    table = strength_table(study, metric)
    stem = out / f"strength_table_{sfx}"
    caption = f"{study.name}: {METRIC_LABELS.get(metric, metric)} by {study.param or 'column'}; paper: {'Chen et al. 2020, Table 1 (ImageNet)'}"
    written += write_tables(table, stem, caption)
    fig_stem = out / f"strength_{sfx}"
    written += save_figure(strength_figure(table, title_for(study.name, f"top-1 against {study.param or 'column'}", metric, study.n_seeds),
                                           metric, study.param), fig_stem)
    text = to_markdown(table) + "\n"
    if table.paper_only:
        text += f"Paper-only column(s), no counterpart in this sweep: {', '.join(table.paper_only)}.\n"
    rho, n = strength_rho(table)
    if n:
        iv = strength_rho_interval(study, table, metric) if math.isfinite(rho) else None
        study.cache[f"rho:{metric}"] = (f"SimCLR against the paper's Table 1 row: {iv.describe()}" if iv is not None else "")
        text += (f"Spearman rho of SimCLR vs the paper's Table 1 row: {rho:.2f} over {n} strengths"
                 + (f" (95% bootstrap interval [{iv.lower:.2f}, {iv.upper:.2f}], {iv.kind.replace('+', ' and ')})"
                    if iv is not None and math.isfinite(iv.lower) else "") + ".\n" if math.isfinite(rho)
                 else f"Spearman rho vs the paper's Table 1: not defined ({n} shared strengths).\n")
    text += f"Also as [CSV]({stem.name}.csv) and [LaTeX]({stem.name}.tex).\n"
    after = "\n".join(best_worst(table.grid.row(i), k=2, who=method_label(m), metric=metric) for i, m in enumerate(table.grid.rows))
    sections.append(Section("Color strength (Table 1)" if any(s == "paper" for *_, s in table.rows) else f"Sweep over {study.param}",
                            text, [f"{fig_stem.name}.png"], after))
    return {m: table.grid.row(i) for i, m in enumerate(table.grid.rows)}


def _list(study: StudyResults, metric: str, out: Path, sfx: str, written: list[Path], sections: list[Section]) -> dict:
    grid = label_grid(study, metric)
    stem = out / f"bars_{sfx}"
    written += save_figure(bars_figure(grid, title_for(study.name, "pipelines", metric, study.n_seeds),
                                       METRIC_LABELS.get(metric, metric)), stem)
    rows = [[lab] + [grid.text(i, j) for i in range(len(grid.rows))] for j, lab in enumerate(grid.cols)]
    text = md_table(["pipeline", *map(method_label, grid.rows)], rows)
    after = "\n".join(best_worst(grid.row(i), who=method_label(m), metric=metric) for i, m in enumerate(grid.rows))
    sections.append(Section("Pipelines", text, [f"{stem.name}.png"], after))
    if baseline_of(study) is not None:  # a removal study (BYOL Table 17): drops from the baseline
        removal_sections(study, metric, out, sfx, written, sections)
    return {m: grid.row(i) for i, m in enumerate(grid.rows)}


def plot_study(study_dir: Path | str, metric: str = DEFAULT_METRIC) -> list[Path]:
    """Write the study's figures, tables and ``summary.md`` into ``<study_dir>/figures/``; return the paths.

    ``metric``: ``linear_top1`` (default), ``knn_top1`` (or their ``_z`` variants, probes on g(h)).
    Files are named for the metric; the summary is ``summary.md`` for the default metric and
    ``summary_<metric>.md`` otherwise.
    """
    study = load_study(study_dir)
    _check_metric(study, metric)
    if study.kind == "search":  # leaderboard, history, importances (augstudy/report/search.py)
        from .search import plot_search

        return plot_search(study, metric)
    out = study.path / "figures"
    written: list[Path] = []
    sections: list[Section] = []
    draw = {"pairwise": _pairwise, "sweep": _sweep, "list": _list}[study.kind]
    grids = draw(study, metric, out, metric, written, sections)
    if len(grids) > 1:  # several methods: a method x policy table, and where their rankings agree
        sections.append(methods_section(grids, metric, out, metric, study.name, study.n_seeds, written))
    rho = study.cache.get(f"comparison:{metric}")
    sections.append(statistics_section(study, metric, rho.describe() if rho is not None else study.cache.get(f"rho:{metric}", "")))
    stats_name = "intervals.csv" if metric == DEFAULT_METRIC else f"intervals_{metric}.csv"
    written.append(write_text(out / stats_name, study.policy_stats(metric).to_csv(index=False, lineterminator="\n")))
    fig, n_curves = curves_figure(study, f"{study.name}: training loss per cell")
    if n_curves:
        written += save_figure(fig, out / "curves", formats=("png",), dpi=110)
        sections.append(Section("Training curves", f"{n_curves} curves (loss against epoch, one line per method and seed).",
                                ["curves.png"]))
    elif (out / "curves.png").exists():  # no cells/*/curve.csv here (a clone of committed results): keep the earlier figure
        sections.append(Section("Training curves", "Drawn from the cells' curves when they were last present.",
                                ["curves.png"]))
    n_cells = sum(g.mean.size for g in grids.values())
    summary = render(study, metric, sections, failed_rows(study, grids), n_cells)
    name = "summary.md" if metric == DEFAULT_METRIC else f"summary_{metric}.md"
    written.append(write_text(out / name, summary))
    if metric == DEFAULT_METRIC:
        rho = _rho_text(grids, study, metric) if study.kind == "pairwise" else ""
        written.append(write_report(study, metric, summary, f"<p>{rho}</p>" if rho else ""))  # the paper comparison is drawn in the page
    return written


def _rho_text(grids: dict, study: StudyResults | None = None, metric: str = DEFAULT_METRIC) -> str:
    if study is not None and f"comparison:{metric}" in study.cache:
        return study.cache[f"comparison:{metric}"].describe()
    return compare_with_paper(grids["simclr"]).describe() if "simclr" in grids else ""


def plot_all(results_dir: Path | str, metric: str = DEFAULT_METRIC) -> list[Path]:
    """``plot_study`` for ``results_dir`` if it is a study directory, else for every study directly under it."""
    written: list[Path] = []
    dirs = study_dirs(results_dir)
    index = len(dirs) != 1 or Path(dirs[0]).resolve() != Path(results_dir).resolve()  # a folder of studies
    rows = []
    for d in dirs:
        written += plot_study(d, metric)
        if index:
            rows.append(index_row(d, metric))
    if index:
        written.append(write_index(Path(results_dir), rows))
    return written
