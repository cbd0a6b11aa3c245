"""``training.compile``: torch.compile the loss in a mode, falling back to eager (and saying why, once)."""
from __future__ import annotations

import warnings
from typing import Callable, Union

import torch

_SAID: set[str] = set()


def _say_once(mode: str, error: BaseException) -> None:
    reason = f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}"[:300]
    key = f"{mode}|{type(error).__name__}"
    if key not in _SAID:
        _SAID.add(key)
        warnings.warn(f"training.compile={mode!r} fell back to eager: {reason}", RuntimeWarning, stacklevel=3)


def compile_mode(setting: Union[bool, str, None]) -> str | None:
    """None for eager (false, none), else the torch.compile mode name (``default`` for true)."""
    if setting in (False, None, "none"):
        return None
    return "default" if setting is True else str(setting)


def compiled_or_eager(fn: Callable, setting: Union[bool, str, None]) -> Callable:
    """``fn`` compiled in the mode ``setting`` names, or ``fn`` itself when compile is off.

    Compilation happens at the first calls; if compiling fails (no compiler, an unsupported op, a
    backend error), that call and every later one run ``fn`` eagerly and one warning says why. An
    error that eager ``fn`` raises too is a bug in the model and keeps its traceback.
    """
    mode = compile_mode(setting)
    if mode is None:
        return fn
    try:
        compiled = torch.compile(fn, mode=None if mode == "default" else mode)
    except Exception as e:  # e.g. torch.compile unsupported on this Python
        _say_once(mode, e)
        return fn
    state = {"fn": compiled}

    def call(*args, **kwargs):
        if state["fn"] is not fn:
            try:
                return state["fn"](*args, **kwargs)
            except Exception as e:  # noqa: BLE001 - judged below by running eagerly
                state["fn"] = fn
                out = fn(*args, **kwargs)  # a model bug raises here, with its own traceback
                _say_once(mode, e)
                return out
        return fn(*args, **kwargs)

    call.compiled = lambda: state["fn"] is not fn  # type: ignore[attr-defined]
    return call
