"""``synthetic``: the embedded, procedural default dataset (offline, deterministic, cached).

Each image is an object on a cluttered background, drawn with OpenCV at twice the output size and
area-downsampled (anti-aliasing). The generative factors mimic the shortcuts that natural images offer
contrastive learning (SimCLR, Chen et al. 2020, section 3), and each has a switch so the dataset itself
can be ablated:

* **class = object identity**: a shape (disc, triangle, square, cross, ring, star, crescent, dumbbell,
  three dots, T, ...) with a surface texture (solid, stripes, checker, dots) at a random position,
  scale and orientation. Multi-part classes (dumbbell, three dots) make class an arrangement of parts.
  Shapes are scaled to about equal area, so object size says nothing about class.
  Knobs: ``texture`` / ``texture_contrast``, ``object_scale``, ``position_jitter``, ``rotation``.
* **which cue carries the class** (``class_cue``): ``"shape"`` (the default, above) or ``"texture"``: the
  class is the surface pattern alone (solid, stripes, checker, dots, fine stripes, fine checker, big dots,
  grid, rings, zigzag; up to 10 classes) and the silhouette is drawn per image from the 16 shapes,
  independent of class (its own random stream). Then the object's outline is one more piece of class-free
  pixel layout, and the class is visible in any patch of the object: what survives a random crop. The
  shipped studies use ``"texture"`` (calibrated against the paper's Figure 5, BENCHMARKS.md "Reproduction").
  ``"texture_polarity"``: the class is a pattern (dots, big dots, grid, thin stripes, thin rings: small duty
  cycles, so the two polarities look different) *and its luminance polarity*: class 2k paints the pattern in
  the lighter of the object's two colors, class 2k + 1 in the darker (the colors themselves stay per-image
  and class-free). Half of the class is then information that luminance order keeps (brightness, contrast,
  saturation, hue jitter and grayscale all preserve it) and an edge-magnitude image does not: the "shading"
  that natural images carry and Sobel filtering discards.
* **per-image palette** (``palette``, ``palette_strength``): background, clutter and object colors are
  drawn per image, independent of class, so two crops of one image match by color histogram alone:
  the shortcut that color distortion removes (paper section 3.2). Off: every image uses one fixed palette.
  ``palette_hue_spread`` (1 = independent hues): below 1, all of an image's palette hues lie within
  +-spread/2 of one per-image hue (one hue family), so the palette has no hue *differences* that survive a
  global hue rotation; the family's hue is still per-image.
* **per-image background structure** (``clutter``, ``clutter_amount``, ``clutter_contrast``): a
  low-frequency two-tone field, random lines and blobs, laid out per image and unrelated to class, so
  two uncropped views match by pixel layout alone: the shortcut that cropping removes.
* **weak class-color correlation** (``class_color``): the fraction of images whose object color is
  drawn near a per-class hue, so color carries a little label information (why supervised learning does
  not gain from strong color distortion, the paper's Table 1). 0 makes color carry none.
* **chromatic texture** (``texture_chroma``, 0 = off): the fraction of the texture's contrast moved from
  luminance to chroma: at 1 the pattern's second color has the object's luma and the opposite chroma
  (isoluminant, invisible in a grey image), at 0 it is the object's color moved toward black or white.
* **texture scale spread** (``texture_scale_spread``, octaves, 0 = off): the texture's period is multiplied
  by a per-image factor ``2 ** (spread * u)``, u ~ U[0, 1] (its own random stream; coarser only, so fine
  patterns do not alias). At 0 each class pattern has one spatial frequency (+-15 %), so local edge
  statistics (what a random or barely trained encoder measures) give the class; with a spread, frequency
  is per-image and the class is the pattern's geometry (stripes, checker, dots, grid, rings, zigzag; duty
  cycle), a larger-scale feature that a random crop of the object still shows. Classes that differ only
  in scale (stripes / fine stripes, checker / fine checker) then overlap.
* ``noise``: per-pixel Gaussian noise (std in [0, 1] units).

Each factor draws from its own per-image random stream (seeded from ``seed``, the split and the image
index), so switching one factor off leaves the others exactly as they were, and the arrays do not
depend on how many workers generated them.
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Literal, Optional

import cv2
import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .base import Dataset, Split
from .cache import cached
from .registry import dataset
from ..errors import ParamsError

#: Bump whenever a change to this file changes the generated pixels (invalidates the cache).
GENERATOR_VERSION = "1"

_SHAPES = ("disc", "triangle", "square", "cross", "ring", "star", "crescent", "dumbbell", "three_dots",
           "tee", "hexagon", "bar", "arrow", "four_dots", "diamond", "letter_h")
_TEXTURES = ("solid", "stripes", "checker", "dots")
#: ``class_cue="texture"``: class = surface pattern only (the silhouette is drawn per image from _SHAPES).
_CLASS_TEXTURES = ("solid", "stripes", "checker", "dots", "fine_stripes", "fine_checker", "big_dots", "grid",
                   "rings", "zigzag")
#: ``class_cue="texture_polarity"``: class = (pattern, polarity): patterns whose light-on-dark and
#: dark-on-light versions differ (small duty cycle), each in both polarities (class 2k light, 2k + 1 dark).
_POLARITY_TEXTURES = ("dots", "big_dots", "grid", "thin_stripes", "thin_rings")
#: The first classes, chosen to be diverse at 32 px; further classes take the remaining combinations.
_CURATED = (("disc", "solid"), ("triangle", "stripes"), ("square", "checker"), ("cross", "solid"),
            ("ring", "solid"), ("star", "solid"), ("crescent", "stripes"), ("dumbbell", "solid"),
            ("three_dots", "solid"), ("tee", "dots"))

# Factor streams: each factor of a chunk of images draws from its own generator.
_OBJECT, _COLOR, _CLUTTER, _LABELS, _NOISE, _SILHOUETTE, _TEXTURE_SCALE = 1, 2, 3, 4, 5, 6, 7


class SyntheticParams(BaseModel):
    """The params of ``synthetic`` (validated; every one is part of the cache key)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    n_train: int = Field(4096, ge=1)
    n_test: int = Field(1000, ge=1)
    size: int = Field(32, ge=8, le=512)
    num_classes: int = Field(10, ge=2, le=len(_SHAPES) * len(_TEXTURES))
    seed: int = Field(0, ge=0)
    class_cue: Literal["shape", "texture", "texture_polarity"] = "shape"
    palette: bool = True
    palette_strength: float = Field(1.0, ge=0, le=1)
    palette_hue_spread: float = Field(1.0, ge=0, le=1)
    clutter: bool = True
    clutter_amount: float = Field(1.0, ge=0, le=10)
    clutter_contrast: float = Field(0.8, ge=0, le=1)
    class_color: float = Field(0.1, ge=0, le=1)
    texture: bool = True
    texture_contrast: float = Field(0.5, ge=0, le=1)
    texture_chroma: float = Field(0.0, ge=0, le=1)
    texture_scale_spread: float = Field(0.0, ge=0, le=3)
    object_scale: tuple[float, float] = (0.45, 0.8)
    position_jitter: float = Field(1.0, ge=0, le=1)
    rotation: bool = True
    noise: float = Field(0.02, ge=0, le=0.5)

    @model_validator(mode="after")
    def _texture_classes(self) -> "SyntheticParams":
        if self.class_cue == "texture" and self.num_classes > len(_CLASS_TEXTURES):
            raise ParamsError(f"class_cue='texture' has {len(_CLASS_TEXTURES)} classes; num_classes must be <= that")
        if self.class_cue == "texture_polarity" and self.num_classes > 2 * len(_POLARITY_TEXTURES):
            raise ParamsError(f"class_cue='texture_polarity' has {2 * len(_POLARITY_TEXTURES)} classes; "
                             "num_classes must be <= that")
        return self

    @field_validator("object_scale")
    @classmethod
    def _scale_range(cls, v: tuple[float, float]) -> tuple[float, float]:
        if not 0.05 <= v[0] <= v[1] <= 1.5:
            raise ParamsError("object_scale must be [low, high] with 0.05 <= low <= high <= 1.5")
        return v


