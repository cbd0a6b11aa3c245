"""The operator registry: ``@operator("name")``, ``build(spec)``, ``available()`` and plugins."""
from __future__ import annotations

import ast
import inspect
import re
from typing import Any, Callable

from ..registry import Registry
from .base import Compose, Operator

ENTRY_POINT_GROUP = "augstudy.operators"


def _check(name: str, obj: Any) -> None:
    if inspect.isclass(obj):
        if not issubclass(obj, Operator):
            raise TypeError(f"@operator({name!r}) needs an Operator subclass, got {obj.__name__}")
    elif not callable(obj):
        raise TypeError(f"@operator({name!r}) needs a class or a factory function")


REGISTRY: Registry[Callable[..., Operator]] = Registry(
    "operator", builtins=["augstudy.ops.builtins"], entry_point_group=ENTRY_POINT_GROUP, check=_check,
    name_pattern=r"[A-Za-z_][A-Za-z0-9_]*")


def operator(name: str) -> Callable:
    """Register an :class:`Operator` subclass (or a factory function returning one) as ``name``."""
    register = REGISTRY.register(name)

    def decorate(obj):
        register(obj)
        if inspect.isclass(obj):
            obj.name = name
        return obj

    return decorate


def available() -> list[str]:
    """Names of every registered operator (built-ins, entry-point plugins, loaded modules)."""
    return REGISTRY.names()


def get(name: str) -> Callable[..., Operator]:
    """The class or factory registered as ``name``; unknown names list the known ones."""
    return REGISTRY.get(name)


def parse_spec(spec: str | dict) -> tuple[str, dict[str, Any]]:
    """``"color(strength=0.5)"`` or ``{"op": "color", "strength": 0.5}`` -> ``("color", {...})``."""
    if isinstance(spec, dict):
        if "op" not in spec:
            raise ValueError(f"operator spec {spec!r} needs an 'op' key naming the operator")
        rest = {k: v for k, v in spec.items() if k != "op"}
        return str(spec["op"]), rest
    if not isinstance(spec, str):
        raise TypeError(f"operator spec must be a string or a dict, got {type(spec).__name__}")
    text = spec.strip()
    m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?", text, flags=re.S)
    if not m:
        raise ValueError(f"cannot parse operator spec {spec!r}; write e.g. 'color' or 'color(strength=0.5)'")
    name, args = m.group(1), (m.group(2) or "").strip()
    if not args:
        return name, {}
    try:
        call = ast.parse(f"f({args})", mode="eval").body
        if call.args:
            raise ValueError
        return name, {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords}
    except (SyntaxError, ValueError):
        raise ValueError(
            f"cannot parse the params of operator spec {spec!r}; write keyword literals, e.g. 'color(strength=0.5)'"
        ) from None


def build(spec: str | dict | Operator | list) -> Operator:
    """Build an operator from a spec string, a dict, an Operator, or a list (a :class:`Compose`)."""
    if isinstance(spec, Operator):
        return spec
    if isinstance(spec, (list, tuple)):
        return Compose([build(s) for s in spec])
    name, params = parse_spec(spec)
    factory = get(name)
    op = factory(**params)
    if not isinstance(op, Operator):
        raise TypeError(f"operator factory {name!r} returned {type(op).__name__}, not an Operator")
    if not inspect.isclass(factory):  # a factory: the registered name and its kwargs are the spec
        op._spec = name + (f"({', '.join(f'{k}={v!r}' for k, v in params.items())})" if params else "")
    if not op.name:
        op.name = name
    return op


def load_plugins(modules: list[str]) -> list[str]:
    """Import modules that register operators (as named in a study file); return the new names."""
    return REGISTRY.load_plugins(modules)
