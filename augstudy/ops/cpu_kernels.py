"""Compiled CPU kernels (numba) for per-image operators: the color distortion, the resized crop, large blurs.

Why hand-written: the tensor versions vectorise over the batch, so every step is one more pass over the
whole batch in memory (the color distortion alone is about a dozen: four rounds of blend and clamp, hue
to HSV and back, grayscale), and per-image parameters need gathers, scatters and sampling grids. Here
each image's planes (12 KB at 32 px) stay in cache while all of its steps run, with its own parameters
as plain scalars (BENCHMARKS.md "Operators": color about 8x and crop about 2.5x faster than the tensor
versions). Blurs with kernels over 7 taps (images from 70 px; 23 taps at 224 px) are a separable kernel
here too, about 4x the grouped convolution; small blurs (32 px: 3 taps) stay tensor code. The semantics are those
of the tensor versions (which run on other devices and are tested against these) and of torchvision.
Compiled by numba on first use (a few seconds, then cached on disk).
"""
from __future__ import annotations

import numpy as np
import torch
from numba import njit

from .color import _GRAY, BRIGHTNESS, CONTRAST, HUE  # step codes of params["order"], torchvision's grey weights

_WR, _WG, _WB = (np.float32(w) for w in _GRAY)


@njit(cache=True, nogil=True, fastmath=True)
def _blend(img, weight, target_plane, target_scalar):
    """img <- clamp(weight * img + (1 - weight) * target), target a grey plane or (if None) a scalar."""
    w = np.float32(weight)
    keep = np.float32(1.0) - w
    zero, one = np.float32(0.0), np.float32(1.0)
    for c in range(3):
        for i in range(img.shape[1]):
            t = np.float32(target_scalar) if target_plane is None else target_plane[i]
            img[c, i] = min(max(w * img[c, i] + keep * t, zero), one)


@njit(cache=True, nogil=True, fastmath=True)
def _gray(img, out):
    for i in range(img.shape[1]):
        out[i] = _WR * img[0, i] + _WG * img[1, i] + _WB * img[2, i]


@njit(cache=True, nogil=True, fastmath=True)
def _hue(img, shift):
    """Rotate the HSV hue by ``shift`` turns, branch-free so that the loop vectorises.

    With v = max, c = max - min and h6 the hue in sixths of a turn, channel n is ``v - c * f(h6 - m_n)``,
    m = (3, 5, 1) for (R, G, B), where ``f(u) = clamp(||u| - 6| - 3| - 1, 0, 1)`` is HSV's periodic ramp
    (the same closed form as ``color.adjust_hue``). A grey pixel (c = 0) comes back unchanged.
    """
    zero, one, two, three = np.float32(0), np.float32(1), np.float32(2), np.float32(3)
    four, five, six = np.float32(4), np.float32(5), np.float32(6)
    six_shift = six * np.float32(shift)
    tiny = np.float32(1e-12)
    for i in range(img.shape[1]):
        r, g, b = img[0, i], img[1, i], img[2, i]
        v = max(r, g, b)
        c = v - min(r, g, b)
        inv = one / max(c, tiny)
        h6 = (g - b) * inv if v == r else (two + (b - r) * inv if v == g else four + (r - g) * inv)
        h6 += six_shift
        h6 -= six * np.floor(h6 / six)  # [0, 6]: the ramp is periodic, so landing on 6 is harmless
        img[0, i] = v - c * min(max(abs(abs(abs(h6 - three) - six) - three) - one, zero), one)
        img[1, i] = v - c * min(max(abs(abs(abs(h6 - five) - six) - three) - one, zero), one)
        img[2, i] = v - c * min(max(abs(abs(abs(h6 - one) - six) - three) - one, zero), one)


@njit(cache=True, nogil=True, fastmath=True)
def _color_batch(y, factors, hue, order, drop):
    """In place on ``y`` [B, 3, H*W]: each image's jitter steps in its ``order``, then grayscale if ``drop``."""
    gray = np.empty(y.shape[2], dtype=y.dtype)
    for b in range(y.shape[0]):
        img = y[b]
        for j in range(order.shape[1]):
            step = order[b, j]
            if step == HUE:
                if hue[b] != 0.0:
                    _hue(img, hue[b])
                continue
            w = factors[b, step]
            if w == 1.0:
                continue
            if step == BRIGHTNESS:
                _blend(img, w, None, 0.0)
            else:
                _gray(img, gray)
                if step == CONTRAST:
                    _blend(img, w, None, gray.mean())
                else:
                    _blend(img, w, gray, 0.0)
        if drop[b]:
            _gray(img, gray)
            for c in range(3):
                img[c, :] = gray


def color_distort_cpu(x: torch.Tensor, factors: torch.Tensor, hue: torch.Tensor, order: torch.Tensor,
                      drop: torch.Tensor) -> torch.Tensor:
    """A new ``[B, 3, H, W]`` tensor: ``x`` (CPU, float32) with per-image ``factors`` [B, 3] (brightness,
    contrast, saturation), ``hue`` [B] shifts in turns, step ``order`` [B, 4] and grayscale mask ``drop``."""
    b, ch, h, w = x.shape
    y = x.clone(memory_format=torch.contiguous_format)
    _color_batch(y.numpy().reshape(b, ch, h * w), factors.to(torch.float32).contiguous().numpy(),
                 hue.to(torch.float32).contiguous().numpy(), order.to(torch.int64).contiguous().numpy(),
                 drop.to(torch.bool).contiguous().numpy())
    return y


