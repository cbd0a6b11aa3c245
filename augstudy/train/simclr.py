"""SimCLR: two views, encoder f, projection head g, NT-Xent on z = g(f(x))."""
from __future__ import annotations

import torch

from .heads import ProjectionHead
from .method import Method, method
from .nt_xent import nt_xent
from .views import make_views


@method("simclr")
class SimCLR(Method):
    """Both views go through f and g in one pass (BatchNorm sees all 2N views, as the paper's global BN)."""

    def __init__(self, encoder, config, num_classes) -> None:
        super().__init__(encoder, config, num_classes)
        self.projector = ProjectionHead(encoder.out_dim, config.model.projection_dim)
        self.temperature = config.training.temperature

    def make_inputs(self, x, y, pipeline_op, base_crop_op, generator):
        v1, v2 = make_views(x, pipeline_op, base_crop_op, self.config.protocol.name, generator)
        return (torch.cat([v1, v2]),)

    def forward(self, views: torch.Tensor) -> torch.Tensor:
        z = self.projector(self.encoder(views))
        n = z.shape[0] // 2
        return nt_xent(z[:n], z[n:], self.temperature)
