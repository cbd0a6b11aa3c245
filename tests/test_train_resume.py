"""Stop a cell after an epoch and resume it from its checkpoint: the same curve and metrics as a run that never
stopped, bit for bit on the CPU, for plain and momentum (EMA target, queue) methods alike; no epoch retrained."""
from __future__ import annotations

import pytest

from augstudy.train import run_cell
from test_train_cell import _cfg, _tiny_dataset


@pytest.fixture(scope="module")
def tiny():
    return _tiny_dataset(n_train=128, n_test=64, size=12)


def _epochs(log):
    return lambda epoch, loss: log.append(epoch)


@pytest.mark.parametrize("method", ["simclr", "byol", "moco(queue_size=64)"])
def test_a_resumed_cell_continues_the_uninterrupted_curve_bit_for_bit(tiny, method):
    cfg = _cfg(method=method, training={"epochs": 4, "batch_size": 32, "warmup_epochs": 1})
    whole = run_cell(cfg, tiny)
    seen = []
    first = run_cell(cfg, tiny, progress=_epochs(seen), stop_at_epoch=2)
    assert first.status == "paused" and first.checkpoint and len(first.loss_per_epoch) == 2
    assert first.loss_per_epoch == whole.loss_per_epoch[:2] and first.knn_top1 is not None
    second = run_cell(cfg, tiny, progress=_epochs(seen), stop_at_epoch=3, resume=first.checkpoint)
    third = run_cell(cfg, tiny, progress=_epochs(seen), resume=second.checkpoint)
    assert seen == [1, 2, 3, 4]  # every epoch trained once, none retrained
    assert third.status == "done" and third.checkpoint is None
    assert third.loss_per_epoch == whole.loss_per_epoch and third.lr_per_epoch == whole.lr_per_epoch
    assert (third.linear_top1, third.knn_top1) == (whole.linear_top1, whole.knn_top1)
    assert third.to_dict().keys() == whole.to_dict().keys()


def test_stopping_at_a_checkpoint_s_own_epoch_trains_nothing(tiny):
    cfg = _cfg(training={"epochs": 3, "batch_size": 32})
    first = run_cell(cfg, tiny, stop_at_epoch=1)
    seen = []
    again = run_cell(cfg, tiny, progress=_epochs(seen), stop_at_epoch=1, resume=first.checkpoint)
    assert seen == [] and again.loss_per_epoch == first.loss_per_epoch and again.knn_top1 == first.knn_top1
    with pytest.raises(ValueError, match="checkpoint resumed is at epoch 1"):
        run_cell(cfg, tiny, stop_at_epoch=0, resume=first.checkpoint)
