"""Report: reading a results directory and pooling it into grids (fake results from report_fixtures)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from report_fixtures import default_value, write_study

from augstudy.errors import AugstudyError
from augstudy.report.results import load_study, study_dirs
from augstudy.report.tables import label_grid, pairwise_grid

OPS = ("crop", "color", "blur")


def test_pairwise_grid_is_the_table(tmp_path):
    d = write_study(tmp_path, operators=OPS, methods=("supervised", "simclr"))
    study = load_study(d)
    assert study.kind == "pairwise" and study.order == list(OPS)
    assert study.methods == ["simclr", "supervised"]  # simclr first
    grid = pairwise_grid(study, "linear_top1", "simclr")
    assert grid.rows == grid.cols == list(OPS)
    table = pd.read_csv(d / "results.csv")
    for _, r in table[table["method"] == "simclr"].iterrows():
        assert grid.frame().loc[r["op1"], r["op2"]] == pytest.approx(r["linear_top1"])
    assert grid.frame().loc["color", "color"] == pytest.approx(default_value("simclr", ("color", "color"), 0))
    assert np.allclose(grid.row_average, np.nanmean(grid.mean, axis=1))
    knn = pairwise_grid(study, "knn_top1", "simclr")
    assert np.allclose(knn.mean, grid.mean - 3.0)


def test_seeds_pool_to_mean_and_std(tmp_path):
    d = write_study(tmp_path, operators=OPS, seeds=(0, 1, 2), value=lambda m, k, s: 10.0 * (s + 1))
    grid = pairwise_grid(load_study(d), "linear_top1")
    assert grid.n_seeds == 3
    assert np.allclose(grid.mean, 20.0) and np.allclose(grid.std, 10.0)
    # ± is the half-width of the 95% interval: t over 3 seeds (no per-example records here)
    assert grid.text(0, 0) == "20.0 ± 24.8" and grid.kinds == ("seeds",)


def test_partial_results_blank_with_status(tmp_path):
    d = write_study(tmp_path, operators=OPS, seeds=(0, 1),
                    status={("crop", "blur"): "failed", ("simclr", ("blur", "blur"), 1): "diverged"},
                    missing={("color", "crop")})
    grid = pairwise_grid(load_study(d), "linear_top1")
    s = grid.frame("status")
    assert s.loc["crop", "blur"] == "failed" and math.isnan(grid.frame().loc["crop", "blur"])
    assert s.loc["color", "crop"] == "missing" and math.isnan(grid.frame().loc["color", "crop"])
    # one of two seeds diverged: the cell keeps the other seed's value and is starred
    assert s.loc["blur", "blur"] == "done" and grid.frame("n").loc["blur", "blur"] == 1
    assert grid.text(2, 2).endswith("*")
    assert np.isfinite(grid.row_average).all()  # averages over the cells that have a value


def test_plugin_operator_and_fallback_without_study_json(tmp_path):
    d = write_study(tmp_path, operators=("crop", "jpeg_quality", "color"), study_json=False)
    study = load_study(d)
    assert study.kind == "pairwise" and study.order == ["crop", "jpeg_quality", "color"]  # order of appearance
    assert study.meta == {} and study.name == "toy"
    assert np.isfinite(pairwise_grid(study, "linear_top1").mean).all()


def test_sweep_label_grid(tmp_path):
    d = write_study(tmp_path, kind="sweep", methods=("simclr", "supervised"))
    study = load_study(d)
    assert study.kind == "sweep" and study.param == "strength"
    grid = label_grid(study, "linear_top1")
    assert grid.rows == ["simclr", "supervised"] and grid.cols == ["1/8", "1/4", "1/2", "1", "1 (+blur)"]
    assert grid.frame().loc["supervised", "1/2"] == pytest.approx(default_value("supervised", "1/2", 0))


def test_bad_directories_say_what_is_expected(tmp_path):
    with pytest.raises(AugstudyError, match="no results.csv or results.parquet"):
        load_study(tmp_path)
    with pytest.raises(AugstudyError, match=f"{tmp_path}: no results here"):
        study_dirs(tmp_path)
    with pytest.raises(FileNotFoundError, match="no such directory"):
        study_dirs(tmp_path / "nope")
    (tmp_path / "results.csv").write_text("")
    with pytest.raises(AugstudyError, match="results.csv: the file is empty"):
        load_study(tmp_path)
    (tmp_path / "results.csv").write_text("cell_id,method,seed,status\n")
    with pytest.raises(AugstudyError, match="no rows"):
        load_study(tmp_path)


def test_study_dirs_finds_children(tmp_path):
    a, b = write_study(tmp_path, name="a"), write_study(tmp_path, name="b", kind="list", labels=("x", "y"))
    (tmp_path / "notes").mkdir()
    assert study_dirs(tmp_path) == [a, b]
    assert study_dirs(a) == [a]


def test_reads_parquet_when_there_is_no_csv(tmp_path):
    d = write_study(tmp_path, operators=OPS, curves="none")
    expected = pairwise_grid(load_study(d), "linear_top1").mean
    pd.read_csv(d / "results.csv").to_parquet(d / "results.parquet")
    (d / "results.csv").unlink()
    assert np.allclose(pairwise_grid(load_study(d), "linear_top1").mean, expected)
