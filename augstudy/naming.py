"""Name lookup shared by the registries (operators, datasets, encoders): one error message for all."""
from __future__ import annotations

import difflib
from typing import Mapping, TypeVar

T = TypeVar("T")


def lookup(registry: Mapping[str, T], kind: str, name: str) -> T:
    """``registry[name]``; an unknown name raises one line suggesting the closest and listing the known ones."""
    if name not in registry:
        close = difflib.get_close_matches(name, list(registry), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise KeyError(f"unknown {kind} {name!r}{hint}; registered: {', '.join(sorted(registry))}")
    return registry[name]
