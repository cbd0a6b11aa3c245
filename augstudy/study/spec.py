"""The study spec: a YAML file validated into :class:`StudySpec`.

Sections reuse the cell config's section models (``augstudy.train.config``), so every default
lives in one place. Errors name the key path and the bad value and say what is valid.
"""
from __future__ import annotations

import difflib
import os
import re
import typing
from pathlib import Path
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import (BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError, field_validator,
                      model_validator)

from ..errors import AugstudyError, SpecError, UnknownNameError
from ..ops import build, load_plugins, parse_spec
from ..registry import close_match_message
from ..train.config import (DatasetConfig, EvaluationConfig, ModelConfig, OpSpec, ProtocolConfig,
                            TrainingConfig, ValidationSplit, MAX_SEED)
from .tracking import TrackingSpec, check_tracking
from .yaml_loader import load_yaml


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def op_name(spec: OpSpec) -> str:
    """The operator name of an operator spec (``"color(strength=0.5)"`` -> ``"color"``)."""
    return parse_spec(spec)[0]


def _unique(kind: str, names: list[str]) -> None:
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"{kind} must be unique; repeated: {', '.join(map(repr, dup))}")


class PairwiseGrid(_Strict):
    """Every ordered pair (1st, then 2nd) of ``operators``; the diagonal is the single operator."""

    kind: Literal["pairwise"]
    operators: list[OpSpec] = Field(min_length=1)

    @field_validator("operators")
    @classmethod
    def _distinct(cls, v: list[OpSpec]) -> list[OpSpec]:
        _unique("operator names", [op_name(s) for s in v])
        return v

    def op_entries(self) -> list[tuple[str, list[OpSpec]]]:
        return [(f"grid.operators[{i}]", [s]) for i, s in enumerate(self.operators)]

    def describe(self) -> dict[str, Any]:
        return {"kind": "pairwise", "operators": [op_name(s) for s in self.operators]}

    def variants(self) -> list[dict[str, Any]]:
        """The grid's pipelines with their labels, row by row (1st operator), then column (2nd)."""
        names = [op_name(s) for s in self.operators]
        return [{"pipeline": [a] if i == j else [a, b], "label": na if i == j else f"{na} + {nb}",
                 "op1": na, "op2": nb}
                for i, (a, na) in enumerate(zip(self.operators, names))
                for j, (b, nb) in enumerate(zip(self.operators, names))]


class SweepGrid(_Strict):
    """One parameter of one operator of a base ``pipeline`` varied over ``values``, plus named extras."""

    kind: Literal["sweep"]
    pipeline: list[OpSpec] = Field(min_length=1)
    target: Optional[str] = None  # operator in `pipeline` whose `param` varies (default: the only one)
    param: str
    values: list[Any] = Field(min_length=1)
    labels: Optional[list[str]] = None  # column labels, one per value (default: the values)
    extra: dict[str, list[OpSpec]] = Field(default_factory=dict)  # label -> pipeline

    @model_validator(mode="after")
    def _consistent(self) -> "SweepGrid":
        names = [op_name(s) for s in self.pipeline]
        if self.target is None:
            if len(names) != 1:
                raise ValueError(f"grid.target is needed when the pipeline has several operators; one of: {', '.join(names)}")
            self.target = names[0]
        elif self.target not in names:
            raise ValueError(f"grid.target {self.target!r} is not in grid.pipeline; one of: {', '.join(names)}")
        if self.labels is None:
            self.labels = [f"{v:g}" if isinstance(v, float) else str(v) for v in self.values]
        elif len(self.labels) != len(self.values):
            raise ValueError(f"grid.labels has {len(self.labels)} labels for {len(self.values)} values; give one label per value")
        _unique("grid labels (labels and extra names)", list(self.labels) + list(self.extra))
        return self

    def variant(self, value: Any) -> list[OpSpec]:
        """The base pipeline with ``target.param = value``."""
        out: list[OpSpec] = []
        for s in self.pipeline:
            name, params = parse_spec(s)
            out.append({"op": name, **params, self.param: value} if name == self.target else s)
        return out

    def op_entries(self) -> list[tuple[str, list[OpSpec]]]:
        return ([(f"grid.values[{i}]", self.variant(v)) for i, v in enumerate(self.values)]
                + [(f"grid.extra[{k!r}]", p) for k, p in self.extra.items()])

    def describe(self) -> dict[str, Any]:
        return {"kind": "sweep", "param": self.param, "target": self.target,
                "labels": list(self.labels or []) + list(self.extra)}

    def variants(self) -> list[dict[str, Any]]:
        """One pipeline per value, then the named extras."""
        return ([{"pipeline": self.variant(v), "label": lab, "param": self.param,
                  "value": float(v) if isinstance(v, (int, float)) else None}
                 for v, lab in zip(self.values, self.labels or [])]
                + [{"pipeline": p, "label": lab, "param": self.param} for lab, p in self.extra.items()])


