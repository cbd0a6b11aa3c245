"""TEST DATA ONLY: writes fake results directories (no training) with numbers the tests control.

``write_study`` lays out what ``augstudy run`` writes (ARCHITECTURE.md, "The results store"):
``study.json``, ``results.csv``, ``cells/<id>/metrics.json`` and ``curve.csv``. None of these numbers
come from a real run.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence

import pandas as pd

COLUMNS = ["cell_id", "study", "grid", "method", "seed", "op1", "op2", "pipeline", "param", "value",
           "linear_top1", "knn_top1", "linear_top1_z", "knn_top1_z", "status", "error", "train_seconds",
           "images_per_second", "final_loss", "device"]
STRENGTHS = {"1/8": 0.125, "1/4": 0.25, "1/2": 0.5, "1": 1.0, "1 (+blur)": None}


def default_value(method: str, key, seed: int) -> float:
    """A deterministic fake top-1: distinct per cell, a little per-seed spread."""
    h = int(hashlib.sha1(f"{method}|{key}".encode()).hexdigest()[:8], 16)
    return round(20 + (h % 600) / 10 + 0.5 * seed, 2)


def write_study(
    root: Path,
    name: str = "toy",
    kind: str = "pairwise",
    operators: Sequence[str] = ("crop", "color", "blur"),
    labels: Sequence[str] = tuple(STRENGTHS),
    methods: Sequence[str] = ("simclr",),
    seeds: Sequence[int] = (0,),
    value: Callable[[str, object, int], float] = default_value,
    status: Optional[dict] = None,  # {(method, key, seed) or key: "failed" | "diverged"}
    missing: Iterable = (),  # keys with no row at all
    study_json: bool = True,
    curves: str = "csv",  # "csv" | "json" | "none"
    epochs: int = 4,
) -> Path:
    """Write ``root/name`` as a fake study directory; keys are ``(op1, op2)`` (pairwise) or labels."""
    d = Path(root) / name
    (d / "cells").mkdir(parents=True, exist_ok=True)
    status, missing = status or {}, set(missing)
    keys = [(a, b) for a in operators for b in operators] if kind == "pairwise" else list(labels)
    rows = []
    for method in methods:
        for key in keys:
            if key in missing:
                continue
            for seed in seeds:
                st = status.get((method, key, seed), status.get(key, "done"))
                cid = hashlib.sha1(f"{name}|{method}|{key}|{seed}".encode()).hexdigest()[:12]
                top1 = value(method, key, seed) if st == "done" else None
                row = dict.fromkeys(COLUMNS)
                row.update(cell_id=cid, study=name, grid=kind, method=method, seed=seed, status=st, device="cpu",
                           linear_top1=top1, knn_top1=None if top1 is None else top1 - 3.0, train_seconds=1.5,
                           error="RuntimeError: boom | bad" if st == "failed" else None)
                if kind == "pairwise":
                    a, b = key
                    row.update(op1=a, op2=b, pipeline=a if a == b else f"{a} + {b}")
                elif kind == "sweep":
                    row.update(pipeline=key, param="strength", value=STRENGTHS.get(key))
                else:
                    row.update(pipeline=key)
                rows.append(row)
                losses = [round((5.0 if method == 'simclr' else 2.3) * 0.8 ** e - 0.01 * seed, 4) for e in range(epochs)]
                cdir = d / "cells" / cid
                cdir.mkdir(exist_ok=True)
                if st == "done":
                    (cdir / "metrics.json").write_text(json.dumps({"cell_id": cid, "status": st, "linear_top1": top1,
                                                                   "loss_per_epoch": losses if curves == "json" else []}))
                if curves == "csv" and st != "failed":
                    (cdir / "curve.csv").write_text("epoch,loss\n" + "".join(f"{i + 1},{v}\n" for i, v in enumerate(losses)))
    pd.DataFrame(rows, columns=COLUMNS).to_csv(d / "results.csv", index=False)
    if study_json:
        grid = ({"kind": "pairwise", "operators": list(operators)} if kind == "pairwise"
                else {"kind": "sweep", "param": "strength", "labels": list(labels)} if kind == "sweep"
                else {"kind": "list", "labels": list(labels)})
        meta = {"name": name, "study_file": f"studies/{name}.yaml", "grid": grid,
                "dataset": {"name": "synthetic", "params": {}}, "model": {"encoder": "resnet-tiny"},
                "methods": list(methods), "seeds": list(seeds),
                "hardware": {"cpu": "Test CPU", "cores": 2, "gpu": None}, "wall_seconds": 3725.0,
                "started": "2026-01-01T00:00:00", "finished": "2026-01-01T01:02:05", "augstudy_version": "0.1.0",
                "torch_version": "2.4.0"}
        (d / "study.json").write_text(json.dumps(meta))
    return d


def add_run_files(d: Path, epochs_lr: float = 0.002, training: Optional[dict] = None) -> dict[str, dict]:
    """Give each fake cell of ``write_study`` the rest of what ``augstudy run`` stores (ARCHITECTURE.md):
    ``config.json`` with its labels, ``metrics.json`` for a diverged cell, ``failed.json`` for a failed one,
    and an ``lr`` column in ``curve.csv`` (``epochs_lr / epoch``). Returns the results rows by cell id."""
    import csv

    rows = {r["cell_id"]: r for r in csv.DictReader(open(d / "results.csv"))}
    for cid, r in rows.items():
        c = d / "cells" / cid
        labels = {k: (r[k] or None) for k in ("cell_id", "method", "op1", "op2", "pipeline", "param")}
        labels.update(seed=int(r["seed"]), value=float(r["value"]) if r["value"] else None)
        (c / "config.json").write_text(json.dumps({"cell_id": cid, "method": r["method"], "seed": int(r["seed"]),
                                                   "training": training or {"epochs": 4, "lr": epochs_lr},
                                                   "labels": labels}))
        if r["status"] == "failed":
            (c / "failed.json").write_text(json.dumps({"cell_id": cid, "status": "failed", "error": r["error"]}))
        elif r["status"] == "diverged":
            (c / "metrics.json").write_text(json.dumps({"cell_id": cid, "status": "diverged", "error": "loss became nan"}))
        if (c / "curve.csv").is_file():
            lines = (c / "curve.csv").read_text().splitlines()[1:]
            (c / "curve.csv").write_text("epoch,loss,lr\n" + "".join(f"{ln},{epochs_lr / int(ln.split(',')[0])!r}\n" for ln in lines))
    return rows
