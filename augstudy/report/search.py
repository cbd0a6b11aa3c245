"""The report of a search study (``grid: {kind: search}``): leaderboard, optimisation history, parameter
importances and the selected policy as a YAML snippet.

Read from the results files only: ``results.csv`` (trial rows: ``split`` validation; final retrains:
``split`` test), ``study.json`` and the Optuna storage file ``search.sqlite3`` (for the importances).
The selected policy is the best on the validation split; its test accuracy is reported once, with its
interval over the retrain seeds (``augstudy.stats.intervals``).
"""
from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any, Optional

import matplotlib.pyplot as plt
import pandas as pd
import yaml

from ..schema import POLICY_SEPARATOR
from ..stats.intervals import interval
from ._io import save_figure, write_text
from .heatmap import METRIC_LABELS
from .results import StudyResults
from .summary import Section, md_table, render

STORAGE_FILE = "search.sqlite3"  # augstudy.study.search.STORAGE_FILE (the report does not import the study room)


def _pct(x: Any) -> str:
    return f"{x:.1f}" if isinstance(x, (int, float)) and math.isfinite(x) else "-"


def leaderboard(table: pd.DataFrame, objective: str, metric: str) -> pd.DataFrame:
    """One row per policy tried, best validation score first: validation score, test mean and interval
    (only the retrained top policies have one), epochs spent on it; then the trials a pruner stopped
    (``status`` "pruned at epoch N", their score measured there), latest rung first."""
    done = table[table["status"] == "done"]
    val = table[(table["split"] == "validation") & table["status"].isin(["done", "pruned"])]
    test = done[done["split"] == "test"]
    rows = []
    for policy, g in val.groupby("policy", sort=False):
        t = test[test["policy"] == policy]
        iv = interval(t[metric].to_numpy()) if len(t) else None
        pruned = (g["status"] == "pruned").all()
        reached = int(pd.to_numeric(g["epochs"]).max()) if pruned and g["epochs"].notna().any() else None
        rows.append({"policy": policy, "pipeline": g["pipeline"].iloc[0], "first_trial": int(g["trial"].min()),
                     "status": f"pruned at epoch {reached}" if pruned else "done", "_rung": reached or 0,
                     f"validation_{objective}": float(g[objective].max()),
                     f"test_{metric}": iv.mean if iv else math.nan, "test_lower": iv.lower if iv else math.nan,
                     "test_upper": iv.upper if iv else math.nan, "test_seeds": iv.n_seeds if iv else 0,
                     "epochs": int(pd.to_numeric(table.loc[table["policy"] == policy, "epochs"]).fillna(0).sum())})
    board = pd.DataFrame(rows)
    if board.empty:
        return board
    board["_pruned"] = board["status"] != "done"
    board = board.sort_values(["_pruned", "_rung", f"validation_{objective}", "first_trial"],
                              ascending=[True, False, False, True])
    return board.drop(columns=["_pruned", "_rung"]).reset_index(drop=True)


def history(table: pd.DataFrame, objective: str) -> pd.DataFrame:
    """Best validation score so far (of trials trained to the end; a pruned trial's early score is not
    comparable) against training epochs spent (what was trained, pruned trials included), in trial order."""
    val = table[table["split"] == "validation"].copy()
    val = val.sort_values("trial", kind="stable")
    val["epochs_spent"] = pd.to_numeric(val["epochs"]).fillna(0).cumsum()
    full = pd.to_numeric(val[objective]).where(val["status"] == "done")
    val["best_so_far"] = full.cummax().ffill()
    return val[["trial", "policy", objective, "epochs_spent", "best_so_far"]].reset_index(drop=True)


def _reference(study: StudyResults, objective: str) -> Optional[tuple[str, float]]:
    """(label, best mean over seeds) of the pairwise study named by ``grid.reference``, if its results are there."""
    ref = (study.meta.get("grid") or {}).get("reference")
    if not ref:
        return None
    for path in (Path(ref), study.path.parent / Path(ref).name):
        csv = path / "results.csv"
        if csv.is_file():
            df = pd.read_csv(csv)
            done = df[df["status"] == "done"] if "status" in df else df
            if objective in done and done[objective].notna().any():
                best = done.groupby("pipeline")[objective].mean().max()
                return f"best cell of {path.name} (its test split)", float(best)
    return None


def importances(study_dir: Path, name: str) -> dict[str, float]:
    """Optuna's parameter importances of the search (empty when they cannot be computed yet)."""
    path = study_dir / STORAGE_FILE
    if not path.is_file():
        return {}
    try:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        s = optuna.load_study(study_name=name, storage=f"sqlite:///{path.resolve()}")
        return dict(optuna.importance.get_param_importances(s))
    except (ImportError, RuntimeError, ValueError, KeyError):  # optuna missing, too few or constant trials
        return {}


def policy_yaml(policy: str) -> str:
    """The policy as a study-file snippet (a list grid of one pipeline)."""
    specs = policy.split(POLICY_SEPARATOR) if policy else []
    return yaml.safe_dump({"grid": {"kind": "list", "pipelines": {"selected": specs}}}, sort_keys=False,
                          default_flow_style=None)