#: Params added after generator version 1, with their defaults (which leave the pixels unchanged).
_LATER_KNOBS = {"palette_hue_spread": 1.0, "texture_chroma": 0.0, "texture_scale_spread": 0.0}


def class_names(num_classes: int, class_cue: str = "shape") -> list[str]:
    """Class names ``shape-texture`` (``class_cue="texture"``: the texture) for the first ``num_classes`` classes."""
    if class_cue == "texture":
        return list(_CLASS_TEXTURES[:num_classes])
    if class_cue == "texture_polarity":
        return [f"{_POLARITY_TEXTURES[c // 2]}-{'light' if c % 2 == 0 else 'dark'}" for c in range(num_classes)]
    return [f"{s}-{t}" if t != "solid" else s for s, t in _class_table()[:num_classes]]


@lru_cache(maxsize=1)
def _class_table() -> list[tuple[str, str]]:
    rest = [(s, t) for t in _TEXTURES for s in _SHAPES if (s, t) not in _CURATED]
    return list(_CURATED) + rest


# --------------------------------------------------------------------------------------------------
# Shapes: polygons in unit coordinates (the object's bounding radius is about 1), as (points, fill).
def _circle(cx: float, cy: float, r: float, n: int = 36) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.stack([cx + r * np.cos(t), cy + r * np.sin(t)], 1)


