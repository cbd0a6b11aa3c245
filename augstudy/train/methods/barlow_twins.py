"""Barlow Twins (Zbontar et al. 2021): the cross-correlation matrix of two views' standardised
embeddings is pushed towards the identity; off-diagonal terms weighted by lambda = 5e-3.

Paper settings, scaled as augstudy scales SimCLR's: the projector is a 3-layer MLP with BatchNorm,
every layer 4 x dim h wide (8192 for ResNet-50's 2048); lambda the paper's 5e-3. Float32 loss.
"""
from __future__ import annotations

from typing import Optional

import torch
from pydantic import Field

from ..method import MethodParams, method
from .base import PairLossMethod


def barlow_twins_loss(z1: torch.Tensor, z2: torch.Tensor, lambda_param: float = 5e-3) -> torch.Tensor:
    """``sum_i (1 - C_ii)^2 + lambda * sum_{i != j} C_ij^2``, C = z1n^T z2n / N of the embeddings
    standardised per dimension over the batch (biased variance, eps 1e-5: BatchNorm without affine)."""
    with torch.autocast(device_type=z1.device.type, enabled=False):
        z1, z2 = z1.float(), z2.float()
        n = z1.shape[0]

        def standardise(z: torch.Tensor) -> torch.Tensor:
            return (z - z.mean(0)) / torch.sqrt(z.var(0, unbiased=False) + 1e-5)

        c = standardise(z1).t() @ standardise(z2) / n
        on = (1 - c.diagonal()).square().sum()
        off = c.square().sum() - c.diagonal().square().sum()
        return on + lambda_param * off


class BarlowTwinsParams(MethodParams):
    lambda_param: float = Field(5e-3, ge=0.0)  # weight of the off-diagonal (redundancy) terms
    dim: Optional[int] = Field(None, ge=2)  # projector width (None: 4 x dim h)


@method("barlow_twins")
class BarlowTwins(PairLossMethod):
    """Encoder f, projector g (probed as g(h)); both views in one pass."""

    Params = BarlowTwinsParams

    def loss(self, z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
        return barlow_twins_loss(z1, z2, self.params.lambda_param)
