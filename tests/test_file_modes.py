"""Results and figures are written with the user's umask (0644 under 022, 0640 under 027), not mkstemp's 0600."""
from __future__ import annotations

import os
import stat

import pytest
from typer.testing import CliRunner

from augstudy import run_study
from augstudy.cli import app
from test_study_store import fake_cell, quick_spec


@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o027, 0o640)])
def test_results_and_figures_follow_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        run_study(quick_spec(seeds=[0]), out=tmp_path, cell_fn=fake_cell, progress=False)
        root = tmp_path / "fake"
        assert CliRunner().invoke(app, ["plot", str(root)]).exit_code == 0
    finally:
        os.umask(old)
    files = [root / "results.csv", root / "results.parquet", root / "study.json",
             *root.glob("cells/*/*.json"), *root.glob("cells/*/curve.csv"), *root.glob("figures/*.png"),
             *root.glob("figures/*.md")]
    assert len(files) > 10
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in files} == {p.name: oct(mode) for p in files}
