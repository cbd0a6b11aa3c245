"""Color operators: color (the paper's color distortion), color_jitter, color_drop.

Jitter follows torchvision's ``ColorJitter`` semantics per image: factors brightness, contrast,
saturation ~ U[max(0, 1 - 0.8s), 1 + 0.8s], hue ~ U[-0.2s, 0.2s], the four applied in a random
order per image, clamping to [0, 1] after each. On the CPU the whole distortion runs in one compiled
pass per image (:mod:`.cpu_kernels`). Elsewhere (the tensor path, :mod:`.paths`) it is vectorised as
four rounds: in round r every image applies the step at position r of its own permutation.
Brightness, contrast and saturation are one blend towards a per-image target (0, the mean grey, the
grey image); the hue shift is computed for the whole batch and kept (``torch.where``) by the images
whose round-r step is hue: no host sync and the same ops whatever the draws.
"""
from __future__ import annotations

import torch
from pydantic import Field

from .base import Operator, OperatorParams, Params, draw_mask, draw_uniform, per_image
from .paths import uses_cpu_kernels
from .registry import operator

#: Step codes in ``params["order"]``.
BRIGHTNESS, CONTRAST, SATURATION, HUE = 0, 1, 2, 3
_GRAY = (0.2989, 0.587, 0.114)  # torchvision's rgb_to_grayscale weights


def grayscale(x: torch.Tensor) -> torch.Tensor:
    """Luma ``[B, 1, H, W]`` of an RGB batch (torchvision weights)."""
    return (x[:, 0:1] * _GRAY[0]).add_(x[:, 1:2], alpha=_GRAY[1]).add_(x[:, 2:3], alpha=_GRAY[2])


