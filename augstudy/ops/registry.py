"""The operator registry: ``@operator("name")``, ``build(spec)``, ``available()`` and plugins."""
from __future__ import annotations

import ast
import importlib
import importlib.metadata
import inspect
import re
import warnings
from typing import Any, Callable

from ..naming import lookup
from .base import Compose, Operator

ENTRY_POINT_GROUP = "augstudy.operators"

_REGISTRY: dict[str, Callable[..., Operator]] = {}
_entry_points_loaded = False


def operator(name: str) -> Callable:
    """Register an :class:`Operator` subclass (or a factory function returning one) as ``name``."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ValueError(f"operator name {name!r} must be an identifier (letters, digits, _)")

    def register(obj):
        if inspect.isclass(obj):
            if not issubclass(obj, Operator):
                raise TypeError(f"@operator({name!r}) needs an Operator subclass, got {obj.__name__}")
            obj.name = name
        elif not callable(obj):
            raise TypeError(f"@operator({name!r}) needs a class or a factory function")
        _REGISTRY[name] = obj
        return obj

    return register


def _ensure_builtins() -> None:
    from . import builtins  # noqa: F401  (importing registers the built-in operators)

    global _entry_points_loaded
    if not _entry_points_loaded:
        _entry_points_loaded = True
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            _load_entry_point(ep)


def _load_entry_point(ep: importlib.metadata.EntryPoint) -> None:
    """Load one plugin: a module (importing it registers its operators) or an operator class / factory,
    registered under the entry point's name unless it registered itself. A broken plugin warns, never breaks."""
    try:
        obj = ep.load()
    except Exception as e:  # noqa: BLE001 - a third-party package must not break augstudy
        warnings.warn(f"augstudy.operators plugin {ep.name!r} ({ep.value}) failed to load: {e}", stacklevel=3)
        return
    if not inspect.ismodule(obj) and obj not in _REGISTRY.values():
        operator(ep.name)(obj)


def available() -> list[str]:
    """Names of every registered operator (built-ins, entry-point plugins, loaded modules)."""
    _ensure_builtins()
    return sorted(_REGISTRY)


def get(name: str) -> Callable[..., Operator]:
    """The class or factory registered as ``name``; unknown names list the known ones."""
    _ensure_builtins()
    return lookup(_REGISTRY, "operator", name)


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
    before = set(available())
    for mod in modules:
        try:
            importlib.import_module(mod)
        except ImportError as e:
            raise ImportError(f"plugin module {mod!r} could not be imported: {e}") from None
    return sorted(set(_REGISTRY) - before)
