"""solarize: invert the pixels at or above a threshold (BYOL's policy: threshold 0.5, p 0 / 0.2 per view).

Branch-free over the whole batch: one ``torch.where`` with a per-image mask, no ``.item()`` or
``nonzero``, so it costs the same whatever the draw (and stays one graph under ``torch.compile``).
Matches torchvision's ``functional.solarize`` (``x >= threshold`` becomes ``1 - x``) per image.
"""
from __future__ import annotations

import torch
from pydantic import Field

from .base import Operator, OperatorParams, Params, draw_mask, per_image
from .registry import operator


def solarize(x: torch.Tensor, threshold: float, apply: torch.Tensor) -> torch.Tensor:
    """``1 - x`` where ``x >= threshold`` in the images whose ``apply`` [B] is True; ``x`` elsewhere."""
    return torch.where((x >= threshold) & per_image(apply), 1.0 - x, x)


@operator("solarize")
class Solarize(Operator):
    """Solarization (BYOL Table 6), applied per image with probability p."""

    class Params(OperatorParams):
        threshold: float = Field(0.5, ge=0, le=1, description="pixels >= threshold are inverted")
        p: float = Field(1.0, ge=0, le=1, description="probability of solarizing an image")

    def sample_params(self, batch_size: int, generator: torch.Generator, device: torch.device) -> Params:
        return {"solarize": draw_mask(generator, batch_size, self.p, device)}

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        return solarize(x, self.threshold, params["solarize"])
