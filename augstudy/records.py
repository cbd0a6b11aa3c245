"""Per-example records: the test-set predictions of a cell's evaluations, THE format (store writes, report reads).

A cell folder holds ``predictions.npz`` beside ``metrics.json`` (written before it, atomically, so a
done cell that has records has complete ones):

- ``index``: int32 [N], the test example's index in the dataset's test split,
- ``label``: int16 [N], its class,
- ``pred_<metric>``: int16 [N], the predicted class, for each evaluated metric (``linear_top1``,
  ``knn_top1``, ``linear_top1_z``, ``knn_top1_z``),
- ``correct_<metric>``: bool [N], ``pred == label``.

The study folder holds one ``predictions.npz`` of all its cells that have records (``cell_id``: [C]
strings; ``index``, ``label``: [N]; ``<metric>``: int16 [C, N], -1 where a cell lacks that metric),
rebuilt by the runner after each run, so committed results (which leave ``cells/`` out) keep them.
Cells from before records existed have no file: statistics then fall back to seeds only.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Optional

import numpy as np

from .atomic import atomic_write_bytes

FILE = "predictions.npz"
METRICS = ("linear_top1", "knn_top1", "linear_top1_z", "knn_top1_z")


def cell_bytes(predictions: Mapping[str, np.ndarray]) -> bytes:
    """The ``predictions.npz`` of one cell from ``{"label": [N], "<metric>": [N] predicted classes}``."""
    label = np.asarray(predictions["label"]).astype(np.int16)
    arrays = {"index": np.arange(label.size, dtype=np.int32), "label": label}
    for m in METRICS:
        if m in predictions and predictions[m] is not None:
            pred = np.asarray(predictions[m]).astype(np.int16)
            if pred.shape != label.shape:
                raise ValueError(f"predictions {m}: shape {pred.shape}, labels {label.shape}")
            arrays[f"pred_{m}"] = pred
            arrays[f"correct_{m}"] = pred == label
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def write_cell(cell_dir: Path | str, predictions: Mapping[str, np.ndarray]) -> Path:
    return atomic_write_bytes(Path(cell_dir) / FILE, cell_bytes(predictions))


def read_cell(cell_dir: Path | str) -> Optional[dict[str, np.ndarray]]:
    """``{"label": [N], "<metric>": [N] predictions}`` of a cell, or None without (readable) records."""
    path = Path(cell_dir) / FILE
    try:
        with np.load(path) as z:
            out = {"label": z["label"]}
            out.update({m: z[f"pred_{m}"] for m in METRICS if f"pred_{m}" in z.files})
            return out
    except (OSError, ValueError, KeyError):
        return None


@dataclass
class StudyRecords:
    """The per-example records of a study's cells: ``preds[metric]`` is [cells, N], -1 where absent."""

    cell_ids: list[str]
    label: np.ndarray
    preds: dict[str, np.ndarray]

    def __post_init__(self) -> None:
        self._row = {c: i for i, c in enumerate(self.cell_ids)}

    @property
    def n_examples(self) -> int:
        return int(self.label.size)

    def has(self, cell_id: str, metric: str) -> bool:
        i = self._row.get(cell_id)
        return i is not None and metric in self.preds and bool(self.preds[metric][i, 0] >= 0)

    def correct(self, cell_ids: Iterable[str], metric: str) -> Optional[np.ndarray]:
        """Bool [len(cell_ids), N]: which test examples each cell got right; None if any cell lacks records."""
        ids = list(cell_ids)
        if not ids or metric not in self.preds or not all(self.has(c, metric) for c in ids):
            return None
        return self.preds[metric][[self._row[c] for c in ids]] == self.label[None, :]

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        np.savez_compressed(buf, cell_id=np.array(self.cell_ids, dtype=str),
                            index=np.arange(self.label.size, dtype=np.int32), label=self.label.astype(np.int16),
                            **{m: p.astype(np.int16) for m, p in self.preds.items()})
        return buf.getvalue()


def collect(cells_dir: Path | str, cell_ids: Iterable[str]) -> Optional[StudyRecords]:
    """The records of the cells (in ``cells_dir/<id>/``) that have them; None when none has."""
    found, label = {}, None
    for cid in dict.fromkeys(cell_ids):
        r = read_cell(Path(cells_dir) / cid)
        if r is None or (label is not None and r["label"].shape != label.shape):
            continue
        label = r["label"] if label is None else label
        found[cid] = r
    if not found:
        return None
    ids = list(found)
    preds = {}
    for m in METRICS:
        if any(m in r for r in found.values()):
            arr = np.full((len(ids), label.size), -1, dtype=np.int16)
            for i, cid in enumerate(ids):
                if m in found[cid]:
                    arr[i] = found[cid][m]
            preds[m] = arr
    return StudyRecords(ids, np.asarray(label, dtype=np.int16), preds)


def write_study(study_dir: Path | str, cell_ids: Iterable[str]) -> Optional[Path]:
    """Rebuild ``<study_dir>/predictions.npz`` from the cells' records; leave it alone when no cell has any
    (a clone of committed results, whose ``cells/`` are not committed).

    A listed cell whose folder is gone (a clone, a pruned store, a partial rerun with ``--only``) keeps its
    records from the file being replaced, as it keeps its row in the table: nothing computed is lost. Not a
    cell set aside as damaged (``cells/<id>.damaged-*``): its rerun brings new records."""
    study_dir = Path(study_dir)
    cell_ids = list(dict.fromkeys(cell_ids))
    rec = collect(study_dir / "cells", cell_ids)
    if rec is None:
        return None
    old = load(study_dir) if (study_dir / FILE).is_file() else None
    if old is not None and old.label.shape == rec.label.shape and np.array_equal(old.label, rec.label):
        cells = study_dir / "cells"
        aside = {p.name.split(".damaged-")[0] for p in cells.iterdir() if ".damaged-" in p.name}
        kept = [c for c in cell_ids if c not in rec._row and c in old._row and c not in aside
                and not (cells / c).exists()]
        if kept:
            ids = [c for c in cell_ids if c in rec._row or c in kept]
            preds = {}
            for m in sorted(set(rec.preds) | set(old.preds), key=METRICS.index):
                arr = np.full((len(ids), rec.n_examples), -1, dtype=np.int16)
                for i, c in enumerate(ids):
                    src = rec if c in rec._row else old
                    if m in src.preds:
                        arr[i] = src.preds[m][src._row[c]]
                preds[m] = arr
            rec = StudyRecords(ids, rec.label, preds)
    return atomic_write_bytes(study_dir / FILE, rec.to_bytes())


def load(study_dir: Path | str) -> Optional[StudyRecords]:
    """A study's records: ``<study_dir>/predictions.npz``, else gathered from ``cells/*/``; None without any."""
    study_dir = Path(study_dir)
    path = study_dir / FILE
    if path.is_file():
        try:
            with np.load(path) as z:
                metrics = [m for m in METRICS if m in z.files]
                return StudyRecords([str(c) for c in z["cell_id"]], z["label"], {m: z[m] for m in metrics})
        except (OSError, ValueError, KeyError):
            pass
    cells = study_dir / "cells"
    if cells.is_dir():
        return collect(cells, sorted(p.name for p in cells.iterdir() if p.is_dir() and "." not in p.name))
    return None
