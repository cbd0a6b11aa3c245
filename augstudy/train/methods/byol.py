"""BYOL (Grill et al. 2020): an online encoder + projector + predictor regresses a target network's
projection of the other view; the target is an exponential moving average of the online network.

Paper settings, scaled as augstudy scales SimCLR's: projector and predictor are 2-layer MLPs with
BatchNorm, hidden 2 x dim h (4096 for ResNet-50's 2048), output ``model.projection_dim`` (256 in the
paper); the target's momentum goes from 0.996 to 1 on a cosine over the training steps; the loss
is symmetrised (each view predicts the other's target projection). The optimiser and schedule are the
study's ``training`` section, as for every method.
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from pydantic import Field

from ..heads import mlp
from ..method import method
from .base import MomentumMethod, MomentumParams, target_copy


def byol_loss(p: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of ``2 - 2 cos(p, z)`` (the paper's normalised MSE), in float32; ``z`` is not differentiated."""
    with torch.autocast(device_type=p.device.type, enabled=False):
        return (2 - 2 * F.cosine_similarity(p.float(), z.detach().float(), dim=-1)).mean()


class BYOLParams(MomentumParams):
    momentum: float = Field(0.996, ge=0.0, le=1.0)  # tau_base; 1 keeps the target at its initialisation
    hidden_dim: Optional[int] = Field(None, ge=1)  # projector/predictor hidden width (None: 2 x dim h)


@method("byol")
class BYOL(MomentumMethod):
    """Online f, g, q; target f', g' (EMA). ``projector`` (probed as g(h)) is the online projector."""

    Params = BYOLParams

    def __init__(self, encoder, config, num_classes) -> None:
        super().__init__(encoder, config, num_classes)
        d, out = encoder.out_dim, config.model.projection_dim
        hidden = self.params.hidden_dim or 2 * d
        self.projector = mlp([d, hidden, out])
        self.predictor = mlp([out, hidden, out])
        self.target_encoder = target_copy(self.encoder)
        self.target_projector = target_copy(self.projector)

    def momentum_pairs(self):
        return [(self.encoder, self.target_encoder), (self.projector, self.target_projector)]

    def forward(self, views: torch.Tensor) -> torch.Tensor:
        n = views.shape[0] // 2
        p = self.predictor(self.projector(self.encoder(views)))
        with torch.no_grad():
            z = self.target_projector(self.target_encoder(views))
        return byol_loss(p[:n], z[n:]) + byol_loss(p[n:], z[:n])
