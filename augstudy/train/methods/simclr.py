"""SimCLR: two views, encoder f, projection head g, NT-Xent on z = g(f(x))."""
from __future__ import annotations

import torch

from ..heads import ProjectionHead
from ..method import method
from ..nt_xent import nt_xent
from .base import TwoViewMethod


@method("simclr")
class SimCLR(TwoViewMethod):
    """Both views go through f and g in one pass (BatchNorm sees all 2N views, as the paper's global BN)."""

    def __init__(self, encoder, config, num_classes) -> None:
        super().__init__(encoder, config, num_classes)
        self.projector = ProjectionHead(encoder.out_dim, config.model.projection_dim)
        self.temperature = config.training.temperature

    def forward(self, views: torch.Tensor) -> torch.Tensor:
        z = self.projector(self.encoder(views))
        n = z.shape[0] // 2
        return nt_xent(z[:n], z[n:], self.temperature)
