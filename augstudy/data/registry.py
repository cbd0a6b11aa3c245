"""The dataset registry: ``@dataset("name")``, ``load(name, **params)``, ``available()``, ``describe()``.

A dataset is a plain function ``fn(**params) -> Dataset`` registered under a name (as timm registers
models); its keyword arguments are its params and their defaults.
"""
from __future__ import annotations

import difflib
import inspect
from typing import Any, Callable

from ..registry import Registry
from .base import Dataset
from ..errors import DataError, ParamsError, RegistrationError


def _check(name: str, fn: Any) -> None:
    if not callable(fn):
        raise RegistrationError(f"@dataset({name!r}) needs a function returning a Dataset")


REGISTRY: Registry[Callable[..., Dataset]] = Registry(
    "dataset", builtins=["augstudy.data.imagefolder", "augstudy.data.synthetic", "augstudy.data.torchvision_sets"],
    entry_point_group="augstudy.datasets", check=_check)


def dataset(name: str) -> Callable:
    """Register a function ``fn(**params) -> Dataset`` as the dataset ``name``."""
    return REGISTRY.register(name)


def available() -> list[str]:
    """Names of every registered dataset."""
    return REGISTRY.names()


def get(name: str) -> Callable[..., Dataset]:
    """The function registered as ``name``; unknown names list the known ones."""
    return REGISTRY.get(name)


def _params_of(fn: Callable) -> dict[str, inspect.Parameter]:
    return {k: p for k, p in inspect.signature(fn).parameters.items()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def describe(name: str) -> dict[str, Any]:
    """``{"name", "summary", "doc", "params": {param: default}}`` for the dataset ``name``."""
    fn = get(name)
    doc = inspect.getdoc(fn) or ""
    params = {k: (None if p.default is p.empty else p.default) for k, p in _params_of(fn).items()}
    return {"name": name, "summary": doc.splitlines()[0] if doc else "", "doc": doc, "params": params}


def check_params(name: str, params: dict[str, Any]) -> None:
    """The params of dataset ``name`` checked without reading any data (keys, types, and the values its
    ``Params`` model declares, e.g. synthetic's bounds); one line naming a bad one."""
    REGISTRY.validate_params(name, params)


def load(name: str, **params: Any) -> Dataset:
    """Load the dataset ``name`` with ``params``: train and test splits, class names and ``info``."""
    fn = get(name)
    accepted = _params_of(fn)
    takes_any = any(p.kind == p.VAR_KEYWORD for p in inspect.signature(fn).parameters.values())
    unknown = sorted(set(params) - set(accepted))
    if unknown and not takes_any:
        close = difflib.get_close_matches(unknown[0], accepted, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ParamsError(f"dataset {name!r} has no param {unknown[0]!r}{hint}; its params are: "
                         f"{', '.join(accepted) or 'none'}")
    missing = [k for k, p in accepted.items() if p.default is p.empty and k not in params]
    if missing:
        raise ParamsError(f"dataset {name!r} needs the param {missing[0]!r}")
    ds = fn(**params)
    if not isinstance(ds, Dataset):
        raise DataError(f"dataset {name!r} returned {type(ds).__name__}, not an augstudy.data.Dataset")
    if len(ds.classes) < 2:
        raise DataError(f"dataset {name!r} has {len(ds.classes)} class(es); a study needs at least 2")
    info = dict(ds.info)
    info.setdefault("name", name)
    return Dataset(ds.train, ds.test, ds.classes, info)
