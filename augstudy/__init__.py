"""augstudy: which augmentations, and which compositions of them, make good self-supervised representations.

Public face: the ``operator``, ``dataset``, ``encoder`` and ``method`` decorators, ``run_study`` and ``load_results``.
"""
from __future__ import annotations

__version__ = "0.1.0"

from .data import dataset  # noqa: E402
from .ops import operator  # noqa: E402
from .study import load_results, run_study  # noqa: E402
from .train import encoder  # noqa: E402
from .train.method import method  # noqa: E402

__all__ = ["__version__", "operator", "dataset", "encoder", "method", "run_study", "load_results"]
