"""The results table's columns, defined once: the store writes them, the report, the CLI and the API read them.

One row per cell x method x seed. A column is text (str or None), a float (NaN when missing) or an
int. New capabilities add their columns here (and nowhere else); a table read from an older store
gets the new columns empty, and columns this version does not know are kept, after the known ones.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Literal, Optional

import pandas as pd


@dataclass(frozen=True)
class Column:
    name: str
    kind: Literal["text", "float", "int"]
    doc: str


COLUMNS: tuple[Column, ...] = (
    Column("cell_id", "text", "content address of the cell's resolved config (16 hex digits)"),
    Column("study", "text", "study name"),
    Column("grid", "text", "grid kind: pairwise, sweep, list, ..."),
    Column("method", "text", "training method (simclr, supervised, byol, ...)"),
    Column("seed", "int", "the cell's seed"),
    Column("op1", "text", "pairwise: first operator"),
    Column("op2", "text", "pairwise: second operator (op1 on the diagonal)"),
    Column("pipeline", "text", "the readable label of the cell's policy (grid label)"),
    Column("policy", "text", "canonical policy: the operator specs in order, joined by ' | '; per-view "
           "pipelines: the first view's, ' // ', the second view's"),
    Column("param", "text", "sweeps: the varied parameter"),
    Column("value", "float", "sweeps: its value (empty for named extras)"),
    Column("trial", "int", "search: the Optuna trial number (empty: a fixed grid's cell or a final retrain)"),
    Column("split", "text", "where the metrics were measured: test, or validation (held out of the training "
                            "split; search trials select on it and never see the test set)"),
    Column("epochs", "int", "training epochs the cell ran"),
    Column("linear_top1", "float", "linear probe top-1 on h, percent"),
    Column("knn_top1", "float", "weighted kNN top-1 on h, percent"),
    Column("linear_top1_z", "float", "linear probe top-1 on z = g(h), percent (when asked)"),
    Column("knn_top1_z", "float", "kNN top-1 on z = g(h), percent (when asked)"),
    Column("status", "text", "done | failed | diverged | pruned (a search trial its pruner stopped early; its metrics "
                             "are those at the epoch it reached, ``epochs``)"),
    Column("error", "text", "the error of a failed or diverged cell"),
    Column("train_seconds", "float", "training wall time"),
    Column("images_per_second", "float", "training throughput"),
    Column("final_loss", "float", "mean loss of the last epoch"),
    Column("device", "text", "where the cell ran (cpu, cuda:0, ...)"),
)

#: Metrics a report can show (percent top-1).
METRICS: tuple[str, ...] = ("linear_top1", "knn_top1", "linear_top1_z", "knn_top1_z")
#: Statuses of a cell that has a kept result.
FINISHED: tuple[str, ...] = ("done", "diverged", "pruned")
#: Separator of operator specs in the ``policy`` column.
POLICY_SEPARATOR = " | "
#: Separator of the two views' pipelines in the ``policy`` column (per-view pipelines only).
VIEW_SEPARATOR = " // "


def names() -> list[str]:
    return [c.name for c in COLUMNS]


def of_kind(kind: str) -> list[str]:
    return [c.name for c in COLUMNS if c.kind == kind]


def policy_string(pipeline: Iterable[str], view2: Optional[Iterable[str]] = None) -> str:
    """The canonical policy string of a list of canonical operator specs (``"crop | color(strength=0.5)"``);
    with the second view's own pipeline ``view2``: ``"crop | blur // crop | blur(p=0.1)"``."""
    first = POLICY_SEPARATOR.join(pipeline)
    return first if view2 is None else first + VIEW_SEPARATOR + POLICY_SEPARATOR.join(view2)


def conform(rows: list[dict] | pd.DataFrame) -> pd.DataFrame:
    """The table with every known column, in order, with its dtype (extra columns kept at the end)."""
    df = pd.DataFrame(rows) if not isinstance(rows, pd.DataFrame) else rows.copy()
    known = names()
    extra = [c for c in df.columns if c not in known]
    df = df.reindex(columns=known + extra)
    for c in COLUMNS:
        col = df[c.name]
        if c.kind == "float":
            df[c.name] = pd.to_numeric(col, errors="coerce").astype("float64")
        elif c.kind == "int":
            df[c.name] = pd.to_numeric(col, errors="coerce").astype("Int64") if col.isna().any() else col.astype("int64")
        else:
            df[c.name] = col.astype("object").where(col.notna(), None)
    return df.reset_index(drop=True)
