"""Optimisers, parameter groups and the warmup + cosine schedule."""
import pytest
import torch
from torch import nn

from augstudy.train.optim import LARS, build_optimizer, param_groups, warmup_cosine


def _model():
    return nn.Sequential(nn.Conv2d(3, 4, 3, bias=False), nn.BatchNorm2d(4), nn.Flatten(), nn.LazyLinear(2))


def test_no_weight_decay_for_batchnorm_and_biases():
    m = nn.Sequential(nn.Conv2d(3, 4, 3, bias=False), nn.BatchNorm2d(4), nn.Linear(4, 2))
    decay, no_decay = param_groups(m, 1e-4)
    assert decay["weight_decay"] == 1e-4 and no_decay["weight_decay"] == 0.0
    ids = lambda g: {id(p) for p in g["params"]}  # noqa: E731
    assert ids(decay) == {id(m[0].weight), id(m[2].weight)}
    assert ids(no_decay) == {id(m[1].weight), id(m[1].bias), id(m[2].bias)}


def test_warmup_then_cosine():
    f = warmup_cosine(total_steps=110, warmup_steps=10)
    assert f(0) == pytest.approx(0.1) and f(9) == pytest.approx(1.0)
    assert f(10) == pytest.approx(1.0) and f(60) == pytest.approx(0.5) and f(110) == pytest.approx(0.0, abs=1e-12)
    assert all(f(s) >= f(s + 1) for s in range(10, 110))
    assert warmup_cosine(5, 0)(0) == pytest.approx(1.0)


@pytest.mark.parametrize("name", ["lars", "sgd", "adamw"])
def test_optimisers_reduce_a_loss(name):
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 1))
    x, y = torch.randn(64, 8), torch.randn(64, 1)
    opt = build_optimizer(m, name, lr={"lars": 1.0, "sgd": 0.05, "adamw": 1e-2}[name], momentum=0.9, weight_decay=1e-4)
    losses = []
    for _ in range(30):
        loss = nn.functional.mse_loss(m(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]


def test_lars_trust_ratio_scales_the_step():
    w = nn.Parameter(torch.full((4,), 2.0))
    b = nn.Parameter(torch.zeros(4))
    opt = LARS([{"params": [w]}, {"params": [b], "lars_exclude": True, "weight_decay": 0.0}], lr=1.0, momentum=0.0,
               trust_coefficient=0.01)
    w.grad, b.grad = torch.full((4,), 100.0), torch.full((4,), 0.5)
    opt.step()
    # adapted: step = lr * trust * ||w|| / ||g|| * g = 0.01 * 4 / 200 * 100 = 0.02 per entry
    torch.testing.assert_close(w.detach(), torch.full((4,), 1.98))
    torch.testing.assert_close(b.detach(), torch.full((4,), -0.5))  # excluded: plain SGD


def test_unknown_optimizer():
    with pytest.raises(ValueError, match="lars, sgd or adamw"):
        build_optimizer(nn.Linear(2, 2), "adam", 1e-3, 0.9, 0.0)