def _rect(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)


def _regular(n: int, r: float, phase: float = -np.pi / 2) -> np.ndarray:
    t = phase + np.arange(n) * 2 * np.pi / n
    return np.stack([r * np.cos(t), r * np.sin(t)], 1)


@lru_cache(maxsize=None)
def _shape_parts(name: str) -> tuple[tuple[np.ndarray, int], ...]:
    """``(polygon, value)`` pairs drawn in order (value 1 paints the object, 0 cuts a hole)."""
    if name == "disc":
        parts = [(_circle(0, 0, 0.8), 1)]
    elif name == "triangle":
        parts = [(_regular(3, 1.0) + [0, 0.2], 1)]
    elif name == "square":
        parts = [(_rect(-0.72, -0.72, 0.72, 0.72), 1)]
    elif name == "cross":
        parts = [(_rect(-0.95, -0.3, 0.95, 0.3), 1), (_rect(-0.3, -0.95, 0.3, 0.95), 1)]
    elif name == "ring":
        parts = [(_circle(0, 0, 0.95), 1), (_circle(0, 0, 0.55), 0)]
    elif name == "star":
        t = -np.pi / 2 + np.arange(10) * np.pi / 5
        r = np.where(np.arange(10) % 2 == 0, 1.0, 0.45)
        parts = [(np.stack([r * np.cos(t), r * np.sin(t)], 1), 1)]
    elif name == "crescent":
        parts = [(_circle(0, 0, 0.9), 1), (_circle(0.45, -0.1, 0.7), 0)]
    elif name == "dumbbell":
        parts = [(_circle(-0.62, 0, 0.38), 1), (_circle(0.62, 0, 0.38), 1), (_rect(-0.62, -0.13, 0.62, 0.13), 1)]
    elif name == "three_dots":
        parts = [(_circle(x, y, 0.36), 1) for x, y in _regular(3, 0.6)]
    elif name == "tee":
        parts = [(_rect(-0.9, -0.85, 0.9, -0.35), 1), (_rect(-0.25, -0.35, 0.25, 0.9), 1)]
    elif name == "hexagon":
        parts = [(_regular(6, 0.85, 0), 1)]
    elif name == "bar":
        parts = [(_rect(-1.0, -0.35, 1.0, 0.35), 1)]
    elif name == "arrow":
        parts = [(_rect(-0.95, -0.2, 0.2, 0.2), 1), (np.array([[0.1, -0.65], [0.95, 0], [0.1, 0.65]]), 1)]
    elif name == "four_dots":
        parts = [(_circle(x, y, 0.3), 1) for x, y in _regular(4, 0.62, np.pi / 4)]
    elif name == "diamond":
        parts = [(np.array([[0, -1.0], [0.55, 0], [0, 1.0], [-0.55, 0]]), 1)]
    elif name == "letter_h":
        parts = [(_rect(-0.8, -0.9, -0.35, 0.9), 1), (_rect(0.35, -0.9, 0.8, 0.9), 1),
                 (_rect(-0.35, -0.2, 0.35, 0.2), 1)]
    else:  # pragma: no cover - guarded by _SHAPES
        raise KeyError(name)
    return tuple((np.asarray(p, dtype=np.float64), v) for p, v in parts)


