"""What ``augstudy ops`` prints: every registered operator with its params, defaults and a one-line doc."""
from __future__ import annotations

import inspect
from typing import Any

from .registry import available, get
from .validation import valid_range


def _first_line(obj: Any) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def describe() -> list[dict[str, Any]]:
    """``[{"name", "doc", "params": [{"name", "type", "default", "range", "doc"}]}]`` for every operator."""
    rows = []
    for name in available():
        obj = get(name)
        params = []
        if inspect.isclass(obj):
            for key, field in obj.Params.model_fields.items():
                ann = field.annotation
                params.append({"name": key, "type": getattr(ann, "__name__", str(ann)), "default": field.default,
                               "range": valid_range(field), "doc": field.description or ""})
        else:  # a factory function: its keyword arguments are its params
            for key, p in inspect.signature(obj).parameters.items():
                if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                    continue
                ann = p.annotation
                params.append({"name": key,
                               "type": "" if ann is p.empty else getattr(ann, "__name__", str(ann)),
                               "default": None if p.default is p.empty else p.default, "range": "", "doc": ""})
        rows.append({"name": name, "doc": _first_line(obj), "params": params})
    return rows
