"""Validation of operator parameters and of image batches, with one-line messages."""
from __future__ import annotations

from typing import Any, Callable

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
        msg = str(err["msg"]).removeprefix("Value error, ")
        if not err["loc"]:  # a check across params (e.g. min <= max): the message names them
            raise ValueError(f"operator {cls.name!r}: {msg}") from None
        key = str(err["loc"][0])
        bounds = valid_range(fields[key])
        if bounds and err["type"] in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
            msg = f"must be in {bounds}"
        raise ValueError(f"operator {cls.name!r} param {key}={params.get(key)!r}: {msg}") from None


def valid_range(field: Any) -> str:
    """``"[0, 2.5]"``, ``"(0, 1]"``, ``">= 0"`` ... from a pydantic field's ge/gt/le/lt constraints; '' if none."""
    lo = hi = None
    for m in field.metadata:
        for attr, bracket in (("ge", "["), ("gt", "(")):
            if getattr(m, attr, None) is not None:
                lo = (bracket, getattr(m, attr))
        for attr, bracket in (("le", "]"), ("lt", ")")):
            if getattr(m, attr, None) is not None:
                hi = (bracket, getattr(m, attr))
    if lo and hi:
        return f"{lo[0]}{lo[1]:g}, {hi[1]:g}{hi[0]}"
    if lo:
        return f"{'>=' if lo[0] == '[' else '>'} {lo[1]:g}"
    if hi:
        return f"{'<=' if hi[0] == ']' else '<'} {hi[1]:g}"
    return ""


def check_images(x: Any, where: str | Callable[[], str] = "operator") -> None:
    """Enforce the operator contract on an input batch: float32 [B, 3, H, W] in [0, 1].

    ``where`` names the operator in messages (a callable is only called on error).
    """
    def name() -> str:
        return where() if callable(where) else where

    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name()}: expected a torch.Tensor, got {type(x).__name__}")
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"{name()}: expected a float32 batch [B, 3, H, W], got shape {tuple(x.shape)}")
    if x.dtype != torch.float32:
        raise ValueError(f"{name()}: expected dtype float32 in [0, 1], got {x.dtype} (convert uint8 with x.float() / 255)")
    if x.numel():
        lo, hi = (v.item() for v in torch.aminmax(x))
        if lo < 0 or hi > 1:
            hint = "; divide 0-255 values by 255" if hi > 1.5 and lo >= 0 else ""
            raise ValueError(f"{name()}: expected values in [0, 1], got [{lo:.3g}, {hi:.3g}]{hint}")
