"""Agreement with reference implementations at fixed params (max abs diff <= 2/255)."""
import pytest
import torch
import torchvision.transforms.v2.functional as TF

from augstudy import ops
from augstudy.ops.color import adjust_hue, color_drop, color_jitter
from augstudy.ops.cpu_kernels import color_distort_cpu

TOL = 2 / 255


def images(b=6, h=40, w=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(b, 3, h, w, generator=g)


def jitter_params(b, **factors):
    p = {"brightness": torch.ones(b), "contrast": torch.ones(b), "saturation": torch.ones(b),
         "hue": torch.zeros(b), "order": torch.arange(4).expand(b, 4), "jitter": torch.ones(b, dtype=torch.bool)}
    p.update({k: torch.as_tensor(v, dtype=torch.float32) for k, v in factors.items()})
    return p


def jitter_kernel(x, p):
    """The CPU path of the color ops: the compiled one-pass kernel."""
    return ops.build("color_jitter").apply(x, p)


#: Both implementations of the jitter: the CPU kernel and the tensor rounds (used on other devices).
JITTERS = pytest.mark.parametrize("jitter", [jitter_kernel, color_jitter], ids=["cpu-kernel", "tensor"])


def hue_kernel(x, shifts):
    b = x.shape[0]
    return color_distort_cpu(x, torch.ones(b, 3), shifts, torch.arange(4).expand(b, 4), torch.zeros(b, dtype=torch.bool))


@JITTERS
@pytest.mark.parametrize("name,ref", [("brightness", TF.adjust_brightness), ("contrast", TF.adjust_contrast),
                                      ("saturation", TF.adjust_saturation), ("hue", TF.adjust_hue)])
def test_color_jitter_factors_match_torchvision(jitter, name, ref):
    x = images()
    values = [-0.5, -0.2, 0.05, 0.3, 0.5, 0.0] if name == "hue" else [0.0, 0.2, 0.7, 1.0, 1.4, 1.8]
    y = jitter(x, jitter_params(6, **{name: values}))
    for i, v in enumerate(values):
        assert (ref(x[i], v) - y[i]).abs().max() <= TOL, (name, v)


@pytest.mark.parametrize("hue_fn", [hue_kernel, adjust_hue], ids=["cpu-kernel", "tensor"])
def test_hue_on_uint8_levels_and_greys(hue_fn):
    x = (images(8, h=48, w=40) * 255).round() / 255
    x[0] = 0.5  # grey: hue undefined, must stay grey
    x[1, 1] = x[1, 0]  # ties between max channels
    shifts = torch.linspace(-0.5, 0.5, 8)
    y = hue_fn(x, shifts)
    assert y.shape == x.shape and y.dtype == x.dtype
    for i in range(8):
        assert (TF.adjust_hue(x[i], float(shifts[i])) - y[i]).abs().max() <= TOL


def test_hue_implementations_agree_on_wrapping_shifts():
    x = images(16, h=32, w=32, seed=3)
    shifts = torch.linspace(-0.5, 0.5, 16)  # hue + shift crosses 0 and 360 degrees
    assert (hue_kernel(x, shifts) - adjust_hue(x, shifts)).abs().max() <= 1e-4


def test_cpu_kernels_matches_tensor_path_on_random_params():
    """The whole color op, random factors, orders, hue rounds and drops: both implementations agree."""
    x = images(64, h=32, w=32, seed=5)
    op = ops.build("color(strength=1.5)")
    p = op.sample_params(64, torch.Generator().manual_seed(1), torch.device("cpu"))
    assert p["drop"].any() and (~p["jitter"]).any()
    ref = color_drop(color_jitter(x, p), p["drop"])
    assert (op.apply(x, p) - ref).abs().max() <= 1e-4


@JITTERS
def test_jitter_order_is_respected(jitter):
    x = images(2)
    p = jitter_params(2, brightness=[1.8, 1.8], contrast=[0.3, 0.3])
    p["order"] = torch.tensor([[0, 1, 2, 3], [1, 0, 2, 3]])
    y = jitter(x, p)
    bc = TF.adjust_contrast(TF.adjust_brightness(x[0], 1.8), 0.3)
    cb = TF.adjust_brightness(TF.adjust_contrast(x[1], 0.3), 1.8)
    assert (y[0] - bc).abs().max() <= TOL and (y[1] - cb).abs().max() <= TOL
    assert (bc - TF.adjust_brightness(TF.adjust_contrast(x[0], 0.3), 1.8)).abs().max() > 0.05


def test_color_drop_matches_torchvision_grayscale():
    x = images()
    y = ops.build("color_drop").apply(x, {"drop": torch.ones(6, dtype=torch.bool)})
    ref = TF.rgb_to_grayscale(x, num_output_channels=3)
    assert (y - ref).abs().max() <= TOL


@pytest.mark.parametrize("size,sigmas", [(32, [0.1, 0.5, 1.0, 2.0]), (224, [0.3, 2.0])])
def test_blur_matches_torchvision_gaussian_blur(size, sigmas):
    x = images(len(sigmas), size, size)
    op = ops.build("blur")
    k = 3 if size == 32 else 23
    y = op.apply(x, {"sigma": torch.tensor(sigmas), "apply": torch.ones(len(sigmas), dtype=torch.bool)})
    for i, s in enumerate(sigmas):
        ref = TF.gaussian_blur(x[i], [k, k], [s, s])
        assert (ref - y[i]).abs().max() <= TOL


def test_blur_kernel_size_rule():
    from augstudy.ops.filters import blur_kernel_size

    assert [blur_kernel_size(s) for s in (8, 32, 64, 96, 224)] == [3, 3, 7, 9, 23]


def test_rotate_matches_rot90():
    x = images(6, 32, 32)
    k = torch.tensor([1, 2, 3, 0, 3, 1])
    y = ops.build("rotate").apply(x, {"k": k})
    for i in range(6):
        assert torch.equal(y[i], torch.rot90(x[i], int(k[i]), dims=(1, 2)))


def test_rotate_non_square_keeps_shape():
    x = images(3, 40, 32)
    y = ops.build("rotate").apply(x, {"k": torch.tensor([1, 2, 3])})
    assert y.shape == x.shape and torch.equal(y[1], torch.rot90(x[1], 2, dims=(1, 2)))


def test_crop_fixed_box_matches_resized_crop():
    x = images(4, 40, 32)
    box = torch.tensor([[3, 5, 20, 17], [0, 0, 40, 32], [10, 2, 7, 30], [1, 1, 33, 9]])
    flip = torch.tensor([False, False, True, False])
    y = ops.build("crop").apply(x, {"box": box, "flip": flip})
    for i in range(4):
        t, l, h, w = box[i].tolist()
        ref = TF.resized_crop(x[i], t, l, h, w, [40, 32], antialias=True)
        ref = ref.flip(-1) if flip[i] else ref
        assert (ref - y[i]).abs().max() <= TOL


def test_flip_and_cutout_and_sobel_at_fixed_params():
    x = images(2, 32, 32)
    y = ops.build("flip").apply(x, {"flip": torch.tensor([True, False])})
    assert torch.equal(y[0], x[0].flip(-1)) and torch.equal(y[1], x[1])
    c = ops.build("cutout(size=0.25)").apply(x, {"cy": torch.tensor([0.5, 0.0]), "cx": torch.tensor([0.5, 0.0]),
                                                  "apply": torch.tensor([True, True])})
    assert (c[0, :, 12:20, 12:20] == 0).all() and (c[0, :, :12] == x[0, :, :12]).all()
    assert (c[1, :, :4, :4] == 0).all() and (c[1, :, 4:, :] == x[1, :, 4:, :]).all()
    edge = torch.zeros(1, 3, 16, 16)
    edge[..., 8:] = 1.0
    s = ops.build("sobel").apply(edge, {"apply": torch.tensor([True])})
    assert s[0, 0, :, 7:9].min() == 1.0 and s[0, :, :, :6].max() == 0 and torch.equal(s[0, 0], s[0, 2])


def test_noise_std():
    x = torch.full((4, 3, 64, 64), 0.5)
    y = ops.build("noise").apply(x, {"std": torch.tensor([0.0, 0.05, 0.1, 0.15]), "seed": 0})
    assert torch.equal(y[0], x[0])
    for i, s in enumerate([0.05, 0.1, 0.15], 1):
        assert abs((y[i] - 0.5).std().item() - s) < 0.01


def test_cpu_kernels_takes_any_memory_layout_and_leaves_input_alone():
    x = images(8, h=32, w=32, seed=7)
    before = x.clone()
    op = ops.build("color")
    p = op.sample_params(8, torch.Generator().manual_seed(2), torch.device("cpu"))
    y = op.apply(x, p)
    assert torch.equal(x, before)
    assert torch.equal(op.apply(x.contiguous(memory_format=torch.channels_last), p), y)


def test_crop_kernel_matches_grid_sample_path():
    """The CPU kernel and the grid_sample path (other devices) agree on random boxes and flips."""
    from augstudy.ops.geometric import crop_boxes, resized_crop_grid

    x = images(32, 40, 28, seed=11)
    op = ops.build("crop")
    p = op.sample_params(32, torch.Generator().manual_seed(4), torch.device("cpu"))
    assert p["flip"].any() and (~p["flip"]).any()
    ref = resized_crop_grid(x, crop_boxes(p, 40, 28), p["flip"])
    assert (op.apply(x, p) - ref).abs().max() <= 1e-5


@pytest.mark.parametrize("hue_fn", [hue_kernel, adjust_hue], ids=["cpu-kernel", "tensor"])
def test_hue_shift_just_below_zero_keeps_pure_colors(hue_fn):
    """A tiny negative shift wraps a hue of 0 to just below one turn (float rounding may give exactly one)."""
    x = torch.zeros(3, 3, 4, 4)
    for i in range(3):
        x[i, i] = 1.0  # pure red, green, blue
    y = hue_fn(x, torch.full((3,), -1e-9))
    assert (y - x).abs().max() <= 1e-5