@lru_cache(maxsize=None)
def _area_scale(name: str) -> float:
    """Scale that brings the shape's area near a disc of radius 0.75 (clipped, so no shape grows huge)."""
    n = 256
    mask = np.zeros((n, n), np.uint8)
    for poly, v in _shape_parts(name):
        pts = np.round((poly * n / 2.2 + n / 2) * 16).astype(np.int32)
        cv2.fillPoly(mask, [pts], int(v), lineType=cv2.LINE_8, shift=4)
    area = mask.mean() * (2.2 ** 2)
    return float(np.clip(math.sqrt(math.pi * 0.75 ** 2 / max(area, 1e-6)), 0.85, 1.25))


# --------------------------------------------------------------------------------------------------
# Colors (vectorised over a chunk of images)
def _hsv(h, s, v) -> np.ndarray:
    """HSV in [0, 1] to RGB in [0, 1]; arrays of shape [...] give [..., 3]."""
    h, s, v = (np.asarray(a, dtype=np.float64)[..., None] for a in (h, s, v))
    k = (np.array([5.0, 3.0, 1.0]) + h * 6) % 6
    return v - v * s * np.clip(np.minimum(k, 4 - k), 0, 1)


def _luma(c: np.ndarray) -> np.ndarray:
    return c @ np.array([0.299, 0.587, 0.114])


def _lerp(a, b, t):
    return a + np.asarray(t)[..., None] * (b - a)


_FIXED = {"bg": np.array([0.45, 0.45, 0.45]), "bg2": np.array([0.3, 0.3, 0.3]),
          "clutter": np.array([[0.1, 0.1, 0.1], [0.85, 0.85, 0.85], [0.62, 0.62, 0.62]]),
          "object": np.array([0.9, 0.75, 0.2])}


def _palettes(p: SyntheticParams, rng: np.random.Generator, labels: np.ndarray) -> dict[str, np.ndarray]:
    """Per-image colors in [0, 1]: bg, bg2 [B, 3], clutter [B, 3, 3], object and its texture color [B, 3]."""
    B = len(labels)
    hsv = rng.uniform([0, 0.15, 0.15], 1.0, (B, 6, 3))  # [B, 6, (h, s, v)]
    cls = rng.random((B, 4))  # class-color draws: always made, so the switch shifts nothing else
    extra = rng.random((B, 2))  # hue family centre, chroma direction: drawn last, so older draws are unchanged
    if p.palette_hue_spread < 1:
        # One hue family per image: every palette hue within +-spread/2 of a per-image centre.
        hsv[..., 0] = (extra[:, :1] + p.palette_hue_spread * (hsv[..., 0] - 0.5)) % 1.0
    rnd = _hsv(*hsv.transpose(2, 0, 1))  # [B, 6, 3]
    s = p.palette_strength if p.palette else 0.0
    pal = {"bg": _lerp(_FIXED["bg"], rnd[:, 0], s), "bg2": _lerp(_FIXED["bg2"], rnd[:, 1], s),
           "clutter": _FIXED["clutter"] + s * (rnd[:, 2:5] - _FIXED["clutter"]),
           "object": _lerp(_FIXED["object"], rnd[:, 5], s)}
    hue = (labels / p.num_classes + (cls[:, 1] - 0.5) * 0.06) % 1.0
    class_col = _hsv(hue, 0.6 + 0.4 * cls[:, 2], 0.5 + 0.5 * cls[:, 3])
    obj = np.where((cls[:, 0] < p.class_color)[:, None], class_col, pal["object"])
    # Keep the object visible: move it toward white or black until its luma differs from bg by 0.25.
    y, yb = _luma(obj), _luma(pal["bg"])
    dark_bg = yb < 0.5
    target = np.where(dark_bg, 1.0, 0.0)
    goal = np.where(dark_bg, yb + 0.25, yb - 0.25)
    t = np.where(np.abs(y - yb) < 0.25, np.clip((goal - y) / (target - y + 1e-9), 0, 1), 0.0)
    obj = obj + t[:, None] * (target[:, None] - obj)
    pal["object"] = obj
    second = _lerp(obj, np.where(_luma(obj) > 0.5, 0.0, 1.0)[:, None], p.texture_contrast)
    if p.texture_chroma > 0:
        second = _lerp(second, _lerp(obj, _isoluminant_opponent(obj, extra[:, 1]), p.texture_contrast),
                       p.texture_chroma)
    if p.class_cue == "texture_polarity":
        # Class 2k: the pattern is the lighter of the two object colors; class 2k + 1: the darker.
        swap = (_luma(second) > _luma(obj)) != (labels % 2 == 0)
        obj, second = np.where(swap[:, None], second, obj), np.where(swap[:, None], obj, second)
        pal["object"] = obj
    pal["second"] = second
    return pal


