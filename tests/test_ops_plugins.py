"""Plugins: by decorator, by entry point, by load_plugins, and albumentations transforms via the adapter."""
import importlib.metadata
import sys
import textwrap

import pytest
import torch

try:
    import albumentations as A
except ImportError:  # a machine without albumentations (the GPU host): its adapter tests skip
    A = None
needs_albumentations = pytest.mark.skipif(A is None, reason="needs albumentations")

import augstudy
from augstudy import ops
from augstudy.ops import registry


@pytest.fixture
def clean_registry():
    with registry.REGISTRY.snapshot():  # built-ins and installed plugins registered before it
        yield


def x8():
    return torch.rand(8, 3, 16, 16, generator=torch.Generator().manual_seed(0))


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_decorator_class_in_compose(clean_registry):
    from pydantic import Field

    @augstudy.operator("invert_some")
    class InvertSome(ops.Operator):
        """Invert each image with probability p."""

        class Params(ops.OperatorParams):
            p: float = Field(0.5, ge=0, le=1)

        def sample_params(self, batch_size, generator, device):
            return {"on": torch.rand(batch_size, generator=generator).to(device) < self.p}

        def apply(self, x, params):
            return torch.where(params["on"][:, None, None, None], 1 - x, x)

    assert "invert_some" in ops.available()
    pipe = ops.build(["flip", "invert_some(p=1.0)"])
    x = x8()
    assert torch.allclose(pipe.apply(x, {"steps": [{"flip": torch.zeros(8, dtype=torch.bool)}, {"on": torch.ones(8, dtype=torch.bool)}]}), 1 - x)
    with pytest.raises(ValueError, match=r"operator 'invert_some' param p=2: must be in \[0, 1\]"):
        ops.build("invert_some(p=2)")


def test_decorator_factory_function(clean_registry):
    @augstudy.operator("strong_color")
    def strong_color(strength: float = 2.0):
        return ops.build({"op": "color", "strength": strength})

    op = ops.build("strong_color")
    assert op.strength == 2.0
    y = ops.Compose(["crop", "strong_color"])(x8(), gen())
    assert y.shape == (8, 3, 16, 16)


def _write_module(tmp_path, name, body):
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(body))
    sys.path.insert(0, str(tmp_path))


PLUGIN = """
    import augstudy, torch
    from augstudy import ops

    @augstudy.operator("{name}")
    class Darken(ops.Operator):
        '''Halve the brightness.'''
        def apply(self, x, params):
            return x * 0.5
"""


def test_load_plugins_module(clean_registry, tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "path", list(sys.path))
    _write_module(tmp_path, "my_ops_mod", PLUGIN.format(name="darken"))
    assert ops.load_plugins(["my_ops_mod"]) == ["darken"]
    x = x8()
    assert torch.allclose(ops.build(["darken", "flip(p=0)"])(x, gen()), x * 0.5)
    with pytest.raises(ImportError, match="plugin module 'no_such_plugin_mod' could not be imported"):
        ops.load_plugins(["no_such_plugin_mod"])


def test_entry_point_plugins(clean_registry, tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "path", list(sys.path))
    _write_module(tmp_path, "ep_ops_mod", textwrap.dedent(PLUGIN.format(name="ep_darken")) + textwrap.dedent("""
        def make_brighten():
            class Brighten(ops.Operator):
                def apply(self, x, params):
                    return (x * 2).clamp(0, 1)
            return Brighten()
    """))
    eps = importlib.metadata.EntryPoints([
        importlib.metadata.EntryPoint("ep_darken", "ep_ops_mod", registry.ENTRY_POINT_GROUP),
        importlib.metadata.EntryPoint("ep_brighten", "ep_ops_mod:make_brighten", registry.ENTRY_POINT_GROUP),
        importlib.metadata.EntryPoint("broken", "no_such_module_xyz", registry.ENTRY_POINT_GROUP),
    ])
    real = importlib.metadata.entry_points
    monkeypatch.setattr(importlib.metadata, "entry_points",
                        lambda **kw: eps if kw.get("group") == registry.ENTRY_POINT_GROUP else real(**kw))
    with pytest.warns(UserWarning, match="plugin 'broken'"):
        registry.REGISTRY.reload_entry_points()
    names = ops.available()
    assert {"ep_darken", "ep_brighten"} <= set(names) and "broken" not in names
    x = x8()
    y = ops.Compose(["ep_darken", "ep_brighten"])(x, gen())
    assert torch.allclose(y, x, atol=1e-6)


@needs_albumentations
def test_albumentations_adapter_in_compose(clean_registry):
    @augstudy.operator("channel_shuffle")
    def channel_shuffle(p: float = 1.0):
        return ops.from_albumentations(A.ChannelShuffle(p=p))

    x = (x8() * 255).round() / 255
    pipe = ops.build(["flip", "channel_shuffle"])
    assert not pipe.batched
    a, b, c = pipe(x, gen(0)), pipe(x, gen(0)), pipe(x, gen(1))
    assert a.shape == x.shape and a.dtype == torch.float32 and a.device == x.device
    assert torch.equal(a, b) and not torch.equal(a, c)
    # a channel permutation of the (flipped) input, per image, not all the same
    flipped = ops.build("flip").apply(x, pipe.sample_params(8, gen(0), x.device)["steps"][0])
    assert torch.allclose(a.sum(1), flipped.sum(1), atol=1e-5)
    perms = {tuple(int((a[i, j:j + 1] - flipped[i]).abs().flatten(1).sum(1).argmin()) for j in range(3)) for i in range(8)}
    assert len(perms) > 1
    assert ops.build("channel_shuffle").spec() == "channel_shuffle"


@needs_albumentations
def test_from_albumentations_rejects_non_transforms_and_shape_changes():
    with pytest.raises(TypeError, match="needs an albumentations transform"):
        ops.from_albumentations(lambda image: image)
    op = ops.from_albumentations(A.Resize(8, 8), name="shrink")
    with pytest.raises(ValueError, match="'shrink' changed the image shape"):
        op(x8(), gen())
