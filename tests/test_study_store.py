"""The results store and the runner with a fast deterministic cell function: table, resume, failures, lock."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from augstudy import load_results, run_study
from augstudy.cli import app
from augstudy.errors import AugstudyError, StudyLockedError
from augstudy.study import StudyLock, StudyStore, expand, validate_spec
from augstudy.study.store import COLUMNS


def fake_cell(config):
    """A deterministic stand-in for run_cell: metrics are a function of the cell id only."""
    delay = float(os.environ.get("AUGSTUDY_FAKE_SLEEP", "0"))
    if delay:
        time.sleep(delay)
    cid = config.cell_id()
    h = int(cid[:8], 16)
    return {"cell_id": cid, "status": "done", "linear_top1": h % 1000 / 10, "knn_top1": h % 997 / 10,
            "linear_top1_z": None, "knn_top1_z": None, "loss_per_epoch": [5.0, 4.0 + h % 7 / 10],
            "train_seconds": 0.5, "eval_seconds": 0.1, "images_per_second": 100.0, "device": "cpu",
            "seed": config.seed, "versions": {}, "error": None}


def where_am_i(config):
    """Reports the GPU this worker process was given, and its pid."""
    time.sleep(0.2)
    return {**fake_cell(config), "device": f"gpu {os.environ.get('CUDA_VISIBLE_DEVICES')} pid {os.getpid()}"}


def blur_fails(config):
    if any(p.startswith("blur") for p in config.pipeline):
        raise RuntimeError("blur exploded")
    return fake_cell(config)


def quick_spec(**over):
    s = {"name": "fake", "grid": {"kind": "pairwise", "operators": ["crop", "color", "blur"]}, "seeds": [0, 1],
         "executor": {"kind": "local", "workers": 1}}
    s.update(over)
    return s


def snapshot(root):
    """{path: (bytes, mtime_ns)} of every done cell's files."""
    out = {}
    for d in sorted((root / "cells").iterdir()):
        if (d / "metrics.json").exists():
            for f in sorted(d.iterdir()):
                out[str(f)] = (f.read_bytes(), f.stat().st_mtime_ns)
    return out


def test_run_writes_cells_table_and_study_json(tmp_path):
    df = run_study(quick_spec(), out=tmp_path, cell_fn=fake_cell, progress=False)
    cells = expand(validate_spec(quick_spec()))
    assert list(df.columns) == COLUMNS
    assert list(df["cell_id"]) == [c.id for c in cells]  # spec order
    assert (df["status"] == "done").all() and len(df) == 18
    assert list(df["op1"][:3]) == ["crop"] * 3 and list(df["op2"][:3]) == ["crop", "color", "blur"]
    assert list(df["pipeline"][:3]) == ["crop", "crop + color", "crop + blur"]
    assert df["final_loss"].notna().all() and (df["study"] == "fake").all() and (df["grid"] == "pairwise").all()
    root = tmp_path / "fake"
    d = root / "cells" / cells[1].id
    assert sorted(p.name for p in d.iterdir()) == ["config.json", "curve.csv", "log.txt", "metrics.json"]
    assert json.loads((d / "config.json").read_text())["pipeline"] == ["crop", "color"]
    assert (d / "curve.csv").read_text().splitlines()[:2] == ["epoch,loss", "1,5.0"]
    assert not list(root.rglob("*.tmp")) and not (root / ".lock").exists()
    info = json.loads((root / "study.json").read_text())
    assert info["grid"] == {"kind": "pairwise", "operators": ["crop", "color", "blur"]}
    assert info["seeds"] == [0, 1] and info["methods"] == ["simclr"] and info["hardware"]["cores"] >= 1
    assert info["state"] == "finished" and info["wall_seconds"] >= 0 and info["torch_version"]
    pd.testing.assert_frame_equal(load_results(root), df)
    csv = pd.read_csv(root / "results.csv")
    assert list(csv["cell_id"]) == list(df["cell_id"])


def test_rerun_skips_done_cells_and_force_and_only_recompute(tmp_path):
    calls = []

    def counting(config):
        calls.append(config.cell_id())
        return fake_cell(config)

    run_study(quick_spec(), out=tmp_path, cell_fn=counting, progress=False)
    assert len(calls) == 18
    before = snapshot(tmp_path / "fake")
    calls.clear()
    study_json = (tmp_path / "fake" / "study.json").read_text()
    df = run_study(quick_spec(), out=tmp_path, cell_fn=counting, progress=False)
    assert calls == [] and len(df) == 18 and snapshot(tmp_path / "fake") == before
    assert (tmp_path / "fake" / "study.json").read_text() == study_json  # wall time and dates of the real run kept
    run_study(quick_spec(), out=tmp_path, cell_fn=counting, progress=False, force=True, only=["op1=color", "seed=1"])
    assert len(calls) == 3
    calls.clear()
    run_study(quick_spec(seeds=[0, 1, 2]), out=tmp_path, cell_fn=counting, progress=False)
    assert len(calls) == 9  # only the new seed's cells
    with pytest.raises(AugstudyError, match="--only sobel matches none of the 18 cells of study 'fake'; "
                       r"pipelines: crop, crop \+ color, .*; methods: simclr"):
        run_study(quick_spec(), out=tmp_path, cell_fn=counting, progress=False, only=["sobel"])


