"""Sampled parameter distributions, over >= 2,000 draws."""
import math

import torch

from augstudy import ops
from augstudy.ops.geometric import crop_boxes

N = 4000


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_crop_areas_and_aspect_ratios():
    op = ops.build("crop")
    p = op.sample_params(N, gen(), torch.device("cpu"))
    # the raw draws: area U[0.08, 1], log-ratio U[log 3/4, log 4/3]
    assert abs(p["scale"].mean().item() - 0.54) < 0.01
    assert p["scale"].min() >= 0.08 and p["scale"].max() <= 1.0
    lr = p["log_ratio"]
    assert lr.min() >= math.log(3 / 4) and lr.max() <= math.log(4 / 3)
    assert abs(lr.mean().item()) < 0.005 and abs(lr.std().item() - (2 * math.log(4 / 3)) / math.sqrt(12)) < 0.005
    # the accepted boxes on a 224 x 224 image
    box = crop_boxes(p, 224, 224, (3 / 4, 4 / 3)).float()
    top, left, h, w = box.unbind(1)
    area = h * w / 224**2
    assert area.min() >= 0.075 and area.max() <= 1.0
    assert 0.45 < area.mean().item() < 0.56  # slightly below 0.54: big, elongated draws are rejected
    ratio = w / h
    assert ratio.min() >= 0.74 and ratio.max() <= 1.35
    assert (top >= 0).all() and (left >= 0).all() and (top + h <= 224).all() and (left + w <= 224).all()
    assert abs(p["flip"].float().mean().item() - 0.5) < 0.03
    # positions are uniform: centres spread over the image
    cx = (left + w / 2) / 224
    assert abs(cx.mean().item() - 0.5) < 0.02


def test_color_application_rates():
    op = ops.build("color")
    p = op.sample_params(N, gen(), torch.device("cpu"))
    assert abs(p["jitter"].float().mean().item() - 0.8) < 0.025
    assert abs(p["drop"].float().mean().item() - 0.2) < 0.025
    jittered = p["jitter"]
    assert (p["brightness"][~jittered] == 1).all() and (p["hue"][~jittered] == 0).all()
    b = p["brightness"][jittered]
    assert b.min() >= 0.2 - 1e-6 and b.max() <= 1.8 and abs(b.mean().item() - 1.0) < 0.02
    h = p["hue"][jittered]
    assert h.min() >= -0.2 and h.max() <= 0.2
    # every one of the 24 orders occurs, about equally often
    codes = (p["order"] * torch.tensor([64, 16, 4, 1])).sum(1)
    counts = torch.unique(codes, return_counts=True)[1]
    assert len(counts) == 24 and counts.min() > N / 24 * 0.7


def test_color_rates_observed_on_images():
    # an image of saturated colour: grayscale output iff dropped
    x = torch.zeros(N, 3, 4, 4)
    x[:, 0] = 1.0
    y = ops.build("color")(x, gen(1))
    grey = (y[:, 0] - y[:, 1]).abs().amax((1, 2)) < 1e-6
    assert abs(grey.float().mean().item() - 0.2) < 0.025


def test_strength_scales_ranges():
    p = ops.build("color(strength=0.5)").sample_params(N, gen(), torch.device("cpu"))
    j = p["jitter"]
    assert p["saturation"][j].min() >= 0.6 - 1e-6 and p["saturation"][j].max() <= 1.4
    assert p["hue"].abs().max() <= 0.1


def test_blur_sigma_and_rate():
    p = ops.build("blur(p=0.5)").sample_params(N, gen(), torch.device("cpu"))
    assert p["sigma"].min() >= 0.1 and p["sigma"].max() <= 2.0 and abs(p["sigma"].mean().item() - 1.05) < 0.03
    assert abs(p["apply"].float().mean().item() - 0.5) < 0.03


def test_rotate_angles_uniform():
    k = ops.build("rotate").sample_params(3000, gen(), torch.device("cpu"))["k"]
    counts = torch.bincount(k, minlength=4)
    assert counts[0] == 0 and counts[1:].min() > 900
