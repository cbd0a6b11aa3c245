"""The tensor path (the one CUDA takes) syncs nothing and makes the same ops whatever the draws.

Counted on the CPU with a TorchDispatchMode (``augstudy.ops.paths.OpCounter``) under
``tensor_path()``, which sends CPU batches down the non-numba path as a GPU batch would go.
"""
import math

import pytest
import torch

from augstudy import ops
from augstudy.ops.filters import hashed_normal
from augstudy.ops.paths import OpCounter, tensor_path, uses_cpu_kernels
from augstudy.train.views import make_views

BUILTINS = sorted(["crop", "flip", "rotate", "cutout", "color", "color_jitter", "color_drop", "blur", "sobel",
                   "noise", "solarize"])
# the application probability's field per operator (so a test can draw "none" and "all")
P_FIELD = {"crop": "flip_p", "flip": "p", "cutout": "p", "color": "jitter_p", "color_jitter": "p",
           "color_drop": "p", "blur": "p", "sobel": "p", "noise": "p", "solarize": "p"}


def images(b=8, size=32, seed=0):
    return torch.rand(b, 3, size, size, generator=torch.Generator().manual_seed(seed))


def counted(fn):
    with tensor_path(), OpCounter() as c:
        out = fn()
    return c, out


def step(op, x, seed):
    g = torch.Generator().manual_seed(seed)
    return counted(lambda: op.apply(x, op.sample_params(x.shape[0], g, x.device)))[0]


def test_all_builtins_are_covered():
    from augstudy.ops.registry import REGISTRY

    builtin = {name for name, cls in REGISTRY.items() if cls.__module__.startswith("augstudy.ops.")
               and cls.__module__ != "augstudy.ops.albumentations"}
    assert set(BUILTINS) == builtin  # plugin operators registered by other tests are not built-ins


def test_counter_sees_syncs_and_host_copies():
    """The counter can fail: each known sync is caught."""
    x = images(2, 4)
    c, _ = counted(lambda: (x.sum().item(), (x > 0.5).nonzero(), x[x > 0.5], x[0, 0, 0].tolist(),
                            bool(x.max() > 2), torch.tensor([1.0, 2.0])))
    assert {"_local_scalar_dense", "nonzero", "tolist"} <= set(c.syncs)
    assert any("bool mask" in k for k in c.syncs) or "masked_select" in c.syncs
    assert c.host_copies and c.total_ops > 5


@pytest.mark.parametrize("name", BUILTINS)
@pytest.mark.parametrize("size", [32, 64])
def test_builtin_is_sync_free_and_draw_independent(name, size):
    x = images(8, size)
    variants = [ops.build(name)]
    if name in P_FIELD:  # nothing applied, everything applied, a mix
        variants = [ops.build({"op": name, P_FIELD[name]: p}) for p in (0.0, 1.0, 0.5)]
    if name == "color":
        variants += [ops.build({"op": "color", "drop_p": p}) for p in (0.0, 1.0)]
    counts = []
    for op in variants:
        for seed in (0, 1):
            c = step(op, x, seed)
            assert c.total_syncs == 0, f"{op.spec()}: host syncs {dict(c.syncs)}"
            assert not c.host_copies, f"{op.spec()}: host data copied in {dict(c.host_copies)}"
            counts.append(c.total_ops)
    assert len(set(counts)) == 1, f"{name}: op counts depend on the draws: {counts}"


@pytest.mark.parametrize("protocol", ["symmetric", "asymmetric"])
def test_crop_color_views_step_is_sync_free_and_draw_independent(protocol):
    x = images(16, 32)
    crop, pipeline = ops.build("crop"), ops.build(["color", "blur(p=0.5)"])
    counts = []
    for seed in (0, 1, 2):
        c, (v1, v2) = counted(lambda: make_views(x, pipeline, crop, protocol, torch.Generator().manual_seed(seed)))
        assert c.total_syncs == 0 and not c.host_copies, dict(c.syncs)
        counts.append(c.total_ops)
        assert v1.shape == v2.shape == x.shape
    assert len(set(counts)) == 1, counts


def test_tensor_path_switch_is_scoped():
    assert uses_cpu_kernels("cpu")
    with tensor_path():
        assert not uses_cpu_kernels("cpu")
    assert uses_cpu_kernels("cpu") and not uses_cpu_kernels("meta")


@pytest.mark.parametrize("spec", ["blur(p=0.5)", "sobel(p=0.5)", "rotate", "color_drop(p=0.5)", "cutout(p=0.5)",
                                  "flip", "solarize(p=0.5)"])
def test_tensor_path_gives_the_cpu_numbers(spec):
    """Where the tensor path only trades subset selection for a whole-batch where, the numbers agree."""
    x, op = images(12, 32, seed=3), ops.build(spec)
    params = op.sample_params(12, torch.Generator().manual_seed(4), x.device)
    with tensor_path():
        tensor = op.apply(x, params)
    torch.testing.assert_close(tensor, op.apply(x, params), rtol=0, atol=1e-6)


@pytest.mark.parametrize("name", BUILTINS)
def test_tensor_path_contract(name):
    x = torch.rand(5, 3, 40, 24, generator=torch.Generator().manual_seed(1))
    before = x.clone()
    with tensor_path():
        y = ops.build(name)(x, torch.Generator().manual_seed(0))
    assert torch.equal(x, before)
    assert y.shape == x.shape and y.dtype == x.dtype and torch.isfinite(y).all()
    assert y.min() >= 0 and y.max() <= 1


def test_tensor_path_noise_is_replayable_gaussian_and_per_image():
    op, x = ops.build("noise"), images(4, 32)
    with tensor_path():
        params = op.sample_params(4, torch.Generator().manual_seed(0), x.device)
        assert isinstance(params["seed"], torch.Tensor)
        assert torch.equal(op.apply(x, params), op.apply(x, params))
    z = hashed_normal(torch.tensor([7]), torch.Size([64, 3, 32, 32]))
    assert abs(z.mean().item()) < 0.01 and abs(z.std().item() - 1) < 0.01
    # tails of a normal: P(|z| > 3) = 0.0027
    assert abs((z.abs() > 3).float().mean().item() - 0.0027) < 0.0008
    assert abs(torch.corrcoef(torch.stack([z[0].flatten(), z[1].flatten()]))[0, 1].item()) < 0.05
    other = hashed_normal(torch.tensor([8]), torch.Size([64, 3, 32, 32]))
    assert abs(torch.corrcoef(torch.stack([z.flatten(), other.flatten()]))[0, 1].item()) < 0.01
    assert math.isfinite(z.abs().max().item())
