"""Pruning without waste: successive halving / Hyperband (Optuna's pruners) over epochs; a promoted trial
resumes from its checkpoint at the rung, a pruned one is recorded with the epoch it reached."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml

optuna = pytest.importorskip("optuna")

from augstudy import run_study
from augstudy.study.search import STORAGE_FILE
from search_fixtures import epoch_log, search_spec, toy_cell
from test_search_toy import SCRIPT, trials

HERE = Path(__file__).resolve().parent


def pruned_spec(pruner="halving", epochs=9, **grid):
    spec = search_spec(pruner=pruner, **grid)
    spec["training"] = {"epochs": epochs}
    return spec


def test_halving_prunes_at_the_rungs_resumes_the_promoted_and_trains_no_epoch_twice(tmp_path, monkeypatch):
    log = tmp_path / "epochs.log"
    monkeypatch.setenv("AUGSTUDY_EPOCH_LOG", str(log))
    spec = pruned_spec({"kind": "halving", "min_epochs": 1, "reduction_factor": 3}, budget={"cells": 10}, top_k=1)
    df = run_study(spec, out=tmp_path, cell_fn=toy_cell, progress=False)
    val = df[df["split"] == "validation"]
    ts = trials(tmp_path / "toy")
    states = Counter(t.state.name for t in ts)
    assert states["PRUNED"] >= 1 and states["COMPLETE"] >= 1, states
    pruned = val[val["status"] == "pruned"]
    assert len(pruned) >= 1 and set(pruned["epochs"]) <= {1, 3}  # recorded with the rung it reached
    assert set(val.loc[val["status"] == "done", "epochs"]) == {9}
    for t in ts:  # Optuna knows the same: the pruned trial's last report is at its rung
        if t.state.name == "PRUNED":
            assert t.last_step in (1, 3) and t.user_attrs["epochs"] == t.last_step
    trained = epoch_log(log)
    assert len(trained) == len(set(trained))  # no epoch trained twice: promoted trials resumed at the rung
    per_cell = Counter(cid for cid, _ in trained)
    for _, row in val.iterrows():  # each trial trained exactly the epochs it reached, from epoch 1 on
        assert per_cell[row["cell_id"]] == row["epochs"]
        assert sorted(e for cid, e in trained if cid == row["cell_id"]) == list(range(1, row["epochs"] + 1))
    assert not list((tmp_path / "toy" / "cells").glob("*/checkpoint-*"))  # finished: no checkpoint left


@pytest.mark.parametrize("workers", [1, 2])
def test_halving_is_synchronous_every_trial_reaches_a_rung_before_the_best_go_on(tmp_path, monkeypatch, workers):
    """9 trials to epoch 1; the best 3 of them (by their score there) to epoch 3; the best of those to 9."""
    log = tmp_path / "epochs.log"
    monkeypatch.setenv("AUGSTUDY_EPOCH_LOG", str(log))
    spec = pruned_spec({"kind": "halving", "min_epochs": 1, "reduction_factor": 3}, budget={"cells": 9}, top_k=1)
    spec["executor"]["workers"] = workers
    df = run_study(spec, out=tmp_path, cell_fn=toy_cell, progress=False)
    trained = epoch_log(log)
    val = df[df["split"] == "validation"]
    validation = set(val["cell_id"])
    trained = [(cid, e) for cid, e in trained if cid in validation]
    assert len(validation) == 9
    reached = Counter(e for _, e in trained)
    assert reached[1] == 9 and reached[2] == reached[3] == 3 and all(reached[e] == 1 for e in range(4, 10))
    order = [e for _, e in trained]
    assert max(i for i, e in enumerate(order) if e == 1) < min(i for i, e in enumerate(order) if e == 2)
    assert max(i for i, e in enumerate(order) if e == 3) < min(i for i, e in enumerate(order) if e == 4)
    ts = [t for t in trials(tmp_path / "toy") if t.user_attrs.get("cell_id") in validation]
    at1 = sorted(ts, key=lambda t: (-t.intermediate_values[1], t.number))
    assert {t.number for t in at1[:3]} == {t.number for t in ts if 3 in t.intermediate_values}  # the best 3 went on
    state = {t.user_attrs["cell_id"]: t.state.name for t in ts}  # (a repeated policy: trials share its cell)
    assert Counter(state.values()) == {"PRUNED": 8, "COMPLETE": 1}
    assert sorted(val["epochs"]) == [1] * 6 + [3, 3, 9]


def test_asha_is_optuna_s_asynchronous_halving(tmp_path):
    df = run_study(pruned_spec({"kind": "asha", "min_epochs": 1}, budget={"cells": 10}, top_k=1), out=tmp_path,
                   cell_fn=toy_cell, progress=False)
    val = df[df["split"] == "validation"]
    assert (val["status"] == "pruned").any() and (val["status"] == "done").any()
    assert set(val.loc[val["status"] == "pruned", "epochs"]) <= {1, 3}


def test_an_epoch_budget_counts_the_epochs_trained_so_pruning_buys_more_trials(tmp_path):
    plain = run_study(pruned_spec("none", budget={"epochs": 45}, top_k=1), out=tmp_path / "a", cell_fn=toy_cell,
                      progress=False)
    halving = run_study(pruned_spec({"kind": "halving", "min_epochs": 1}, budget={"epochs": 45}, top_k=1),
                        out=tmp_path / "b", cell_fn=toy_cell, progress=False)
    a, b = (d[d["split"] == "validation"] for d in (plain, halving))
    assert len(a) == 5 and a["epochs"].sum() == 45
    # a trial in flight holds its 9 epochs until it ends, so the budget is never overspent
    assert b["epochs"].sum() <= 45 and (b["status"] == "pruned").any() and len(b) > 5


def test_hyperband_prunes_and_keeps_the_budget(tmp_path):
    df = run_study(pruned_spec({"kind": "hyperband", "min_epochs": 1}, budget={"cells": 12}, top_k=1), out=tmp_path,
                   cell_fn=toy_cell, progress=False)
    val = df[df["split"] == "validation"]
    assert val["cell_id"].nunique() <= 12 and set(val["status"]) <= {"done", "pruned"}
    assert (val["status"] == "pruned").any() and (val["status"] == "done").any()
    assert set(val.loc[val["status"] == "pruned", "epochs"]) <= {1, 3}


def test_kill_9_mid_search_with_a_pruner_keeps_finished_and_pruned_trials(tmp_path):
    spec = tmp_path / "search.yaml"
    spec.write_text(yaml.safe_dump(pruned_spec({"kind": "halving", "min_epochs": 1}, budget={"cells": 8}, top_k=1)))
    log = tmp_path / "epochs.log"
    code = SCRIPT.format(tests=str(HERE), spec=str(spec), out=str(tmp_path))
    env = {**os.environ, "AUGSTUDY_FAKE_SLEEP": "0.3", "AUGSTUDY_EPOCH_LOG": str(log)}
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    root = tmp_path / "toy"
    end = time.time() + 120
    while not (root.is_dir() and len(list(root.glob("cells/*/metrics.json"))) >= 3
               and list(root.glob("cells/*/checkpoint-*"))):  # 3 finished, one paused at a rung
        assert proc.poll() is None, proc.stdout.read().decode()
        assert time.time() < end, "no 3 cells finished"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    kept = {t.number: (t.state.name, t.params, t.value, t.last_step) for t in trials(root)
            if t.state.name in ("COMPLETE", "PRUNED")}
    assert len(kept) >= 2
    finished = {p.parent.name for p in root.glob("cells/*/metrics.json")}
    trained_before = epoch_log(log)

    env_log = tmp_path / "epochs2.log"
    os.environ["AUGSTUDY_EPOCH_LOG"] = str(env_log)
    try:
        df = run_study(spec, out=tmp_path, cell_fn=toy_cell, progress=False)
    finally:
        del os.environ["AUGSTUDY_EPOCH_LOG"]
    ts = trials(root)
    for number, before in kept.items():  # every finished and pruned trial kept as it was
        t = ts[number]
        assert (t.state.name, t.params, t.value, t.last_step) == before
    trained_after = epoch_log(env_log)
    assert not finished & {cid for cid, _ in trained_after}  # no finished or pruned cell trained again
    validation = {cid for cid in df.loc[df["split"] == "validation", "cell_id"]}
    both = [(cid, e) for cid, e in trained_before + trained_after if cid in validation]
    assert len(both) == len(set(both))  # the trial paused at the kill went on from its checkpoint
    assert all(t.state.name in ("COMPLETE", "PRUNED", "FAIL") for t in ts)
    assert (df["split"] == "test").sum() == 3


def test_a_real_promoted_trial_s_curve_is_the_uninterrupted_run_s(tmp_path):
    """The real trainer: the better trial at the rung is promoted (halving, 2 trials) and resumes there."""
    from augstudy.train import run_cell
    from augstudy.train.config import CellConfig

    spec = {"name": "real", "seeds": [0],
            "dataset": {"name": "synthetic", "params": {"n_train": 96, "n_test": 32, "size": 12}},
            "model": {"encoder": "resnet-tiny", "encoder_params": {"widths": [8, 16], "blocks": [1, 1]},
                      "projection_dim": 16},
            "training": {"epochs": 3, "batch_size": 32, "threads": 1}, "protocol": {"base_crop": None},
            "evaluation": {"knn_k": 5},
            "grid": {"kind": "search", "operators": ["crop", "color"], "max_ops": 1, "budget": {"cells": 2},
                     "pruner": {"kind": "halving", "min_epochs": 1}, "validation": 0.25, "top_k": 1, "seed": 0},
            "executor": {"kind": "local", "workers": 1}}
    df = run_study(spec, out=tmp_path, progress=False)
    val = df[(df["split"] == "validation") & (df["status"] == "done") & (df["epochs"] == 3)]
    assert len(val) >= 1
    first = val.iloc[0]
    d = tmp_path / "real" / "cells" / first["cell_id"]
    log = (d / "log.txt").read_text()
    assert "resumed" in log and "epoch 1 loss" not in log and "epoch 3 loss" in log  # went on from the rung
    import json

    config = CellConfig.model_validate({k: v for k, v in json.loads((d / "config.json").read_text()).items()
                                        if k not in ("cell_id", "labels", "id_basis")})
    whole = run_cell(config)
    metrics = json.loads((d / "metrics.json").read_text())
    assert metrics["loss_per_epoch"] == whole.loss_per_epoch  # bit for bit on the CPU
    assert metrics["knn_top1"] == whole.knn_top1


def test_a_halving_bracket_is_sized_to_the_epoch_budget():
    from augstudy.study.search import SynchronousHalving

    h = SynchronousHalving(3)
    assert [h.keep(n) for n in (1, 2, 3, 8, 9, 10)] == [1, 1, 1, 2, 3, 3]
    assert h.cost(9, [1, 3], 9) == 9 * 1 + 3 * 2 + 1 * 6
    assert h.most_trials(45, [1, 3], 9) == 20  # 20 + 6 x 2 + 2 x 6 = 44; 21 trials would take 47
    assert h.most_trials(8, [1, 3], 9) == 0  # not even one trial to the end
