"""The view protocols: asymmetric leaves one branch the identity; symmetric draws twice."""
import pytest
import torch

from augstudy.ops import Operator, build
from augstudy.train import make_view, make_views


class Spy(Operator):
    """Adds 0.25 (clamped) and records every batch it sees."""

    name = "spy"

    def __init__(self, batched: bool = True):
        super().__init__()
        self.calls: list[torch.Tensor] = []
        self.batched = batched

    def sample_params(self, batch_size, generator, device):
        return {"u": torch.rand(batch_size, generator=generator, device=generator.device).to(device)}

    def apply(self, x, params):
        self.calls.append(x.clone())
        return (x + 0.25).clamp(0, 1)


def _x():
    return torch.rand(4, 3, 8, 8, generator=torch.Generator().manual_seed(0)) * 0.5


def test_asymmetric_one_branch_is_identity():
    x, spy = _x(), Spy()
    v1, v2 = make_views(x, spy, None, "asymmetric", torch.Generator().manual_seed(1))
    assert len(spy.calls) == 1 and torch.equal(spy.calls[0], x)
    assert torch.equal(v2, x)
    torch.testing.assert_close(v1, x + 0.25)


def test_asymmetric_base_crop_is_shared_and_the_second_branch_is_that_crop():
    x, spy, crop = _x(), Spy(), build("crop")
    v1, v2 = make_views(x, spy, crop, "asymmetric", torch.Generator().manual_seed(1))
    assert len(spy.calls) == 1
    # one crop per image, shared: the spy transformed exactly the second branch, which is no longer x
    assert torch.equal(spy.calls[0], v2) and not torch.equal(v2, x)
    torch.testing.assert_close(v1, v2 + 0.25)


def test_symmetric_base_crop_is_drawn_per_branch():
    x, crop = _x(), build("crop")
    v1, v2 = make_views(x, None, crop, "symmetric", torch.Generator().manual_seed(1))
    assert v1.shape == v2.shape == x.shape and not torch.equal(v1, v2)


def test_symmetric_draws_the_pipeline_on_both_branches():
    x, spy = _x(), Spy()
    v1, v2 = make_views(x, spy, None, "symmetric", torch.Generator().manual_seed(1))
    assert len(spy.calls) == 2
    torch.testing.assert_close(v1, x + 0.25)
    torch.testing.assert_close(v2, x + 0.25)


def test_identity_pipeline_and_single_view():
    x = _x()
    v1, v2 = make_views(x, build([]), None, "symmetric", torch.Generator().manual_seed(1))
    assert torch.equal(v1, x) and torch.equal(v2, x)
    spy = Spy(batched=False)
    torch.testing.assert_close(make_view(x, spy, None, torch.Generator().manual_seed(1)), x + 0.25)


def test_same_generator_seed_same_views():
    x, crop = _x(), build(["crop", "color"])
    a = make_views(x, crop, None, "symmetric", torch.Generator().manual_seed(3))
    b = make_views(x, crop, None, "symmetric", torch.Generator().manual_seed(3))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) and not torch.equal(a[0], a[1])


def test_unknown_protocol():
    with pytest.raises(ValueError, match="asymmetric or symmetric"):
        make_views(_x(), None, None, "both", torch.Generator())
