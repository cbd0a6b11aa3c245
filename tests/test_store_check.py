"""``augstudy check RESULTS [--repair]``: names what is wrong, exits 1; --repair fixes it; a clean store exits 0."""
from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

from augstudy import load_results, run_study
from augstudy.cli import app
from test_study_store import fake_cell, quick_spec


def _check(root, *args):
    res = CliRunner().invoke(app, ["check", str(root), *args])
    assert "Traceback" not in res.output, res.output
    return res.exit_code, res.output


def test_clean_store_exits_zero(tmp_path):
    run_study(quick_spec(seeds=[0]), out=tmp_path, cell_fn=fake_cell, progress=False)
    code, out = _check(tmp_path / "fake")
    assert code == 0 and "9 row(s) from the cells (9 done); everything agrees" in out


def test_check_names_problems_and_repair_fixes_them(tmp_path):
    df0 = run_study(quick_spec(seeds=[0]), out=tmp_path, cell_fn=fake_cell, progress=False)
    root = tmp_path / "fake"
    cells = sorted(p for p in (root / "cells").iterdir())
    (cells[0] / "metrics.json").write_text("{trunc")
    df = pd.read_csv(root / "results.csv")
    df.loc[3, "linear_top1"] = 99.0
    df.to_csv(root / "results.csv", index=False)
    (root / ".lock").write_text("[1]")
    (cells[1] / ".metrics.json.abc.tmp").write_text("half")
    before = {p: p.read_bytes() for p in (root / "results.csv", root / "results.parquet")}

    code, out = _check(root)
    assert code == 1
    assert f"damaged cell {cells[0].name}" in out and "would repair: set it aside" in out
    assert "results.csv: out of date: 1 row(s) without a finished cell" in out  # the damaged cell
    assert "results.parquet: out of date" in out
    assert "damaged file" in out and ".lock" in out and "temp file" in out
    assert "--repair` repairs them" in out
    assert {p: p.read_bytes() for p in before} == before and (cells[0] / "metrics.json").exists()  # nothing touched

    code, out = _check(root, "--repair")
    assert code == 0 and "repaired: set it aside" in out
    assert [p.name.split(".damaged-")[0] for p in (root / "cells").glob("*.damaged-*")] == [cells[0].name]
    assert not (root / ".lock").exists() and not list(root.rglob("*.tmp"))
    expected = df0[df0["cell_id"] != cells[0].name].reset_index(drop=True)
    pd.testing.assert_frame_equal(load_results(root), expected)
    code, out = _check(root)
    assert code == 0 and "everything agrees" in out

    calls = []  # the next run recomputes the cell set aside
    df = run_study(quick_spec(seeds=[0]), out=tmp_path, cell_fn=lambda c: calls.append(1) or fake_cell(c), progress=False)
    assert len(calls) == 1
    pd.testing.assert_frame_equal(df, df0)


def test_repair_rebuilds_a_damaged_study_json(tmp_path):
    df0 = run_study(quick_spec(seeds=[0]), out=tmp_path, cell_fn=fake_cell, progress=False)
    root = tmp_path / "fake"
    (root / "study.json").write_text("[]")
    victim = sorted((root / "cells").iterdir())[0]
    (victim / "metrics.json").write_text("[1, 2]")
    df0 = df0[df0["cell_id"] != victim.name]
    code, out = _check(root)
    assert f"damaged cell {victim.name}" in out
    assert code == 1 and "damaged file" in out and "study.json" in out
    code, out = _check(root, "--repair")
    assert code == 0, out
    assert json.loads((root / "study.json").read_text())["name"] == "fake"
    assert list(root.glob("study.json.damaged-*"))
    df = load_results(root)
    assert sorted(df["cell_id"]) == sorted(df0["cell_id"]) and (df["grid"] == "pairwise").all()


def test_check_a_folder_that_is_no_study_is_one_line(tmp_path):
    code, out = _check(tmp_path)
    assert code == 2 and "not a study directory" in out
    code, out = _check(tmp_path / "nope")
    assert code == 2 and "no such study directory" in out
