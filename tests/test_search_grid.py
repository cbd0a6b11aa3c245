"""One ask/tell protocol for every grid kind: fixed grids propose the same cells as before, ids unchanged."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from augstudy.study import load_spec, validate_spec
from augstudy.study.grid import GRIDS, FixedGrid, expand, open_grid
from augstudy.study.store import StudyStore
from test_study_store import quick_spec

ROOT = Path(__file__).resolve().parents[1]


def test_every_grid_kind_is_registered():
    assert GRIDS.names() == ["list", "pairwise", "search", "sweep"]
    assert GRIDS.get("pairwise") is FixedGrid


@pytest.mark.parametrize("grid", [
    {"kind": "pairwise", "operators": ["crop", "color", "blur"]},
    {"kind": "sweep", "pipeline": ["color"], "param": "strength", "values": [0.25, 0.5, 1.0], "extra": {"none": []}},
    {"kind": "list", "pipelines": {"a": ["crop"], "b": ["crop", "blur"]}},
])
def test_ask_on_a_fixed_grid_gives_every_cell_once_in_spec_order(tmp_path, grid):
    spec = validate_spec(quick_spec(grid=grid))
    run = open_grid(spec, StudyStore(tmp_path / "s"))
    before = expand(spec)
    asked = run.ask(1)  # a fixed grid proposes everything at once, whatever n
    assert [c.id for c in asked] == [c.id for c in before] == [c.id for c in run.cells()]
    assert [c.labels() for c in asked] == [c.labels() for c in before]
    assert run.ask(4) == []
    assert all(c.labels()["split"] == "test" and c.labels()["trial"] is None for c in asked)


def test_only_filters_what_a_fixed_grid_proposes(tmp_path):
    spec = validate_spec(quick_spec())
    run = open_grid(spec, StudyStore(tmp_path / "s"), only=["op1=crop"])
    assert {c.op1 for c in run.ask(1)} == {"crop"} and len(run.cells()) == 18


def test_committed_quick_results_keep_their_cell_ids():
    spec = load_spec(ROOT / "studies" / "quick.yaml")
    committed = pd.read_csv(ROOT / "results" / "quick" / "results.csv")
    ids = {c.pipeline: c.id for c in expand(spec)}
    assert len(committed) == 9
    for _, row in committed.iterrows():
        assert ids[row["pipeline"]] == row["cell_id"]
