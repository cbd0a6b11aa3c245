"""NT-Xent, the normalised temperature-scaled cross-entropy loss of SimCLR (paper eq. 1)."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.5) -> torch.Tensor:
    """Mean NT-Xent over the 2N anchors of a batch of positive pairs ``(z1[i], z2[i])``.

    Cosine similarity divided by ``temperature``; each anchor has its positive and 2N - 2
    negatives (itself masked out); computed by a log-sum-exp in float32, also under autocast.
    """
    if z1.shape != z2.shape or z1.ndim != 2:
        raise ValueError(f"nt_xent needs z1, z2 of the same shape [N, d], got {tuple(z1.shape)} and {tuple(z2.shape)}")
    if temperature <= 0:
        raise ValueError(f"nt_xent temperature={temperature!r} must be > 0")
    n = z1.shape[0]
    with torch.autocast(device_type=z1.device.type, enabled=False):
        z = F.normalize(torch.cat([z1, z2]).float(), dim=1)
        logits = (z @ z.t()) / temperature
        eye = torch.eye(2 * n, dtype=torch.bool, device=z.device)
        logits = logits.masked_fill(eye, float("-inf"))
        targets = torch.arange(2 * n, device=z.device).roll(n)  # i -> i + N (mod 2N)
        return F.cross_entropy(logits, targets)
