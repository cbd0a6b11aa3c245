"""The operator registry: ``@operator("name")``, ``build(spec)``, ``available()`` and plugins."""
from __future__ import annotations

import ast
import inspect
import re
from typing import Any, Callable

from ..registry import Registry
from .base import Compose, Operator
from ..errors import OperatorContractError, ParamsError, RegistrationError

ENTRY_POINT_GROUP = "augstudy.operators"


def _check(name: str, obj: Any) -> None:
    if inspect.isclass(obj):
        if not issubclass(obj, Operator):
            raise RegistrationError(f"@operator({name!r}) needs an Operator subclass, got {obj.__name__}")
    elif not callable(obj):
        raise RegistrationError(f"@operator({name!r}) needs a class or a factory function")


REGISTRY: Registry[Callable[..., Operator]] = Registry(
    "operator", builtins=["augstudy.ops.builtins"], entry_point_group=ENTRY_POINT_GROUP, check=_check,
    name_pattern=r"[A-Za-z_][A-Za-z0-9_]*")


def operator(name: str) -> Callable:
    """Register an :class:`Operator` subclass, a factory function or an apply function as ``name``.

    A function whose parameters all have defaults is a *factory*: it returns an :class:`Operator`
    (``def strong_color(strength=2.0): return build({"op": "color", "strength": strength})``). A
    function whose first parameter has no default is an *apply function* ``fn(x, **params) -> x``: a
    deterministic operator without random params, whose other parameters (all with defaults) are its
    params (``def invert(x, amount: float = 1.0): return x + amount * (1 - 2 * x)``).
    """
    register = REGISTRY.register(name)

    def decorate(obj):
        if not inspect.isclass(obj) and callable(obj) and _is_apply_function(name, obj):
            register(_apply_function_operator(name, obj))
            return obj
        register(obj)
        if inspect.isclass(obj):
            obj.name = name
        return obj

    return decorate


def _is_apply_function(name: str, fn: Callable) -> bool:
    """True for ``fn(x, p=default, ...)``; a factory has no parameter without a default; else refused."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):  # a builtin without a signature: called as a factory
        return False
    named = [p for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    required = [p.name for p in named if p.default is p.empty]
    if not required:
        return False
    if required != [named[0].name] or named[0].kind == named[0].KEYWORD_ONLY:
        raise RegistrationError(
            f"@operator({name!r}) on {getattr(fn, '__name__', fn)!r}: a function is either a factory (every "
            f"parameter has a default; it returns an Operator) or an apply function fn(x, param=default, ...) "
            f"(only its first parameter has no default); its parameters without a default are {', '.join(required)}")
    return True


def _apply_function_operator(name: str, fn: Callable) -> type[Operator]:
    """An :class:`Operator` subclass whose ``apply`` is ``fn(x, **params)`` (no random params)."""
    from pydantic import create_model

    from .base import OperatorParams

    params = list(inspect.signature(fn).parameters.values())[1:]
    fields = {p.name: (Any if p.annotation is p.empty else p.annotation, p.default)
              for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    model = create_model(f"{fn.__name__}_params", __base__=OperatorParams, **fields)

    def apply(self, x, drawn):
        return fn(x, **self.params.model_dump())

    return type(fn.__name__, (Operator,), {"Params": model, "name": name, "apply": apply,
                                           "__doc__": fn.__doc__, "__module__": fn.__module__})


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
            raise ParamsError(f"operator spec {spec!r} needs an 'op' key naming the operator")
        rest = {k: v for k, v in spec.items() if k != "op"}
        return str(spec["op"]), rest
    if not isinstance(spec, str):
        raise ParamsError(f"operator spec must be a string or a dict, got {type(spec).__name__}")
    text = spec.strip()
    m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?", text, flags=re.S)
    if not m:
        raise ParamsError(f"cannot parse operator spec {spec!r}; write e.g. 'color' or 'color(strength=0.5)'")
    name, args = m.group(1), (m.group(2) or "").strip()
    if not args:
        return name, {}
    try:
        call = ast.parse(f"f({args})", mode="eval").body
        if call.args:
            raise ValueError
        return name, {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords}
    except (SyntaxError, ValueError):
        raise ParamsError(
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
    if not inspect.isclass(factory):  # a factory function: its keywords checked here, one line naming a bad one
        REGISTRY.validate_params(name, params)
    op = factory(**params)
    if not isinstance(op, Operator):
        raise OperatorContractError(f"operator factory {name!r} returned {type(op).__name__}, not an Operator")
    if not inspect.isclass(factory):  # a factory: the registered name and its kwargs are the spec
        op._spec = name + (f"({', '.join(f'{k}={v!r}' for k, v in params.items())})" if params else "")
    if not op.name:
        op.name = name
    return op


def load_plugins(modules: list[str]) -> list[str]:
    """Import modules that register operators (as named in a study file); return the new names."""
    return REGISTRY.load_plugins(modules)
