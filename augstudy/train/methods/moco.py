"""MoCo v2 (Chen et al. 2020): a query encoder + MLP head, a momentum (EMA) key encoder, and a queue
of past keys as the negatives of an InfoNCE loss.

Paper settings, scaled as augstudy scales SimCLR's: the head is v2's 2-layer MLP without BatchNorm
(hidden = dim h, output ``model.projection_dim``); temperature 0.2; a constant key-encoder momentum
(0.999 in the paper for ~1M steps; 0.99 here, as solo-learn's CIFAR settings, for runs of hundreds of
steps, where 0.999 leaves the keys at their initialisation); queue 4096 keys (65,536 in the paper). As
solo-learn, the loss is symmetrised: each view's query is contrasted with the other view's key and
that view's queue (one queue a view), and both views' keys are enqueued after the optimizer step,
wrapping around the end of the queue. No shuffling BN (one device).
"""
from __future__ import annotations

from typing import Literal, Optional

import torch
import torch.nn.functional as F
from pydantic import Field

from ...errors import ParamsError
from ..heads import mlp
from ..method import method
from .base import MomentumMethod, MomentumParams, target_copy


def info_nce(q: torch.Tensor, k: torch.Tensor, queue: torch.Tensor, temperature: float) -> torch.Tensor:
    """MoCo's InfoNCE: query ``q[i]``'s positive is ``k[i]``, its negatives the ``queue`` rows [K, d];
    all L2-normalised here; cosine / ``temperature`` logits, cross-entropy on the positive; float32."""
    with torch.autocast(device_type=q.device.type, enabled=False):
        q, k = F.normalize(q.float(), dim=1), F.normalize(k.detach().float(), dim=1)
        queue = F.normalize(queue.detach().float(), dim=1)
        logits = torch.cat([(q * k).sum(1, keepdim=True), q @ queue.t()], dim=1) / temperature
        return F.cross_entropy(logits, torch.zeros(q.shape[0], dtype=torch.long, device=q.device))


@torch.no_grad()
def enqueue(queue: torch.Tensor, ptr: torch.Tensor, keys: torch.Tensor) -> None:
    """Write ``keys`` [..., N, d] into ``queue`` [..., K, d] from row ``ptr`` on, wrapping around its end
    (N <= K); advance ``ptr`` (a 0-d long tensor) by N modulo K. In place, without a device sync."""
    size, n = queue.shape[-2], keys.shape[-2]
    if n > size:
        raise ValueError(f"cannot enqueue {n} keys into a queue of {size}")
    index = (ptr + torch.arange(n, device=queue.device)) % size
    queue.index_copy_(queue.ndim - 2, index, keys.to(queue.dtype))
    ptr.copy_((ptr + n) % size)


class MoCoParams(MomentumParams):
    momentum: float = Field(0.99, ge=0.0, le=1.0)
    momentum_schedule: Literal["cosine", "constant"] = "constant"
    queue_size: int = Field(4096, ge=1)
    temperature: float = Field(0.2, gt=0.0)
    hidden_dim: Optional[int] = Field(None, ge=1)  # head hidden width (None: dim h)


@method("moco")
class MoCo(MomentumMethod):
    """Query network f, g; key network f', g' (EMA); ``queue`` [2, K, d]: past keys of each view."""

    Params = MoCoParams

    @classmethod
    def check(cls, params, config) -> None:
        if params.queue_size < config.training.batch_size:
            raise ParamsError(f"method 'moco': queue_size={params.queue_size} is smaller than "
                             f"training.batch_size={config.training.batch_size}; give queue_size >= the batch size")

    def __init__(self, encoder, config, num_classes) -> None:
        super().__init__(encoder, config, num_classes)
        d, out = encoder.out_dim, config.model.projection_dim
        self.projector = mlp([d, self.params.hidden_dim or d, out], batch_norm=False)
        self.target_encoder = target_copy(self.encoder)
        self.target_projector = target_copy(self.projector)
        self.register_buffer("queue", F.normalize(torch.randn(2, self.params.queue_size, out), dim=-1))
        self.register_buffer("queue_ptr", torch.zeros((), dtype=torch.long))
        self._keys: Optional[torch.Tensor] = None

    def momentum_pairs(self):
        return [(self.encoder, self.target_encoder), (self.projector, self.target_projector)]

    def forward(self, views: torch.Tensor) -> torch.Tensor:
        n = views.shape[0] // 2
        q = self.projector(self.encoder(views))
        with torch.no_grad():
            k = self.target_projector(self.target_encoder(views))
        self._keys = k.detach()
        t = self.params.temperature
        return (info_nce(q[:n], k[n:], self.queue[1], t) + info_nce(q[n:], k[:n], self.queue[0], t)) / 2

    def on_after_step(self, step: int, total_steps: int) -> None:
        super().on_after_step(step, total_steps)
        if self._keys is not None:
            keys = F.normalize(self._keys.float(), dim=1)
            enqueue(self.queue, self.queue_ptr, keys.view(2, keys.shape[0] // 2, -1))  # view v -> queue[v]
            self._keys = None
