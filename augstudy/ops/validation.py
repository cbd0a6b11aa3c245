"""Validation of operator parameters and of image batches, with one-line messages."""
from __future__ import annotations

from typing import Any

import torch
from pydantic import ValidationError


def validate_params(cls: type, params: dict[str, Any]):
    """Build ``cls.Params`` from ``params``; raise ``ValueError`` naming the operator and param."""
    fields = cls.Params.model_fields
    unknown = sorted(set(params) - set(fields))
    if unknown:
        valid = ", ".join(fields) or "none"
        raise ValueError(f"operator {cls.name!r} has no param {unknown[0]!r}; its params are: {valid}")
    try:
        return cls.Params(**params)
    except ValidationError as e:
        err = e.errors()[0]
        key = ".".join(str(p) for p in err["loc"]) or "?"
        raise ValueError(
            f"operator {cls.name!r} param {key}={err.get('input')!r}: {err['msg']}"
        ) from None


def check_images(x: Any, where: str = "operator") -> None:
    """Enforce the operator contract on an input batch: float32 [B, 3, H, W] in [0, 1]."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{where}: expected a torch.Tensor, got {type(x).__name__}")
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"{where}: expected a float32 batch [B, 3, H, W], got shape {tuple(x.shape)}")
    if x.dtype != torch.float32:
        raise ValueError(f"{where}: expected dtype float32 in [0, 1], got {x.dtype} (convert uint8 with x.float() / 255)")
    if x.numel() and (x.min() < 0 or x.max() > 1):
        raise ValueError(
            f"{where}: expected values in [0, 1], got [{x.min().item():.3g}, {x.max().item():.3g}]"
        )
