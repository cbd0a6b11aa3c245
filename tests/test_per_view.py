"""Per-view pipelines (BYOL's T and T'): each view its own pipeline, in views, cell config, spec and grid."""
from __future__ import annotations

import torch

from augstudy.ops import Operator, build
from augstudy.study import SpecError, expand, validate_spec
from augstudy.train import CellConfig, make_view, make_views, run_cell
from augstudy.train.views import ViewPipelines

import pytest


class Add(Operator):
    """Adds ``amount`` (clamped); draws one number per image so it consumes the generator like a real op."""

    name = "add"

    def __init__(self, amount: float):
        super().__init__()
        self.amount = amount
        self.calls = 0

    def sample_params(self, batch_size, generator, device):
        return {"u": torch.rand(batch_size, generator=generator)}

    def apply(self, x, params):
        self.calls += 1
        return (x + self.amount).clamp(0, 1)


def _x():
    return torch.rand(4, 3, 8, 8, generator=torch.Generator().manual_seed(0)) * 0.5


@pytest.mark.parametrize("protocol", ["asymmetric", "symmetric"])
def test_each_view_gets_its_own_pipeline(protocol):
    x, a, b = _x(), Add(0.1), Add(0.3)
    v1, v2 = make_views(x, ViewPipelines(a, b), None, protocol, torch.Generator().manual_seed(1))
    assert a.calls == 1 and b.calls == 1
    torch.testing.assert_close(v1, x + 0.1)
    torch.testing.assert_close(v2, x + 0.3)


def test_per_view_keeps_the_protocols_crop_shared_or_drawn_per_view():
    x, crop = _x(), build("crop(flip_p=0)")
    shared = make_views(x, ViewPipelines(Add(0.1), Add(0.3)), crop, "asymmetric", torch.Generator().manual_seed(1))
    torch.testing.assert_close(shared[0] - 0.1, shared[1] - 0.3)  # one crop, two pipelines
    own = make_views(x, ViewPipelines(Add(0.1), Add(0.3)), crop, "symmetric", torch.Generator().manual_seed(1))
    assert not torch.allclose(own[0] - 0.1, own[1] - 0.3)


def test_one_pipeline_is_as_before_and_the_same_pair_is_symmetric():
    x, op = _x(), build(["crop", "color"])
    # ViewPipelines(op, op) under symmetric draws exactly what one pipeline does
    a = make_views(x, op, None, "symmetric", torch.Generator().manual_seed(3))
    b = make_views(x, ViewPipelines(op, op), None, "symmetric", torch.Generator().manual_seed(3))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    # ViewPipelines(op, None) under asymmetric is the Figure-5 protocol
    c = make_views(x, op, None, "asymmetric", torch.Generator().manual_seed(3))
    d = make_views(x, ViewPipelines(op, None), None, "asymmetric", torch.Generator().manual_seed(3))
    assert torch.equal(c[0], d[0]) and torch.equal(c[1], d[1]) and torch.equal(c[1], x)


def test_single_view_takes_the_first_views_pipeline():
    x = _x()
    torch.testing.assert_close(make_view(x, ViewPipelines(Add(0.1), Add(0.3)), None, torch.Generator()), x + 0.1)


def test_view2_is_in_the_cell_id_only_when_set():
    plain = CellConfig(pipeline=["crop"])
    assert "view2" not in plain.canonical()
    assert CellConfig(pipeline=["crop"], view2=None).cell_id() == plain.cell_id()
    same_as_view1 = CellConfig(pipeline=["crop"], view2=["crop"])
    assert same_as_view1.cell_id() != plain.cell_id()
    assert CellConfig(pipeline=["crop"], view2=["crop", "blur"]).cell_id() != same_as_view1.cell_id()


def _spec(grid, **over):
    return {"name": "t", "protocol": {"name": "symmetric", "base_crop": None}, "grid": grid, **over}


def test_list_grid_takes_per_view_entries_and_a_baseline():
    s = validate_spec(_spec({"kind": "list", "baseline": "full", "pipelines": {
        "full": {"view1": ["crop", "blur(p=1.0)"], "view2": ["crop", "blur(p=0.1)", "solarize(p=0.2)"]},
        "crop only": ["crop"]}}))
    full, crop = expand(s)
    assert full.config.pipeline == ["crop", "blur"] and full.config.view2 == ["crop", "blur(p=0.1)", "solarize(p=0.2)"]
    assert full.labels()["policy"] == "crop | blur // crop | blur(p=0.1) | solarize(p=0.2)"
    assert crop.config.view2 is None and crop.labels()["policy"] == "crop"
    assert s.grid.describe() == {"kind": "list", "labels": ["full", "crop only"], "baseline": "full"}
    # a plain list grid describes itself as before
    plain = validate_spec(_spec({"kind": "list", "pipelines": {"a": ["crop"]}}))
    assert plain.grid.describe() == {"kind": "list", "labels": ["a"]}


@pytest.mark.parametrize("grid, message", [
    ({"kind": "list", "pipelines": {"a": {"view1": ["crop"]}}},
     "grid.pipelines: entry 'a': a per-view entry has exactly the keys view1 and view2"),
    ({"kind": "list", "pipelines": {"a": {"view1": ["crop"], "view2": ["blurr"]}}},
     "grid.pipelines['a'].view2: unknown operator 'blurr' (did you mean 'blur'?)"),
    ({"kind": "list", "pipelines": {"a": {"view1": "crop", "view2": []}}},
     "grid.pipelines.a.view1: got 'crop'; input should be a valid list"),
    ({"kind": "list", "pipelines": {"a": "crop"}}, "grid.pipelines: entry 'a': got 'crop'; give a list of operators"),
    ({"kind": "list", "pipelines": {"a": ["crop"]}, "baseline": "full"},
     "grid.baseline 'full' is not a label of grid.pipelines; one of: 'a'"),
])
def test_bad_per_view_entries_give_one_line(grid, message):
    with pytest.raises(SpecError) as e:
        validate_spec(_spec(grid))
    assert message in str(e.value) and "\n" not in str(e.value)


def test_a_per_view_cell_trains():
    cfg = {"pipeline": ["crop(flip_p=0)", "blur"], "view2": ["crop(flip_p=0)", "solarize(p=0.5)"],
           "protocol": {"name": "symmetric", "base_crop": None},
           "dataset": {"name": "synthetic", "params": {"n_train": 128, "n_test": 64, "size": 16}},
           "model": {"encoder": "resnet-tiny", "encoder_params": {"widths": [8, 16], "blocks": [1, 1]}},
           "training": {"epochs": 1, "batch_size": 64, "threads": 1}, "evaluation": {"knn": False}}
    r = run_cell(cfg)
    assert r.status == "done" and 0 <= r.linear_top1 <= 100
    with pytest.raises(KeyError, match="solarise"):
        run_cell({**cfg, "view2": ["solarise"]})