def adjust_hue(x: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """Rotate the HSV hue of each image by ``shift[b]`` turns (in [-0.5, 0.5]), like torchvision's adjust_hue.

    Branch-free on [B, H, W] planes (``where`` and comparisons are slow on the CPU): with v = max,
    c = max - min and h6 the hue in sixths of a turn, channel n is ``v - c * f(h6 - m_n)``,
    m = (3, 5, 1) for (R, G, B), where ``f(u) = clamp(||u| - 6| - 3| - 1, 0, 1)`` is the periodic
    HSV ramp, valid for |u| <= 12, so no modulo is needed.
    """
    r, g, b = x.unbind(1)
    v = torch.maximum(torch.maximum(r, g), b)
    c = v - torch.minimum(torch.minimum(r, g), b)
    # one-hot "which channel is the max" (r wins ties, then g), from signs instead of comparisons
    on_r = (v - r).sign_().neg_().add_(1.0)
    on_g = (v - g).sign_().neg_().add_(1.0).mul_(1.0 - on_r)
    on_b = (1.0 - on_r).sub_(on_g)
    h6 = (g - b).mul_(on_r)
    h6.addcmul_((b - r).add_(c, alpha=2.0), on_g).addcmul_((r - g).add_(c, alpha=4.0), on_b)
    h6.div_(c.clamp_min(1e-12)).add_(shift.reshape(-1, 1, 1), alpha=6.0)
    m = torch.arange(3, device=x.device, dtype=x.dtype).mul_(2.0).add_(3.0).remainder_(6.0)  # (3, 5, 1), no host list
    ramp = (h6[:, None] - m[None, :, None, None]).abs_().sub_(6.0).abs_().sub_(3.0).abs_().sub_(1.0).clamp_(0.0, 1.0)
    return torch.sub(v[:, None], ramp.mul_(c[:, None]))  # the three channels at once


def color_distort(x: torch.Tensor, params: Params, drop: torch.Tensor | None = None) -> torch.Tensor:
    """Jitter as ``params`` say, then grayscale where ``drop``: the compiled kernel on the CPU, tensor ops elsewhere."""
    if drop is None:
        drop = torch.zeros(x.shape[0], dtype=torch.bool, device=x.device)
    if uses_cpu_kernels(x.device):
        from .cpu_kernels import color_distort_cpu  # imports numba: only when a CPU batch needs it

        factors = torch.stack([params["brightness"], params["contrast"], params["saturation"]], 1)
        return color_distort_cpu(x, factors, params["hue"], params["order"], drop)
    return color_drop(color_jitter(x, params), drop)


def color_jitter(x: torch.Tensor, params: Params) -> torch.Tensor:
    """Apply per-image brightness/contrast/saturation/hue factors in per-image order ``params["order"]``
    (tensor ops, any device; on the CPU :func:`color_distort` uses the compiled kernel instead).

    Branch-free over the whole batch (no host sync, the same ops whatever the draws): in round r every
    image blends towards its round-r target (0, its mean grey, its grey image; weight 1 leaves it exactly
    as it is), then takes the hue shift where its round-r step is hue.
    """
    hue = params["hue"]
    factors = torch.stack([params["brightness"], params["contrast"], params["saturation"], torch.ones_like(hue)], 1)
    order = params["order"]
    y = x
    for r in range(order.shape[1]):
        step = order[:, r]
        weight = factors.gather(1, step[:, None])[:, 0]
        keep = 1 - weight
        # y <- clamp(w y + (1 - w) t), t = 0 (brightness), mean grey (contrast), grey image (saturation)
        gray = grayscale(y)  # [B, 1, H, W]; contrast's target is its mean
        target = torch.addcmul(per_image(gray.mean((1, 2, 3)) * keep * (step == CONTRAST)), gray,
                               per_image(keep * (step == SATURATION)))
        y = torch.addcmul(target, y, per_image(weight)).clamp_(0.0, 1.0)
        y = torch.where(per_image((step == HUE) & (hue != 0)), adjust_hue(y, hue), y)
    return y


def color_drop(x: torch.Tensor, drop: torch.Tensor) -> torch.Tensor:
    """Replace the images where ``drop`` is True by their grey version (3 equal channels); branch-free."""
    return torch.where(per_image(drop), grayscale(x).expand_as(x), x)


def sample_jitter(strength: float, p: float, batch_size: int, generator: torch.Generator,
                  device: torch.device) -> Params:
    """Per-image jitter factors for strength ``s`` applied with probability ``p`` (identity elsewhere)."""
    lo, hi = max(0.0, 1.0 - 0.8 * strength), 1.0 + 0.8 * strength
    params = {k: draw_uniform(generator, batch_size, device, lo, hi) for k in ("brightness", "contrast", "saturation")}
    params["hue"] = draw_uniform(generator, batch_size, device, -0.2 * strength, 0.2 * strength)
    params["order"] = draw_uniform(generator, (batch_size, 4), device).argsort(1)
    params["jitter"] = draw_mask(generator, batch_size, p, device)
    for k in ("brightness", "contrast", "saturation"):
        params[k] = torch.where(params["jitter"], params[k], torch.ones_like(params[k]))
    params["hue"] = torch.where(params["jitter"], params["hue"], torch.zeros_like(params["hue"]))
    return params


class _Strength(OperatorParams):
    strength: float = Field(1.0, ge=0, le=2.5, description="color distortion strength s (hue 0.2s must stay <= 0.5)")


@operator("color")
class Color(Operator):
    """The paper's color distortion of strength s: jitter (0.8s, 0.8s, 0.8s, 0.2s) with p=0.8, then grayscale with p=0.2."""

    class Params(_Strength):
        jitter_p: float = Field(0.8, ge=0, le=1, description="probability of the color jitter")
        drop_p: float = Field(0.2, ge=0, le=1, description="probability of the grayscale conversion")

    def sample_params(self, batch_size: int, generator: torch.Generator, device: torch.device) -> Params:
        params = sample_jitter(self.strength, self.jitter_p, batch_size, generator, device)
        params["drop"] = draw_mask(generator, batch_size, self.drop_p, device)
        return params

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        return color_distort(x, params, params["drop"])


@operator("color_jitter")
class ColorJitter(Operator):
    """Color jitter alone (Fig. 4 'color distort. (jitter)'): strength s, applied with p (1.0 as an ablation operator)."""

    class Params(_Strength):
        p: float = Field(1.0, ge=0, le=1, description="probability of jittering an image")

    def sample_params(self, batch_size: int, generator: torch.Generator, device: torch.device) -> Params:
        return sample_jitter(self.strength, self.p, batch_size, generator, device)

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        return color_distort(x, params)


@operator("color_drop")
class ColorDrop(Operator):
    """Grayscale alone (Fig. 4 'color distort. (drop)'), applied with p (1.0 as an ablation operator)."""

    class Params(OperatorParams):
        p: float = Field(1.0, ge=0, le=1, description="probability of dropping color")

    def sample_params(self, batch_size: int, generator: torch.Generator, device: torch.device) -> Params:
        return {"drop": draw_mask(generator, batch_size, self.p, device)}

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        return color_drop(x, params["drop"])
