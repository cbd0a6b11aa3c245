"""The operator contract, for every built-in: shape/dtype/device/range, per-image randomness, seeding, replay."""
import pytest
import torch

from augstudy import ops

BUILTINS = ["crop", "flip", "rotate", "cutout", "color", "color_jitter", "color_drop", "blur", "sobel", "noise"]
# deterministic given the image (no randomness beyond an application coin with p = 1)
DETERMINISTIC = {"color_drop", "sobel"}


def images(b=8, size=32, seed=0, device="cpu"):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(b, 3, size, size, generator=g).to(device)


def gen(seed, device="cpu"):
    return torch.Generator(device=device).manual_seed(seed)


def test_builtins_registered():
    assert set(BUILTINS) <= set(ops.available())


@pytest.mark.parametrize("name", BUILTINS)
@pytest.mark.parametrize("shape", [(8, 3, 32, 32), (3, 3, 40, 24)])
def test_shape_dtype_device_range(name, shape):
    x = torch.rand(*shape, generator=gen(1))
    y = ops.build(name)(x, gen(0))
    assert y.shape == x.shape and y.dtype == torch.float32 and y.device == x.device
    assert y.min() >= 0 and y.max() <= 1
    assert torch.isfinite(y).all()


@pytest.mark.parametrize("name", BUILTINS)
def test_input_not_modified(name):
    x = images()
    before = x.clone()
    ops.build(name)(x, gen(0))
    assert torch.equal(x, before)


@pytest.mark.parametrize("name", sorted(set(BUILTINS) - DETERMINISTIC - {"flip"}))
def test_per_image_randomness(name):
    # eight copies of one image: a per-batch parameter would make them all equal
    x = images(1).expand(8, -1, -1, -1).contiguous()
    y = ops.build(name)(x, gen(0))
    distinct = {tuple(y[i].flatten()[::7].tolist()) for i in range(8)}
    assert len(distinct) >= 3


def test_flip_per_image():
    x = images(1).expand(64, -1, -1, -1).contiguous()
    y = ops.build("flip")(x, gen(0))
    flipped = (y == x.flip(-1)).flatten(1).all(1)
    assert 10 < flipped.sum() < 54


@pytest.mark.parametrize("name", BUILTINS)
def test_same_seed_same_output_other_seed_different(name):
    x = images()
    op = ops.build(name)
    a, b, c = op(x, gen(3)), op(x, gen(3)), op(x, gen(4))
    assert torch.equal(a, b)
    if name not in DETERMINISTIC:
        assert not torch.equal(a, c)


@pytest.mark.parametrize("name", BUILTINS)
def test_replay_fixed_params_is_exact(name):
    x = images()
    op = ops.build(name)
    params = op.sample_params(x.shape[0], gen(5), x.device)
    assert torch.equal(op.apply(x, params), op.apply(x, params))
    assert torch.equal(op.apply(x, params), op(x, gen(5)))


def test_compose_in_order_and_replay():
    x = images()
    pipe = ops.build(["crop", "color(strength=0.5)", "blur(p=0.5)"])
    assert isinstance(pipe, ops.Compose) and len(pipe) == 3
    assert pipe.spec() == "crop + color(strength=0.5) + blur(p=0.5)"
    p = pipe.sample_params(8, gen(0), x.device)
    manual = x
    for op, sp in zip(pipe.operators, p["steps"]):
        manual = op.apply(manual, sp)
    assert torch.equal(pipe.apply(x, p), manual)
    assert torch.equal(pipe(x, gen(0)), manual)


@pytest.mark.parametrize("spec", ["color(strength=0.5)", {"op": "color", "strength": 0.5}])
def test_build_forms(spec):
    op = ops.build(spec)
    assert op.name == "color" and op.strength == 0.5 and op.spec() == "color(strength=0.5)"


def test_constant_and_extreme_images():
    for fill in (0.0, 1.0, 0.5):
        x = torch.full((4, 3, 32, 32), fill)
        for name in BUILTINS:
            y = ops.build(name)(x, gen(0))
            assert torch.isfinite(y).all() and y.min() >= 0 and y.max() <= 1, name


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name", BUILTINS)
def test_cuda_contract_and_seeding(name):
    x = images(device="cuda")
    op = ops.build(name)
    a, b = op(x, gen(0, "cuda")), op(x, gen(0, "cuda"))
    assert a.device.type == "cuda" and a.shape == x.shape and a.dtype == torch.float32
    assert torch.equal(a, b) and a.min() >= 0 and a.max() <= 1
    # same params on the CPU give the same result within float tolerance
    params = op.sample_params(8, gen(0, "cuda"), x.device)
    cpu_params = {k: (v.cpu() if torch.is_tensor(v) else v) for k, v in params.items()}
    if name != "noise":  # noise fields come from a device generator: CPU and CUDA streams differ
        assert torch.allclose(op.apply(x, params).cpu(), op.apply(x.cpu(), cpu_params), atol=1e-4)
