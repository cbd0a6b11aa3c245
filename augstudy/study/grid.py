"""Grids: what proposes a study's cells. Every grid kind speaks one small ask/tell protocol.

:class:`GridRun` is the protocol the runner drives (locally and on Dask alike): ``ask(n)`` proposes
up to ``n`` cells to run next, ``tell(cell, metrics)`` reports a finished one, ``cells()`` lists every
cell known so far (the rows of the results table). A cell asked with ``stop_at`` (a pruner's rung)
comes back paused at that epoch through ``report``, which says how it goes on: the cell to continue
(from its checkpoint, with the next ``stop_at``), None (pruned there) or :data:`HOLD` (it waits at its
rung until ``decide`` says which: a synchronous pruner's rung is decided once every trial reached it). A fixed grid (pairwise, sweep, list) proposes all of
its cells at the first ask; a search (``augstudy/study/search.py``) proposes a few at a time and learns
from what it is told. Kinds are registered in :data:`GRIDS` by the spec's ``grid.kind``.

Fixed grids expand in spec order: methods x seeds x grid (the grid varies fastest), so an interrupted
run has whole heatmaps of the first method and seed first. Pairwise grids go row by row (1st operator),
then column (2nd operator).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Optional, Union

from ..errors import AugstudyError, ParamsError
from ..ops import build
from ..registry import Registry
from ..schema import policy_string
from ..train.config import CellConfig, OpSpec
from .spec import StudySpec, op_name

if TYPE_CHECKING:
    from .store import StudyStore


@dataclass
class Cell:
    """One training run of the study with the labels that place it in the grid."""

    index: int  # position in spec order
    config: CellConfig
    pipeline: str  # readable label: "crop + color", "1/8", a list grid's name
    op1: Optional[str] = None
    op2: Optional[str] = None
    param: Optional[str] = None
    value: Optional[float] = None
    trial: Optional[int] = None  # search: the Optuna trial number (None: a fixed grid's cell, a final retrain)
    #: run instruction, not part of the cell: train up to this epoch, then report (a pruner's rung); None: to the end
    stop_at: Optional[int] = None
    id: str = field(init=False)

    def __post_init__(self) -> None:
        self.id = self.config.cell_id()

    @property
    def method(self) -> str:
        return self.config.method

    @property
    def seed(self) -> int:
        return self.config.seed

    def labels(self) -> dict[str, Any]:
        """The grid coordinates of this cell (the label columns of the results table)."""
        return {"cell_id": self.id, "method": self.method, "seed": self.seed, "op1": self.op1,
                "op2": self.op2, "pipeline": self.pipeline,
                "policy": policy_string(self.config.pipeline, self.config.view2),
                "param": self.param, "value": self.value, "trial": self.trial,
                "split": "validation" if self.config.validation is not None else "test"}

    def __str__(self) -> str:
        return f"{self.pipeline} [{self.method}, seed {self.seed}]"


def canonical_pipeline(pipeline: list[OpSpec]) -> list[str]:
    """Operator specs as canonical strings (non-default params only), so equal pipelines share an id."""
    return [build(s).spec() for s in pipeline]


def shared_config(spec: StudySpec) -> dict[str, Any]:
    """The cell-config sections every cell of ``spec`` shares."""
    return spec.model_dump(include={"dataset", "model", "training", "protocol", "evaluation", "plugins"})


def expand(spec: StudySpec) -> list[Cell]:
    """Every cell of a fixed grid: methods x seeds x grid (``spec.grid.variants()``), in that order."""
    shared = shared_config(spec)
    variants = [{**v, "pipeline": canonical_pipeline(v["pipeline"]),
                 "view2": canonical_pipeline(v["view2"]) if v.get("view2") is not None else None}
                for v in spec.grid.variants()]
    cells: list[Cell] = []
    for method in spec.methods:
        for seed in spec.seeds:
            for v in variants:
                config = CellConfig(method=method, seed=seed, pipeline=v["pipeline"], view2=v["view2"], **shared)
                cells.append(Cell(index=len(cells), config=config, pipeline=v["label"], op1=v.get("op1"),
                                  op2=v.get("op2"), param=v.get("param"), value=v.get("value")))
    return cells


def select(cells: list[Cell], only: Optional[list[str]]) -> list[Cell]:
    """Cells matching every filter in ``only``.

    A filter is ``key=value`` (key: op, op1, op2, pipeline, method, seed, id) or a bare value matching
    an operator, pipeline label, method or cell-id prefix; ``a,b`` matches either.
    """
    keys = ("op", "op1", "op2", "pipeline", "method", "seed", "id")
    for flt in only or []:
        key, _, wanted = flt.partition("=") if "=" in flt else ("", "", flt)
        if key and key not in keys:
            raise ParamsError(f"--only {flt!r}: unknown key {key!r}; valid keys: {', '.join(keys)}")
        alternatives = [w.strip() for w in wanted.split(",") if w.strip()]
        cells = [c for c in cells if any(_matches(c, key, w) for w in alternatives)]
    return cells


def _matches(cell: Cell, key: str, wanted: str) -> bool:
    ops = {cell.op1, cell.op2} - {None} or {op_name(s) for s in cell.config.pipeline + (cell.config.view2 or [])}
    checks = {
        "op": wanted in ops, "op1": cell.op1 == wanted, "op2": cell.op2 == wanted,
        "pipeline": cell.pipeline == wanted, "method": wanted in (cell.method, cell.method.partition("(")[0]),
        "seed": str(cell.seed) == wanted, "id": cell.id.startswith(wanted),
    }
    if key:
        return checks[key]
    return checks["op"] or checks["pipeline"] or checks["method"] or (len(wanted) >= 4 and checks["id"])


# --- the ask/tell protocol ------------------------------------------------------------------------

#: What :meth:`GridRun.report` returns for a cell that waits at its rung until :meth:`GridRun.decide` decides it.
HOLD = object()


class GridRun:
    """One run of a study's grid, driven by the runner: ``ask`` cells, run them, ``tell`` their metrics.

    ``adaptive`` grids propose cells from what they are told (the runner keeps asking until ``ask``
    returns nothing); fixed ones know every cell up front (``planned`` is then the whole plan).
    """

    adaptive = False

    def __init__(self, spec: StudySpec, store: "StudyStore", only: Optional[list[str]] = None,
                 dry_run: bool = False) -> None:
        self.spec = spec
        self.store = store

    def cells(self) -> list[Cell]:
        """Every cell known so far, in order: the rows of the results table."""
        raise NotImplementedError

    def planned(self) -> list[Cell]:
        """The cells the next asks will propose as far as known now (a dry run lists them)."""
        return self.cells()

    def ask(self, n: int) -> list[Cell]:
        """Up to ``n`` cells to run next (a fixed grid: all of them, once); [] when there are no more."""
        raise NotImplementedError

    def tell(self, cell: Cell, metrics: Optional[dict]) -> None:
        """``cell`` finished with ``metrics`` (``metrics.json``; None when it failed; status ``pruned``
        when :meth:`report` stopped it)."""

    def report(self, cell: Cell, metrics: dict) -> Union[Cell, None, object]:
        """``cell`` paused at its ``stop_at`` epoch with ``metrics`` measured there: the cell that continues it
        (resumed from its checkpoint, up to its own ``stop_at``), None to stop it there (pruned), or
        :data:`HOLD`: it waits at its rung (its checkpoint stored) until :meth:`decide` says how it goes on."""
        return replace(cell, stop_at=None)

    def decide(self) -> list[tuple[str, Optional[Cell]]]:
        """The cells held at their rung that can be decided now, as ``(cell id, the cell that continues it or
        None: pruned there)`` (a synchronous pruner decides a rung once every trial has reached it)."""
        return []

    def describe_outcome(self) -> list[str]:
        """Lines for the end of a run (a search: the selected policy)."""
        return []


class FixedGrid(GridRun):
    """Pairwise, sweep and list grids: every cell (filtered by ``--only``) at the first ask, nothing after."""

    def __init__(self, spec: StudySpec, store: "StudyStore", only: Optional[list[str]] = None,
                 dry_run: bool = False) -> None:
        super().__init__(spec, store)
        self._cells = expand(spec)
        self._selected = select(self._cells, only)
        if not self._selected:
            labels = ", ".join(dict.fromkeys(c.pipeline for c in self._cells))
            methods = ", ".join(dict.fromkeys(c.config.method for c in self._cells))
            raise AugstudyError(f"--only {' '.join(only or [])} matches none of the {len(self._cells)} cells of study "
                                f"{spec.name!r}; pipelines: {labels}; methods: {methods}")
        self._asked = False

    def cells(self) -> list[Cell]:
        return self._cells

    def planned(self) -> list[Cell]:
        return self._selected

    def ask(self, n: int) -> list[Cell]:
        if self._asked:
            return []
        self._asked = True
        return list(self._selected)


#: Grid kind (the spec's ``grid.kind``) -> its :class:`GridRun` class.
GRIDS: Registry[type[GridRun]] = Registry("grid kind", builtins=["augstudy.study.search"])
for _kind in ("pairwise", "sweep", "list"):
    GRIDS.add(_kind, FixedGrid)


def open_grid(spec: StudySpec, store: "StudyStore", only: Optional[list[str]] = None,
              dry_run: bool = False) -> GridRun:
    """The :class:`GridRun` of ``spec.grid.kind``."""
    return GRIDS.get(spec.grid.kind)(spec, store, only=only, dry_run=dry_run)
