"""Studies on the real trainer (tiny configs): parallel workers, a Dask cluster, a raising plugin, resume."""
from __future__ import annotations

import json
import textwrap

import pandas as pd
import pytest

from augstudy import run_study
from augstudy.study import expand, validate_spec

METRICS = ["cell_id", "method", "seed", "op1", "op2", "pipeline", "linear_top1", "knn_top1", "status", "final_loss"]


def tiny(**over):
    """A study that trains in well under a second per cell on one CPU thread."""
    s = {"name": "tiny",
         "dataset": {"name": "synthetic", "params": {"n_train": 256, "n_test": 128, "size": 16}},
         "model": {"encoder": "resnet-tiny", "encoder_params": {"widths": [8, 16], "blocks": [1, 1]}, "projection_dim": 16},
         "training": {"epochs": 1, "batch_size": 64, "threads": 1, "device": "cpu"},
         "protocol": {"name": "asymmetric", "base_crop": None},
         "evaluation": {"linear_max_iter": 20, "knn_k": 20},
         "grid": {"kind": "pairwise", "operators": ["crop", "color"]}}
    s.update(over)
    return s


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    """The tiny study run once in this process (workers: 1): the reference results."""
    out = tmp_path_factory.mktemp("serial")
    return out, run_study(tiny(), out=out, progress=False, workers=1)


def test_real_cells_fill_the_store(serial):
    out, df = serial
    assert len(df) == 4 and (df["status"] == "done").all()
    assert df["linear_top1"].between(0, 100).all() and df["knn_top1"].between(0, 100).all()
    assert (df["device"] == "cpu").all() and (df["train_seconds"] > 0).all()
    d = out / "tiny" / "cells" / df["cell_id"][0]
    assert "epoch 1 loss" in (d / "log.txt").read_text()
    assert json.loads((d / "metrics.json").read_text())["cell_id"] == df["cell_id"][0]


def test_two_workers_give_the_same_metrics_as_one(serial, tmp_path):
    _, one = serial
    two = run_study(tiny(), out=tmp_path, progress=False, workers=2)
    pd.testing.assert_frame_equal(one[METRICS], two[METRICS])


def test_dask_local_cluster_on_loopback_returns_the_same_results_to_the_store(serial, tmp_path):
    LocalCluster = pytest.importorskip("dask.distributed").LocalCluster

    _, one = serial
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=True, host="127.0.0.1", protocol="tcp",
                      dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        df = run_study(tiny(), out=tmp_path, progress=False, scheduler=cluster.scheduler_address)
    pd.testing.assert_frame_equal(one[METRICS], df[METRICS])
    info = json.loads((tmp_path / "tiny" / "study.json").read_text())
    assert info["executor"]["kind"] == "dask" and info["executor"]["address"] == cluster.scheduler_address
    assert len(list((tmp_path / "tiny" / "cells").glob("*/metrics.json"))) == 4


def test_a_plugin_operator_that_raises_fails_its_cells_and_the_others_complete(tmp_path, monkeypatch, capsys):
    (tmp_path / "exploding_plugin.py").write_text(textwrap.dedent("""
        import augstudy
        from augstudy.ops import Operator

        @augstudy.operator("explode")
        class Explode(Operator):
            def apply(self, x, params):
                raise RuntimeError("the explode operator always raises")
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = tiny(plugins=["exploding_plugin"], grid={"kind": "pairwise", "operators": ["crop", "explode"]})
    df = run_study(spec, out=tmp_path, workers=1)
    assert list(df["status"]) == ["done", "failed", "failed", "failed"]
    assert df["error"][1] == "RuntimeError: the explode operator always raises"
    out = capsys.readouterr().out
    assert "1 done, 3 failed" in out and "failed" in out and "explode + crop" in out


def test_resume_on_the_real_trainer_recomputes_only_what_is_missing_and_reproduces_it(serial, tmp_path):
    src, one = serial
    run_study(tiny(), out=tmp_path, progress=False)
    root = tmp_path / "tiny"
    cells = expand(validate_spec(tiny()))
    lost = root / "cells" / cells[2].id / "metrics.json"
    lost.unlink()
    kept = {c.id: (root / "cells" / c.id / "metrics.json").stat().st_mtime_ns for c in cells if c is not cells[2]}
    df = run_study(tiny(), out=tmp_path, progress=False)
    assert {cid: (root / "cells" / cid / "metrics.json").stat().st_mtime_ns for cid in kept} == kept
    assert lost.exists()
    pd.testing.assert_frame_equal(one[METRICS], df[METRICS])  # the recomputed cell is bit-for-bit the same
