"""``class_cue="texture_polarity"`` of ``synthetic``: class = (pattern, luminance polarity of the pattern)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from augstudy.data import load
from augstudy.data.synthetic import SyntheticParams, _luma, _palettes, class_names

KW = dict(n_train=100, n_test=20, cache=False, noise=0.0)


def test_names_and_limits():
    names = class_names(10, "texture_polarity")
    assert len(set(names)) == 10 and names[:2] == ["dots-light", "dots-dark"]
    with pytest.raises(ValueError, match="num_classes"):
        load("synthetic", class_cue="texture_polarity", num_classes=11, **KW)
    d = load("synthetic", class_cue="texture_polarity", **KW)
    assert d.classes == names


def test_other_cues_unchanged_by_the_new_cue():
    a = load("synthetic", class_cue="texture", **KW)
    b = load("synthetic", class_cue="texture", **KW)
    assert torch.equal(a.train.images, b.train.images)
    c = load("synthetic", class_cue="texture_polarity", **KW)
    assert torch.equal(a.train.labels, c.train.labels)
    # same palette and clutter streams: the corners (mostly background) agree for most images
    corner = (a.train.images[:, :, :3, :3].float() - c.train.images[:, :, :3, :3].float()).abs().amax((1, 2, 3))
    assert (corner <= 2).float().mean() > 0.5


@pytest.mark.parametrize("contrast", [0.5, 1.0])
def test_even_classes_have_the_lighter_pattern(contrast):
    p = SyntheticParams(class_cue="texture_polarity", texture_contrast=contrast)
    labels = np.arange(400) % 10
    pal = _palettes(p, np.random.default_rng(3), labels)
    lighter = _luma(pal["second"]) > _luma(pal["object"])  # "second" paints the pattern
    assert (lighter == (labels % 2 == 0)).all()
    # the per-image colors are still the texture palette's, only which one paints the pattern depends on class
    q = SyntheticParams(class_cue="texture", texture_contrast=contrast)
    ref = _palettes(q, np.random.default_rng(3), labels)
    pairs = np.sort(np.stack([pal["object"], pal["second"]], 1), 1)
    assert np.allclose(pairs, np.sort(np.stack([ref["object"], ref["second"]], 1), 1))
