"""augstudy: which augmentations, and which compositions of them, make good self-supervised representations.

Public face: the ``operator``, ``dataset``, ``encoder`` and ``method`` decorators, ``run_study`` and ``load_results``.

They are imported on first use (PEP 562), so ``import augstudy`` and the ``augstudy`` command start
without importing torch: the CLI installs its SIGINT/SIGTERM handlers first, and a Ctrl-C while the
heavy modules load is one line, not a traceback.
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_PUBLIC = {"dataset": ".data", "operator": ".ops", "load_results": ".study", "run_study": ".study",
           "encoder": ".train", "method": ".train.method"}
_SUBPACKAGES = {"data", "ops", "study", "train", "report", "stats", "errors", "registry", "schema", "atomic",
                "signals", "cli", "results_table", "cellid"}

__all__ = ["__version__", "operator", "dataset", "encoder", "method", "run_study", "load_results"]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name], __name__), name)
    elif name in _SUBPACKAGES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module 'augstudy' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC) | _SUBPACKAGES)
