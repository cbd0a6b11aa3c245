"""The ``class_cue`` factor of ``synthetic``: class = texture alone on a per-image, class-free silhouette."""
from __future__ import annotations

import pytest
import torch

from augstudy.data import load
from augstudy.data.synthetic import class_names

KW = dict(n_train=120, n_test=20, cache=False, clutter=False, noise=0.0, palette=False, class_color=0.0)
BG = torch.tensor([0.45 * 255] * 3).view(1, 3, 1, 1)


def _masks(x: torch.Tensor) -> torch.Tensor:
    return (x.float() - BG).abs().amax(1) > 10  # object pixels on the fixed plain background


def test_texture_cue_names_the_textures_and_keeps_labels():
    shape, tex = load("synthetic", **KW), load("synthetic", class_cue="texture", **KW)
    assert tex.classes == class_names(10, "texture") and len(set(tex.classes)) == 10
    assert tex.classes[:4] == ["solid", "stripes", "checker", "dots"]
    assert torch.equal(shape.train.labels, tex.train.labels)  # labels drawn before and apart from the cue


def test_texture_cue_draws_silhouettes_independent_of_class():
    kw = {**KW, "texture": False, "rotation": False, "position_jitter": 0.0, "object_scale": [0.6, 0.6]}
    by_shape = load("synthetic", **kw).train
    by_texture = load("synthetic", class_cue="texture", **kw).train
    # Shape cue, no pose randomness: every image of a class has the same silhouette.
    for c in range(3):
        m = _masks(by_shape.images[by_shape.labels == c])
        assert (m == m[0]).all()
    # Texture cue: one class shows many silhouettes, and textures off leaves nothing that tells the class.
    m = _masks(by_texture.images[by_texture.labels == 0])
    assert len({tuple(x.flatten().tolist()) for x in m}) >= 5


def test_texture_cue_leaves_the_background_factors_alone():
    kw = {**KW, "clutter": True, "palette": True}
    a, b = load("synthetic", **kw).train.images, load("synthetic", class_cue="texture", **kw).train.images
    # Same palette and clutter streams: the image corners (mostly background) agree for most images.
    corner = (a[:, :, :3, :3].float() - b[:, :, :3, :3].float()).abs().amax((1, 2, 3))
    assert (corner <= 2).float().mean() > 0.5
    assert not torch.equal(a, b)


def test_texture_cue_limits_classes():
    with pytest.raises(ValueError, match="num_classes"):
        load("synthetic", class_cue="texture", num_classes=11, **KW)
    with pytest.raises(ValueError, match="class_cue"):
        load("synthetic", class_cue="colour", **KW)
