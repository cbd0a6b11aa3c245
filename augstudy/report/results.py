"""Read a study's results directory (the results store): ``study.json``, ``results.csv``/``.parquet``.

The report reads only these files (and ``cells/<id>/curve.csv`` / ``metrics.json`` for curves);
it never imports the training or study code.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .. import results_table
from ..errors import AugstudyError, PathError
from ..schema import METRICS  # noqa: F401  (re-exported: the metrics a report can show)

GRID_KINDS = ("pairwise", "sweep", "list", "search")


@dataclass
class StudyResults:
    """One study's results: the table (one row per cell x method x seed) and its grid."""

    path: Path
    name: str
    kind: str  # pairwise | sweep | list
    order: list[str]  # operators (pairwise) or column labels (sweep, list), in display order
    table: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)  # study.json ({} when missing)
    param: str | None = None  # swept parameter (sweep)
    cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)  # computed once per load

    @property
    def records(self):
        """The study's per-example records (``augstudy.records.StudyRecords``), or None (cells from before them)."""
        if "records" not in self.cache:
            from .. import records

            self.cache["records"] = records.load(self.path)
        return self.cache["records"]

    def policy_stats(self, metric: str):
        """``augstudy.stats.summarize`` of this study for ``metric`` (intervals, tied_with_best), cached."""
        key = f"stats:{metric}"
        if key not in self.cache:
            from ..stats import summarize

            self.cache[key] = summarize(self.table, self.records, metrics=[metric])
        return self.cache[key]

    @property
    def methods(self) -> list[str]:
        """Methods in the table, ``simclr`` first, then in order of appearance."""
        seen = list(dict.fromkeys(self.table["method"]))
        return sorted(seen, key=lambda m: (m != "simclr", seen.index(m)))

    @property
    def n_seeds(self) -> int:
        return int(self.table["seed"].nunique())


def has_results(path: Path) -> bool:
    """Whether ``path`` is a study directory (a results table, or study.json with its cells)."""
    return results_table.is_study_dir(path)


def _read_table(path: Path) -> tuple[pd.DataFrame, dict]:
    """The table (rebuilt from cells/ by the one loader, :mod:`augstudy.results_table`) and study.json."""
    found = results_table.load(path)
    table, src = found.table, path / (found.source or "results.csv")
    if table.empty:
        raise AugstudyError(f"{src if found.source != 'cells' else path / 'cells'}: the results table has no rows yet; "
                            "run the study first (`augstudy run`)")
    return table.reset_index(drop=True), found.meta


def _pipeline_label(row: pd.Series) -> str:
    if row.get("pipeline"):
        return str(row["pipeline"])
    op1, op2 = row.get("op1"), row.get("op2")
    return str(op1) if not op2 or op1 == op2 else f"{op1} + {op2}"


def load_study(path: Path | str) -> StudyResults:
    """Read a study directory; raise a one-line ``AugstudyError`` naming the path when it is not one."""
    path = Path(path)
    if not path.exists():
        raise PathError(f"{path}: no such directory; expected a study directory written by `augstudy run`")
    if not path.is_dir():
        raise PathError(f"{path}: not a directory; expected a study directory written by `augstudy run`")
    table, meta = _read_table(path)
    grid = meta.get("grid") if isinstance(meta.get("grid"), dict) else {}
    kind = grid.get("kind")
    if kind is None and "grid" in table.columns and table["grid"].notna().any():
        kind = str(table["grid"].dropna().iloc[0])
    if kind is None:
        kind = "pairwise" if {"op1", "op2"} <= set(table.columns) and table["op1"].notna().any() else "list"
    if kind not in GRID_KINDS:
        raise AugstudyError(f"{path}: unknown grid kind {kind!r}; expected one of {', '.join(GRID_KINDS)}")
    if kind == "pairwise":
        for c in ("op1", "op2"):
            if c not in table.columns:
                raise AugstudyError(f"{path}: a pairwise results table needs columns op1 and op2")
        table["op2"] = table["op2"].where(table["op2"].notna(), table["op1"])
        seen = list(dict.fromkeys([*table["op1"].dropna(), *table["op2"].dropna()]))
        order = [str(o) for o in grid.get("operators") or []]
    else:
        table["pipeline"] = table.apply(_pipeline_label, axis=1) if len(table) else []
        seen = list(dict.fromkeys(table["pipeline"]))
        order = [str(o) for o in grid.get("labels") or []]
    order += [o for o in seen if o not in order]  # labels the table has but study.json lacks
    name = meta.get("name") or (str(table["study"].dropna().iloc[0]) if "study" in table and table["study"].notna().any() else path.name)
    param = grid.get("param") or (str(table["param"].dropna().iloc[0]) if "param" in table and table["param"].notna().any() else None)
    return StudyResults(path=path, name=str(name), kind=kind, order=order, table=table, meta=meta, param=param)


def study_dirs(path: Path | str) -> list[Path]:
    """``path`` itself if it is a study directory, else the study directories directly under it (sorted)."""
    path = Path(path)
    if not path.exists():
        raise PathError(f"{path}: no such directory; expected results/<study>/ or a folder of them")
    if not path.is_dir():
        raise PathError(f"{path}: not a directory; expected results/<study>/ or a folder of them")
    if has_results(path):
        return [path]
    found = sorted(p for p in path.iterdir() if p.is_dir() and has_results(p))
    if not found:
        raise AugstudyError(
            f"{path}: no results here (no results.csv or results.parquet in it or its subfolders); "
            "expected results/<study>/ written by `augstudy run`, or a folder of them"
        )
    return found
