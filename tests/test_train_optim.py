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


class ReferenceLARS(torch.optim.Optimizer):
    """The per-parameter LARS loop that the multi-tensor LARS replaced (kept verbatim as the reference)."""

    def __init__(self, params, lr, momentum=0.9, weight_decay=0.0, trust_coefficient=0.001, eps=1e-8):
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay,
                                      trust_coefficient=trust_coefficient, eps=eps, lars_exclude=False))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                if not group["lars_exclude"]:
                    if group["weight_decay"]:
                        g = g.add(p, alpha=group["weight_decay"])
                    w_norm, g_norm = torch.linalg.vector_norm(p), torch.linalg.vector_norm(g)
                    ratio = group["trust_coefficient"] * w_norm / (g_norm + group["eps"])
                    g = g * torch.where((w_norm > 0) & (g_norm > 0), ratio, torch.ones_like(ratio))
                state = self.state[p]
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = state["momentum_buffer"] = torch.clone(g).detach()
                else:
                    buf.mul_(group["momentum"]).add_(g)
                p.add_(buf, alpha=-group["lr"])


def _lars_run(cls, steps=6):
    from augstudy.train.encoders import build_encoder

    torch.manual_seed(0)
    model = nn.Sequential(build_encoder("resnet-tiny", 32), nn.LazyLinear(10))
    x, y = torch.randn(16, 3, 32, 32), torch.randint(0, 10, (16,))
    model(x)
    with torch.no_grad():  # one zero weight: its trust ratio falls back to 1
        model[1].bias.zero_()
        next(model[0].parameters())[0].zero_()
    opt = cls(param_groups(model, 1e-4), lr=0.5, momentum=0.9, weight_decay=1e-4)
    for i in range(steps):
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        if i == 2:  # a parameter without a gradient this step is left alone
            model[1].bias.grad = None
        opt.step()
    return [p.detach().clone() for p in model.parameters()], opt


def test_multi_tensor_lars_gives_the_per_parameter_loops_numbers():
    new, opt = _lars_run(LARS)
    ref, _ = _lars_run(ReferenceLARS)
    assert len(new) == len(ref) > 10
    for a, b in zip(new, ref):
        assert torch.equal(a, b), (a - b).abs().max()
    assert all("momentum_buffer" in opt.state[p] for g in opt.param_groups for p in g["params"])


def test_multi_tensor_lars_makes_a_bounded_number_of_ops():
    from augstudy.ops.paths import OpCounter

    model = nn.Sequential(*[nn.Linear(4, 4) for _ in range(20)])
    opt = LARS(param_groups(model, 1e-4), lr=0.1)
    counts = []
    for _ in range(3):
        model(torch.randn(2, 4)).sum().backward()
        with OpCounter() as c:
            opt.step()
        counts.append(c.total_ops)
        assert c.total_syncs == 0
    assert counts[1] == counts[2] < 60  # 40 parameters: not one loop iteration of ops per parameter
