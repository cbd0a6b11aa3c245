"""``texture_scale_spread`` of ``synthetic``: a per-image texture period factor (off by default)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from augstudy.data import load

KW = dict(n_train=64, n_test=16, cache=False, class_cue="texture", noise=0.0, clutter=False, palette=False)


def test_validated():
    for bad in (-0.5, 3.5):
        with pytest.raises(ValueError, match="texture_scale_spread"):
            load("synthetic", **{**KW, "texture_scale_spread": bad})


def test_default_leaves_the_arrays_and_cache_key_unchanged():
    a = load("synthetic", **KW)
    b = load("synthetic", texture_scale_spread=0.0, **KW)
    assert torch.equal(a.train.images, b.train.images) and torch.equal(a.test.images, b.test.images)
    assert "texture_scale_spread" not in a.info["params"]
    c = load("synthetic", texture_scale_spread=1.5, **KW)
    assert c.info["params"]["texture_scale_spread"] == 1.5
    assert not torch.equal(a.train.images, c.train.images)
    assert torch.equal(a.train.labels, c.train.labels)


def _edge_density(images: torch.Tensor) -> np.ndarray:
    """Mean absolute horizontal + vertical luminance step per image: higher for finer patterns."""
    y = images.float().mean(1)
    return ((y[:, :, 1:] - y[:, :, :-1]).abs().mean((1, 2)) + (y[:, 1:] - y[:, :-1]).abs().mean((1, 2))).numpy()


def test_spread_makes_the_pattern_coarser_and_its_scale_per_image():
    kw = {**KW, "n_train": 200}
    a = load("synthetic", **kw)
    c = load("synthetic", texture_scale_spread=2.0, **kw)
    fine = a.train.labels.numpy() == 4  # fine stripes: a textured class, drawn on the same objects in a and c
    da, dc = _edge_density(a.train.images)[fine], _edge_density(c.train.images)[fine]
    assert dc.mean() < 0.8 * da.mean()  # coarser on average
    assert np.std(dc / da) > 0.05  # by a factor that varies from image to image
