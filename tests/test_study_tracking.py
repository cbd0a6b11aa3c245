"""Trackers chosen in the study file, each read back with its own library; a failing tracker never stops a study."""
from __future__ import annotations

import csv
import json
import struct
from pathlib import Path

import pytest

from augstudy import run_study
from augstudy.errors import SpecError
from augstudy.study import validate_spec
from augstudy.study.tracking import TRACKERS, Tracker
from augstudy.train import run_cell
from test_study_exec import tiny


def _one_cell(**over):
    return tiny(**{"name": "one", "grid": {"kind": "pairwise", "operators": ["crop"]},
                   "training": {"epochs": 2, "batch_size": 64, "threads": 1, "device": "cpu"}, **over})


def _cell_dirs(root: Path) -> list[Path]:
    return sorted(p for p in (root / "cells").iterdir() if p.is_dir())


def _curve(cell: Path) -> list[dict]:
    with open(cell / "curve.csv", newline="") as f:
        return [{k: float(v) for k, v in r.items()} for r in csv.DictReader(f)]


def fail_color(cfg):
    """The real trainer, except that a pipeline with ``color`` raises (a failed cell)."""
    if any("color" in json.dumps(s) for s in cfg.pipeline):
        raise RuntimeError("boom in color")
    return run_cell(cfg)


def test_tensorboard_event_files_hold_loss_lr_final_metrics_and_config(tmp_path):
    ea_mod = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    df = run_study(_one_cell(tracking={"kind": "tensorboard"}), out=tmp_path, progress=False)
    (cell,) = _cell_dirs(tmp_path / "one")
    runs = list((tmp_path / "one" / "tensorboard").iterdir())
    assert [r.name for r in runs] == ["crop.simclr.seed0"]
    assert list(runs[0].glob("events.out.tfevents.*"))
    ea = ea_mod.EventAccumulator(str(runs[0]))
    ea.Reload()
    curve = _curve(cell)
    assert [(s.step, pytest.approx(s.value)) for s in ea.Scalars("loss")] == [(int(r["epoch"]), r["loss"]) for r in curve]
    assert [pytest.approx(s.value) for s in ea.Scalars("lr")] == [r["lr"] for r in curve] and len(curve) == 2
    (top1,) = ea.Scalars("metrics/linear_top1")
    assert top1.value == pytest.approx(df["linear_top1"][0])
    hp = ea.PluginTagToContent("hparams")
    assert "_hparams_/session_start_info" in hp
    assert b"training.epochs" in hp["_hparams_/session_start_info"] and cell.name.encode() in hp["_hparams_/session_start_info"]


def test_mlflow_one_run_per_cell_with_params_metrics_and_files_in_one_experiment(tmp_path):
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    spec = tiny(name="ml", grid={"kind": "pairwise", "operators": ["crop", "color"]}, tracking={"kind": "mlflow"})
    df = run_study(spec, out=tmp_path, progress=False, cell_fn=fail_color)
    assert list(df["status"]) == ["done", "failed", "failed", "failed"]
    client = MlflowClient(f"sqlite:///{tmp_path / 'ml' / 'mlflow.db'}")
    exp = client.get_experiment_by_name("ml")
    runs = client.search_runs([exp.experiment_id])
    assert len(runs) == 4
    by_cell = {r.data.tags["augstudy.cell_id"]: r for r in runs}
    assert set(by_cell) == set(df["cell_id"])
    done = df[df["status"] == "done"].iloc[0]
    run = by_cell[done["cell_id"]]
    assert run.info.status == "FINISHED" and run.info.run_name == "crop.simclr.seed0"
    assert run.data.metrics["linear_top1"] == pytest.approx(done["linear_top1"])
    assert run.data.params["training.batch_size"] == "64" and run.data.params["pipeline"] == '["crop"]'
    history = client.get_metric_history(run.info.run_id, "loss")
    assert [m.step for m in history] == [1]
    assert {a.path for a in client.list_artifacts(run.info.run_id)} >= {"config.json", "metrics.json", "curve.csv", "log.txt"}
    failed = by_cell[df[df["status"] == "failed"].iloc[0]["cell_id"]]
    assert failed.info.status == "FAILED" and "boom in color" in failed.data.tags["augstudy.error"]


