"""Per-example records: each cell keeps its test-set predictions beside metrics.json (augstudy/records.py)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from augstudy import records, run_study
from test_study_store import fake_cell, quick_spec

N_TEST = 50


class _Result:
    """What run_cell returns, as far as the runner cares: to_dict() and the per-example predictions."""

    def __init__(self, config):
        self.metrics = fake_cell(config)
        g = np.random.default_rng(int(config.cell_id()[:8], 16))
        label = np.arange(N_TEST) % 5
        pred = np.where(g.random(N_TEST) < self.metrics["linear_top1"] / 100, label, (label + 1) % 5)
        self.metrics["linear_top1"] = 100.0 * float((pred == label).mean())
        self.predictions = {"label": label, "linear_top1": pred, "knn_top1": label}

    def to_dict(self):
        return self.metrics


def test_a_cell_keeps_records_and_the_study_one_file(tmp_path):
    df = run_study(quick_spec(seeds=[0]), out=tmp_path, cell_fn=_Result, progress=False)
    root = tmp_path / "fake"
    cid = df["cell_id"].iloc[1]
    with np.load(root / "cells" / cid / "predictions.npz") as z:
        assert set(z.files) == {"index", "label", "pred_linear_top1", "correct_linear_top1", "pred_knn_top1",
                                "correct_knn_top1"}
        assert list(z["index"]) == list(range(N_TEST)) and z["correct_knn_top1"].all()
        assert 100 * z["correct_linear_top1"].mean() == pytest.approx(df["linear_top1"].iloc[1])
    rec = records.load(root)
    c = rec.correct(df["cell_id"], "linear_top1")
    assert c.shape == (len(df), N_TEST)
    np.testing.assert_allclose(100 * c.mean(axis=1), df["linear_top1"].to_numpy())
    assert rec.correct(df["cell_id"], "linear_top1_z") is None  # not evaluated
    assert not list(root.rglob("*.tmp"))


def test_old_cells_without_records_keep_working_and_add_records_reruns_them(tmp_path):
    df = run_study(quick_spec(seeds=[0]), out=tmp_path, cell_fn=fake_cell, progress=False)  # no records
    root = tmp_path / "fake"
    assert records.load(root) is None and not (root / "predictions.npz").exists()
    again = run_study(quick_spec(seeds=[0]), out=tmp_path, cell_fn=_Result, progress=False)  # all done: nothing rerun
    assert records.load(root) is None and again["linear_top1"].equals(df["linear_top1"])
    run_study(quick_spec(seeds=[0]), out=tmp_path, cell_fn=_Result, progress=False, add_records=True)
    assert records.load(root).correct(df["cell_id"], "linear_top1") is not None


def test_records_of_cells_whose_folders_are_gone_are_kept_when_others_rerun(tmp_path):
    """A clone of committed results has predictions.npz but no cells/: rerunning some cells keeps the rest's records."""
    import shutil

    df = run_study(quick_spec(seeds=[0]), out=tmp_path, cell_fn=_Result, progress=False)
    root = tmp_path / "fake"
    before = records.load(root)
    ids = list(df["cell_id"])
    shutil.rmtree(root / "cells")  # as committed: the table and predictions.npz, no cells
    (root / "cells").mkdir()
    rerun, damaged = ids[0], ids[1]
    run_study(quick_spec(seeds=[0]), out=tmp_path, cell_fn=_Result, progress=False, only=[f"id={rerun}"])
    after = records.load(root)
    assert after.cell_ids == ids  # spec order, every cell
    np.testing.assert_array_equal(after.correct(ids, "linear_top1"), before.correct(ids, "linear_top1"))
    (root / "cells" / f"{damaged}.damaged-20260101T000000").mkdir()  # set aside as damaged: its records go
    run_study(quick_spec(seeds=[0]), out=tmp_path, cell_fn=_Result, progress=False, only=[f"id={rerun}"], force=True)
    assert damaged not in records.load(root).cell_ids and rerun in records.load(root).cell_ids


def test_a_cell_killed_before_metrics_is_not_done(tmp_path):
    """predictions.npz is written before metrics.json: a cell with records but no metrics reruns."""
    from augstudy.study.store import StudyStore

    run_study(quick_spec(seeds=[0]), out=tmp_path, cell_fn=_Result, progress=False)
    store = StudyStore(tmp_path / "fake")
    cid = next(p.name for p in store.cells_dir.iterdir())
    (store.cell_dir(cid) / "metrics.json").unlink()
    assert not store.is_done(cid)
    df = run_study(quick_spec(seeds=[0]), out=tmp_path, cell_fn=_Result, progress=False)
    assert store.is_done(cid) and (df["status"] == "done").all()


def test_evaluate_fills_predictions_matching_its_metrics():
    from augstudy.train import evaluate
    from augstudy.train.config import EvaluationConfig
    from augstudy.data.base import Dataset, Split

    g = torch.Generator().manual_seed(0)

    def split(n):
        y = torch.arange(n) % 3
        x = (torch.rand(n, 3, 8, 8, generator=g) * 80 + y[:, None, None, None] * 80).to(torch.uint8)
        return Split(x, y)

    ds = Dataset(train=split(60), test=split(30), classes=["a", "b", "c"])
    enc = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(192, 8))
    proj = torch.nn.Linear(8, 4)
    preds: dict = {}
    m = evaluate(enc, ds, EvaluationConfig(on_projection=True, knn_k=5), torch.device("cpu"), proj, predictions=preds)
    assert set(preds) == {"label", "linear_top1", "knn_top1", "linear_top1_z", "knn_top1_z"}
    for k in ("linear_top1", "knn_top1", "linear_top1_z", "knn_top1_z"):
        assert 100 * (preds[k] == preds["label"]).float().mean().item() == pytest.approx(m[k])
    assert evaluate(enc, ds, EvaluationConfig(knn_k=5), torch.device("cpu")) == {**m, "linear_top1_z": None,
                                                                                 "knn_top1_z": None}


def test_plan_from_finished_cells_with_records_and_the_pilot_offer(tmp_path):
    from typer.testing import CliRunner
    import yaml

    from augstudy.cli import app
    from augstudy.study.planner import plan_seeds

    spec = tmp_path / "s.yaml"
    spec.write_text(yaml.safe_dump({**quick_spec(seeds=[0]), "output": str(tmp_path)}))
    run_study(spec, cell_fn=_Result, progress=False)
    r = CliRunner().invoke(app, ["plan", str(spec), "--detect", "1.0"])
    assert r.exit_code == 1 and "pilot of seeds [0, 1] (18 cells, 9 to run)" in r.output
    spec.write_text(yaml.safe_dump({**quick_spec(seeds=[0, 1]), "output": str(tmp_path)}))
    run_study(spec, cell_fn=_Result, progress=False)
    p = plan_seeds(spec, 5.0)
    assert p is not None and "per-example records" in p.source and p.test_var > 0 and p.sd_diff > 0
    if p.n_seeds is not None:
        assert p.cells == 9 * p.n_seeds and p.todo == p.cells - 18 and p.eta is not None
    r = CliRunner().invoke(app, ["plan", str(spec), "--detect", "5"])
    assert r.exit_code == 0 and ("seeds give 80% power" in r.output or "no number of seeds" in r.output), r.output
