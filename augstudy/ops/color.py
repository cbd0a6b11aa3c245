"""Color operators: color (the paper's color distortion), color_jitter, color_drop.

Jitter follows torchvision's ``ColorJitter`` semantics per image: factors brightness, contrast,
saturation ~ U[max(0, 1 - 0.8s), 1 + 0.8s], hue ~ U[-0.2s, 0.2s], the four applied in a random
order per image, clamping to [0, 1] after each. On the CPU the whole distortion runs in one compiled
pass per image (:mod:`.cpu_kernels`). Elsewhere it is vectorised as four rounds: in round r every
image applies the step at position r of its own permutation. Brightness, contrast and saturation
are one ``lerp`` towards a per-image target (0, the mean grey, the grey image); hue runs only on
the images whose round-r step is hue (one contiguous slice: the batch is sorted by hue round first).
"""
from __future__ import annotations

import torch
from pydantic import Field

from .base import Operator, OperatorParams, Params, draw_mask, draw_uniform, on_subset, per_image
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
    out = torch.empty_like(x)
    for ch, m in enumerate((3.0, 5.0, 1.0)):
        ramp = (h6 - m).abs_().sub_(6.0).abs_().sub_(3.0).abs_().sub_(1.0).clamp_(0.0, 1.0)
        torch.sub(v, ramp.mul_(c), out=out[:, ch])
    return out


def color_distort(x: torch.Tensor, params: Params, drop: torch.Tensor | None = None) -> torch.Tensor:
    """Jitter as ``params`` say, then grayscale where ``drop``: the compiled kernel on the CPU, tensor ops elsewhere."""
    if drop is None:
        drop = torch.zeros(x.shape[0], dtype=torch.bool, device=x.device)
    if x.device.type == "cpu":
        from .cpu_kernels import color_distort_cpu  # imports numba: only when a CPU batch needs it

        factors = torch.stack([params["brightness"], params["contrast"], params["saturation"]], 1)
        return color_distort_cpu(x, factors, params["hue"], params["order"], drop)
    y = color_jitter(x, params)
    return color_drop(y, drop, inplace=y is not x)


def color_jitter(x: torch.Tensor, params: Params) -> torch.Tensor:
    """Apply per-image brightness/contrast/saturation/hue factors in per-image order ``params["order"]``
    (tensor ops, any device; on the CPU :func:`color_distort` uses the compiled kernel instead).

    The batch is first sorted by the round in which each image's hue step falls (images with nothing
    to do last), so each round's hue images are one contiguous slice (no gather/scatter per round) and
    the untouched images are skipped; the result is unsorted at the end.
    """
    hue = params["hue"]
    factors = torch.stack([params["brightness"], params["contrast"], params["saturation"], torch.ones_like(hue)], 1)
    rounds = params["order"].shape[1]
    has_hue = hue != 0
    idle = (factors[:, :3] == 1).all(1) & ~has_hue
    if idle.all():
        return x
    # group: the round of the hue step (0..rounds-1), `rounds` if hue is 0, `rounds + 1` if idle
    group = torch.where(has_hue, (params["order"] == HUE).to(torch.uint8).argmax(1), rounds)
    group = torch.where(idle, rounds + 1, group)
    sort = torch.argsort(group, stable=True)
    bounds = [0] + torch.bincount(group, minlength=rounds + 2).cumsum(0).tolist()
    y = x.index_select(0, sort)  # our own copy: every step below works in place on it
    busy = y[:bounds[rounds + 1]]
    order, factors, hue = params["order"][sort], factors[sort], hue[sort]
    for r in range(rounds):
        step = order[:bounds[rounds + 1], r]
        weight = factors[:bounds[rounds + 1]].gather(1, step[:, None])[:, 0]
        is_sat, is_con = step == SATURATION, step == CONTRAST
        active = weight != 1
        if active.any():
            # y <- clamp(w y + (1 - w) t), t = 0 (brightness), mean grey (contrast), grey image (saturation)
            keep = 1 - weight
            if ((is_sat | is_con) & active).any():
                gray = grayscale(busy)  # [n, 1, H, W]; contrast's target is its mean
                target = torch.addcmul(per_image(gray.mean((1, 2, 3)) * keep * is_con), gray, per_image(keep * is_sat))
                # one fused pass: target plane + w * y (a plane target broadcasts fast, a scalar one slowly)
                torch.addcmul(target, busy, per_image(weight), out=busy).clamp_(0.0, 1.0)
            else:
                busy.mul_(per_image(weight)).clamp_(max=1.0)
        lo, hi = bounds[r], bounds[r + 1]
        if hi > lo:
            y[lo:hi] = adjust_hue(y[lo:hi], hue[lo:hi])
    return y.index_select(0, torch.argsort(sort))  # unsort (a gather is ~3x faster than index_copy_)


def color_drop(x: torch.Tensor, drop: torch.Tensor, inplace: bool = False) -> torch.Tensor:
    """Replace the images where ``drop`` is True by their grey version (3 equal channels)."""
    return on_subset(x, drop, lambda xs, idx: grayscale(xs).expand(-1, 3, -1, -1).contiguous(), inplace)


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
