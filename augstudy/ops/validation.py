"""Validation of operator parameters and of image batches, with one-line messages."""
from __future__ import annotations

from typing import Any, Callable

import torch
from pydantic import ValidationError

from ..errors import OperatorContractError, ParamsError


def validate_params(cls: type, params: dict[str, Any]):
    """Build ``cls.Params`` from ``params``; raise ``ValueError`` naming the operator and param."""
    fields = cls.Params.model_fields
    unknown = sorted(set(params) - set(fields))
    if unknown:
        valid = ", ".join(fields) or "none"
        raise ParamsError(f"operator {cls.name!r} has no param {unknown[0]!r}; its params are: {valid}")
    try:
        return cls.Params(**params)
    except ValidationError as e:
        err = e.errors()[0]
        msg = str(err["msg"]).removeprefix("Value error, ")
        if not err["loc"]:  # a check across params (e.g. min <= max): the message names them
            raise ParamsError(f"operator {cls.name!r}: {msg}") from None
        key = str(err["loc"][0])
        bounds = valid_range(fields[key])
        if bounds and err["type"] in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
            msg = f"must be in {bounds}"
        raise ParamsError(f"operator {cls.name!r} param {key}={params.get(key)!r}: {msg}") from None


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


#: How far outside [0, 1] an operator's output may stray before it breaks the contract: float rounding
#: in blends and colour maths stays far inside it; 0-255 values, [0, 50] or a missing clamp do not.
RANGE_TOLERANCE = 1e-3


def check_output(op: Any, x: torch.Tensor, y: Any) -> None:
    """The operator contract on ``y``, ``op``'s output for the batch ``x``: a tensor of ``x``'s shape, dtype
    and device, finite, within [0, 1] (± :data:`RANGE_TOLERANCE`). A violation raises
    :class:`OperatorContractError`: one line naming the operator, what it returned and what is expected.
    Reads the values once (one device sync): meant for a first batch, not every step.
    """
    label = op.spec() if hasattr(op, "spec") else repr(op)
    expected = f"expected float32 {list(x.shape)} on {x.device} (the input's shape, dtype and device)"
    if not isinstance(y, torch.Tensor):
        raise OperatorContractError(f"operator {label!r} returned a {type(y).__name__}; {expected}")
    if y.shape != x.shape or y.dtype != x.dtype or y.device != x.device:
        hint = " (convert uint8 with x.float() / 255)" if y.dtype == torch.uint8 else ""
        raise OperatorContractError(f"operator {label!r} returned {str(y.dtype).removeprefix('torch.')} "
                                    f"{list(y.shape)} on {y.device}; {expected}{hint}")
    if not y.numel():
        return
    if not bool(torch.isfinite(y).all()):
        raise OperatorContractError(f"operator {label!r} returned NaN or infinite values; expected finite values in [0, 1]")
    lo, hi = (float(v) for v in torch.aminmax(y))
    if lo < -RANGE_TOLERANCE or hi > 1 + RANGE_TOLERANCE:
        hint = " (0-255 values: divide by 255)" if 100 < hi <= 255.5 and lo >= 0 else ""
        raise OperatorContractError(f"operator {label!r} returned values in [{lo:.4g}, {hi:.4g}]; expected values in "
                                    f"[0, 1] (tolerance {RANGE_TOLERANCE:g}){hint}")


def checked_apply(op: Any, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """``op`` on ``x`` as the training loop applies it (params drawn from ``generator``, then applied; a
    per-image CPU plugin on a CPU copy), checking every operator's output with :func:`check_output`.

    Draws exactly what ``op(x, generator)`` draws, so a preview made with it is the same picture.
    """
    from .base import Compose

    if not getattr(op, "batched", True) and x.device.type != "cpu":
        return checked_apply(op, x.cpu(), generator).to(x.device)
    params = op.sample_params(x.shape[0], generator, x.device)

    def run(op, x, params):
        if isinstance(op, Compose):
            for step, p in zip(op.operators, params["steps"]):
                x = run(step, x, p)
            return x
        y = op.apply(x, params)
        check_output(op, x, y)
        return y

    return run(op, x, params)
