"""The projection head g: a 2-layer MLP (hidden = dim of h, ReLU, output 128), as in the paper."""
from __future__ import annotations

from torch import nn


class ProjectionHead(nn.Sequential):
    """``z = W2 relu(W1 h)``; the paper's g, with BatchNorm after the hidden layer (SimCLR code)."""

    def __init__(self, in_dim: int, out_dim: int = 128, hidden_dim: int | None = None) -> None:
        hidden_dim = hidden_dim or in_dim
        super().__init__(
            nn.Linear(in_dim, hidden_dim, bias=False),
            nn.BatchNorm1d(hidden_dim),
            nn.ReLU(inplace=True),
            nn.Linear(hidden_dim, out_dim),
        )
        self.out_dim = out_dim
