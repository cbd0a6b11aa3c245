"""The supervised baseline (Table 1's second row): same encoder and augmentation, cross-entropy on labels."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..method import Method, method
from ..views import make_view


@method("supervised")
class Supervised(Method):
    """One augmented view per image (base crop, then the pipeline), a linear classifier on h."""

    def __init__(self, encoder, config, num_classes) -> None:
        super().__init__(encoder, config, num_classes)
        self.classifier = nn.Linear(encoder.out_dim, num_classes)

    def make_inputs(self, x, y, pipeline_op, base_crop_op, generator):
        return make_view(x, pipeline_op, base_crop_op, generator), y

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(self.classifier(self.encoder(x)).float(), y)
