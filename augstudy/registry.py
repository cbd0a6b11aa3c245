"""One generic registry (after timm's ``_registry.py``): name -> factory, close-match errors, plugins.

Operators, datasets, encoders and methods (and grid kinds and trackers) each keep one
:class:`Registry`; a decorator registers a class or function under a name, ``get`` looks it up with
a one-line error naming the closest match and every registered name, ``names`` lists them, and
``load_plugins`` imports modules (or entry points) that register more. ``params_model`` gives the
typed parameters of an entry: a pydantic ``Params`` class it declares, or one derived from its
signature, so a spec can be validated before anything is built.
"""
from __future__ import annotations

import contextlib
import difflib
import importlib
import importlib.metadata
import inspect
import re
import threading
import warnings
from typing import Any, Callable, Generic, Iterable, Iterator, Optional, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from .errors import AugstudyError, ParamsError, PluginError, RegistrationError, UnknownNameError  # noqa: F401  (re-exported)

T = TypeVar("T")


def close_match_message(kind: str, name: str, known: Iterable[str]) -> str:
    known = sorted(known)
    close = difflib.get_close_matches(str(name), known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown {kind} {name!r}{hint}; registered: {', '.join(known) or 'none'}"


class Registry(Generic[T]):
    """Name -> registered object (a class or a factory function) for one kind of thing.

    ``kind`` names it in messages ("operator"); ``builtins`` are modules imported on first use (they
    register the built-in entries); ``entry_point_group`` names the package entry points that are
    plugins; ``check(name, obj)`` may refuse an object at registration with a one-line error;
    ``name_pattern`` is the regular expression names must match.
    """

    def __init__(self, kind: str, *, builtins: Iterable[str] = (), entry_point_group: Optional[str] = None,
                 check: Optional[Callable[[str, Any], None]] = None,
                 name_pattern: str = r"[A-Za-z_][A-Za-z0-9_\-]*") -> None:
        self.kind = kind
        self._builtins = tuple(builtins)
        self._group = entry_point_group
        self._check = check
        self._pattern = re.compile(name_pattern)
        self._entries: dict[str, T] = {}
        self._ready = False
        self._loading = False
        self._lock = threading.RLock()  # the first lookup may come from several threads (Dask threads)

    # --- registering ----------------------------------------------------------------------------
    def register(self, name: str) -> Callable[[T], T]:
        """Decorator: register the decorated class or function as ``name`` (returns it unchanged)."""
        if not isinstance(name, str) or not self._pattern.fullmatch(name):
            raise RegistrationError(f"{self.kind} name {name!r} must be an identifier "
                             f"(matching {self._pattern.pattern})")

        def decorate(obj: T) -> T:
            self.add(name, obj)
            return obj

        return decorate

    def add(self, name: str, obj: T) -> None:
        """Register ``obj`` as ``name`` (a later registration of the same name replaces it)."""
        if self._check is not None:
            self._check(name, obj)
        self._entries[name] = obj

    # --- looking up -----------------------------------------------------------------------------
    def _ensure(self) -> None:
        """Import the built-in modules and entry points once. Other threads wait until that is done
        (they must not see a half-filled registry); a lookup from inside one of those imports (same
        thread) sees the entries registered so far."""
        if self._ready:
            return
        with self._lock:
            if self._ready or self._loading:
                return
            self._loading = True
            try:
                for module in self._builtins:
                    importlib.import_module(module)
                if self._group:
                    for ep in importlib.metadata.entry_points(group=self._group):
                        self._load_entry_point(ep)
                self._ready = True
            finally:
                self._loading = False

    def _load_entry_point(self, ep: importlib.metadata.EntryPoint) -> None:
        """A module (importing it registers its entries) or an object registered under the entry point's
        name unless it registered itself. A broken third-party plugin warns; it never breaks augstudy."""
        try:
            obj = ep.load()
        except Exception as e:  # noqa: BLE001 - a third-party package must not break augstudy
            warnings.warn(f"{self._group} plugin {ep.name!r} ({ep.value}) failed to load: {e}", stacklevel=4)
            return
        if not inspect.ismodule(obj) and obj not in self._entries.values():
            try:
                self.add(ep.name, obj)
            except (TypeError, ValueError) as e:
                warnings.warn(f"{self._group} plugin {ep.name!r} ({ep.value}) was refused: {e}", stacklevel=4)

    def names(self) -> list[str]:
        """Every registered name, sorted."""
        self._ensure()
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        self._ensure()
        return name in self._entries

    def get(self, name: str) -> T:
        """The entry registered as ``name``; an unknown name raises :class:`UnknownNameError`."""
        self._ensure()
        if name not in self._entries:
            raise UnknownNameError(close_match_message(self.kind, name, self._entries))
        return self._entries[name]

    def items(self) -> list[tuple[str, T]]:
        self._ensure()
        return sorted(self._entries.items())

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        """Undo every registration made inside the block (for tests and throw-away plugins)."""
        self._ensure()
        before = dict(self._entries)
        try:
            yield
        finally:
            self._entries.clear()
            self._entries.update(before)

    def reload_entry_points(self) -> None:
        """Load the entry-point plugins again (after installing a package in a running process)."""
        if self._group:
            for ep in importlib.metadata.entry_points(group=self._group):
                self._load_entry_point(ep)

    # --- plugins ----------------------------------------------------------------------------------
    def load_plugins(self, modules: Iterable[str]) -> list[str]:
        """Import modules that register entries (a study file's ``plugins:``); return the new names.

        A module that cannot be found raises :class:`PluginError` naming it; an exception raised
        *inside* the plugin's own code keeps its traceback (it is a bug in the plugin, not bad input).
        """
        before = set(self.names())
        for module in modules:
            load_module(module)
        return sorted(set(self._entries) - before)

    # --- typed params -----------------------------------------------------------------------------
    def params_model(self, name: str) -> type[BaseModel]:
        """The pydantic model of ``name``'s parameters: its ``Params`` class, or one made from its signature."""
        return params_model_of(self.get(name), f"{self.kind} {name!r}")

    def validate_params(self, name: str, params: dict[str, Any]) -> BaseModel:
        """``params`` validated against ``name``'s parameters; a bad key or value raises one line naming it."""
        return validate_params(self.params_model(name), params, f"{self.kind} {name!r}")


def load_module(module: str) -> None:
    """Import a plugin module; a module that is not there is a :class:`PluginError` naming it."""
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name and (module == e.name or module.startswith(e.name + ".")):
            raise PluginError(f"plugin module {module!r} could not be imported: no module named {e.name!r} "
                              "(is it installed, or on PYTHONPATH?)") from None
        raise  # the plugin itself imports something missing: its traceback says where


_STRICT = ConfigDict(extra="forbid", arbitrary_types_allowed=True)


def params_model_of(obj: Any, what: str, skip: Iterable[str] = ()) -> type[BaseModel]:
    """``obj.Params`` when it is a pydantic model, else a model of ``obj``'s keyword parameters."""
    declared = getattr(obj, "Params", None)
    if isinstance(declared, type) and issubclass(declared, BaseModel):
        return declared
    target = obj.__init__ if inspect.isclass(obj) else obj
    fields: dict[str, Any] = {}
    skipped = set(skip) | {"self"}
    for p in inspect.signature(target).parameters.values():
        if p.name in skipped or p.kind not in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            continue
        annotation = Any if p.annotation is p.empty or isinstance(p.annotation, str) else p.annotation
        fields[p.name] = (annotation, ... if p.default is p.empty else p.default)
    return create_model(f"{what.split()[0].title()}Params", __config__=_STRICT, **fields)


def validate_params(model: type[BaseModel], params: dict[str, Any], what: str) -> BaseModel:
    """``model(**params)``; the first bad key or value raises :class:`ParamsError` naming it and what is valid."""
    try:
        return model.model_validate(params)
    except ValidationError as e:
        err = e.errors()[0]
        key = ".".join(str(p) for p in err["loc"]) or "?"
        if err["type"] == "extra_forbidden":
            valid = ", ".join(model.model_fields) or "none"
            close = difflib.get_close_matches(key, list(model.model_fields), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ParamsError(f"{what} has no param {key!r}{hint}; its params are: {valid}") from None
        if err["type"] == "missing":
            raise ParamsError(f"{what} needs the param {key!r}") from None
        msg = err["msg"].removeprefix("Value error, ")
        raise ParamsError(f"{what}: {key}={err.get('input')!r}: {msg}") from None
