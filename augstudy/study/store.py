"""The results store: ``<output>/<study>/`` with ``study.json``, ``cells/`` and the derived ``results.csv``/``.parquet``.

``cells/`` is the truth (see :mod:`augstudy.results_table`, the one loader every reader uses). Every file
is written atomically (temp file + rename). A cell is done iff its ``metrics.json`` is readable and
agrees with its folder and config, and ``metrics.json`` is the last file a cell writes, so a
half-written cell is never read as done. A failed cell writes ``failed.json`` instead (it is retried on
the next run). The table is built from ``cells/`` once at the start of a run and then updated row by row
as cells finish (no re-reading of every cell); its files are rewritten at most about once a second
while cells stream in, and at the end of the run.
"""
from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Any, Iterable, Optional

import pandas as pd

from .. import records, schema
from .. import results_table as rt
from ..atomic import atomic_write_bytes, atomic_write_json, atomic_write_text  # noqa: F401  (re-exported)
from .grid import Cell

COLUMNS = schema.names()
FINISHED = schema.FINISHED


class StudyStore:
    """The results folder of one study."""

    #: Rewrite the table files at most this often while cells finish (seconds), and never more than
    #: 1/20 of the time: writing 10,000 rows takes ~0.1 s, which would dominate a fast study.
    table_interval = 1.0

    def __init__(self, root: Path | str, study: str = "", grid: str = "") -> None:
        self.root = Path(root)
        self.study = study or self.root.name
        self.grid = grid
        self._rows: Optional[list[Optional[dict]]] = None  # the table, one slot per cell in spec order
        self._labels: list[dict] = []
        self._slots: dict[str, list[int]] = {}
        self._dirty = False
        self._last_write = 0.0
        self._write_cost = 0.0
        self._unsynced: list[Path] = []  # cell files written since the last group fsync

    @property
    def cells_dir(self) -> Path:
        return self.root / "cells"

    def cell_dir(self, cell_id: str) -> Path:
        return self.cells_dir / cell_id

    def read(self, cell_id: str) -> rt.CellFiles:
        """The cell's files, read once (see :func:`augstudy.results_table.read_cell`)."""
        return rt.read_cell(self.cell_dir(cell_id))

    def is_done(self, cell_id: str) -> bool:
        """True iff the cell's metrics.json is readable and matches the schema, its folder and its config."""
        return self.metrics(cell_id) is not None

    def damage(self, cell_id: str) -> Optional[str]:
        """Why the stored cell ``cell_id`` is damaged (its files exist but cannot be used), or None."""
        return self.read(cell_id).damage

    def set_aside(self, cell_id: str) -> Path:
        """Move a damaged cell to ``cells/<id>.damaged-<UTC time>/`` (kept, never deleted); call under the lock."""
        return rt.set_aside(self.cell_dir(cell_id))

    def remove_partial_writes(self) -> int:
        """Delete the temp files of atomic writes cut short (a run killed mid-write); call under the lock."""
        stale = [p for p in self.root.rglob(".*.tmp") if p.is_file()] if self.root.is_dir() else []
        for p in stale:
            p.unlink(missing_ok=True)
        return len(stale)

    def metrics(self, cell_id: str) -> Optional[dict]:
        c = self.read(cell_id)
        return c.record if c.kind == "metrics" else None

    def failure(self, cell_id: str) -> Optional[dict]:
        c = self.read(cell_id)
        return c.record if c.kind == "failed" else None

    def write_cell(self, cell: Cell, outcome: dict) -> None:
        """Write a finished cell: config, curve, log, then metrics.json (done) or failed.json (failed).

        Each file is atomic (a killed run never leaves half a file). While a table is open the fsync
        is grouped (one per table write, at most about once a second, and at the end of the run: a
        group commit, as databases do) instead of one per cell, which on a busy disk costs ~10 ms; a
        power cut can then lose the last second of finished cells, whose truncated files are named
        as damaged and recomputed, never read as results.

        While a table is open (:meth:`rebuild_table`), the cell's rows are updated in place and the
        table files rewritten when due (:meth:`write_table` writes them now).
        """
        d = self.cell_dir(cell.id)
        atomic_write_json(d / "config.json", {**cell.config.canonical(), "cell_id": cell.id, "labels": cell.labels(),
                                              "id_basis": cell.config.id_basis()}, durable=False)
        atomic_write_text(d / "log.txt", outcome.get("log") or "", durable=False)
        metrics = outcome.get("metrics")
        if metrics is None:  # the cell raised
            record = {"cell_id": cell.id, "status": "failed", "error": outcome.get("error"),
                      "traceback": outcome.get("traceback"), "device": outcome.get("device")}
            atomic_write_json(d / "failed.json", record, durable=self._rows is None)
            if self._rows is not None:
                self._unsynced.append(d / "failed.json")
            (d / "metrics.json").unlink(missing_ok=True)  # --force: a failure replaces an old result
        else:
            record = metrics
            losses = metrics.get("loss_per_epoch") or []
            lrs = metrics.get("lr_per_epoch") or []
            if len(lrs) == len(losses) and losses:  # the learning rate too, when the trainer recorded it
                curve = "epoch,loss,lr\n" + "".join(f"{i + 1},{v!r},{r!r}\n" for i, (v, r) in enumerate(zip(losses, lrs)))
            else:
                curve = "epoch,loss\n" + "".join(f"{i + 1},{v!r}\n" for i, v in enumerate(losses))
            atomic_write_text(d / "curve.csv", curve, durable=False)
            (d / "failed.json").unlink(missing_ok=True)
            if outcome.get("predictions"):  # per-example records, before metrics.json (the last file a cell writes)
                records.write_cell(d, outcome["predictions"])
            else:
                (d / records.FILE).unlink(missing_ok=True)  # --force without records: no stale ones beside new metrics
            atomic_write_json(d / "metrics.json", metrics, durable=self._rows is None)
            if self._rows is not None:
                self._unsynced.append(d / "metrics.json")
        self.remove_checkpoints(cell.id)  # finished (done, pruned, failed): no run continues from them
        if self._rows is not None:
            for i in self._slots.get(cell.id, []):
                self._rows[i] = rt.make_row(self._labels[i], record, self.study, self.grid)
            self._dirty = True
            now = time.monotonic()
            if now - self._last_write >= max(self.table_interval, 20 * self._write_cost):
                self.write_table()

    # --- checkpoints of paused cells (a pruner's rungs) ---------------------------------------------------
    CHECKPOINT = "checkpoint-epoch{}.pt"

    def _checkpoints(self, cell_id: str) -> list[tuple[int, Path]]:
        d = self.cell_dir(cell_id)
        found = []
        for p in d.glob("checkpoint-epoch*.pt") if d.is_dir() else []:
            tail = p.name[len("checkpoint-epoch"):-len(".pt")]
            if tail.isdigit():
                found.append((int(tail), p))
        return sorted(found)

    def write_checkpoint(self, cell_id: str, epoch: int, data: bytes) -> Path:
        """Keep a paused cell's state at ``epoch`` (atomically; the older ones are removed after)."""
        path = atomic_write_bytes(self.cell_dir(cell_id) / self.CHECKPOINT.format(epoch), data)
        for e, p in self._checkpoints(cell_id):
            if e != epoch:
                p.unlink(missing_ok=True)
        return path

    def checkpoint(self, cell_id: str) -> Optional[tuple[int, bytes]]:
        """(epoch, bytes) of the cell's latest checkpoint, or None."""
        found = self._checkpoints(cell_id)
        return (found[-1][0], found[-1][1].read_bytes()) if found else None

    def remove_checkpoints(self, cell_id: str) -> None:
        for _, p in self._checkpoints(cell_id):
            p.unlink(missing_ok=True)

    def row(self, cell: Cell) -> Optional[dict]:
        """The table row of ``cell``, or None while it has not finished."""
        c = self.read(cell.id)
        return None if c.record is None else rt.make_row(cell.labels(), c.record, self.study, self.grid)

    def rebuild_table(self, cells: Iterable[Cell]) -> pd.DataFrame:
        """Build the table from cells/ (one row per finished cell, in spec order), write its files, keep it open.

        Also records the cells' labels in study.json (``cell_list``), which lets any reader rebuild
        the same table from the cells alone.
        """
        cells = list(cells)
        self._labels = [c.labels() for c in cells]
        self._slots = {}
        for i, c in enumerate(cells):
            self._slots.setdefault(c.id, []).append(i)
        records = {cid: self.read(cid) for cid in self._slots}
        gone = [cid for cid in self._slots if not (self.root / "cells" / cid).exists()]
        kept = rt.rows_from_files(self.root) if gone else {}  # listed cells whose folders are not here keep their rows
        self._rows = [rt.make_row(lab, records[lab["cell_id"]].record, self.study, self.grid)
                      if records[lab["cell_id"]].record is not None else kept.get(lab["cell_id"])
                      for lab in self._labels]
        meta, _ = rt.read_object(self.root / "study.json")
        if meta is not None and meta.get("cell_list") != self._labels:
            self.write_study(meta)
        return self.write_table()

    def frame(self) -> pd.DataFrame:
        """The open table (see :meth:`rebuild_table`), as a DataFrame."""
        rows = [r for r in self._rows or [] if r is not None]
        return schema.conform(rows) if rows else schema.conform(pd.DataFrame(columns=COLUMNS))

    def write_table(self) -> pd.DataFrame:
        """Write the open table's results.csv and results.parquet now; return it."""
        t0 = time.monotonic()
        self.sync()
        df = rt.write_tables(self.root, self.frame())
        self._last_write = time.monotonic()
        self._write_cost, self._dirty = self._last_write - t0, False
        return df

    def sync(self) -> None:
        """fsync the cell files written since the last call (the first fsync commits the journal for all)."""
        for path in self._unsynced:
            try:
                with open(path, "rb") as f:
                    os.fsync(f.fileno())
            except FileNotFoundError:  # replaced since (--force)
                pass
        self._unsynced.clear()

    def write_study(self, info: dict) -> None:
        if self._rows is not None:
            info = {**info, "cell_list": self._labels}
        atomic_write_json(self.root / "study.json", info)

    def read_study(self) -> Optional[dict]:
        """study.json; a damaged one is named, set aside (``study.json.damaged-<time>``) and None returned.

        Call under the lock (it moves a file).
        """
        meta, why = rt.read_object(self.root / "study.json")
        if why is not None:
            print(f"damaged file {why}; moved to {rt.set_aside(self.root / 'study.json')}, rebuilt by this run")
        return meta


def table(rows: list[dict] | pd.DataFrame) -> pd.DataFrame:
    """The results table with the schema's columns and dtypes (``augstudy.schema``)."""
    return schema.conform(rows)


def load_results(study_dir: Path | str) -> pd.DataFrame:
    """The results table of a study folder, rebuilt from its cells (:func:`augstudy.results_table.load`).

    Damaged cells are named on stderr and left out; stale or missing table files are named and rewritten.
    """
    return rt.load(study_dir).table


def is_finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)
