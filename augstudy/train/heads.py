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


def mlp(dims: list[int], batch_norm: bool = True) -> nn.Sequential:
    """Linear layers through ``dims`` (``[in, hidden, ..., out]``), each but the last followed by
    BatchNorm (if ``batch_norm``) and ReLU: the heads of BYOL, MoCo v2 (no BN), VICReg and Barlow Twins."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(dims[:-1], dims[1:])):
        last = i == len(dims) - 2
        layers.append(nn.Linear(a, b, bias=last or not batch_norm))
        if not last:
            layers += [nn.BatchNorm1d(b)] if batch_norm else []
            layers.append(nn.ReLU(inplace=True))
    head = nn.Sequential(*layers)
    head.out_dim = dims[-1]
    return head