def plot_search(study: StudyResults, metric: str) -> list[Path]:
    """Figures, tables and ``summary.md`` of a search study into ``<study>/figures/``."""
    out = study.path / "figures"
    grid = study.meta.get("grid") or {}
    study = replace(study, order=[f"{o}" for o in grid.get("operators") or []])  # "what was run": the pool
    objective = grid.get("objective") or "knn_top1"
    table = study.table
    written: list[Path] = []
    sections: list[Section] = []
    label = METRIC_LABELS.get(objective, objective)

    board = leaderboard(table, objective, metric)
    snippet = ""
    sfx = metric
    if not board.empty:
        written.append(write_text(out / f"leaderboard_{sfx}.csv", board.round(3).to_csv(index=False, lineterminator="\n")))
        best = board.iloc[0]
        rows = [[i + 1, r["pipeline"], _pct(r[f"validation_{objective}"]),
                 f"{_pct(r[f'test_{metric}'])} [{_pct(r['test_lower'])}, {_pct(r['test_upper'])}] ({r['test_seeds']} seeds)"
                 if r["test_seeds"] else "-", r["epochs"], r["status"]] for i, r in board.head(20).iterrows()]
        text = md_table(["rank", "policy", f"validation {objective}", f"test {metric} (95% interval)", "epochs",
                         "status"], rows)
        if best["test_seeds"]:
            selected = (f"**Selected policy: `{best['pipeline']}`** (best on the validation split, "
                        f"{objective} {_pct(best[f'validation_{objective}'])}%); retrained on the full training set "
                        f"with {best['test_seeds']} seeds and evaluated once on the test set: {metric} "
                        f"**{_pct(best[f'test_{metric}'])}%**, 95% interval [{_pct(best['test_lower'])}, "
                        f"{_pct(best['test_upper'])}].\n\n")
        else:
            selected = (f"**Best so far on the validation split: `{best['pipeline']}`** ({objective} "
                        f"{_pct(best[f'validation_{objective}'])}%); not yet retrained and tested (the search has not "
                        "spent its budget).\n\n")
        text = selected + text + (f"\n{len(board)} policies tried; the search selects on the validation split only "
                                  f"(a held-out part of the training split). Data: [`leaderboard_{sfx}.csv`](leaderboard_{sfx}.csv).\n")
        sections.append(Section("Leaderboard", text))
        snippet = policy_yaml(str(best["policy"]))
        written.append(write_text(out / "selected_policy.yaml", snippet))
        sections.append(Section("The selected policy as a study file snippet", f"```yaml\n{snippet}```\n"))

    hist = history(table, objective)
    if len(hist):
        fig, ax = plt.subplots(figsize=(6.4, 4.0))
        ax.plot(hist["epochs_spent"], hist[objective], "o", ms=3, alpha=0.4, label="trial")
        ax.step(hist["epochs_spent"], hist["best_so_far"], where="post", label="best so far")
        ref = _reference(study, objective)
        if ref:
            ax.axhline(ref[1], ls="--", c="gray", label=ref[0])
        ax.set_xlabel("training epochs spent")
        ax.set_ylabel(f"{label}, validation split")
        ax.set_title(f"{study.name}: optimisation history")
        ax.legend(fontsize=8)
        written += save_figure(fig, out / "search_history", formats=("png",))
        written.append(write_text(out / "search_history.csv", hist.round(3).to_csv(index=False, lineterminator="\n")))
        sections.append(Section("Optimisation history", "Best validation score so far against training epochs spent"
                                + (f"; dashed: {ref[0]}." if ref else ".") + " Data: [`search_history.csv`](search_history.csv).",
                                ["search_history.png"]))

    imp = importances(study.path, study.name)
    if imp:
        fig, ax = plt.subplots(figsize=(6.0, 0.4 * len(imp) + 1.2))
        names = list(imp)[::-1]
        ax.barh(names, [imp[n] for n in names])
        ax.set_xlabel("importance (Optuna, fANOVA)")
        ax.set_title(f"{study.name}: parameter importances")
        written += save_figure(fig, out / "search_importances", formats=("png",))
        text = md_table(["parameter", "importance"], [[k, f"{v:.3f}"] for k, v in imp.items()])
        sections.append(Section("Parameter importances", text, ["search_importances.png"]))
    else:
        sections.append(Section("Parameter importances", "Not computed yet (Optuna needs more finished trials, or "
                                "optuna is not installed)."))
    n_cells = int((table["status"] == "done").sum()) if len(table) else 0
    summary = render(study, metric, sections, [], n_cells)
    name = "summary.md" if metric == "linear_top1" else f"summary_{metric}.md"
    written.append(write_text(out / name, summary))
    if metric == "linear_top1":
        from .html import write_search_report

        written.append(write_search_report(study, board, hist, objective, imp, snippet, summary))
    return written
