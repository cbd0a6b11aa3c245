"""What a study run prints: a header, a progress bar (TTY only), a line per finished cell, a summary.

Lines and the summary go to stdout (useful when piped to a file); the live bar goes to stderr.
"""
from __future__ import annotations

import math
from typing import Optional

import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)
from rich.table import Table

from .grid import Cell
from .spec import StudySpec


def format_seconds(s: Optional[float]) -> str:
    if s is None or not math.isfinite(s):
        return "unknown"
    if s < 10:
        return f"{s:.1f} s"
    if s < 90:
        return f"{s:.0f} s"
    if s < 5400:
        return f"{s / 60:.1f} min"
    return f"{s / 3600:.1f} h"


def _pct(x) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.1f}"


class Reporter:
    """Prints a study run's progress; silent when ``enabled`` is False."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.out = Console(highlight=False, soft_wrap=True)
        self.err = Console(stderr=True)
        self.progress: Optional[Progress] = None
        self.task = None
        self.total = 0
        self.count = 0
        self.best: Optional[tuple[float, str]] = None  # (linear top-1, progress text) of the best done cell

    def print(self, text: str) -> None:
        if self.enabled:
            (self.progress.console if self.progress else self.out).print(text, highlight=False, soft_wrap=True)

    def _header(self, spec: StudySpec, plan: str, n: int, n_done: int, n_todo: int, eta: Optional[float]) -> None:
        where = f" -> {spec.study_dir}"
        self.print(f"[bold]study {escape(spec.name)}[/]: {n} cells ({n_done} done, {n_todo} to run) on {escape(plan)}{escape(where)}")
        if n_todo:
            note = "" if eta is not None else " (no finished cell to time yet)"
            self.print(f"estimated time: {format_seconds(eta)}{note}")

    def dry_run(self, spec: StudySpec, plan: str, selected: list[Cell], store, todo: list[Cell],
                n_done: int, eta: Optional[float]) -> None:
        if not self.enabled:
            return
        t = Table(title=f"{spec.name}: cells", title_justify="left")
        for col in ("#", "cell id", "method", "seed", "pipeline", "state"):
            t.add_column(col)
        todo_ids = {c.id for c in todo}
        for c in selected:
            state = "to run" if c.id in todo_ids else ("done" if store.is_done(c.id) else "to run")
            t.add_row(str(c.index), c.id, c.method, str(c.seed), escape(c.pipeline), state)
        self.out.print(t)
        self._header(spec, plan, len(selected), n_done, len(todo), eta)

    def start(self, spec: StudySpec, plan: str, n: int, n_done: int, todo: list[Cell], eta: Optional[float]) -> None:
        self._header(spec, plan, n, n_done, len(todo), eta)
        self.total = len(todo)
        if self.enabled and todo and self.err.is_terminal:
            self.progress = Progress(TextColumn("cells"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                     TextColumn("ETA"), TimeRemainingColumn(), TextColumn("{task.fields[best]}"),
                                     console=self.err, transient=True)
            self.progress.start()
            self.task = self.progress.add_task("cells", total=len(todo), best="")

    def cell_done(self, cell: Cell, row: Optional[dict], df: Optional[pd.DataFrame] = None) -> None:
        """One line for a finished cell; O(1): the best cell so far is kept, not searched for (``df`` is unused)."""
        self.count += 1
        if not self.enabled or row is None:
            return
        top1 = row.get("linear_top1")
        if row["status"] == "done" and isinstance(top1, (int, float)) and math.isfinite(top1) \
                and (self.best is None or top1 > self.best[0]):
            self.best = (float(top1), escape(f"best: {row['pipeline']} [{row['method']}] {top1:.1f}%"))
        status = row["status"]
        colour = {"done": "green", "diverged": "yellow", "pruned": "yellow"}.get(status, "red")
        secs = row.get("train_seconds")
        detail = (f"linear {_pct(row.get('linear_top1'))}  knn {_pct(row.get('knn_top1'))}  "
                  f"{format_seconds(secs) if secs is not None else ''}")
        if status == "failed":
            detail = escape(str(row.get("error"))[:200])
        width = len(str(self.total))
        self.print(f"[{self.count:>{width}}/{self.total}] [{colour}]{status:<8}[/] {escape(str(cell)):<40} {detail}")
        if self.progress is not None:
            self.progress.update(self.task, advance=1, best=self.best[1] if self.best else "")

    def interrupted(self, finished: int, todo: int, signal_name: str = "SIGINT") -> None:
        """One line: what was kept and how to go on."""
        self.stop()
        self.print(f"[yellow]interrupted[/] ({signal_name}): {finished} of {todo} cells finished and saved; "
                   f"rerun the same command to resume")

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None

    def summary(self, spec: StudySpec, df: pd.DataFrame, wall: float) -> None:
        if not self.enabled:
            return
        if len(df):
            self.out.print(summary_table(spec, df))
        failed = df[df["status"] == "failed"]
        counts = [f"{(df['status'] == k).sum()} {k}" for k in ("done", "diverged", "pruned", "failed") if (df["status"] == k).any()]
        self.print(f"{len(df)} cells in the table ({', '.join(counts) or 'none'}); "
                   f"this run took {format_seconds(wall)}; results: {spec.study_dir / 'results.csv'}")
        for _, r in failed.iterrows():
            where = escape(f"{r['pipeline']} [{r['method']}, seed {r['seed']}]")
            self.print(f"[red]failed[/] {r['cell_id']} {where}: {escape(str(r['error'])[:300])}")


def summary_table(spec: StudySpec, df: pd.DataFrame) -> Table:
    """Linear-probe top-1 (mean over seeds): a 1st x 2nd matrix per method for pairwise grids, else a list."""
    done = df[df["status"] == "done"]
    if spec.grid.kind == "pairwise":
        ops = spec.grid.describe()["operators"]
        t = Table(title="linear top-1 % (rows: 1st transformation, columns: 2nd; mean over seeds)", title_justify="left")
        t.add_column("method")
        t.add_column("1st \\ 2nd")
        for op in ops:
            t.add_column(op, justify="right")
        for method in spec.methods:
            m = done[done["method"] == method].groupby(["op1", "op2"])["linear_top1"].mean()
            for a in ops:
                t.add_row(method if a == ops[0] else "", a, *(_pct(m.get((a, b))) for b in ops))
        return t
    search = spec.grid.kind == "search"
    if search:  # the final retrains: the selected policies on the test split (trials are on the validation split)
        df = df[df["split"] == "test"]
    t = Table(title="top policies retrained and tested, mean over seeds" if search else "mean over seeds", title_justify="left")
    for col in ("pipeline", "method", "seeds", "linear top-1 %", "kNN top-1 %", "failed"):
        t.add_column(col, justify="right" if col not in ("pipeline", "method") else "left")
    for (pipe, method), g in df.groupby(["pipeline", "method"], sort=False):
        ok = g[g["status"] == "done"]
        t.add_row(escape(str(pipe)), method, str(len(ok)), _pct(ok["linear_top1"].mean() if len(ok) else None),
                  _pct(ok["knn_top1"].mean() if len(ok) else None), str(int((g["status"] == "failed").sum())))
    return t