# --------------------------------------------------------------------------------------------------
# Resized crop (+ horizontal flip): bilinear, align_corners=False, source clamped to the box.
@njit(cache=True, nogil=True, fastmath=True)
def _axis(start, length, n, reverse, lo, hi, frac):
    """Per output index: the two source indices and the weight of the second (see geometric._axis_grid)."""
    scale = np.float32(length) / np.float32(n)
    half, zero, top = np.float32(0.5), np.float32(0.0), np.float32(length - 1)
    for j in range(n):
        pos = n - 1 - j if reverse else j
        src = min(max((np.float32(pos) + half) * scale - half, zero), top)
        i0 = int(src)
        lo[j] = start + i0
        hi[j] = start + min(i0 + 1, length - 1)
        frac[j] = src - np.float32(i0)


@njit(cache=True, nogil=True, fastmath=True)
def _resized_crop_batch(x, boxes, flip, out):
    """Per image: resample the box's rows horizontally once (gathers), then blend row pairs (contiguous)."""
    n, channels, height, width = x.shape
    x0, x1 = np.empty(width, np.int64), np.empty(width, np.int64)
    y0, y1 = np.empty(height, np.int64), np.empty(height, np.int64)
    wx, wy = np.empty(width, np.float32), np.empty(height, np.float32)
    rows = np.empty((height, width), np.float32)
    zero, one = np.float32(0.0), np.float32(1.0)
    for b in range(n):
        top, box_h = boxes[b, 0], boxes[b, 2]
        _axis(top, box_h, height, False, y0, y1, wy)
        _axis(boxes[b, 1], boxes[b, 3], width, flip[b], x0, x1, wx)
        for c in range(channels):
            img = x[b, c]
            for r in range(box_h):
                src = img[top + r]
                dst = rows[r]
                for j in range(width):
                    a = src[x0[j]]
                    dst[j] = a + wx[j] * (src[x1[j]] - a)
            for i in range(height):
                r0, r1, a = rows[y0[i] - top], rows[y1[i] - top], wy[i]
                row = out[b, c, i]
                for j in range(width):
                    row[j] = min(max(r0[j] + a * (r1[j] - r0[j]), zero), one)


def resized_crop_cpu(x: torch.Tensor, boxes: torch.Tensor, flip: torch.Tensor | None) -> torch.Tensor:
    """A new ``[B, C, H, W]`` tensor: each image's box ``(top, left, h, w)`` resized back to ``[H, W]``, flipped where ``flip``."""
    x = x.contiguous()
    out = torch.empty_like(x)
    flip = torch.zeros(x.shape[0], dtype=torch.bool) if flip is None else flip
    _resized_crop_batch(x.numpy(), boxes.to(torch.int64).contiguous().numpy(), flip.contiguous().numpy(), out.numpy())
    return out


# --------------------------------------------------------------------------------------------------
# Gaussian blur with large kernels (224 px: 23 taps): separable, reflect padding, per image and plane.
@njit(cache=True, nogil=True, fastmath=True)
def _blur_batch(x, kernels, apply, out):
    """Per image where ``apply``: a vertical pass over whole rows (each source row is a contiguous axpy), then
    a horizontal pass over a reflect-padded copy of each row (tap-major, so the inner loop vectorises)."""
    n, channels, height, width = x.shape
    size = kernels.shape[1]
    pad = size // 2
    zero, one = np.float32(0.0), np.float32(1.0)
    rows = np.empty(height + 2 * pad, np.int64)  # reflect: -1 -> 1, height -> height - 2
    for i in range(height + 2 * pad):
        r = i - pad
        rows[i] = -r if r < 0 else (2 * (height - 1) - r if r >= height else r)
    tmp = np.empty((height, width), np.float32)
    line = np.empty(width + 2 * pad, np.float32)
    for b in range(n):
        if not apply[b]:
            out[b] = x[b]
            continue
        w = kernels[b]
        lo, hi = 0, size - 1  # taps whose weight underflowed to 0 (small sigma) add exactly nothing: skipped
        while lo < hi and w[lo] == 0.0:
            lo += 1
        while hi > lo and w[hi] == 0.0:
            hi -= 1
        for c in range(channels):
            img = x[b, c]
            for i in range(height):
                t = tmp[i]
                src = img[rows[i + lo]]
                w0 = w[lo]
                for j in range(width):
                    t[j] = w0 * src[j]
                for k in range(lo + 1, hi + 1):
                    src = img[rows[i + k]]
                    wk = w[k]
                    for j in range(width):
                        t[j] += wk * src[j]
            for i in range(height):
                t = tmp[i]
                for j in range(width):
                    line[pad + j] = t[j]
                for p in range(pad):
                    line[pad - 1 - p] = t[p + 1]
                    line[pad + width + p] = t[width - 2 - p]
                o = out[b, c, i]
                w0 = w[lo]
                for j in range(width):
                    o[j] = w0 * line[j + lo]
                for k in range(lo + 1, hi + 1):
                    wk = w[k]
                    for j in range(width):
                        o[j] += wk * line[j + k]
                for j in range(width):
                    o[j] = min(max(o[j], zero), one)


def gaussian_blur_cpu(x: torch.Tensor, kernels: torch.Tensor, apply: torch.Tensor) -> torch.Tensor:
    """A new ``[B, C, H, W]`` tensor: the images where ``apply`` blurred with their own 1-D ``kernels`` [B, k]
    (separable, reflect padding, clamped to [0, 1]); the others copied."""
    x = x.contiguous()
    out = torch.empty_like(x)
    _blur_batch(x.numpy(), kernels.to(torch.float32).contiguous().numpy(), apply.to(torch.bool).contiguous().numpy(),
                out.numpy())
    return out
