"""BYOL: the loss by hand and against lightly's, the EMA update, the cosine momentum schedule, a trained cell."""
import math

import pytest
import torch
from torch import nn

from augstudy.train import CellConfig, run_cell
from augstudy.train.methods import BYOL, byol_loss, cosine_momentum, ema_update
from augstudy.train.methods.base import target_copy
from test_train_cell import _cfg, _tiny_dataset


def test_byol_loss_by_hand():
    p = torch.tensor([[1.0, 0.0], [1.0, 1.0], [3.0, 0.0]])
    z = torch.tensor([[2.0, 0.0], [-1.0, -1.0], [1.0, 1.0]])
    # cos = 1, -1, 1/sqrt(2): 2 - 2cos = 0, 4, 2 - sqrt(2)
    assert byol_loss(p, z).item() == pytest.approx((0 + 4 + 2 - math.sqrt(2)) / 3, abs=1e-6)


def test_byol_loss_matches_lightly():
    from lightly.loss import NegativeCosineSimilarity

    g = torch.Generator().manual_seed(0)
    p, z = torch.randn(16, 8, generator=g), torch.randn(16, 8, generator=g)
    assert byol_loss(p, z).item() == pytest.approx(2 + 2 * NegativeCosineSimilarity()(p, z).item(), abs=1e-5)


def test_ema_update_by_hand():
    online, target = nn.Linear(2, 1), nn.Linear(2, 1)
    with torch.no_grad():
        online.weight.copy_(torch.tensor([[1.0, 2.0]])), online.bias.fill_(3.0)
        target.weight.zero_(), target.bias.fill_(1.0)
    ema_update(online, target, 0.9)
    assert target.weight[0].tolist() == pytest.approx([0.1, 0.2]) and target.bias.item() == pytest.approx(1.2)
    ema_update(online, target, 1.0)  # momentum 1: the target does not move
    assert target.bias.item() == pytest.approx(1.2)


def test_cosine_momentum_schedule():
    assert cosine_momentum(0, 100, 0.996) == pytest.approx(0.996)
    assert cosine_momentum(50, 100, 0.996) == pytest.approx(0.998)
    assert cosine_momentum(100, 100, 0.996) == pytest.approx(1.0)
    values = [cosine_momentum(k, 100, 0.9) for k in range(101)]
    assert all(a < b for a, b in zip(values, values[1:]))


def test_target_copy_is_frozen_and_equal():
    online = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    target = target_copy(online)
    assert all(not p.requires_grad for p in target.parameters())
    assert all(torch.equal(a, b) for a, b in zip(online.parameters(), target.parameters()))


def _byol(method="byol", **training):
    ds = _tiny_dataset(n_train=128, n_test=64)
    cfg = CellConfig.model_validate(_cfg(method=method, training={"epochs": 2, "batch_size": 32, **training},
                                         evaluation={"on_projection": True, "knn_k": 20}))
    return cfg, ds


def test_byol_trains_targets_by_ema_with_the_schedule():
    from augstudy import data, ops
    from augstudy.train import build_encoder
    from augstudy.train.loop import train

    cfg, ds = _byol("byol(momentum=0.9)")
    model = BYOL(build_encoder("resnet-tiny", 16, widths=[8, 16], blocks=[1, 1]), cfg, ds.num_classes)
    init = [p.clone() for p in model.target_encoder.parameters()]
    batcher = data.DeviceBatcher(ds.train, 32, generator=torch.Generator().manual_seed(0),
                                 device=torch.device("cpu"), drop_last=True)
    out = train(model, batcher, cfg, torch.device("cpu"), ops.build(["crop"]), None, torch.Generator().manual_seed(1))
    total = cfg.training.epochs * len(batcher)
    assert not out.diverged
    assert model.current_momentum == pytest.approx(cosine_momentum(total - 1, total, 0.9))
    moved = [not torch.equal(a, b) for a, b in zip(init, model.target_encoder.parameters())]
    assert any(moved)
    assert not any(torch.equal(a, b) for a, b in zip(model.encoder.parameters(), model.target_encoder.parameters())
                   if a.requires_grad and a.numel() > 1)
    # the targets are not trained by the optimizer
    assert all(p.grad is None for p in model.target_encoder.parameters())


def test_byol_cell_gives_finite_metrics():
    cfg, ds = _byol(epochs=1)
    r = run_cell(cfg, dataset=ds)
    assert r.status == "done"
    for key in ("linear_top1", "knn_top1", "linear_top1_z", "knn_top1_z"):
        assert math.isfinite(getattr(r, key)), key
    assert all(math.isfinite(v) for v in r.loss_per_epoch)
