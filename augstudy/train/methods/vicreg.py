"""VICReg (Bardes et al. 2022): variance, invariance and covariance terms on an expander's embeddings of
two views, weighted 25 / 25 / 1 as in the paper.

Paper settings, scaled as augstudy scales SimCLR's: the expander is a 3-layer MLP with BatchNorm,
every layer 4 x dim h wide (8192 for ResNet-50's 2048); the weights are the paper's. The loss is
computed in float32 (variance and covariance terms lose too much in bf16).
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from pydantic import Field

from ..method import MethodParams, method
from .base import PairLossMethod


def vicreg_loss(z1: torch.Tensor, z2: torch.Tensor, sim: float = 25.0, var: float = 25.0, cov: float = 1.0,
                eps: float = 1e-4) -> torch.Tensor:
    """``sim * MSE(z1, z2) + var * (v(z1) + v(z2)) / 2 + cov * (c(z1) + c(z2))`` on [N, D] embeddings:
    v = mean over dimensions of relu(1 - sqrt(Var + eps)) (unbiased variance), c = sum of the squared
    off-diagonal covariances / D (as the paper's code and lightly's ``VICRegLoss``)."""
    with torch.autocast(device_type=z1.device.type, enabled=False):
        z1, z2 = z1.float(), z2.float()
        n, d = z1.shape

        def variance(z: torch.Tensor) -> torch.Tensor:
            return F.relu(1 - torch.sqrt(z.var(dim=0) + eps)).mean()

        def covariance(z: torch.Tensor) -> torch.Tensor:
            z = z - z.mean(dim=0)
            c = (z.t() @ z) / (n - 1)
            return (c.square().sum() - c.diagonal().square().sum()) / d

        return (sim * F.mse_loss(z1, z2) + var * (variance(z1) + variance(z2)) / 2
                + cov * (covariance(z1) + covariance(z2)))


class VICRegParams(MethodParams):
    sim_weight: float = Field(25.0, ge=0.0)  # lambda, invariance
    var_weight: float = Field(25.0, ge=0.0)  # mu, variance
    cov_weight: float = Field(1.0, ge=0.0)  # nu, covariance
    dim: Optional[int] = Field(None, ge=2)  # expander width (None: 4 x dim h)


@method("vicreg")
class VICReg(PairLossMethod):
    """Encoder f, expander g (probed as g(h)); both views in one pass."""

    Params = VICRegParams

    def loss(self, z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
        p = self.params
        return vicreg_loss(z1, z2, p.sim_weight, p.var_weight, p.cov_weight)
