"""Optimisers (LARS as in the paper, SGD with momentum, AdamW) and the warmup + cosine schedule."""
from __future__ import annotations

import math
from typing import Iterable

import torch
from torch import nn

from ..errors import ParamsError


class LARS(torch.optim.Optimizer):
    """Layer-wise adaptive rate scaling (You et al. 2017) over SGD with momentum, as in SimCLR.

    Each parameter's update is scaled by ``trust * ||w|| / (||g|| + wd ||w||)``; groups with
    ``lars_exclude=True`` (BatchNorm and biases) get plain SGD with momentum and no weight decay.

    Multi-tensor: one ``torch._foreach_*`` call per step of the update over all of a group's
    parameters (norms, weight decay, trust ratios, momentum, the step), not a Python loop over them;
    the numbers are those of the per-parameter loop (``tests/test_train_optim.py`` keeps it as reference).
    """

    def __init__(self, params: Iterable, lr: float, momentum: float = 0.9, weight_decay: float = 0.0,
                 trust_coefficient: float = 0.001, eps: float = 1e-8) -> None:
        defaults = dict(lr=lr, momentum=momentum, weight_decay=weight_decay,
                        trust_coefficient=trust_coefficient, eps=eps, lars_exclude=False)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):  # type: ignore[override]
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            grads = [p.grad for p in params]
            if not group["lars_exclude"]:
                if group["weight_decay"]:
                    grads = torch._foreach_add(grads, params, alpha=group["weight_decay"])
                w_norm = torch.stack(torch._foreach_norm(params))
                g_norm = torch.stack(torch._foreach_norm(grads))
                ratio = group["trust_coefficient"] * w_norm / (g_norm + group["eps"])
                scale = torch.where((w_norm > 0) & (g_norm > 0), ratio, torch.ones_like(ratio))
                grads = torch._foreach_mul(grads, list(scale.unbind(0)))
            bufs = [self.state[p].get("momentum_buffer") for p in params]
            if any(b is None for b in bufs):  # the first step: the buffers start as the update itself
                for p, g, b in zip(params, grads, bufs):
                    if b is None:
                        self.state[p]["momentum_buffer"] = torch.clone(g).detach()
                    else:
                        b.mul_(group["momentum"]).add_(g)
                bufs = [self.state[p]["momentum_buffer"] for p in params]
            else:
                torch._foreach_mul_(bufs, group["momentum"])
                torch._foreach_add_(bufs, grads)
            torch._foreach_add_(params, bufs, alpha=-group["lr"])
        return loss


def param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Two groups: weights with ``weight_decay``; BatchNorm/LayerNorm params and biases without it."""
    decay, no_decay = [], []
    for module in model.modules():
        for name, p in module.named_parameters(recurse=False):
            if not p.requires_grad:
                continue
            is_norm = isinstance(module, (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm))
            (no_decay if is_norm or name == "bias" or p.ndim <= 1 else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay},
            {"params": no_decay, "weight_decay": 0.0, "lars_exclude": True}]


def build_optimizer(model: nn.Module, name: str, lr: float, momentum: float, weight_decay: float,
                    fused: bool = False) -> torch.optim.Optimizer:
    """``lars`` | ``sgd`` (Nesterov-free momentum) | ``adamw``, over :func:`param_groups`.

    ``fused``: AdamW's fused kernel (for parameters on CUDA); LARS is multi-tensor everywhere and SGD
    picks torch's multi-tensor path on CUDA by itself.
    """
    groups = param_groups(model, weight_decay)
    if name == "lars":
        return LARS(groups, lr=lr, momentum=momentum, weight_decay=weight_decay)
    for g in groups:
        g.pop("lars_exclude", None)
    if name == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=momentum)
    if name == "adamw":
        return torch.optim.AdamW(groups, lr=lr, fused=True) if fused else torch.optim.AdamW(groups, lr=lr)
    raise ParamsError(f"training.optimizer={name!r} is not valid; use lars, sgd or adamw")


def warmup_cosine(total_steps: int, warmup_steps: int) -> "callable":
    """Multiplier of the base lr at a step: linear warmup to 1 over ``warmup_steps``, then cosine to 0."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))

    return factor
