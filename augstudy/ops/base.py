"""The operator contract: per-image random parameters, then a deterministic apply.

Every operator maps ``float32 [B, 3, H, W]`` in [0, 1] to a tensor of the same shape, dtype
and device. Randomness is split out of the pixel work (as torchvision v2 splits ``make_params``
and ``transform``), but parameters are drawn *per image*, so tests and previews can replay them.
"""
from __future__ import annotations

from typing import Any, ClassVar

import torch
from pydantic import BaseModel, ConfigDict, model_validator

from ..errors import ParamsError

Params = dict[str, Any]


def draw_uniform(generator: torch.Generator, shape: tuple[int, ...] | int, device: torch.device,
                 low: float = 0.0, high: float = 1.0) -> torch.Tensor:
    """Uniform ``[low, high)`` draws from ``generator`` (on its own device), moved to ``device``."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    u = torch.rand(shape, generator=generator, device=generator.device)
    if low != 0.0 or high != 1.0:
        u = u.mul_(high - low).add_(low)
    return u.to(device)


def draw_mask(generator: torch.Generator, batch_size: int, p: float, device: torch.device) -> torch.Tensor:
    """A bool ``[B]`` mask, each entry True with probability ``p`` (drawn even when p is 0 or 1)."""
    return draw_uniform(generator, batch_size, device) < p


def draw_seed(generator: torch.Generator) -> int:
    """One non-negative 63-bit integer from ``generator``, to seed a derived generator."""
    return int(torch.randint(0, 2**62, (1,), generator=generator, device=generator.device).item())


def per_image(v: torch.Tensor) -> torch.Tensor:
    """View a ``[B]`` tensor as ``[B, 1, 1, 1]`` to broadcast against an image batch."""
    return v.contiguous().reshape(-1, 1, 1, 1)  # contiguous: strided weights slow the broadcast ~3x


def ordered(lo: str, hi: str):
    """A pydantic ``after`` validator for a Params class: field ``lo`` <= field ``hi`` (``_x = ordered("a", "b")``)."""

    def check(self):
        if getattr(self, lo) > getattr(self, hi):
            raise ParamsError(f"{lo}={getattr(self, lo)} must be <= {hi}={getattr(self, hi)}")
        return self

    return model_validator(mode="after")(check)


def on_subset(x: torch.Tensor, mask: torch.Tensor, fn, inplace: bool = False) -> torch.Tensor:
    """Images where ``mask`` [B] is True replaced by ``fn(x[mask], idx)``; ``x`` itself when none is.

    ``inplace`` writes into ``x`` (only for a tensor the caller owns); otherwise a copy is made.
    """
    idx = mask.nonzero()[:, 0]
    if idx.numel() == 0:
        return x
    if idx.numel() == x.shape[0]:
        return fn(x, idx)
    out = x if inplace else x.clone()
    out.index_copy_(0, idx, fn(x.index_select(0, idx), idx))
    return out


class OperatorParams(BaseModel):
    """Base for an operator's typed, validated constructor parameters (frozen, no extras)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Operator:
    """A batched, per-image random augmentation.

    Subclasses set ``Params`` (an :class:`OperatorParams` model whose fields are the operator's
    parameters and defaults) and override :meth:`sample_params` and :meth:`apply` only.
    Constructor keywords are validated against ``Params``; the values are available as
    attributes (``self.p``) and as ``self.params``.
    """

    Params: ClassVar[type[OperatorParams]] = OperatorParams
    name: ClassVar[str] = ""
    #: False for plugin operators that run per image on the CPU (the pipeline moves data for them).
    batched: ClassVar[bool] = True

    def __init__(self, **params: Any) -> None:
        from .validation import validate_params  # local: avoids an import cycle with the registry

        self.params = validate_params(type(self), params)

    def __getattr__(self, key: str) -> Any:
        params = self.__dict__.get("params")
        if params is not None and key in type(params).model_fields:
            return getattr(params, key)
        raise AttributeError(f"{type(self).__name__!s} has no attribute {key!r}")

    # --- the two methods a subclass writes -------------------------------------------------
    def sample_params(self, batch_size: int, generator: torch.Generator, device: torch.device) -> Params:
        """Draw this operator's random parameters for ``batch_size`` images (tensors on ``device``)."""
        return {}

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        """Apply the operator with fixed ``params``; deterministic."""
        raise NotImplementedError

    # --- shared, never overridden --------------------------------------------------------------
    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        from .validation import check_images

        check_images(x, self.spec)
        if generator is None:
            raise ValueError(f"operator {self.spec()!r} needs an explicit torch.Generator (seeded)")
        return self.apply(x, self.sample_params(x.shape[0], generator, x.device))

    def spec(self) -> str:
        """A readable, parseable spec string, e.g. ``color(strength=0.5)`` (non-defaults only)."""
        if self.__dict__.get("_spec"):  # built by a registered factory function: its name and kwargs
            return self.__dict__["_spec"]
        changed = {k: v for k, v in self.params.model_dump().items()
                   if v != type(self.params).model_fields[k].default}
        if not changed:
            return self.name
        return f"{self.name}(" + ", ".join(f"{k}={v!r}" for k, v in changed.items()) + ")"

    def __repr__(self) -> str:
        return f"<Operator {self.spec()}>"


class Compose(Operator):
    """Apply operators in order: the paper's "1st transformation, then 2nd"."""

    name = "compose"

    def __init__(self, operators: list[Operator | str | dict]) -> None:
        from .registry import build

        self.operators = [op if isinstance(op, Operator) else build(op) for op in operators]
        self.params = OperatorParams()
        self.batched = all(op.batched for op in self.operators)

    def sample_params(self, batch_size: int, generator: torch.Generator, device: torch.device) -> Params:
        return {"steps": [op.sample_params(batch_size, generator, device) for op in self.operators]}

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        for op, p in zip(self.operators, params["steps"]):
            x = op.apply(x, p)
        return x

    def spec(self) -> str:
        return " + ".join(op.spec() for op in self.operators) or "identity"

    def __len__(self) -> int:
        return len(self.operators)