def _short_value(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class PerView(_Strict):
    """Each view's own pipeline (BYOL's T and T'): ``{view1: [op, ...], view2: [op, ...]}``."""

    view1: list[OpSpec]
    view2: list[OpSpec]


def _entry_kind(v: Any) -> str:
    return "views" if isinstance(v, (dict, PerView)) else "ops"


#: A list grid's entry: one pipeline, or each view's own (tagged so an error names only the one meant).
ListEntry = Annotated[Union[Annotated[list[OpSpec], Tag("ops")], Annotated[PerView, Tag("views")]],
                      Discriminator(_entry_kind)]


class ListGrid(_Strict):
    """Explicit named pipelines (``label: [op, op, ...]``, or ``label: {view1: [...], view2: [...]}`` for
    per-view pipelines), in the order given. ``baseline``: the label of the reference policy (e.g. the full
    policy of a removal study, which the report measures every other policy's drop from)."""

    kind: Literal["list"]
    pipelines: dict[str, ListEntry] = Field(min_length=1)
    baseline: Optional[str] = None

    @field_validator("pipelines", mode="before")
    @classmethod
    def _entries(cls, v: Any) -> Any:
        """One clear line for a malformed entry (instead of one error per member of the union)."""
        for k, p in (v.items() if isinstance(v, dict) else []):
            if isinstance(p, dict) and set(p) != {"view1", "view2"}:
                raise ValueError(f"entry {k!r}: a per-view entry has exactly the keys view1 and view2 (each a list "
                                 f"of operators); got keys {', '.join(map(str, p)) or 'none'}")
            if not isinstance(p, (list, dict, PerView)):
                raise ValueError(f"entry {k!r}: got {_short_value(p)}; give a list of operators, or "
                                 "{view1: [...], view2: [...]} for per-view pipelines")
        return v

    @model_validator(mode="after")
    def _baseline_is_a_label(self) -> "ListGrid":
        if self.baseline is not None and self.baseline not in self.pipelines:
            raise ValueError(f"grid.baseline {self.baseline!r} is not a label of grid.pipelines; "
                             f"one of: {', '.join(map(repr, self.pipelines))}")
        return self

    def op_entries(self) -> list[tuple[str, list[OpSpec]]]:
        out: list[tuple[str, list[OpSpec]]] = []
        for k, p in self.pipelines.items():
            if isinstance(p, PerView):
                out += [(f"grid.pipelines[{k!r}].view1", p.view1), (f"grid.pipelines[{k!r}].view2", p.view2)]
            else:
                out.append((f"grid.pipelines[{k!r}]", p))
        return out

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": "list", "labels": list(self.pipelines)}
        if self.baseline is not None:
            out["baseline"] = self.baseline
        return out

    def variants(self) -> list[dict[str, Any]]:
        return [{"pipeline": p.view1, "view2": p.view2, "label": lab} if isinstance(p, PerView)
                else {"pipeline": p, "label": lab} for lab, p in self.pipelines.items()]


class SearchBudget(_Strict):
    """When a search stops proposing: after ``cells`` distinct cells, ``epochs`` training epochs in all,
    or ``hours`` of cell compute (training + evaluation time), whichever comes first."""

    cells: Optional[int] = Field(None, ge=1)
    epochs: Optional[int] = Field(None, ge=1)
    hours: Optional[float] = Field(None, gt=0)

    @model_validator(mode="after")
    def _some(self) -> "SearchBudget":
        if self.cells is None and self.epochs is None and self.hours is None:
            raise ValueError("needs at least one of cells, epochs, hours (e.g. budget: {cells: 20})")
        return self


class SpaceParam(_Strict):
    """The range of one operator parameter: [low, high] (ints when both are ints), log or linear, or choices."""

    low: Optional[float] = None
    high: Optional[float] = None
    log: bool = False
    step: Optional[float] = None
    integer: bool = False
    choices: Optional[list[Any]] = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, v: Any) -> Any:
        if isinstance(v, (list, tuple)):
            if len(v) != 2 or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v):
                raise ValueError(f"{list(v)!r} is not a range; write [low, high] with two numbers, "
                                 "or {choices: [a, b, ...]}")
            return {"low": v[0], "high": v[1], "integer": all(isinstance(x, int) for x in v)}
        if isinstance(v, dict) and "low" in v and "high" in v and "integer" not in v and "choices" not in v:
            return {**v, "integer": isinstance(v["low"], int) and isinstance(v["high"], int)}
        return v

    @model_validator(mode="after")
    def _valid(self) -> "SpaceParam":
        if self.choices is not None:
            if self.low is not None or self.high is not None:
                raise ValueError("give either choices or low/high, not both")
            if not self.choices:
                raise ValueError("choices is empty; list at least one value")
            return self
        if self.low is None or self.high is None:
            raise ValueError("needs [low, high] or {choices: [...]}")
        if self.low > self.high:
            raise ValueError(f"[{self.low:g}, {self.high:g}] is an inverted range; write [low, high] with low < high")
        if self.low == self.high:
            raise ValueError(f"[{self.low:g}, {self.high:g}] is an empty range; write [low, high] with low < high")
        if self.log and self.low <= 0:
            raise ValueError(f"a log range needs low > 0, got {self.low:g}")
        return self

    def values(self) -> list[Any]:
        """Values that must build (the ends of a range, every choice)."""
        if self.choices is not None:
            return list(self.choices)
        return [int(self.low), int(self.high)] if self.integer else [self.low, self.high]