_LUMA_W = np.array([0.299, 0.587, 0.114])


def _isoluminant_opponent(c: np.ndarray, u: np.ndarray) -> np.ndarray:
    """[B, 3]: the most saturated color with the same luma as ``c``, on the opposite side of grey.

    Its chroma direction (the component orthogonal to luma) is minus that of ``c``; a grey ``c`` takes
    the direction at angle ``2 pi u`` in the chroma plane. The step stops at the RGB cube's faces.
    """
    y = _luma(c)
    # orthonormal basis of the plane {d : d . w = 0}
    e1 = np.array([1.0, -1.0, 0.0])
    e1 = e1 - (e1 @ _LUMA_W) / (_LUMA_W @ _LUMA_W) * _LUMA_W
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(_LUMA_W / np.linalg.norm(_LUMA_W), e1)
    # chroma of c: c - y * (1, 1, 1) is orthogonal to w because sum(w) = 1
    chroma = c - y[:, None]
    norm = np.linalg.norm(chroma, axis=1)
    fallback = np.cos(2 * np.pi * u)[:, None] * e1 + np.sin(2 * np.pi * u)[:, None] * e2
    d = np.where((norm > 1e-3)[:, None], -chroma / np.maximum(norm, 1e-9)[:, None], fallback)
    # largest t with 0 <= y + t d <= 1 (per channel), starting from grey y
    with np.errstate(divide="ignore", invalid="ignore"):
        lim = np.where(d > 1e-9, (1 - y[:, None]) / d, np.where(d < -1e-9, -y[:, None] / d, np.inf))
    t = lim.min(1)
    return np.clip(y[:, None] + t[:, None] * d, 0.0, 1.0)


# --------------------------------------------------------------------------------------------------
# Textures: one float tile per pattern in object units, warped onto the object by its pose.
_TILE_PX, _TILE_LO, _TILE_UNITS = 40, -2.0, 5.0  # pixels per object unit; tile covers u, v in [-2, 3]


@lru_cache(maxsize=None)
def _texture_tile(texture: str) -> np.ndarray:
    n = int(_TILE_PX * _TILE_UNITS)
    v, u = (np.mgrid[0:n, 0:n] + 0.5) / _TILE_PX + _TILE_LO
    if texture == "stripes":
        pattern = (u * 2.2) % 1.0 < 0.5
    elif texture == "checker":
        pattern = (np.floor(u * 1.6) + np.floor(v * 1.6)) % 2 == 0
    elif texture == "dots":
        du, dv = (u / 0.55) % 1.0 - 0.5, (v / 0.55) % 1.0 - 0.5
        pattern = du * du + dv * dv < 0.31 ** 2
    elif texture == "fine_stripes":
        pattern = (u * 3.6) % 1.0 < 0.5
    elif texture == "fine_checker":
        pattern = (np.floor(u * 2.8) + np.floor(v * 2.8)) % 2 == 0
    elif texture == "big_dots":
        du, dv = (u / 0.95) % 1.0 - 0.5, (v / 0.95) % 1.0 - 0.5
        pattern = du * du + dv * dv < 0.3 ** 2
    elif texture == "grid":
        pattern = ((u * 1.8) % 1.0 < 0.3) | ((v * 1.8) % 1.0 < 0.3)
    elif texture == "rings":
        pattern = (np.hypot(u - 0.5, v - 0.5) * 2.2) % 1.0 < 0.5
    elif texture == "thin_stripes":
        pattern = (u * 2.2) % 1.0 < 0.3
    elif texture == "thin_rings":
        pattern = (np.hypot(u - 0.5, v - 0.5) * 2.2) % 1.0 < 0.3
    elif texture == "zigzag":
        pattern = (u * 2.2 + 0.8 * np.abs((v * 2.0) % 1.0 - 0.5)) % 1.0 < 0.5
    else:  # pragma: no cover - guarded by the class tables
        raise KeyError(texture)
    return pattern.astype(np.float32)


