"""Studies: a YAML spec, its grid of cells, a resumable results store, local and Dask execution.

The public names are imported on first use (PEP 562), as in :mod:`augstudy`: importing a light module
such as ``augstudy.study.yaml_loader`` does not import the runner (and torch), so the CLI can reject a bad
study file before the heavy imports.
"""
from __future__ import annotations

import importlib
from typing import Any

_PUBLIC = {"Cell": ".grid", "expand": ".grid", "select": ".grid", "StudyLock": ".lock", "run_study": ".runner",
           "SpecError": ".spec", "StudySpec": ".spec", "load_spec": ".spec", "validate_spec": ".spec",
           "StudyStore": ".store", "load_results": ".store"}

__all__ = ["StudySpec", "SpecError", "load_spec", "validate_spec", "Cell", "expand", "select",
           "StudyStore", "StudyLock", "run_study", "load_results"]


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'augstudy.study' has no attribute {name!r}")
    value = getattr(importlib.import_module(_PUBLIC[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
