"""NT-Xent against the paper's per-pair formula, lightly's NTXentLoss, a gradient check and bf16."""
import math

import pytest
import torch

from augstudy.train import nt_xent


def brute_force(z1: torch.Tensor, z2: torch.Tensor, tau: float) -> float:
    """The paper's eq. (1): l(i, j) = -log exp(s_ij/tau) / sum_{k != i} exp(s_ik/tau), averaged over 2N."""
    z = torch.cat([z1, z2]).double()
    n2 = z.shape[0]
    n = n2 // 2

    def sim(a: int, b: int) -> float:
        return float(z[a] @ z[b] / (z[a].norm() * z[b].norm()))

    total = 0.0
    for i in range(n2):
        j = (i + n) % n2
        denom = sum(math.exp(sim(i, k) / tau) for k in range(n2) if k != i)
        total += -math.log(math.exp(sim(i, j) / tau) / denom)
    return total / n2


@pytest.mark.parametrize("n", [1, 2, 5, 16])
@pytest.mark.parametrize("tau", [0.07, 0.2, 0.5, 1.0])
def test_matches_paper_formula(n, tau):
    g = torch.Generator().manual_seed(n * 100 + int(tau * 100))
    z1, z2 = torch.randn(n, 8, generator=g), torch.randn(n, 8, generator=g)
    assert nt_xent(z1, z2, tau).item() == pytest.approx(brute_force(z1, z2, tau), abs=1e-5, rel=1e-5)


@pytest.mark.parametrize("n,tau", [(4, 0.1), (32, 0.5), (64, 0.2)])
def test_matches_lightly(n, tau):
    loss_mod = pytest.importorskip("lightly.loss")
    g = torch.Generator().manual_seed(n)
    z1, z2 = torch.randn(n, 16, generator=g), torch.randn(n, 16, generator=g)
    ref = loss_mod.NTXentLoss(temperature=tau)(z1, z2).item()
    assert nt_xent(z1, z2, tau).item() == pytest.approx(ref, abs=1e-5, rel=1e-5)


def test_gradcheck():
    g = torch.Generator().manual_seed(0)
    z1 = torch.randn(3, 4, dtype=torch.double, generator=g, requires_grad=True)
    z2 = torch.randn(3, 4, dtype=torch.double, generator=g, requires_grad=True)
    # nt_xent computes in float32; check the double path of the same formula through a float64 wrapper
    assert torch.autograd.gradcheck(lambda a, b: _nt_xent_double(a, b, 0.3), (z1, z2), eps=1e-6, atol=1e-5)
    # and the shipped float32 function's gradient agrees with the double one
    a, b = z1.detach().float().requires_grad_(), z2.detach().float().requires_grad_()
    nt_xent(a, b, 0.3).backward()
    ga, gb = torch.autograd.grad(_nt_xent_double(z1, z2, 0.3), (z1, z2))
    torch.testing.assert_close(a.grad.double(), ga, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(b.grad.double(), gb, atol=1e-5, rtol=1e-4)


def _nt_xent_double(z1, z2, tau):
    z = torch.nn.functional.normalize(torch.cat([z1, z2]), dim=1)
    n = z1.shape[0]
    logits = (z @ z.t() / tau).masked_fill(torch.eye(2 * n, dtype=torch.bool), float("-inf"))
    return torch.nn.functional.cross_entropy(logits, torch.arange(2 * n).roll(n))


def test_bf16_autocast_is_float32_and_close():
    g = torch.Generator().manual_seed(1)
    z1, z2 = torch.randn(64, 128, generator=g), torch.randn(64, 128, generator=g)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = nt_xent(z1.bfloat16(), z2.bfloat16(), 0.1)
    assert loss.dtype == torch.float32 and torch.isfinite(loss)
    assert loss.item() == pytest.approx(nt_xent(z1, z2, 0.1).item(), rel=2e-2)


def test_stable_at_small_temperature_and_identical_pairs():
    z = torch.randn(8, 16, generator=torch.Generator().manual_seed(2))
    loss = nt_xent(z, z, 0.01)  # logits up to 100: a naive exp would overflow in float16
    assert torch.isfinite(loss) and loss.item() >= 0


def test_bad_input_is_one_clear_error():
    with pytest.raises(ValueError, match="same shape"):
        nt_xent(torch.zeros(4, 8), torch.zeros(3, 8), 0.5)
    with pytest.raises(ValueError, match="temperature"):
        nt_xent(torch.zeros(4, 8), torch.zeros(4, 8), 0.0)
