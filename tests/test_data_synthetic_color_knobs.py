"""``palette_hue_spread`` (one hue family per image) and ``texture_chroma`` (isoluminant texture) of ``synthetic``."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from augstudy.data import load
from augstudy.data.synthetic import SyntheticParams, _hsv, _isoluminant_opponent, _luma, _palettes

KW = dict(n_train=64, n_test=16, cache=False, class_cue="texture", noise=0.0)


def test_knobs_validated():
    for key, bad in (("palette_hue_spread", -0.1), ("palette_hue_spread", 1.5), ("texture_chroma", 2.0)):
        with pytest.raises(ValueError, match=key):
            load("synthetic", **{**KW, key: bad})


def test_defaults_leave_the_arrays_and_cache_key_unchanged():
    a = load("synthetic", **KW)
    b = load("synthetic", palette_hue_spread=1.0, texture_chroma=0.0, **KW)
    assert torch.equal(a.train.images, b.train.images) and torch.equal(a.test.images, b.test.images)
    assert "palette_hue_spread" not in a.info["params"] and "texture_chroma" not in a.info["params"]
    # the knobs change pixels only when switched on, and leave the labels alone
    c = load("synthetic", palette_hue_spread=0.1, **KW)
    d = load("synthetic", texture_chroma=1.0, **KW)
    for x in (c, d):
        assert not torch.equal(a.train.images, x.train.images)
        assert torch.equal(a.train.labels, x.train.labels)


def _hue(rgb: np.ndarray) -> np.ndarray:
    mx, mn = rgb.max(-1), rgb.min(-1)
    c = np.maximum(mx - mn, 1e-9)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    h = np.where(mx == r, ((g - b) / c) % 6, np.where(mx == g, (b - r) / c + 2, (r - g) / c + 4))
    return h / 6


def test_hue_spread_puts_every_palette_color_in_one_hue_family():
    p = SyntheticParams(palette_strength=1.0, palette_hue_spread=0.1, class_color=0.0)
    pal = _palettes(p, np.random.default_rng(0), np.arange(200) % 10)
    colors = np.concatenate([pal["bg"][:, None], pal["bg2"][:, None], pal["clutter"], pal["object"][:, None]], 1)
    h = _hue(colors)  # [B, 6]
    d = np.abs(((h - h[:, :1]) + 0.5) % 1.0 - 0.5)  # circular hue distance to the background's hue
    assert d.max() <= 0.1 + 1e-6
    # and the family itself varies from image to image
    assert np.ptp(h[:, 0]) > 0.5
    q = SyntheticParams(palette_strength=1.0, class_color=0.0)
    pal = _palettes(q, np.random.default_rng(0), np.arange(200) % 10)
    h = _hue(np.concatenate([pal["bg"][:, None], pal["bg2"][:, None], pal["clutter"]], 1))
    assert np.abs(((h - h[:, :1]) + 0.5) % 1.0 - 0.5).max() > 0.3  # default: independent hues


def test_isoluminant_opponent_keeps_luma_and_changes_color():
    rng = np.random.default_rng(1)
    c = _hsv(rng.random(500), rng.uniform(0, 1, 500), rng.uniform(0.1, 0.9, 500))
    o = _isoluminant_opponent(c, rng.random(500))
    assert np.allclose(_luma(o), _luma(c), atol=1e-6)
    assert ((o >= 0) & (o <= 1)).all()
    assert np.median(np.abs(o - c).max(1)) > 0.2


def test_texture_chroma_moves_texture_contrast_from_luma_to_chroma():
    kw = {**KW, "clutter": False, "palette_strength": 1.0, "texture_contrast": 1.0, "class_color": 0.0}
    p_lum, p_chr = SyntheticParams(**{k: v for k, v in kw.items() if k != "cache"}), None
    p_chr = p_lum.model_copy(update={"texture_chroma": 1.0})
    labels = np.arange(300) % 10
    lum = _palettes(p_lum, np.random.default_rng(2), labels)
    chr_ = _palettes(p_chr, np.random.default_rng(2), labels)
    assert np.allclose(lum["object"], chr_["object"])
    dy_lum = np.abs(_luma(lum["second"]) - _luma(lum["object"]))
    dy_chr = np.abs(_luma(chr_["second"]) - _luma(chr_["object"]))
    assert dy_lum.mean() > 0.3 and dy_chr.max() < 1e-6  # the pattern is isoluminant: invisible in grey
    assert np.abs(chr_["second"] - chr_["object"]).max(1).mean() > 0.15  # but visible in color
