"""Grid expansion: a :class:`StudySpec` becomes a list of :class:`Cell` records, in spec order.

Order: methods x seeds x grid (the grid varies fastest), so an interrupted run has whole
heatmaps of the first method and seed first. Pairwise grids go row by row (1st operator),
then column (2nd operator).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from ..ops import build
from ..schema import policy_string
from ..train.config import CellConfig, OpSpec
from .spec import PairwiseGrid, PerView, StudySpec, SweepGrid, op_name


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
                "param": self.param, "value": self.value}

    def __str__(self) -> str:
        return f"{self.pipeline} [{self.method}, seed {self.seed}]"


def canonical_pipeline(pipeline: list[OpSpec]) -> list[str]:
    """Operator specs as canonical strings (non-default params only), so equal pipelines share an id."""
    return [build(s).spec() for s in pipeline]


def _variants(spec: StudySpec) -> list[dict[str, Any]]:
    """The grid's pipelines with their labels, in column order."""
    g = spec.grid
    if isinstance(g, PairwiseGrid):
        names = [op_name(s) for s in g.operators]
        return [{"pipeline": [a] if i == j else [a, b], "label": na if i == j else f"{na} + {nb}",
                 "op1": na, "op2": nb}
                for i, (a, na) in enumerate(zip(g.operators, names))
                for j, (b, nb) in enumerate(zip(g.operators, names))]
    if isinstance(g, SweepGrid):
        return ([{"pipeline": g.variant(v), "label": lab, "param": g.param,
                  "value": float(v) if isinstance(v, (int, float)) else None}
                 for v, lab in zip(g.values, g.labels or [])]
                + [{"pipeline": p, "label": lab, "param": g.param} for lab, p in g.extra.items()])
    return [{"pipeline": p.view1, "view2": p.view2, "label": lab} if isinstance(p, PerView)
            else {"pipeline": p, "label": lab} for lab, p in g.pipelines.items()]


def expand(spec: StudySpec) -> list[Cell]:
    """Every cell of the study: methods x seeds x grid, in that order."""
    shared = spec.model_dump(include={"dataset", "model", "training", "protocol", "evaluation", "plugins"})
    variants = [{**v, "pipeline": canonical_pipeline(v["pipeline"]),
                 "view2": canonical_pipeline(v["view2"]) if v.get("view2") is not None else None}
                for v in _variants(spec)]
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
            raise ValueError(f"--only {flt!r}: unknown key {key!r}; valid keys: {', '.join(keys)}")
        alternatives = [w.strip() for w in wanted.split(",") if w.strip()]
        cells = [c for c in cells if any(_matches(c, key, w) for w in alternatives)]
    return cells


def _matches(cell: Cell, key: str, wanted: str) -> bool:
    ops = {cell.op1, cell.op2} - {None} or {op_name(s) for s in cell.config.pipeline + (cell.config.view2 or [])}
    checks = {
        "op": wanted in ops, "op1": cell.op1 == wanted, "op2": cell.op2 == wanted,
        "pipeline": cell.pipeline == wanted, "method": cell.method == wanted,
        "seed": str(cell.seed) == wanted, "id": cell.id.startswith(wanted),
    }
    if key:
        return checks[key]
    return checks["op"] or checks["pipeline"] or checks["method"] or (len(wanted) >= 4 and checks["id"])
