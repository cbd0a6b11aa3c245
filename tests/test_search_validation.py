"""The validation split a search selects on: carved from the training split, never the test set."""
from __future__ import annotations

import torch

from augstudy.data import Dataset, Split
from augstudy.data.base import holdout
from augstudy.train import CellConfig, run_cell
from augstudy.train.config import ValidationSplit


def _dataset(n_train=200, n_test=80, size=8) -> Dataset:
    g = torch.Generator().manual_seed(0)

    def split(n, offset):
        x = torch.randint(0, 256, (n, 3, size, size), generator=g, dtype=torch.uint8)
        x[:, 0, 0, 0] = (torch.arange(n) + offset) % 256  # rows differ: a row's bytes identify it
        x[:, 1, 0, 0] = (torch.arange(n) + offset) // 256
        return Split(x, torch.randint(0, 4, (n,), generator=g))

    return Dataset(split(n_train, 0), split(n_test, n_train), ["a", "b", "c", "d"])


def rows(split: Split) -> set[bytes]:
    return {bytes(x.flatten().tolist()) for x in split.images}


def test_the_validation_split_is_part_of_the_training_split_and_never_overlaps_the_test_set():
    ds = _dataset()
    cut = holdout(ds, 0.1, seed=3)
    train, val, test = rows(cut.train), rows(cut.test), rows(ds.test)
    assert len(val) == 20 and len(train) == 180
    assert val <= rows(ds.train) and train <= rows(ds.train)
    assert not val & test and not train & test and not val & train
    assert rows(holdout(ds, 0.1, seed=3).test) == val  # the same split for every trial
    assert rows(holdout(ds, 0.1, seed=4).test) != val


def test_a_cell_with_a_validation_split_trains_and_evaluates_without_the_test_set():
    ds = _dataset(n_train=128, n_test=64, size=16)
    seen = []

    class Spy(Dataset):  # the test split would be read through this attribute: record any read
        def __getattribute__(self, name):
            if name == "test":
                seen.append(name)
            return super().__getattribute__(name)

    spy = Spy(ds.train, ds.test, ds.classes)
    cfg = CellConfig.model_validate({
        "pipeline": ["crop"], "protocol": {"base_crop": None}, "validation": {"fraction": 0.25, "seed": 0},
        "model": {"encoder": "resnet-tiny", "encoder_params": {"widths": [8, 16], "blocks": [1, 1]}},
        "training": {"epochs": 1, "batch_size": 32, "threads": 1}, "evaluation": {"knn_k": 10}})
    result = run_cell(cfg, dataset=spy)
    assert result.status == "done" and result.knn_top1 is not None and seen == []
    # the validation split is part of the cell's identity; a cell without one keeps its old id
    plain = CellConfig.model_validate({k: v for k, v in cfg.canonical().items() if k != "validation"})
    assert "validation" not in plain.canonical() and plain.cell_id() != cfg.cell_id()
    assert cfg.validation == ValidationSplit(fraction=0.25, seed=0)