class PrunerSpec(_Strict):
    """How a search stops unpromising trials early, over training epochs: ``none``, ``halving`` (synchronous
    successive halving), ``asha`` or ``hyperband`` (Optuna's asynchronous pruners); rungs at ``min_epochs`` x
    ``reduction_factor``^k epochs. A name alone (``pruner: halving``) takes the defaults."""

    kind: str = "none"
    min_epochs: Optional[int] = Field(None, ge=1)  # the first rung (None: training.epochs / reduction_factor^2, >= 1)
    reduction_factor: int = Field(3, ge=2)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, v: Any) -> Any:
        return {"kind": v} if isinstance(v, str) else v

    @field_validator("kind")
    @classmethod
    def _known(cls, v: str) -> str:
        from .search import PRUNERS

        if v not in PRUNERS:
            raise ValueError(close_match_message("pruner", v, PRUNERS.names()))
        return v

    def rungs(self, epochs: int) -> list[int]:
        """The epochs (< ``epochs``) at which a trial is measured and may be stopped."""
        if self.kind == "none":
            return []
        first = self.min_epochs or max(1, epochs // self.reduction_factor ** 2)
        out, r = [], first
        while r < epochs:
            out.append(r)
            r *= self.reduction_factor
        return out


class SearchGrid(_Strict):
    """Search the best policy (which operators of ``operators``, in which order, up to ``max_ops``, at which
    parameters of ``space``) with Optuna, selecting on a validation split; see ``augstudy/study/search.py``."""

    kind: Literal["search"]
    operators: list[OpSpec] = Field(min_length=1)
    max_ops: int = Field(3, ge=1)
    space: dict[str, SpaceParam] = Field(default_factory=dict)  # "operator.param" -> range
    budget: SearchBudget
    sampler: str = "tpe"
    pruner: PrunerSpec = Field(default_factory=PrunerSpec)
    objective: str = "knn_top1"  # a metric of the validation split, maximised
    validation: ValidationSplit = Field(default_factory=ValidationSplit)
    top_k: int = Field(3, ge=1)  # policies retrained on the full training set and tested at the end
    seed: int = Field(0, ge=0, le=MAX_SEED)
    reference: Optional[str] = None  # a pairwise study's results folder: its best cell, drawn for reference

    @field_validator("operators")
    @classmethod
    def _distinct(cls, v: list[OpSpec]) -> list[OpSpec]:
        _unique("operator names", [op_name(s) for s in v])
        return v

    @field_validator("validation", mode="before")
    @classmethod
    def _fraction(cls, v: Any) -> Any:
        return {"fraction": v} if isinstance(v, (int, float)) and not isinstance(v, bool) else v

    @field_validator("sampler")
    @classmethod
    def _sampler(cls, v: str) -> str:
        from .search import SAMPLERS

        if v not in SAMPLERS:
            raise ValueError(close_match_message("sampler", v, SAMPLERS.names()))
        return v

    @field_validator("objective")
    @classmethod
    def _objective(cls, v: str) -> str:
        from ..schema import METRICS

        if v not in METRICS:
            raise ValueError(f"unknown objective {v!r}; one of: {', '.join(METRICS)}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> "SearchGrid":
        names = [op_name(s) for s in self.operators]
        if self.max_ops > len(names):
            raise ValueError(f"max_ops {self.max_ops} is more than the {len(names)} operators of grid.operators "
                             f"(an operator is used at most once); use 1..{len(names)}")
        for key in self.space:
            op, dot, param = key.partition(".")
            if not dot or not param:
                raise ValueError(f"space key {key!r} must be operator.param, e.g. 'color.strength'")
            if op not in names:
                raise ValueError(f"space key {key!r}: operator {op!r} is not in grid.operators ({', '.join(names)})")
        return self

    def pool(self) -> dict[str, dict[str, Any]]:
        """Operator name -> the params the pool gives it."""
        return dict(parse_spec(s) for s in self.operators)

    def op_entries(self) -> list[tuple[str, list[OpSpec]]]:
        pool = self.pool()
        entries = [(f"grid.operators[{i}]", [s]) for i, s in enumerate(self.operators)]
        for key, p in self.space.items():
            op, _, param = key.partition(".")
            entries += [(f"grid.space[{key!r}]", [{"op": op, **pool[op], param: v}]) for v in p.values()]
        return entries

    def describe(self) -> dict[str, Any]:
        return {"kind": "search", "operators": [op_name(s) for s in self.operators], "max_ops": self.max_ops,
                "space": {k: v.model_dump(exclude_defaults=True) for k, v in self.space.items()},
                "budget": self.budget.model_dump(exclude_none=True), "sampler": self.sampler,
                "pruner": self.pruner.model_dump(exclude_none=True),
                "objective": self.objective, "validation": self.validation.model_dump(), "top_k": self.top_k,
                "seed": self.seed, "reference": self.reference}

    def variants(self) -> list[dict[str, Any]]:
        return []  # proposed one trial at a time (augstudy.study.search)


Grid = Annotated[Union[PairwiseGrid, SweepGrid, ListGrid, SearchGrid], Field(discriminator="kind")]
GRID_KINDS = ("pairwise", "sweep", "list", "search")


class ExecutorConfig(_Strict):
    """Where cells run: ``local`` (joblib loky processes) or ``dask`` (an existing cluster)."""

    kind: Literal["local", "dask"] = "local"
    workers: int = Field(1, ge=1)  # local: cells at once (threads per cell = cores // workers)
    address: Optional[str] = None  # dask: scheduler address, e.g. tcp://127.0.0.1:8786
    gpus: Optional[list[int]] = None  # local: GPU indices, one cell per entry (None: all visible GPUs)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, v: Any) -> Any:
        return {"kind": v} if isinstance(v, str) else v

    @field_validator("address")
    @classmethod
    def _address(cls, v: Optional[str]) -> Optional[str]:
        if v is not None and not re.fullmatch(r"[a-z]+://\S+", v):
            raise ValueError(f"executor.address {v!r} is not a scheduler address; write e.g. 'tcp://127.0.0.1:8786'")
        return v

    @model_validator(mode="after")
    def _needs_address(self) -> "ExecutorConfig":
        if self.kind == "dask" and not self.address:
            raise ValueError("executor.kind 'dask' needs executor.address (e.g. 'tcp://127.0.0.1:8786')")
        return self


#: A registered method by name, with params in the operators' spec syntax (``byol(momentum=0.99)``);
#: checked (and made canonical) at load, once the plugins are imported (see ``_validate_methods``).
Method = Union[str, dict[str, Any]]


class StudySpec(_Strict):
    """A study: a grid of pipelines x methods x seeds, trained with shared settings."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=100)  # also the results folder name
    description: str = ""
    dataset: DatasetConfig = Field(default_factory=DatasetConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    protocol: ProtocolConfig = Field(default_factory=ProtocolConfig)
    evaluation: EvaluationConfig = Field(default_factory=EvaluationConfig)
    methods: list[Method] = Field(default_factory=lambda: ["simclr"], min_length=1)
    seeds: list[Annotated[int, Field(ge=0, le=MAX_SEED)]] = Field(default_factory=lambda: [0], min_length=1)
    grid: Grid
    executor: ExecutorConfig = Field(default_factory=ExecutorConfig)
    plugins: list[str] = Field(default_factory=list)  # modules to import (plugin operators, methods, ...)
    tracking: Optional[TrackingSpec] = None  # an experiment tracker: {kind: tensorboard | mlflow | wandb, ...}
    output: str = "results"  # results go to <output>/<name>/
    #: The YAML file this spec came from (set by :func:`load_spec`; not a key of the file).
    source: Optional[str] = Field(None, exclude=True)

    @field_validator("methods", "seeds")
    @classmethod
    def _distinct(cls, v: list, info) -> list:
        _unique(info.field_name, [str(s) for s in v])
        return v

    @model_validator(mode="after")
    def _search(self) -> "StudySpec":
        g = self.grid
        if g.kind == "search":
            if len(self.methods) > 1:
                raise ValueError(f"a search grid optimises one method; methods lists {len(self.methods)}")
            if g.pruner.min_epochs is not None and g.pruner.min_epochs >= self.training.epochs:
                raise ValueError(f"grid.pruner.min_epochs {g.pruner.min_epochs} is not less than training.epochs "
                                 f"({self.training.epochs}): the first rung must come before the last epoch")
            if g.budget.epochs is not None and g.budget.epochs < self.training.epochs:
                raise ValueError(f"grid.budget.epochs {g.budget.epochs} is less than one cell's training.epochs "
                                 f"({self.training.epochs}); give at least {self.training.epochs}")
        return self

    @property
    def study_dir(self) -> Path:
        return Path(self.output) / self.name


# --- error messages -------------------------------------------------------------------------------

def _unwrap(tp: Any) -> list[Any]:
    """The concrete types inside Optional/Union/Annotated/list/dict annotations."""
    origin = typing.get_origin(tp)
    if origin is Annotated:
        return _unwrap(typing.get_args(tp)[0])
    if origin in (Union, list, dict) or (origin is not None and str(origin) == "types.UnionType"):
        return [t for a in typing.get_args(tp) for t in _unwrap(a)]
    return [tp]


def _model_at(loc: tuple) -> Optional[type[BaseModel]]:
    """The pydantic model holding the key at ``loc`` (for listing the valid keys there)."""
    model: Optional[type[BaseModel]] = StudySpec
    for part in loc[:-1]:
        if model is None:
            return None
        if isinstance(part, int) or part not in model.model_fields:
            continue  # list index, dict key or union tag
        models = [t for t in _unwrap(model.model_fields[part].annotation)
                  if isinstance(t, type) and issubclass(t, BaseModel)]
        if len(models) > 1:  # the grid union: pick by the tag that follows in loc
            tags = {m.model_fields["kind"].annotation.__args__[0]: m for m in models}
            nxt = loc[loc.index(part) + 1] if loc.index(part) + 1 < len(loc) else None
            models = [tags[nxt]] if nxt in tags else []
        model = models[0] if models else None
    return model


def _path(loc: tuple) -> str:
    parts = [p for i, p in enumerate(loc) if not (i > 0 and loc[i - 1] == "grid" and p in GRID_KINDS)
             and not (i > 1 and loc[i - 2] == "pipelines" and p in ("ops", "views"))]  # list-entry tags
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts).lstrip(".") or "(top level)"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def format_error(err: dict) -> str:
    """One line for one pydantic error: key path, bad value, what is valid."""
    loc, typ, value = tuple(err["loc"]), err["type"], err.get("input")
    path = _path(loc)
    if typ == "extra_forbidden":
        model = _model_at(loc)
        valid = ", ".join(k for k, f in model.model_fields.items() if not f.exclude) if model else "?"
        return f"{path}: unknown key; valid keys here: {valid}"
    if typ == "missing":
        return f"{path}: required key is missing"
    if typ in ("union_tag_invalid", "union_tag_not_found"):
        got = value.get("kind") if isinstance(value, dict) else value
        return f"{path}.kind: {_short(got)} is not a grid kind; valid: {', '.join(GRID_KINDS)}"
    msg = err["msg"].removeprefix("Value error, ")
    if typ in ("value_error", "assertion_error"):
        return f"{path}: {msg}"
    return f"{path}: got {_short(value)}; {msg[0].lower() + msg[1:]}"


# --- loading --------------------------------------------------------------------------------------

def _check_name(path: str, name: str, known: list[str]) -> None:
    if name not in known:
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise SpecError(f"{path}: unknown name {name!r}{hint}; registered: {', '.join(known)}")


def _nominal_size(spec: StudySpec) -> int:
    """The image side the encoder check builds for: the dataset's ``size`` param when it has one."""
    size = spec.dataset.params.get("size")
    return size if isinstance(size, int) and 0 < size <= 4096 else 32


def _validate_names(spec: StudySpec) -> None:
    """Import the study's plugins, then check dataset and encoder names and build every pipeline,
    so a typo fails before any training."""
    from ..data import available as datasets
    from ..data.registry import check_params as check_dataset_params
    from ..train import available_encoders
    from ..train.encoders import check_encoder

    for i, module in enumerate(spec.plugins):
        try:
            load_plugins([module])
        except AugstudyError as e:  # not there, or refused; a bug inside the plugin keeps its traceback
            raise SpecError(f"plugins[{i}]: {e}") from None
    _check_name("dataset.name", spec.dataset.name, datasets())
    check_tracking(spec.tracking)
    _check_name("model.encoder", spec.model.encoder, available_encoders())
    # params checkable without data or training: fail here, not in every cell
    try:
        check_dataset_params(spec.dataset.name, spec.dataset.params)
    except AugstudyError as e:
        raise SpecError(f"dataset.params: {e}") from None
    from ..data.streaming import check_stream

    try:
        check_stream(spec.dataset.name, spec.dataset.stream)
    except AugstudyError as e:
        raise SpecError(str(e)) from None
    try:
        check_encoder(spec.model.encoder, spec.model.encoder_params, image_size=_nominal_size(spec))
    except AugstudyError as e:
        raise SpecError(f"model.encoder_params: {e}") from None
    _validate_methods(spec)
    entries = spec.grid.op_entries()
    if spec.protocol.base_crop is not None:
        entries.append(("protocol.base_crop", [spec.protocol.base_crop]))
    for path, pipeline in entries:
        try:
            build(pipeline)
        except UnknownNameError as e:
            raise SpecError(f"{path}: {e}") from None
        except (AugstudyError, ValidationError) as e:
            raise SpecError(f"{path}: {_short(pipeline)} is not a valid pipeline: {' '.join(str(e).split())}") from None


def _validate_methods(spec: StudySpec) -> None:
    """Each of ``methods`` is a registered method with valid params for this study's cells (e.g. a queue
    no smaller than the batch); replaced by its canonical spec (the results' ``method`` label)."""
    from ..train.config import CellConfig

    shared = spec.model_dump(include={"dataset", "model", "training", "protocol", "evaluation", "plugins"})
    canonical = []
    for i, m in enumerate(spec.methods):
        try:
            canonical.append(CellConfig(method=m, **shared).method)
        except ValidationError as e:
            err = next((x for x in e.errors() if x["loc"] in ((), ("method",))), e.errors()[0])
            raise SpecError(f"methods[{i}]: {err['msg'].removeprefix('Value error, ')}") from None
    try:
        _unique("methods", canonical)
    except ValueError as e:
        raise SpecError(str(e)) from None
    spec.methods = canonical


def _where(source: Optional[str]) -> str:
    return f"{source}: " if source else ""


_ENV_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand_env(data: Any, key: str = "") -> Any:
    """Replace ``${VAR}`` and ``${VAR:-default}`` in every string of a parsed spec (e.g. a data root).

    An unset variable without a default raises one line naming the key and the variable.
    """
    if isinstance(data, dict):
        return {k: expand_env(v, f"{key}.{k}" if key else str(k)) for k, v in data.items()}
    if isinstance(data, list):
        return [expand_env(v, f"{key}[{i}]") for i, v in enumerate(data)]
    if not isinstance(data, str):
        return data

    def value(m: re.Match) -> str:
        var, default = m.group(1), m.group(2)
        if var in os.environ:
            return os.environ[var]
        if default is None:
            raise SpecError(f"{key}: environment variable {var} is not set (write ${{{var}:-default}} for a fallback)")
        return default

    return _ENV_VAR.sub(value, data)


def validate_spec(data: Any, source: Optional[str] = None) -> StudySpec:
    """Validate a parsed spec (a dict); raise :class:`SpecError` naming key path and value."""
    if data is None:
        raise SpecError(f"{_where(source)}the study file is empty; it needs at least a name and a grid "
                        "(see studies/quick.yaml)")
    if not isinstance(data, dict):
        raise SpecError(f"{_where(source)}a study file must be a mapping of keys (name, grid, ...), got {type(data).__name__}")
    try:
        data = expand_env(data)
    except SpecError as e:
        raise SpecError(f"{_where(source)}{e}") from None
    try:
        spec = StudySpec.model_validate({**data, "source": source})
    except ValidationError as e:
        lines = [format_error(err) for err in e.errors()]
        more = f" (and {len(lines) - 1} more: {'; '.join(lines[1:3])})" if len(lines) > 1 else ""
        raise SpecError(f"{_where(source)}{lines[0]}{more}") from None
    try:
        _validate_names(spec)
    except SpecError as e:
        raise SpecError(f"{_where(source)}{e}") from None
    return spec


def check_device_here(spec: "StudySpec") -> None:
    """``training.device: cuda[:N]`` on a local run needs that GPU here (checked before any cell starts;
    not at validation, so a GPU study file still validates and dry-runs on a laptop)."""
    dev = spec.training.device
    if dev.startswith("cuda") and spec.executor.kind == "local":
        import torch

        n = torch.cuda.device_count() if torch.cuda.is_available() else 0
        index = int(dev.split(":")[1]) if ":" in dev else 0
        if index >= n:
            raise SpecError(f"{_where(spec.source)}training.device {dev!r}: this machine has {n} CUDA device(s); "
                            "use device: auto or cpu, or run on a cluster with --scheduler")


def load_spec(spec: Union[str, Path, dict, StudySpec]) -> StudySpec:
    """A :class:`StudySpec` from a YAML path, a dict, or a spec (returned as is)."""
    if isinstance(spec, StudySpec):
        return spec
    if isinstance(spec, dict):
        return validate_spec(spec)
    path = Path(spec)
    data = load_yaml(path)
    return validate_spec(data, source=str(path))
