"""Geometric operators: crop (random resized crop + flip), flip, rotate, cutout.

All are vectorised over the batch: crops are one ``grid_sample`` with per-image sampling grids (a
compiled per-image loop on the CPU), flips are folded into that grid (or a ``torch.where``), rotations
are three whole-batch turns kept by ``torch.where``; none syncs the host.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from pydantic import Field, model_validator

from .base import Operator, OperatorParams, Params, draw_mask, draw_uniform, ordered, per_image
from .paths import uses_cpu_kernels
from .registry import operator
from ..errors import ParamsError

#: Attempts per image before the centre-crop fallback (torchvision's RandomResizedCrop uses 10).
CROP_ATTEMPTS = 10


def crop_boxes(params: Params, height: int, width: int, ratio_range: tuple[float, float] = (3 / 4, 4 / 3)) -> torch.Tensor:
    """Integer crop boxes ``[B, 4]`` (top, left, height, width) from crop params, torchvision semantics.

    ``params["box"]`` (if present) is used as is; otherwise the first of the ``CROP_ATTEMPTS``
    drawn (area, log-ratio, position) triples that fits the image, else a centre crop.
    """
    if "box" in params:
        return params["box"].long()
    area = height * width * params["scale"]
    ratio = torch.exp(params["log_ratio"])
    w = torch.round(torch.sqrt(area * ratio))
    h = torch.round(torch.sqrt(area / ratio))
    fits = (w > 0) & (w <= width) & (h > 0) & (h <= height)
    first = fits.to(torch.uint8).argmax(1, keepdim=True)
    w, h = w.gather(1, first)[:, 0], h.gather(1, first)[:, 0]
    top = torch.floor(params["ty"].gather(1, first)[:, 0] * (height - h + 1))
    left = torch.floor(params["tx"].gather(1, first)[:, 0] * (width - w + 1))
    # fallback (no attempt fits): the centre crop with the ratio clamped to [ratio_min, ratio_max]
    rmin, rmax = ratio_range
    in_ratio = width / height
    if in_ratio < rmin:
        fw, fh = width, round(width / rmin)
    elif in_ratio > rmax:
        fw, fh = round(height * rmax), height
    else:
        fw, fh = width, height
    ok = fits.any(1)
    h = torch.where(ok, h, torch.full_like(h, fh))
    w = torch.where(ok, w, torch.full_like(w, fw))
    top = torch.where(ok, top, torch.full_like(top, (height - fh) // 2))
    left = torch.where(ok, left, torch.full_like(left, (width - fw) // 2))
    return torch.stack([top, left, h, w], 1).long()


def _axis_grid(start: torch.Tensor, length: torch.Tensor, n_out: int, n_in: int,
               reverse: torch.Tensor | None = None) -> torch.Tensor:
    """Normalised ``grid_sample`` coordinates ``[B, n_out]`` resizing ``[start, start+length)`` to n_out.

    Source positions follow ``interpolate(..., "bilinear", align_corners=False)`` on the crop,
    clamped to the crop (so pixels outside the box never leak in); ``reverse`` flips per image.
    """
    dev = start.device
    pos = torch.arange(n_out, device=dev, dtype=torch.float32).expand(start.shape[0], n_out)
    if reverse is not None:
        pos = torch.where(reverse[:, None], (n_out - 1) - pos, pos)
    length = length.float()[:, None]
    src = ((pos + 0.5) * (length / n_out) - 0.5).clamp_(min=0).minimum(length - 1)
    return (src + start.float()[:, None]).mul_(2.0 / n_in).add_(1.0 / n_in - 1.0)


def resized_crop(x: torch.Tensor, boxes: torch.Tensor, flip: torch.Tensor | None = None) -> torch.Tensor:
    """Crop each image to its box ``(top, left, h, w)``, resize back to ``[H, W]`` (bilinear), flip if asked.

    On the CPU a compiled per-image loop (:mod:`.cpu_kernels`), elsewhere :func:`resized_crop_grid`.
    """
    if uses_cpu_kernels(x.device):
        from .cpu_kernels import resized_crop_cpu  # imports numba: only when a CPU batch needs it

        return resized_crop_cpu(x, boxes, flip)
    return resized_crop_grid(x, boxes, flip)


def resized_crop_grid(x: torch.Tensor, boxes: torch.Tensor, flip: torch.Tensor | None = None) -> torch.Tensor:
    """:func:`resized_crop` as one ``grid_sample`` with per-image sampling grids (any device)."""
    b, _, height, width = x.shape
    gx = _axis_grid(boxes[:, 1], boxes[:, 3], width, width, flip)
    gy = _axis_grid(boxes[:, 0], boxes[:, 2], height, height)
    grid = torch.stack([gx[:, None, :].expand(b, height, width), gy[:, :, None].expand(b, height, width)], -1)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    return out.clamp_(0.0, 1.0)  # bilinear weights sum to 1 only up to rounding


@operator("crop")
class Crop(Operator):
    """Random resized crop (area U[0.08, 1], log-uniform aspect ratio in [3/4, 4/3]) then horizontal flip."""

    class Params(OperatorParams):
        scale_min: float = Field(0.08, gt=0, le=1, description="smallest crop area (fraction of the image)")
        scale_max: float = Field(1.0, gt=0, le=1, description="largest crop area (fraction of the image)")
        ratio_min: float = Field(3 / 4, gt=0, le=10, description="smallest aspect ratio w/h (log-uniform)")
        ratio_max: float = Field(4 / 3, gt=0, le=10, description="largest aspect ratio w/h (log-uniform)")
        flip_p: float = Field(0.5, ge=0, le=1, description="probability of the horizontal flip after the crop")

        _scale = ordered("scale_min", "scale_max")
        _ratio = ordered("ratio_min", "ratio_max")

    def sample_params(self, batch_size: int, generator: torch.Generator, device: torch.device) -> Params:
        shape = (batch_size, CROP_ATTEMPTS)
        return {
            "scale": draw_uniform(generator, shape, device, self.scale_min, self.scale_max),
            "log_ratio": draw_uniform(generator, shape, device, math.log(self.ratio_min), math.log(self.ratio_max)),
            "ty": draw_uniform(generator, shape, device),
            "tx": draw_uniform(generator, shape, device),
            "flip": draw_mask(generator, batch_size, self.flip_p, device),
        }

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        return resized_crop(x, crop_boxes(params, x.shape[2], x.shape[3], (self.ratio_min, self.ratio_max)), params["flip"])


@operator("flip")
class Flip(Operator):
    """Horizontal flip with probability p."""

    class Params(OperatorParams):
        p: float = Field(0.5, ge=0, le=1, description="probability of flipping an image")

    def sample_params(self, batch_size: int, generator: torch.Generator, device: torch.device) -> Params:
        return {"flip": draw_mask(generator, batch_size, self.p, device)}

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        return torch.where(per_image(params["flip"]), x.flip(-1), x)


@operator("rotate")
class Rotate(Operator):
    """Rotation by one of 90, 180, 270 degrees (counter-clockwise, as torch.rot90), chosen uniformly."""

    class Params(OperatorParams):
        angles: tuple[int, ...] = Field((90, 180, 270), min_length=1,
                                        description="angles to choose from, each 0, 90, 180 or 270")

        @model_validator(mode="after")
        def _quarter_turns(self):
            bad = [a for a in self.angles if a not in (0, 90, 180, 270)]
            if bad:
                raise ParamsError(f"angles={list(self.angles)}: {bad[0]} is not one of 0, 90, 180, 270")
            return self

    def sample_params(self, batch_size: int, generator: torch.Generator, device: torch.device) -> Params:
        n = len(self.angles)
        pick = (draw_uniform(generator, batch_size, device) * n).long().clamp_(max=n - 1)
        k = torch.zeros_like(pick)
        for i, angle in enumerate(self.angles):  # a where per listed angle: no host list copied to the device
            k = torch.where(pick == i, angle // 90, k)
        return {"k": k}

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        """Square images rotate exactly; non-square ones at 90/270 are resized back to [H, W] (bilinear).

        Branch-free: each of the three turns is computed for the whole batch and kept where drawn.
        """
        k = per_image(params["k"] % 4)
        out = x
        for turns in (1, 2, 3):
            out = torch.where(k == turns, self._turn(x, turns), out)
        return out

    @staticmethod
    def _turn(x: torch.Tensor, turns: int) -> torch.Tensor:
        r = torch.rot90(x, turns, dims=(2, 3))
        if r.shape[2:] != x.shape[2:]:
            r = F.interpolate(r, size=x.shape[2:], mode="bilinear", align_corners=False)
        return r.contiguous()


@operator("cutout")
class Cutout(Operator):
    """Cutout: a square of side ``size`` x the image side, centred uniformly (clipped at the border), filled with ``fill``."""

    class Params(OperatorParams):
        size: float = Field(0.5, gt=0, le=1, description="side of the square, as a fraction of the image side")
        fill: float = Field(0.0, ge=0, le=1, description="value written into the square (0 = black, as in Fig. 4)")
        p: float = Field(1.0, ge=0, le=1, description="probability of cutting an image")

    def sample_params(self, batch_size: int, generator: torch.Generator, device: torch.device) -> Params:
        return {"cy": draw_uniform(generator, batch_size, device), "cx": draw_uniform(generator, batch_size, device),
                "apply": draw_mask(generator, batch_size, self.p, device)}

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        _, _, height, width = x.shape

        def span(center: torch.Tensor, n: int) -> torch.Tensor:
            side = max(1, round(self.size * n))
            lo = torch.floor(center * n).long()[:, None] - side // 2
            pos = torch.arange(n, device=x.device)[None, :]
            return (pos >= lo) & (pos < lo + side)

        mask = span(params["cy"], height)[:, :, None] & span(params["cx"], width)[:, None, :]
        mask &= params["apply"][:, None, None]
        return x.masked_fill(mask[:, None], self.fill)
