"""A training method: the encoder f plus what it trains on (as solo-learn: a small base, one method a file).

A method turns a batch (images, labels) into its inputs with :meth:`Method.make_inputs` (the
random augmentation, outside any compiled graph) and its loss with ``forward(*inputs)``.
"""
from __future__ import annotations

from typing import Callable, ClassVar, Optional

import torch
from torch import nn

from ..registry import Registry
from .config import CellConfig
from ..errors import RegistrationError


def _check(name: str, cls: object) -> None:
    if not (isinstance(cls, type) and issubclass(cls, Method)):
        raise RegistrationError(f"@method({name!r}) needs a subclass of augstudy.train.Method, got {cls!r}")


REGISTRY: Registry[type["Method"]] = Registry(
    "method", builtins=["augstudy.train.simclr", "augstudy.train.supervised"],
    entry_point_group="augstudy.methods", check=_check)


def method(name: str) -> Callable[[type["Method"]], type["Method"]]:
    """Register a :class:`Method` subclass as ``name`` (the cell config's ``method``)."""
    register = REGISTRY.register(name)

    def decorate(cls: type[Method]) -> type[Method]:
        register(cls)
        cls.name = name
        return cls

    return decorate


def get_method(name: str) -> type["Method"]:
    """The method class registered as ``name``; unknown names list the known ones."""
    return REGISTRY.get(name)


class Method(nn.Module):
    """Base: ``encoder`` (f, giving h) and an optional ``projector`` (g, giving z) probed by evaluation."""

    name: ClassVar[str] = ""

    def __init__(self, encoder: nn.Module, config: CellConfig, num_classes: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.projector: Optional[nn.Module] = None
        self.config = config
        self.num_classes = num_classes

    def make_inputs(self, x: torch.Tensor, y: torch.Tensor, pipeline_op, base_crop_op,
                    generator: torch.Generator) -> tuple[torch.Tensor, ...]:
        """The tensors ``forward`` takes, from a float [0, 1] batch ``x`` and its labels ``y``."""
        raise NotImplementedError

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:  # the scalar loss
        raise NotImplementedError

    def on_epoch_start(self, epoch: int, epochs: int) -> None:
        """Called by the loop before epoch ``epoch`` (1-based) of ``epochs`` (e.g. a momentum schedule)."""

    def on_after_step(self, step: int, total_steps: int) -> None:
        """Called by the loop after optimizer step ``step`` (1-based) of ``total_steps`` (e.g. an EMA update
        of target networks, a queue update); outside autograd."""