# --------------------------------------------------------------------------------------------------
# Per-chunk parameters, then drawing one image
def _object_classes(p: SyntheticParams, rng: np.random.Generator, labels: np.ndarray) -> list[tuple[str, str]]:
    """Per image (shape, texture): the class's (``class_cue="shape"``), or a per-image random silhouette
    from ``_SHAPES`` (its own stream, independent of class) with the class's texture (``"texture"``)."""
    if p.class_cue == "texture":
        shapes = rng.integers(0, len(_SHAPES), len(labels))
        return [(_SHAPES[s], _CLASS_TEXTURES[c]) for s, c in zip(shapes, labels)]
    if p.class_cue == "texture_polarity":
        shapes = rng.integers(0, len(_SHAPES), len(labels))
        return [(_SHAPES[s], _POLARITY_TEXTURES[c // 2]) for s, c in zip(shapes, labels)]
    return [_class_table()[c] for c in labels]


def _object_poses(p: SyntheticParams, rng: np.random.Generator, kinds: list[tuple[str, str]]) -> np.ndarray:
    """[B, 7]: radius (fraction of half-side), angle, center x, y (fraction of side), texture frequency
    (object units per tile unit: larger is finer), phase u, v."""
    B = len(kinds)
    r = rng.random((B, 7))
    area = np.array([_area_scale(shape) for shape, _ in kinds])
    lo, hi = p.object_scale
    radius = (lo + (hi - lo) * r[:, 0]) * area
    angle = r[:, 1] * 2 * np.pi if p.rotation else np.zeros(B)
    room = np.maximum(0.0, 0.5 - 0.85 * radius / 2) * p.position_jitter
    cx, cy = 0.5 + room * (2 * r[:, 2] - 1), 0.5 + room * (2 * r[:, 3] - 1)
    return np.stack([radius, angle, cx, cy, 0.85 + 0.3 * r[:, 4], r[:, 5], r[:, 6]], 1)


def _clutter_layouts(p: SyntheticParams, rng: np.random.Generator, B: int) -> list[tuple]:
    """Per image: (4x4 field in [0, 1], lines [n, 6], blobs [n, 8]) in fractions of the side."""
    fields = rng.random((B, 4, 4))
    n_lines = rng.poisson(5 * p.clutter_amount, B)
    n_blobs = rng.poisson(4 * p.clutter_amount, B)
    lines = rng.random((int(n_lines.sum()), 6))  # x0 y0 x1 y1, thickness, color
    blobs = rng.random((int(n_blobs.sum()), 8))  # cx cy ax ay angle kind color -
    lsplit, bsplit = np.cumsum(n_lines)[:-1], np.cumsum(n_blobs)[:-1]
    return list(zip(fields, np.split(lines, lsplit), np.split(blobs, bsplit)))


def _draw_clutter(canvas: np.ndarray, p: SyntheticParams, pal: dict, i: int, layout: tuple) -> None:
    S, c = canvas.shape[0], p.clutter_contrast
    bg = pal["bg"][i] * 255
    if not p.clutter or c == 0:
        canvas[:] = bg
        return
    field, lines, blobs = layout
    grid = (bg + (field * c)[..., None] * (pal["bg2"][i] * 255 - bg)).astype(np.float32)
    cv2.resize(grid, (S, S), dst=canvas, interpolation=cv2.INTER_CUBIC)
    colors = (bg + c * (pal["clutter"][i] * 255 - bg)).tolist()
    for x0, y0, x1, y1, th, col in lines:
        a = (int((1.2 * x0 - 0.1) * S), int((1.2 * y0 - 0.1) * S))
        b = (int((1.2 * x1 - 0.1) * S), int((1.2 * y1 - 0.1) * S))
        cv2.line(canvas, a, b, colors[int(col * 3)], 1 + int(th * 3))
    for x, y, ax, ay, ang, kind, col, _ in blobs:
        ctr = (int(x * S), int(y * S))
        axes = (1 + int((0.03 + 0.09 * ax) * S), 1 + int((0.03 + 0.09 * ay) * S))
        if kind < 0.5:
            cv2.ellipse(canvas, ctr, axes, ang * 180, 0, 360, colors[int(col * 3)], -1)
        else:
            cv2.rectangle(canvas, (ctr[0] - axes[0], ctr[1] - axes[1]), (ctr[0] + axes[0], ctr[1] + axes[1]),
                          colors[int(col * 3)], -1)


def _draw_object(canvas: np.ndarray, p: SyntheticParams, pal: dict, i: int, kind: tuple[str, str], pose: np.ndarray) -> None:
    S = canvas.shape[0]
    shape, texture = kind
    rad, theta, cx, cy, period, pu, pv = pose
    rad, cx, cy = rad * S / 2, cx * S, cy * S
    cos, sin = math.cos(theta), math.sin(theta)
    rot = np.array([[cos, -sin], [sin, cos]])
    mask = np.zeros((S, S), np.uint8)
    for poly, v in _shape_parts(shape):
        pts = (poly @ rot.T) * rad + [cx, cy]
        cv2.fillPoly(mask, [np.round(pts * 16).astype(np.int32)], 255 * v, lineType=cv2.LINE_AA, shift=4)
    alpha = mask.astype(np.float32) / 255.0
    obj = pal["object"][i] * 255
    layer = np.empty_like(canvas)
    if p.texture and texture != "solid" and p.texture_contrast > 0:
        # Inverse map: canvas (x, y) -> object units (u, v) = R^T (x - c) / rad * period + phase -> tile px.
        k = _TILE_PX * period / rad
        M = np.array([[cos * k, sin * k, 0.0], [-sin * k, cos * k, 0.0]])
        M[:, 2] = -M[:, :2] @ [cx, cy] + _TILE_PX * (np.array([pu, pv]) - _TILE_LO) - 0.5
        t = cv2.warpAffine(_texture_tile(texture), M, (S, S), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
        layer[:] = obj
        layer += t[..., None] * (pal["second"][i] * 255 - obj).astype(np.float32)
    else:
        layer[:] = obj
    cv2.blendLinear(canvas, layer, 1.0 - alpha, alpha, dst=canvas)


#: Images per generation chunk: each chunk draws from its own seeded streams, so the arrays are the
#: same whatever the number of workers. Part of the generator (changing it changes the pixels).
_CHUNK = 256


def _render_chunk(p: SyntheticParams, split: int, chunk: int, labels: np.ndarray) -> np.ndarray:
    """Images ``chunk * _CHUNK ...`` of a split, uint8 [B, H, W, 3]; a pure function of its arguments."""
    def stream(factor: int) -> np.random.Generator:
        return np.random.Generator(np.random.Philox(key=[p.seed, (split << 56) | (factor << 48) | chunk]))

    B, S = len(labels), 2 * p.size
    pal = _palettes(p, stream(_COLOR), labels)
    kinds = _object_classes(p, stream(_SILHOUETTE), labels)
    poses = _object_poses(p, stream(_OBJECT), kinds)
    if p.texture_scale_spread > 0:  # per-image texture period x 2 ** U[0, spread], coarser only (own stream)
        poses[:, 4] /= 2.0 ** (p.texture_scale_spread * stream(_TEXTURE_SCALE).random(B))
    layouts = _clutter_layouts(p, stream(_CLUTTER), B)
    out = np.empty((B, p.size, p.size, 3), np.float32)
    canvas = np.empty((S, S, 3), np.float32)
    for i in range(B):
        _draw_clutter(canvas, p, pal, i, layouts[i])
        _draw_object(canvas, p, pal, i, kinds[i], poses[i])
        cv2.resize(canvas, (p.size, p.size), dst=out[i], interpolation=cv2.INTER_AREA)
    if p.noise > 0:
        out += stream(_NOISE).standard_normal(out.shape, dtype=np.float32) * (p.noise * 255)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _balanced_labels(p: SyntheticParams, split: int, n: int) -> np.ndarray:
    rng = np.random.Generator(np.random.Philox(key=[p.seed, (split << 56) | (_LABELS << 48)]))
    return rng.permutation(np.arange(n) % p.num_classes).astype(np.int64)


def generate_split(p: SyntheticParams, split: int, n: int, n_jobs: Optional[int] = None) -> Split:
    """Generate ``n`` images of split ``split`` (0 train, 1 test); identical for any ``n_jobs``."""
    labels = _balanced_labels(p, split, n)
    chunks = [(c, labels[c * _CHUNK:(c + 1) * _CHUNK]) for c in range((n + _CHUNK - 1) // _CHUNK)]
    if n_jobs is None:
        n_jobs = 1 if n * (p.size / 32) ** 2 < 50000 else min(4, _cpu_count())  # workers start slowly
    if n_jobs == 1:
        parts = [_render_chunk(p, split, c, y) for c, y in chunks]
    else:
        from joblib import Parallel, delayed

        parts = Parallel(n_jobs=n_jobs)(delayed(_render_chunk)(p, split, c, y) for c, y in chunks)
    images = np.concatenate(parts).transpose(0, 3, 1, 2)
    return Split(torch.from_numpy(np.ascontiguousarray(images)), torch.from_numpy(labels))


def _cpu_count() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def parse_params(**params) -> SyntheticParams:
    """Validate ``synthetic`` params; a bad one raises a one-line ``ValueError`` naming it."""
    try:
        return SyntheticParams(**params)
    except ValidationError as e:
        err = e.errors()[0]
        key = ".".join(str(x) for x in err["loc"]) or "?"
        valid = ", ".join(SyntheticParams.model_fields)
        if err["type"] == "extra_forbidden":
            raise ParamsError(f"dataset 'synthetic' has no param {key!r}; its params are: {valid}") from None
        raise ParamsError(f"dataset 'synthetic' param {key}={err.get('input')!r}: {err['msg']}") from None


@dataset("synthetic")
def synthetic(n_train: int = 4096, n_test: int = 1000, size: int = 32, num_classes: int = 10, seed: int = 0,
              class_cue: str = "shape",
              palette: bool = True, palette_strength: float = 1.0, palette_hue_spread: float = 1.0,
              clutter: bool = True, clutter_amount: float = 1.0, clutter_contrast: float = 0.8,
              class_color: float = 0.1, texture: bool = True, texture_contrast: float = 0.5,
              texture_chroma: float = 0.0, texture_scale_spread: float = 0.0,
              object_scale: tuple[float, float] = (0.45, 0.8), position_jitter: float = 1.0,
              rotation: bool = True, noise: float = 0.02, cache: bool = True) -> Dataset:
    """The embedded procedural dataset: class = object shape and texture; palette and clutter are per-image shortcuts.

    n_train, n_test: images per split (classes balanced to within one). size: side in pixels (square).
    num_classes: up to 64 (shape x texture; 10 with class_cue="texture"). seed: same params and seed give
    byte-identical arrays. class_cue: "shape" (class = shape and texture) or "texture" (class = texture only,
    per-image random silhouette) or "texture_polarity" (class = pattern and its luminance polarity).
    palette_hue_spread (0..1): below 1, one hue family per image. texture_chroma (0..1): share of the texture
    contrast that is chromatic (isoluminant) rather than luminance. texture_scale_spread (octaves, 0..3):
    per-image texture period factor 2 ** U[0, spread] (0: off), so the class is the pattern's geometry.
    palette / palette_strength (0..1): per-image colors, independent of class (the color-histogram shortcut).
    clutter / clutter_amount (x 5 lines, 4 blobs) / clutter_contrast (0..1): per-image background layout
    (the layout shortcut that cropping removes). class_color (0..1): fraction of images whose object hue
    comes from their class. texture / texture_contrast: class surface patterns (solid, stripes, checker,
    dots). object_scale: object diameter as a fraction of the side, [low, high]. position_jitter (0..1),
    rotation: pose randomisation. noise: pixel noise std. cache: read/write the on-disk cache.
    """
    p = parse_params(n_train=n_train, n_test=n_test, size=size, num_classes=num_classes, seed=seed, class_cue=class_cue,
                     palette=palette, palette_strength=palette_strength, palette_hue_spread=palette_hue_spread,
                     clutter=clutter,
                     clutter_amount=clutter_amount, clutter_contrast=clutter_contrast, class_color=class_color,
                     texture=texture, texture_contrast=texture_contrast, texture_chroma=texture_chroma,
                     texture_scale_spread=texture_scale_spread, object_scale=object_scale,
                     position_jitter=position_jitter, rotation=rotation, noise=noise)
    params = p.model_dump(mode="json")
    for key, default in _LATER_KNOBS.items():  # knobs added later: at their default the cache key stays as before
        if params[key] == default:
            del params[key]

    def build() -> Dataset:
        return Dataset(train=generate_split(p, 0, p.n_train), test=generate_split(p, 1, p.n_test),
                       classes=class_names(p.num_classes, p.class_cue),
                       info={"name": "synthetic", "params": params, "generator_version": GENERATOR_VERSION})

    return cached("synthetic", {"params": params, "version": GENERATOR_VERSION}, build, use_cache=bool(cache))


class _SpecParams(SyntheticParams):
    """Every param of ``synthetic`` (its knobs and ``cache``), for checking a study file without data."""

    cache: bool = True


synthetic.Params = _SpecParams