def test_total_wall_time_adds_up_resumed_runs_only(tmp_path):
    import shutil

    def study():
        return json.loads((tmp_path / "fake" / "study.json").read_text())

    run_study(quick_spec(), out=tmp_path, cell_fn=fake_cell, progress=False)
    first = study()
    assert first["wall_seconds_total"] == first["wall_seconds"]
    run_study(quick_spec(seeds=[0, 1, 2]), out=tmp_path, cell_fn=fake_cell, progress=False)  # resumed: adds up
    second = study()
    assert second["wall_seconds_total"] == pytest.approx(first["wall_seconds"] + second["wall_seconds"], abs=2e-3)
    shutil.rmtree(tmp_path / "fake" / "cells")  # a clone: the committed study.json, no cells
    run_study(quick_spec(), out=tmp_path, cell_fn=fake_cell, progress=False)
    third = study()
    assert third["wall_seconds_total"] == third["wall_seconds"]


def test_a_rerun_removes_temp_files_of_writes_cut_short(tmp_path):
    run_study(quick_spec(), out=tmp_path, cell_fn=fake_cell, progress=False)
    root = tmp_path / "fake"
    cell = next((root / "cells").iterdir())
    stale = [root / ".results.csv.abc123.tmp", cell / ".metrics.json.x9.tmp"]  # as atomic_write_bytes names them
    for p in stale:
        p.write_text("half")
    run_study(quick_spec(), out=tmp_path, cell_fn=fake_cell, progress=False)
    assert not any(p.exists() for p in stale)
    assert (cell / "metrics.json").exists()


def test_failed_cells_are_recorded_the_grid_goes_on_and_a_rerun_retries_them(tmp_path, capsys):
    df = run_study(quick_spec(seeds=[0]), out=tmp_path, cell_fn=blur_fails, progress=True)
    failed = df[df["status"] == "failed"]
    assert len(failed) == 5 and len(df) == 9  # blur row + blur column
    assert set(failed["error"]) == {"RuntimeError: blur exploded"}
    assert (df[df["status"] == "done"]["linear_top1"].notna()).all()
    out = capsys.readouterr().out
    assert "failed" in out and "blur exploded" in out and "4 done" in out and "5 failed" in out
    d = tmp_path / "fake" / "cells" / failed["cell_id"].iloc[0]
    assert (d / "failed.json").exists() and not (d / "metrics.json").exists()
    assert "Traceback" in (d / "log.txt").read_text()
    calls = []
    df2 = run_study(quick_spec(seeds=[0]), out=tmp_path, cell_fn=lambda c: calls.append(1) or fake_cell(c), progress=False)
    assert len(calls) == 5 and (df2["status"] == "done").all() and not (d / "failed.json").exists()


def test_diverged_is_a_finished_status(tmp_path):
    def diverge(config):
        return {**fake_cell(config), "status": "diverged", "linear_top1": None, "error": "loss is nan at epoch 1"}

    df = run_study(quick_spec(seeds=[0]), out=tmp_path, cell_fn=diverge, progress=False)
    assert set(df["status"]) == {"diverged"} and df["linear_top1"].isna().all()
    assert set(df["error"]) == {"loss is nan at epoch 1"}
    calls = []
    run_study(quick_spec(seeds=[0]), out=tmp_path, cell_fn=lambda c: calls.append(1), progress=False)
    assert calls == []  # diverged is a result, not retried


def test_a_half_written_cell_is_never_read_as_done(tmp_path):
    spec = quick_spec(seeds=[0])
    cells = expand(validate_spec(spec))
    store = StudyStore(tmp_path / "fake")
    half = store.cell_dir(cells[0].id)
    half.mkdir(parents=True)
    (half / "config.json").write_text("{}")
    (half / "curve.csv").write_text("epoch,loss\n1,")
    (half / ".metrics.json.abc123.tmp").write_text('{"status": "do')  # a write cut off before its rename
    assert not store.is_done(cells[0].id) and store.row(cells[0]) is None
    df = run_study(spec, out=tmp_path, cell_fn=fake_cell, progress=False)
    assert (df["status"] == "done").all() and len(df) == 9
    assert json.loads((half / "metrics.json").read_text())["cell_id"] == cells[0].id


