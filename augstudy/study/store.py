"""The results store: ``<output>/<study>/`` with ``study.json``, ``results.csv``/``.parquet`` and ``cells/``.

Every file is written atomically (temp file + rename). A cell is done iff its ``metrics.json``
exists, and ``metrics.json`` is the last file a cell writes, so a half-written cell is never read
as done. A failed cell writes ``failed.json`` instead (it is retried on the next run). The table is
rebuilt from ``cells/`` at start and after every finished cell, so it never disagrees with them.
"""
from __future__ import annotations

import io
import json
import math
import os
import time
from pathlib import Path
from typing import Any, Iterable, Optional

import pandas as pd

from .. import records, schema
from ..atomic import atomic_write_bytes, atomic_write_json, atomic_write_text  # noqa: F401  (re-exported)
from .grid import Cell

COLUMNS = schema.names()
FINISHED = schema.FINISHED


def _read_json(path: Path) -> Optional[dict]:
    """The JSON object in ``path``; None when missing, unreadable or not an object (see ``StudyStore.damage``)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


# what a readable metrics.json must hold (CellResult.to_dict()); a file without them is damaged
_METRIC_KEYS = {"cell_id": str, "status": str}


class StudyStore:
    """The results folder of one study."""

    def __init__(self, root: Path | str, study: str = "", grid: str = "") -> None:
        self.root = Path(root)
        self.study = study or self.root.name
        self.grid = grid

    @property
    def cells_dir(self) -> Path:
        return self.root / "cells"

    def cell_dir(self, cell_id: str) -> Path:
        return self.cells_dir / cell_id

    def is_done(self, cell_id: str) -> bool:
        """True iff the cell's metrics.json is readable and matches the schema and its folder."""
        return self.metrics(cell_id) is not None

    def damage(self, cell_id: str) -> Optional[str]:
        """Why the stored cell ``cell_id`` is damaged (its files exist but cannot be used), or None."""
        d = self.cell_dir(cell_id)
        for name in ("metrics.json", "failed.json"):
            path = d / name
            if not path.exists():
                continue
            try:
                data = json.loads(path.read_text())
            except (OSError, ValueError) as e:
                return f"{path} cannot be read ({type(e).__name__}: {e})"
            if not isinstance(data, dict):
                return f"{path} holds a {type(data).__name__}, not an object"
            for key, kind in _METRIC_KEYS.items():
                if not isinstance(data.get(key), kind):
                    return f"{path} has no valid {key!r}"
            if data["cell_id"] != cell_id:
                return f"{path} records cell_id {data['cell_id']!r}, not its folder's {cell_id!r}"
        config = d / "config.json"
        if config.exists() and ((d / "metrics.json").exists() or (d / "failed.json").exists()):
            cfg = _read_json(config)
            if cfg is None:
                return f"{config} cannot be read or is not an object"
            if cfg.get("cell_id") != cell_id:
                return f"{config} records cell_id {cfg.get('cell_id')!r}, not its folder's {cell_id!r}"
        return None

    def set_aside(self, cell_id: str) -> Path:
        """Move a damaged cell to ``cells/<id>.damaged-<UTC time>/`` (kept, never deleted); call under the lock."""
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        target = self.cells_dir / f"{cell_id}.damaged-{stamp}"
        n = 1
        while target.exists():
            n += 1
            target = self.cells_dir / f"{cell_id}.damaged-{stamp}-{n}"
        self.cell_dir(cell_id).rename(target)
        return target

    def remove_partial_writes(self) -> int:
        """Delete the temp files of atomic writes cut short (a run killed mid-write); call under the lock."""
        stale = [p for p in self.root.rglob(".*.tmp") if p.is_file()] if self.root.is_dir() else []
        for p in stale:
            p.unlink(missing_ok=True)
        return len(stale)

    def metrics(self, cell_id: str) -> Optional[dict]:
        m = _read_json(self.cell_dir(cell_id) / "metrics.json")
        return m if m is not None and self.damage(cell_id) is None else None

    def failure(self, cell_id: str) -> Optional[dict]:
        f = _read_json(self.cell_dir(cell_id) / "failed.json")
        return f if f is not None and self.damage(cell_id) is None else None

    def write_cell(self, cell: Cell, outcome: dict) -> None:
        """Write a finished cell: config, curve, log, then metrics.json (done) or failed.json (failed)."""
        d = self.cell_dir(cell.id)
        atomic_write_json(d / "config.json", {**cell.config.canonical(), "cell_id": cell.id, "labels": cell.labels()})
        atomic_write_text(d / "log.txt", outcome.get("log") or "")
        metrics = outcome.get("metrics")
        if metrics is None:  # the cell raised
            atomic_write_json(d / "failed.json", {"cell_id": cell.id, "status": "failed",
                                                 "error": outcome.get("error"), "traceback": outcome.get("traceback"),
                                                 "device": outcome.get("device")})
            (d / "metrics.json").unlink(missing_ok=True)  # --force: a failure replaces an old result
            return
        losses = metrics.get("loss_per_epoch") or []
        atomic_write_text(d / "curve.csv", "epoch,loss\n" + "".join(f"{i + 1},{v!r}\n" for i, v in enumerate(losses)))
        (d / "failed.json").unlink(missing_ok=True)
        if outcome.get("predictions"):  # per-example records, before metrics.json (the last file a cell writes)
            records.write_cell(d, outcome["predictions"])
        else:
            (d / records.FILE).unlink(missing_ok=True)  # --force without records: no stale ones beside new metrics
        atomic_write_json(d / "metrics.json", metrics)

    def row(self, cell: Cell) -> Optional[dict]:
        """The table row of ``cell``, or None while it has not finished."""
        m = self.metrics(cell.id)
        if m is None:
            m = self.failure(cell.id)
            if m is None:
                return None
        losses = m.get("loss_per_epoch") or []
        row = {**dict.fromkeys(COLUMNS), **cell.labels(), "study": self.study, "grid": self.grid}
        for key in ("linear_top1", "knn_top1", "linear_top1_z", "knn_top1_z", "status", "error",
                    "train_seconds", "images_per_second", "device"):
            row[key] = m.get(key)
        row["final_loss"] = losses[-1] if losses else None
        return row

    def rebuild_table(self, cells: Iterable[Cell]) -> pd.DataFrame:
        """Rebuild results.csv and results.parquet from cells/, one row per finished cell, in spec order."""
        rows = [r for r in (self.row(c) for c in cells) if r is not None]
        df = table(rows)
        buf = io.StringIO()
        df.to_csv(buf, index=False)
        atomic_write_text(self.root / "results.csv", buf.getvalue())
        pq = io.BytesIO()
        df.to_parquet(pq, index=False)
        atomic_write_bytes(self.root / "results.parquet", pq.getvalue())
        return df

    def write_study(self, info: dict) -> None:
        atomic_write_json(self.root / "study.json", info)

    def read_study(self) -> Optional[dict]:
        return _read_json(self.root / "study.json")


def table(rows: list[dict] | pd.DataFrame) -> pd.DataFrame:
    """The results table with the schema's columns and dtypes (``augstudy.schema``)."""
    return schema.conform(rows)


def load_results(study_dir: Path | str) -> pd.DataFrame:
    """The results table of a study folder (``results.parquet``, else ``results.csv``)."""
    root = Path(study_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"study folder not found: {root}")
    if (root / "results.parquet").is_file():
        return table(pd.read_parquet(root / "results.parquet"))
    if (root / "results.csv").is_file():
        return table(pd.read_csv(root / "results.csv"))
    raise FileNotFoundError(f"no results.csv in {root}; run the study first (augstudy run STUDY.yaml)")


def is_finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)
