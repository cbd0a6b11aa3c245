"""Bad input: each error is one line naming the key or value and what is valid."""
import pytest
import torch

from augstudy import ops


def gen():
    return torch.Generator().manual_seed(0)


def test_unknown_op_lists_names_and_suggests():
    with pytest.raises(KeyError) as e:
        ops.build("colr")
    msg = e.value.args[0]
    assert "unknown operator 'colr' (did you mean 'color'?)" in msg
    assert "registered: blur, color, color_drop" in msg and "\n" not in msg


def test_unknown_param_names_operator_and_lists_params():
    with pytest.raises(ValueError, match=r"operator 'color' has no param 'strenght'; its params are: strength, jitter_p, drop_p"):
        ops.build("color(strenght=0.5)")
    with pytest.raises(ValueError, match=r"operator 'blur' has no param 'sigma'"):
        ops.build({"op": "blur", "sigma": 1.0})


@pytest.mark.parametrize("spec,msg", [
    ("color(strength=5)", r"operator 'color' param strength=5: must be in \[0, 2.5\]"),
    ("color(strength=-1)", r"operator 'color' param strength=-1: must be in \[0, 2.5\]"),
    ("blur(p=1.5)", r"operator 'blur' param p=1.5: must be in \[0, 1\]"),
    ("crop(scale_min=0)", r"operator 'crop' param scale_min=0: must be in \(0, 1\]"),
    ("crop(scale_min=0.9, scale_max=0.5)", r"operator 'crop': scale_min=0.9 must be <= scale_max=0.5"),
    ("rotate(angles=(45,))", r"operator 'rotate': angles=\[45\]: 45 is not one of 0, 90, 180, 270"),
    ("color(strength='high')", r"operator 'color' param strength='high': Input should be a valid number"),
])
def test_out_of_range_or_wrong_type_params(spec, msg):
    with pytest.raises(ValueError, match=msg):
        ops.build(spec)


@pytest.mark.parametrize("spec,msg", [
    ("color(0.5)", r"cannot parse the params of operator spec 'color\(0.5\)'; write keyword literals"),
    ("color(strength=abs)", "cannot parse the params"),
    ("col-or", "cannot parse operator spec 'col-or'"),
    ({"strength": 0.5}, "needs an 'op' key"),
])
def test_unparseable_specs(spec, msg):
    with pytest.raises(ValueError, match=msg):
        ops.build(spec)


@pytest.mark.parametrize("x,msg", [
    (torch.rand(3, 32, 32), r"crop: expected a float32 batch \[B, 3, H, W\], got shape \(3, 32, 32\)"),
    (torch.rand(2, 1, 32, 32), r"got shape \(2, 1, 32, 32\)"),
    ((torch.rand(2, 3, 8, 8) * 255).to(torch.uint8), r"crop: expected dtype float32 in \[0, 1\], got torch.uint8"),
    (torch.rand(2, 3, 8, 8, dtype=torch.float64), "got torch.float64"),
    (torch.linspace(0, 255, 384).reshape(2, 3, 8, 8), r"crop: expected values in \[0, 1\], got \[0, 255\]; divide 0-255 values by 255$"),
    (torch.linspace(-0.5, 0.5, 384).reshape(2, 3, 8, 8), r"expected values in \[0, 1\], got \[-0.5, 0.5\]$"),
    ([[1.0]], "expected a torch.Tensor, got list"),
])
def test_bad_tensors(x, msg):
    with pytest.raises((ValueError, TypeError), match=msg):
        ops.build("crop")(x, gen())


def test_compose_checks_input_and_needs_generator():
    with pytest.raises(ValueError, match=r"crop \+ color: expected a float32 batch"):
        ops.build(["crop", "color"])(torch.rand(3, 8, 8), gen())
    with pytest.raises(ValueError, match=r"operator 'color' needs an explicit torch.Generator"):
        ops.build("color")(torch.rand(2, 3, 8, 8))


def test_blur_kernel_larger_than_image():
    with pytest.raises(ValueError, match=r"blur: kernel size 3 is too large for images of size \(1, 1\)"):
        ops.build("blur")(torch.rand(2, 3, 1, 1), gen())
    assert ops.build("blur(kernel_fraction=1.0)")(torch.rand(2, 3, 8, 8), gen()).shape == (2, 3, 8, 8)


def test_decorator_rejects_bad_names_and_objects():
    with pytest.raises(ValueError, match="operator name 'my op' must be an identifier"):
        ops.operator("my op")
    with pytest.raises(TypeError, match=r"@operator\('x'\) needs an Operator subclass, got int"):
        ops.operator("x")(int)
