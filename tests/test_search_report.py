"""`augstudy plot` on a search study: leaderboard, history, importances, the selected policy as YAML."""
from __future__ import annotations

import pytest
import yaml

pytest.importorskip("optuna")

from augstudy import run_study
from augstudy.report.plot import plot_all
from augstudy.study import validate_spec
from search_fixtures import search_spec, toy_cell


def test_plot_on_a_search_study_names_the_selected_policy_and_its_test_interval(tmp_path):
    ref = tmp_path / "pairwise"  # a pairwise study's results: the reference line
    run_study({"name": "pairwise", "seeds": [0], "grid": {"kind": "pairwise", "operators": ["crop", "color"]}},
              out=tmp_path, cell_fn=toy_cell, progress=False)
    spec = search_spec(budget={"cells": 8}, top_k=2, reference=str(ref))
    df = run_study(spec, out=tmp_path, cell_fn=toy_cell, progress=False)
    written = {p.name for p in plot_all(tmp_path / "toy")}
    assert {"summary.md", "search_history.png", "search_history.csv", "leaderboard_linear_top1.csv",
            "selected_policy.yaml"} <= written
    text = (tmp_path / "toy" / "figures" / "summary.md").read_text()
    val = df[df["split"] == "validation"]
    best = val.loc[val["knn_top1"].idxmax()]
    assert f"Selected policy: `{best['pipeline']}`" in text and "95% interval" in text
    assert "best cell of pairwise" in text  # the reference line is named
    snippet = yaml.safe_load((tmp_path / "toy" / "figures" / "selected_policy.yaml").read_text())
    assert snippet["grid"]["pipelines"]["selected"] == best["policy"].split(" | ")
    validate_spec({"name": "again", **snippet})  # ready to paste into a study file
    page = (tmp_path / "toy" / "figures" / "report.html").read_text()  # the search's page: leaderboard, history
    assert "report.html" in written and "Leaderboard" in page and best["pipeline"] in page
    assert "optimisation history" in page and "<script src" not in page


def test_the_leaderboard_shows_pruned_trials_with_the_epoch_they_reached(tmp_path):
    from augstudy.report.search import history, leaderboard

    spec = search_spec(budget={"cells": 10}, top_k=1, pruner={"kind": "halving", "min_epochs": 1})
    spec["training"] = {"epochs": 9}
    df = run_study(spec, out=tmp_path, cell_fn=toy_cell, progress=False)
    board = leaderboard(df, "knn_top1", "linear_top1")
    pruned = df[df["status"] == "pruned"]
    assert len(pruned) and set(board["status"]) >= {"done"} | {f"pruned at epoch {e}" for e in pruned["epochs"]}
    assert (board["status"].iloc[0] == "done") and board["status"].tolist().index(next(
        s for s in board["status"] if s != "done")) > 0  # finished trials rank above pruned ones
    hist = history(df, "knn_top1")
    assert hist["epochs_spent"].iloc[-1] == df.loc[df["split"] == "validation", "epochs"].sum()
    assert hist["best_so_far"].max() == df.loc[(df["split"] == "validation") & (df["status"] == "done"), "knn_top1"].max()
    plot_all(tmp_path / "toy")
    text = (tmp_path / "toy" / "figures" / "summary.md").read_text()
    assert "pruned at epoch" in text