def _wandb_records(path: Path):
    """The records of a W&B ``.wandb`` file (LevelDB-log blocks of protobuf ``Record``s)."""
    from wandb.proto import wandb_internal_pb2 as pb

    data = path.read_bytes()
    assert data[:4] == b":W&B"
    pos, block, buf = 7, 32768, b""
    while pos + 7 <= len(data):
        left = block - pos % block
        if left < 7:
            pos += left
            continue
        _crc, length, kind = struct.unpack("<IHB", data[pos:pos + 7])
        if length == 0 and kind == 0:
            pos += left
            continue
        buf += data[pos + 7:pos + 7 + length]
        pos += 7 + length
        if kind in (1, 4):  # a full record, or the last piece of one
            r = pb.Record()
            r.ParseFromString(buf)
            buf = b""
            yield r


def test_wandb_offline_one_run_per_cell_in_a_group_with_its_history(tmp_path):
    pytest.importorskip("wandb")
    df = run_study(_one_cell(name="wb", tracking={"kind": "wandb", "mode": "offline"}), out=tmp_path, progress=False)
    (folder,) = (tmp_path / "wb" / "wandb").glob("offline-run-*")
    records = list(_wandb_records(next(folder.glob("run-*.wandb"))))
    (run,) = [r.run for r in records if r.WhichOneof("record_type") == "run"]
    assert run.run_group == "wb" and run.display_name == "crop.simclr.seed0"
    history = [{i.nested_key[0]: json.loads(i.value_json) for i in r.history.item}
               for r in records if r.WhichOneof("record_type") == "history"]
    curve = _curve(_cell_dirs(tmp_path / "wb")[0])
    assert [(h["epoch"], pytest.approx(h["loss"]), pytest.approx(h["lr"])) for h in history] == \
        [(int(r["epoch"]), r["loss"], r["lr"]) for r in curve]
    summary = {u.key: json.loads(u.value_json) for r in records if r.WhichOneof("record_type") == "summary"
               for u in r.summary.update if u.key}
    assert summary["linear_top1"] == pytest.approx(df["linear_top1"][0]) and summary["status"] == "done"


class _Boom(Tracker):
    calls = 0

    def log(self, cell):
        type(self).calls += 1
        raise OSError("disk full (test)")


def test_a_failing_tracker_is_reported_once_and_every_cell_is_stored(tmp_path, capsys):
    with TRACKERS.snapshot():
        TRACKERS.add("boom", _Boom)
        spec = tiny(name="b", grid={"kind": "pairwise", "operators": ["crop", "color"]}, tracking={"kind": "boom"})
        df = run_study(spec, out=tmp_path, progress=False)
    assert len(df) == 4 and (df["status"] == "done").all()
    assert all((d / "metrics.json").is_file() for d in _cell_dirs(tmp_path / "b"))
    err = capsys.readouterr().err
    assert err.count("tracking (boom)") == 1 and "disk full (test)" in err and _Boom.calls == 1


def test_tracking_errors_at_spec_load_name_the_key_and_the_extra(tmp_path):
    with pytest.raises(SpecError, match=r"tracking.kind: unknown tracker 'tensorbord' \(did you mean 'tensorboard'\?\)"):
        validate_spec(_one_cell(tracking={"kind": "tensorbord"}))
    with pytest.raises(SpecError, match=r"tracking: tracker 'mlflow' has no param 'uri'.*tracking_uri"):
        validate_spec(_one_cell(tracking={"kind": "mlflow", "uri": "x"}))

    class Absent(Tracker):
        package, extra = "augstudy_no_such_package", "absent"

    with TRACKERS.snapshot():
        TRACKERS.add("absent", Absent)
        with pytest.raises(SpecError, match=r"needs the 'augstudy_no_such_package' package.*pip install 'augstudy\[absent\]'"):
            validate_spec(_one_cell(tracking={"kind": "absent"}))
    assert not (tmp_path / "one").exists()
