"""Damaged side files (study.json, .lock, failed.json, results.parquet) are named, set aside, rebuilt: never a traceback."""
from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from augstudy import load_results, run_study
from augstudy.cli import app
from augstudy.report.results import load_study
from test_study_store import blur_fails, fake_cell, quick_spec


@pytest.fixture
def study(tmp_path):
    df0 = run_study(quick_spec(seeds=[0]), out=tmp_path, cell_fn=fake_cell, progress=False)
    return tmp_path / "fake", df0


@pytest.mark.parametrize("content", ["[]", "", "{not json", "\xff\xfe"])
def test_damaged_study_json_is_named_set_aside_and_rebuilt(study, capsys, content):
    root, df0 = study
    (root / "study.json").write_bytes(content.encode("latin-1"))
    capsys.readouterr()
    pd.testing.assert_frame_equal(load_results(root), df0)  # readers: named, the table from the cells
    assert "damaged file" in capsys.readouterr().err
    assert load_study(root).name == "fake"
    res = CliRunner().invoke(app, ["plot", str(root)])
    assert res.exit_code == 0 and "Traceback" not in res.output, res.output
    df = run_study(quick_spec(seeds=[0]), out=root.parent, cell_fn=fake_cell, progress=False)
    out = capsys.readouterr().out
    assert "damaged file" in out and str(root / "study.json") in out
    assert [p.name for p in root.glob("study.json.damaged-*")]  # kept
    assert json.loads((root / "study.json").read_text())["name"] == "fake"  # rebuilt by the run
    pd.testing.assert_frame_equal(df, df0)


@pytest.mark.parametrize("content", ["[1]", "", "null", '{"pid": "me"}'])
def test_garbage_lock_is_named_and_taken_over(study, capsys, content):
    root, df0 = study
    (root / ".lock").write_text(content)
    df = run_study(quick_spec(seeds=[0]), out=root.parent, cell_fn=fake_cell, progress=False)
    assert "damaged file" in capsys.readouterr().err
    pd.testing.assert_frame_equal(df, df0)
    assert not (root / ".lock").exists()


@pytest.mark.parametrize("content", ["[1, 2]", "", '{"status": "failed"}'])
def test_damaged_failed_json_is_named_and_recomputed(tmp_path, capsys, content):
    spec = quick_spec(seeds=[0])
    run_study(spec, out=tmp_path, cell_fn=blur_fails, progress=False)
    root = tmp_path / "fake"
    victim = next(p for p in (root / "cells").iterdir() if (p / "failed.json").exists())
    (victim / "failed.json").write_text(content)
    capsys.readouterr()
    load_results(root)
    assert f"damaged cell {victim.name}" in capsys.readouterr().err
    calls = []
    df = run_study(spec, out=tmp_path, cell_fn=lambda c: calls.append(1) or fake_cell(c), progress=False)
    assert f"damaged cell {victim.name}" in capsys.readouterr().out
    assert len(calls) == 5  # the damaged failure and the 4 other failed blur cells, retried
    assert (df["status"] == "done").all() and len(df) == 9