def test_dry_run_lists_cells_runs_nothing_and_estimates_from_past_cells(tmp_path, capsys):
    df = run_study(quick_spec(), out=tmp_path, dry_run=True, cell_fn=fake_cell)
    assert len(df) == 18 and set(df["state"]) == {"to run"} and not (tmp_path / "fake").exists()
    assert "no finished cell to time yet" in capsys.readouterr().out
    run_study(quick_spec(), out=tmp_path, cell_fn=fake_cell, progress=False, only=["seed=0"])
    df = run_study(quick_spec(), out=tmp_path, dry_run=True, cell_fn=fake_cell)
    assert (df["state"] == "done").sum() == 9
    out = capsys.readouterr().out
    assert "18 cells (9 done, 9 to run)" in out and "estimated time: 5.4 s" in out  # 9 x 0.6 s, 1 worker


def test_a_second_run_on_a_locked_study_fails_clearly(tmp_path):
    root = tmp_path / "fake"
    with StudyLock(root):
        with pytest.raises(StudyLockedError, match=f"in use by process {os.getpid()} on {socket.gethostname()}"):
            run_study(quick_spec(), out=tmp_path, cell_fn=fake_cell, progress=False)
        f = tmp_path / "s.yaml"
        f.write_text(yaml.safe_dump(quick_spec()))
        res = CliRunner().invoke(app, ["run", str(f), "--out", str(tmp_path)])
        assert res.exit_code == 2 and "is in use by process" in res.output and "Traceback" not in res.output
    assert not (root / ".lock").exists()


def test_a_stale_lock_of_a_dead_process_is_taken_over(tmp_path):
    root = tmp_path / "fake"
    root.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (root / ".lock").write_text(json.dumps({"pid": dead.pid, "hostname": socket.gethostname(), "process_started": 1.0}))
    df = run_study(quick_spec(seeds=[0]), out=tmp_path, cell_fn=fake_cell, progress=False)
    assert len(df) == 9 and not (root / ".lock").exists()
    # a live pid that is another process (pid reused: different start time) is stale too
    (root / ".lock").write_text(json.dumps({"pid": os.getpid(), "hostname": socket.gethostname(), "process_started": 1.0}))
    with StudyLock(root):
        assert json.loads((root / ".lock").read_text())["process_started"] != 1.0
    # another host's lock cannot be checked: it is respected
    (root / ".lock").write_text(json.dumps({"pid": 1, "hostname": "elsewhere.example"}))
    with pytest.raises(StudyLockedError, match="on elsewhere.example"):
        StudyLock(root).acquire()


def test_two_workers_give_the_same_table_as_one(tmp_path):
    one = run_study(quick_spec(), out=tmp_path / "w1", cell_fn=fake_cell, progress=False, workers=1)
    two = run_study(quick_spec(), out=tmp_path / "w2", cell_fn=fake_cell, progress=False, workers=2)
    pd.testing.assert_frame_equal(one.drop(columns=["train_seconds"]), two.drop(columns=["train_seconds"]))


def test_several_gpus_run_one_cell_per_gpu_each_worker_keeping_its_own(tmp_path):
    spec = quick_spec(seeds=[0], executor={"kind": "local", "workers": 1, "gpus": [3, 5]})
    df = run_study(spec, out=tmp_path, cell_fn=where_am_i, progress=False)
    assert (df["status"] == "done").all()
    gpu_of_pid = {}
    for device in df["device"]:
        _, gpu, _, pid = device.split()
        assert gpu_of_pid.setdefault(pid, gpu) == gpu  # a worker process keeps its GPU
    assert set(gpu_of_pid.values()) == {"3", "5"} and len(gpu_of_pid) == 2  # two workers, one per GPU
    info = json.loads((tmp_path / "fake" / "study.json").read_text())
    assert info["executor"]["workers"] == 2 and info["executor"]["gpus"] == [3, 5]


def test_a_dataset_that_cannot_load_stops_the_study_before_any_cell(tmp_path):
    from augstudy.errors import AugstudyError
    from augstudy.study import run_study

    spec = {"name": "badroot", "output": str(tmp_path), "grid": {"kind": "pairwise", "operators": ["crop", "color"]},
            "dataset": {"name": "imagefolder", "params": {"root": str(tmp_path / "missing")}}}
    with pytest.raises(AugstudyError, match=r"dataset 'imagefolder' could not be loaded: .*missing.* does not exist"):
        run_study(spec, progress=False)
    assert not (tmp_path / "badroot" / "cells").exists()
