"""Streaming an image folder from disk (dataset.stream): the same numbers as the in-memory path, the
auto switch on the memory budget, id-neutral settings, and one line for a dataset that cannot stream."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from augstudy.data import FileSplit, Split, open_dataset
from augstudy.data import streaming
from augstudy.errors import AugstudyError
from augstudy.train import CellConfig, run_cell


def _folder(root, n=10, sizes=((14, 12), (12, 12))):
    """3 classes told apart by their bright channel, PNG and JPEG, two image sizes; seeded."""
    rng = np.random.default_rng(0)
    for c in range(3):
        for i in range(n):
            w, h = sizes[i % len(sizes)]
            a = rng.integers(0, 120, (h, w, 3), dtype=np.uint8)
            a[..., c] += 120
            ext = "png" if i % 2 else "jpg"
            (root / f"class{c}").mkdir(parents=True, exist_ok=True)
            Image.fromarray(a).save(root / f"class{c}" / f"{i:03d}.{ext}")
    return root


def _cfg(root, stream, **params):
    workers = params.pop("_workers", 0)
    return {"pipeline": ["crop", "flip"], "protocol": {"base_crop": None},
            "dataset": {"name": "imagefolder", "params": {"root": str(root), "cache": False, **params},
                        "stream": stream, "loader_workers": workers},
            "model": {"encoder": "resnet-tiny", "encoder_params": {"widths": [8, 16], "blocks": [1, 1]}},
            "training": {"epochs": 2, "batch_size": 8, "threads": 1},
            "evaluation": {"knn_k": 5, "on_projection": True}, "seed": 3}


def _numbers(result) -> dict:
    d = result.to_dict()
    out = {k: v for k, v in d.items() if k not in ("train_seconds", "eval_seconds", "images_per_second")}
    out["predictions"] = {k: v.tolist() for k, v in result.predictions.items()}
    return out


@pytest.fixture
def count_streams(monkeypatch):
    """How many times a FileSplit was read through its DataLoader (training epochs and feature passes)."""
    calls = []
    real = FileSplit.loader

    def loader(self, batches, pin_memory=False):
        calls.append(len(batches))
        return real(self, batches, pin_memory)

    monkeypatch.setattr(FileSplit, "loader", loader)
    return calls


@pytest.mark.parametrize("params", [
    {},  # no size: mixed sizes resized to the most common shorter side, as in memory
    {"size": 10, "train_per_class": 6, "test_per_class": 2},
    {"size": 8, "skip_corrupt": True, "_corrupt": True},
], ids=["common-side", "size-and-subsets", "skip-corrupt"])
def test_streamed_cell_gives_the_same_numbers_as_in_memory(tmp_path, params, count_streams):
    root = _folder(tmp_path / "imgs")
    if params.pop("_corrupt", False):
        (root / "class1" / "004.jpg").write_bytes(b"not an image")
    with pytest.warns(UserWarning, match="skipped 1 corrupt") if params.get("skip_corrupt") else _nothing():
        memory = run_cell(_cfg(root, False, **params))
    assert count_streams == []
    with pytest.warns(UserWarning, match="skipped 1 corrupt") if params.get("skip_corrupt") else _nothing():
        streamed = run_cell(_cfg(root, True, **params))
    assert len(count_streams) == 2 + 2  # two epochs, then the train and test features
    assert memory.status == "done" and len(memory.loss_per_epoch) == 2 and memory.linear_top1 is not None
    assert _numbers(streamed) == _numbers(memory)


def test_worker_processes_decode_the_same_batches(tmp_path):
    root = _folder(tmp_path / "imgs", n=6)
    memory = run_cell(_cfg(root, False, size=8))
    streamed = run_cell(_cfg(root, True, size=8, _workers=2))
    assert _numbers(streamed) == _numbers(memory)


def test_auto_streams_only_past_the_memory_budget(tmp_path):
    root = _folder(tmp_path / "imgs", n=4)
    params = {"root": str(root), "size": 8, "cache": False}
    decoded = 3 * 4 * 3 * 8 * 8  # every image of both splits, decoded
    small = open_dataset("imagefolder", params, "auto", memory_budget=decoded - 1, loader_workers=0)
    big = open_dataset("imagefolder", params, "auto", memory_budget=decoded, loader_workers=0)
    assert isinstance(small.train, FileSplit) and small.info["streamed"] and small.info["decoded_bytes"] == decoded
    assert isinstance(big.train, Split) and not big.info.get("streamed")
    assert torch.equal(small.train.head(len(small.train)), big.train.images)
    assert torch.equal(small.test.labels, big.test.labels)
    never = open_dataset("imagefolder", params, False, memory_budget=1)
    assert isinstance(never.train, Split)
    # the default budget is a fraction of the memory available now
    assert 0 < streaming.memory_budget_bytes() < __import__("psutil").virtual_memory().total


def test_stream_settings_leave_the_cell_id_alone(tmp_path):
    base = CellConfig.model_validate({"dataset": {"name": "imagefolder", "params": {"root": "x"}}})
    ids = {CellConfig.model_validate({"dataset": {"name": "imagefolder", "params": {"root": "x"}, **extra}}).cell_id()
           for extra in ({"stream": True}, {"stream": False}, {"stream": "auto"}, {"memory_budget": "8GB"},
                         {"loader_workers": 0})}
    assert ids == {base.cell_id()}
    assert "stream" not in base.canonical()["dataset"]  # config.json of a default cell is as before
    cfg = CellConfig.model_validate({"dataset": {"memory_budget": "1.5 GiB"}})
    assert cfg.dataset.memory_budget == int(1.5 * 2**30)
    with pytest.raises(Exception, match="memory_budget 'lots'"):
        CellConfig.model_validate({"dataset": {"memory_budget": "lots"}})


def test_stream_true_on_a_dataset_that_cannot_stream_is_one_line(tmp_path):
    from augstudy.study.spec import validate_spec

    with pytest.raises(AugstudyError) as e:
        run_cell({"dataset": {"name": "synthetic", "stream": True}, "training": {"epochs": 1}})
    msg = str(e.value)
    assert "dataset.stream" in msg and "'synthetic'" in msg and "imagefolder" in msg and "\n" not in msg
    with pytest.raises(AugstudyError) as e:
        validate_spec({"name": "s", "dataset": {"name": "synthetic", "stream": True},
                       "grid": {"kind": "pairwise", "operators": ["crop", "color"]}})
    assert "dataset.stream" in str(e.value) and "imagefolder" in str(e.value) and "\n" not in str(e.value)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_a_study_streams_in_loky_workers_with_the_same_numbers(tmp_path):
    """workers: 2 (loky processes), each cell streaming with a DataLoader worker of its own."""
    import pandas as pd

    from augstudy import run_study

    root = _folder(tmp_path / "imgs", n=6)

    def spec(stream, workers):
        cfg = _cfg(root, stream, size=8, _workers=1)
        return {"name": "streamed", "grid": {"kind": "list", "pipelines": {"crop": ["crop"], "flip": ["crop", "flip"]}},
                "seeds": [0], "executor": {"kind": "local", "workers": workers},
                **{k: cfg[k] for k in ("dataset", "model", "training", "protocol", "evaluation")}}

    streamed = run_study(spec(True, 2), out=tmp_path / "a", progress=False)
    memory = run_study(spec(False, 1), out=tmp_path / "b", progress=False)
    cols = ["cell_id", "pipeline", "status", "linear_top1", "knn_top1", "linear_top1_z", "knn_top1_z", "final_loss"]
    assert (memory["status"] == "done").all() and len(memory) == 2
    pd.testing.assert_frame_equal(streamed[cols].reset_index(drop=True), memory[cols].reset_index(drop=True))


def test_a_daemonic_process_decodes_in_the_cell_process(tmp_path, monkeypatch):
    """A Dask worker is daemonic by default and may not start DataLoader workers: 0 of them, same batches."""
    import multiprocessing

    root = _folder(tmp_path / "imgs", n=4)
    ds = open_dataset("imagefolder", {"root": str(root), "size": 8, "cache": False}, True, loader_workers=2)
    assert ds.train.loader([[0, 1]]).num_workers == 2
    expected = torch.cat(list(ds.train.batches(3)))

    class Daemon:
        daemon = True

    monkeypatch.setattr(multiprocessing, "current_process", lambda: Daemon())
    assert ds.train.loader([[0, 1]]).num_workers == 0
    assert torch.equal(torch.cat(list(ds.train.batches(3))), expected)
