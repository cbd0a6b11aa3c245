"""A training method: the encoder f plus what it trains on (as solo-learn: a small base, one method a file).

A method turns a batch (images, labels) into its inputs with :meth:`Method.make_inputs` (the
random augmentation, outside any compiled graph) and its loss with ``forward(*inputs)``.

A method declares its typed parameters as a pydantic ``Params`` class and is named in a cell config
(and a study's ``methods:``) in the operators' spec syntax, e.g. ``byol(momentum=0.99)``;
:func:`resolve_method` validates such a spec and gives its canonical form (non-default params only,
so ``simclr`` and ``byol(momentum=0.996)`` stay ``simclr`` and ``byol``: the cell ids of method specs
without params are those of before methods took params). The built-in methods live in
``augstudy.train.methods``, one file each.
"""
from __future__ import annotations

from typing import Any, Callable, ClassVar, Optional, Union

import torch
from pydantic import BaseModel, ConfigDict
from torch import nn

from ..errors import ParamsError, RegistrationError
from ..registry import Registry, load_module, validate_params
from .config import CellConfig


def _check(name: str, cls: object) -> None:
    if not (isinstance(cls, type) and issubclass(cls, Method)):
        raise RegistrationError(f"@method({name!r}) needs a subclass of augstudy.train.Method, got {cls!r}")


REGISTRY: Registry[type["Method"]] = Registry(
    "method", builtins=["augstudy.train.methods"],
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
    """The method class registered as ``name`` (or named by a spec, ``"byol(momentum=0.99)"``); unknown
    names list the known ones."""
    return REGISTRY.get(parse_method(name)[0])


def parse_method(spec: Union[str, dict]) -> tuple[str, dict[str, Any]]:
    """``"moco(queue_size=1024)"`` or ``{"method": "moco", "queue_size": 1024}`` -> ``("moco", {...})``."""
    from ..ops.registry import parse_spec

    if isinstance(spec, dict):
        if "method" not in spec:
            raise ParamsError(f"method spec {spec!r} needs a 'method' key naming the method")
        return str(spec["method"]), {k: v for k, v in spec.items() if k != "method"}
    try:
        return parse_spec(spec)
    except (ValueError, TypeError):
        raise ParamsError(f"cannot parse method spec {spec!r}; write e.g. 'byol' or 'byol(momentum=0.99)'") from None


def method_params(spec: Union[str, dict], cls: Optional[type["Method"]] = None) -> BaseModel:
    """The validated ``Params`` of a method spec (of ``cls``, default: the registered class)."""
    name, params = parse_method(spec)
    cls = cls or REGISTRY.get(name)
    return validate_params(cls.Params, params, f"method {name!r}")


def resolve_method(spec: Union[str, dict], config: Optional[CellConfig] = None,
                   plugins: tuple[str, ...] = ()) -> str:
    """The canonical spec string of a method spec: its registered name plus the params that differ
    from their defaults (``"moco(queue_size=1024)"``). Imports ``plugins`` first; checks the params
    (and, with ``config``, the method's :meth:`Method.check` against the rest of the cell).
    Bad input raises one line (:class:`~augstudy.registry.UnknownNameError`, ``ParamsError``)."""
    for module in plugins:
        load_module(module)
    name = parse_method(spec)[0]
    cls = REGISTRY.get(name)
    params = method_params(spec, cls)
    if config is not None:
        cls.check(params, config)
    defaults = type(params)()
    changed = {k: v for k, v in params.model_dump().items() if v != getattr(defaults, k)}
    return name + (f"({', '.join(f'{k}={v!r}' for k, v in changed.items())})" if changed else "")


class MethodParams(BaseModel):
    """Base of a method's ``Params``: strict (an unknown key is an error); every field needs a default."""

    model_config = ConfigDict(extra="forbid")


class Method(nn.Module):
    """Base: ``encoder`` (f, giving h) and an optional ``projector`` (g, giving z) probed by evaluation."""

    name: ClassVar[str] = ""
    Params: ClassVar[type[MethodParams]] = MethodParams

    def __init__(self, encoder: nn.Module, config: CellConfig, num_classes: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.projector: Optional[nn.Module] = None
        self.config = config
        self.num_classes = num_classes
        #: this method's validated params, from the spec in ``config.method``
        self.params = method_params(config.method, type(self))

    @classmethod
    def check(cls, params: MethodParams, config: CellConfig) -> None:
        """Refuse params that do not fit the rest of the cell (e.g. a queue smaller than the batch) with a
        ``ValueError`` of one line; called when a cell config is validated, so at spec load."""

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
