"""The two view protocols (the paper's asymmetric Figure-5 protocol, symmetric SimCLR views) and
per-view pipelines (BYOL's T and T')."""
from __future__ import annotations

from typing import Literal, NamedTuple, Optional

import torch

from ..errors import ParamsError

PROTOCOLS = ("asymmetric", "symmetric")


class ViewPipelines(NamedTuple):
    """Each view's own pipeline (BYOL's T and T'), in place of one pipeline where ``make_views`` takes it."""

    view1: object
    view2: object


def view_ops(pipeline_op, protocol: str) -> tuple[object, object]:
    """The (first view, second view) pipelines: a :class:`ViewPipelines` as given; one pipeline goes to
    the first view, and the second view gets the identity (``asymmetric``) or the same pipeline (``symmetric``)."""
    if protocol not in PROTOCOLS:
        raise ParamsError(f"protocol.name={protocol!r} is not valid; use {' or '.join(PROTOCOLS)}")
    if isinstance(pipeline_op, ViewPipelines):
        return pipeline_op.view1, pipeline_op.view2
    return pipeline_op, (None if protocol == "asymmetric" else pipeline_op)


def apply_op(op, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """``op(x, generator)``; per-image CPU plugins (``op.batched`` False) get a CPU copy and give it back.

    Batched operators are called as ``apply(x, sample_params(...))``, skipping ``__call__``'s input
    check (a full pass over the batch and, on CUDA, a device sync) in the training loop.
    """
    if is_identity(op):
        return x
    if getattr(op, "batched", True):
        return op.apply(x, op.sample_params(x.shape[0], generator, x.device))
    if x.device.type == "cpu":
        return op(x, generator)
    return op(x.cpu(), generator).to(x.device, non_blocking=True)


def make_views(x: torch.Tensor, pipeline_op, base_crop_op, protocol: Literal["asymmetric", "symmetric"],
               generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Two views of the batch ``x`` (float32 [B, 3, H, W] in [0, 1]).

    ``asymmetric`` (the paper's Figure 5): each image gets ``base_crop_op`` once, shared by both
    views ("we always first randomly crop images and resize them to the same resolution"); then
    ``pipeline_op`` goes to the first view only and the second view is that crop itself, the
    identity t(x) = x. ``symmetric``: each view draws its own base crop and its own pipeline.
    ``base_crop_op`` None switches the crop off; ``pipeline_op`` None is the identity.

    Per-view pipelines: ``pipeline_op`` a :class:`ViewPipelines` gives each view its own pipeline;
    the protocol still decides the crop (shared by ``asymmetric``, drawn per view by ``symmetric``).
    """
    first, second = view_ops(pipeline_op, protocol)
    if protocol == "asymmetric":
        v2 = apply_op(base_crop_op, x, generator)
        return apply_op(first, v2, generator), apply_op(second, v2, generator)
    v1 = apply_op(first, apply_op(base_crop_op, x, generator), generator)
    v2 = apply_op(second, apply_op(base_crop_op, x, generator), generator)
    return v1, v2


def make_view(x: torch.Tensor, pipeline_op, base_crop_op, generator: torch.Generator) -> torch.Tensor:
    """One augmented view (base crop, then the pipeline; the first view's of per-view pipelines):
    the supervised baseline's input."""
    if isinstance(pipeline_op, ViewPipelines):
        pipeline_op = pipeline_op.view1
    return apply_op(pipeline_op, apply_op(base_crop_op, x, generator), generator)


def is_identity(op: Optional[object]) -> bool:
    """True for None or an empty Compose (skip the call entirely)."""
    return op is None or (hasattr(op, "__len__") and len(op) == 0)
