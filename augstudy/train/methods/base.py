"""The small bases the built-in methods stand on (after solo-learn's ``BaseMethod`` / ``BaseMomentumMethod``).

:class:`TwoViewMethod`: two views of each image (the study's protocol), both through the online
networks in one pass (BatchNorm sees all 2N views, as SimCLR's global BN). :class:`MomentumMethod`
adds target networks that follow the online ones by an exponential moving average after every
optimizer step (the loop's ``on_after_step`` hook), with BYOL's cosine schedule of the momentum from
its base value to 1 over training, or a constant momentum (MoCo).
"""
from __future__ import annotations

import copy
import math
from typing import Literal

import torch
from pydantic import Field
from torch import nn

from ..heads import mlp
from ..method import Method, MethodParams
from ..views import make_views


class TwoViewMethod(Method):
    """A self-supervised method on two views; ``forward`` gets both views stacked, ``[v1; v2]`` (2N images)."""

    def make_inputs(self, x, y, pipeline_op, base_crop_op, generator):
        v1, v2 = make_views(x, pipeline_op, base_crop_op, self.config.protocol.name, generator)
        return (torch.cat([v1, v2]),)


class PairLossMethod(TwoViewMethod):
    """Encoder f and a 3-layer projector g (width ``params.dim``, default 4 x dim h; probed as g(h)); both
    views in one pass, the loss a function of the two views' projections (:meth:`loss`): VICReg, Barlow Twins."""

    def __init__(self, encoder, config, num_classes) -> None:
        super().__init__(encoder, config, num_classes)
        d = encoder.out_dim
        width = self.params.dim or 4 * d
        self.projector = mlp([d, width, width, width])

    def loss(self, z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, views: torch.Tensor) -> torch.Tensor:
        z = self.projector(self.encoder(views))
        n = z.shape[0] // 2
        return self.loss(z[:n], z[n:])


def cosine_momentum(step: int, total_steps: int, base: float, final: float = 1.0) -> float:
    """BYOL's schedule: ``final - (final - base) (cos(pi k / K) + 1) / 2`` at step ``k`` of ``K``
    (``base`` at k = 0, ``final`` at k = K)."""
    progress = min(max(step / max(1, total_steps), 0.0), 1.0)
    return final - (final - base) * (math.cos(math.pi * progress) + 1) / 2


@torch.no_grad()
def ema_update(online: nn.Module, target: nn.Module, momentum: float) -> None:
    """``target <- momentum * target + (1 - momentum) * online``, parameter by parameter (buffers stay the target's)."""
    t, o = list(target.parameters()), list(online.parameters())
    if len(t) != len(o):
        raise ValueError(f"online and target networks differ: {len(o)} vs {len(t)} parameters")
    if momentum < 1.0:
        torch._foreach_lerp_(t, o, 1.0 - momentum)


def target_copy(module: nn.Module) -> nn.Module:
    """A frozen copy of ``module`` (no gradients; trained only by :func:`ema_update`)."""
    target = copy.deepcopy(module)
    for p in target.parameters():
        p.requires_grad_(False)
    return target


class MomentumParams(MethodParams):
    """The momentum of the target networks' moving average: ``cosine`` from ``momentum`` to 1, or ``constant``."""

    momentum: float = Field(0.996, ge=0.0, le=1.0)
    momentum_schedule: Literal["cosine", "constant"] = "cosine"


class MomentumMethod(TwoViewMethod):
    """A two-view method with target networks: subclasses list ``(online, target)`` module pairs in
    :meth:`momentum_pairs` (make the targets with :func:`target_copy`). After optimizer step k of K
    each target moves towards its online network with the momentum of step k - 1 (the base momentum
    first, as BYOL's tau_base)."""

    Params = MomentumParams

    def __init__(self, encoder, config, num_classes) -> None:
        super().__init__(encoder, config, num_classes)
        self.current_momentum = float(self.params.momentum)

    def momentum_pairs(self) -> list[tuple[nn.Module, nn.Module]]:
        raise NotImplementedError

    def momentum_at(self, step: int, total_steps: int) -> float:
        p = self.params
        if p.momentum_schedule == "constant":
            return float(p.momentum)
        return cosine_momentum(step, total_steps, p.momentum)

    def on_after_step(self, step: int, total_steps: int) -> None:
        self.current_momentum = self.momentum_at(step - 1, total_steps)
        for online, target in self.momentum_pairs():
            ema_update(online, target, self.current_momentum)
