"""Adapter: any albumentations transform becomes an augstudy operator.

The transform runs per image on the CPU (uint8 HWC numpy, as albumentations expects); the result
comes back as float32 in [0, 1] on the input's device. Each image gets its own seed, drawn from
the generator passed in, so the same seed gives the same output::

    import albumentations as A, augstudy

    @augstudy.operator("channel_shuffle")
    def channel_shuffle(p: float = 1.0):
        return augstudy.ops.from_albumentations(A.ChannelShuffle(p=p))
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .base import Operator, OperatorParams, Params
from ..errors import OperatorContractError


class AlbumentationsOperator(Operator):
    """An albumentations transform wrapped as an operator (per image, CPU, not batched)."""

    batched = False
    Params = OperatorParams

    def __init__(self, transform: Any, name: str | None = None) -> None:
        if not callable(transform) or not hasattr(transform, "set_random_seed"):
            raise TypeError(f"from_albumentations needs an albumentations transform, got {type(transform).__name__}")
        super().__init__()
        self.transform = transform
        self.name = name or type(transform).__name__

    def sample_params(self, batch_size: int, generator: torch.Generator, device: torch.device) -> Params:
        seeds = torch.randint(0, 2**31 - 1, (batch_size,), generator=generator, device=generator.device)
        return {"seed": seeds.cpu()}

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        images = (x.detach().cpu() * 255).round_().to(torch.uint8).permute(0, 2, 3, 1).numpy()
        out = []
        for img, seed in zip(images, params["seed"].tolist()):
            self.transform.set_random_seed(int(seed))
            res = self.transform(image=np.ascontiguousarray(img))["image"]
            if res.shape != img.shape:
                raise OperatorContractError(f"albumentations operator {self.name!r} changed the image shape "
                                 f"{img.shape} -> {res.shape}; operators must keep it")
            out.append(res)
        y = torch.from_numpy(np.stack(out)).permute(0, 3, 1, 2)
        y = y.float().div_(255) if y.dtype == torch.uint8 else y.float().clamp_(0, 1)
        return y.contiguous().to(x.device)


def from_albumentations(transform: Any, name: str | None = None) -> Operator:
    """Wrap an albumentations transform (e.g. ``A.ChannelShuffle(p=1.0)``) as an operator."""
    return AlbumentationsOperator(transform, name)
