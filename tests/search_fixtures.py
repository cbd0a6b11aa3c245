"""A stand-in trainer for the search tests (tests only, never the product): a known optimum, no training.

The score is a function of the policy only: ``crop`` first scores 25, ``color`` second 25, ``color``
anywhere at strength 1.0 up to 50 more (less the further the strength is from 1), every operator past two
costs 5. The optimum (100) is ``crop | color(strength=1)``.
"""
from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

POOL = ["crop", "color", "blur", "rotate"]


def score(pipeline: list[str]) -> float:
    s = 25.0 * (pipeline[0] == "crop") + 25.0 * (len(pipeline) >= 2 and pipeline[1].startswith("color"))
    colors = [p for p in pipeline if p.startswith("color")]
    if colors:
        m = re.search(r"strength=([0-9.]+)", colors[0])
        strength = float(m.group(1)) if m else 1.0  # the operator's default strength is 1.0
        s += 50.0 * (1.0 - abs(strength - 1.0))
    return s - 5.0 * max(0, len(pipeline) - 2)


def toy_cell(config, stop_at_epoch=None, resume=None):
    """The toy score, reached linearly over the epochs (``score x epoch / epochs``), so a pruner's early
    measures rank trials as their final ones do. Stops at ``stop_at_epoch`` with a checkpoint (the epoch it
    reached) and resumes from one; with ``AUGSTUDY_EPOCH_LOG`` set, appends ``cell_id epoch`` for each epoch
    it trains (one line an epoch: what a test counts to see no epoch trained twice)."""
    delay = float(os.environ.get("AUGSTUDY_FAKE_SLEEP", "0"))
    if delay:
        time.sleep(delay)
    epochs = config.training.epochs
    start = json.loads(resume)["epoch"] if resume else 0
    last = epochs if stop_at_epoch is None else min(stop_at_epoch, epochs)
    log = os.environ.get("AUGSTUDY_EPOCH_LOG")
    if log:
        with open(log, "a") as f:
            f.writelines(f"{config.cell_id()} {e}\n" for e in range(start + 1, last + 1))
    s = (score(list(config.pipeline)) + 0.1 * config.seed) * last / epochs
    out = {"cell_id": config.cell_id(), "status": "done" if last == epochs else "paused", "linear_top1": s,
           "knn_top1": s, "linear_top1_z": None, "knn_top1_z": None,
           "loss_per_epoch": [1.0 / (e + 1) for e in range(last)],
           "train_seconds": 0.01, "eval_seconds": 0.0, "images_per_second": 1.0, "device": "cpu",
           "seed": config.seed, "versions": {}, "error": None}
    if last < epochs:
        out["checkpoint"] = json.dumps({"epoch": last}).encode()
    return out


def epoch_log(path: Path) -> list[tuple[str, int]]:
    """``(cell_id, epoch)`` of every epoch the toy trainer trained (``AUGSTUDY_EPOCH_LOG``)."""
    if not Path(path).is_file():
        return []
    return [(a, int(b)) for a, b in (line.split() for line in Path(path).read_text().splitlines())]


def search_spec(**grid):
    g = {"kind": "search", "operators": list(POOL), "max_ops": 3, "space": {"color.strength": [0.25, 1.5]},
         "budget": {"cells": 6}, "sampler": "tpe", "seed": 0}
    g.update(grid)
    return {"name": "toy", "seeds": [0], "training": {"epochs": 2}, "grid": g,
            "executor": {"kind": "local", "workers": 1}}


def first_waits_cell(config, stop_at_epoch=None, resume=None):
    """The toy trainer, but the first cell to start (in any worker) waits until 2 other cells are done in the
    results folder ``AUGSTUDY_TOY_ROOT`` (at most a minute): only a runner that asks a new trial as soon as
    one finishes gets there while it waits (in waves of 2 nobody would start a third). It records whether
    it saw them (``waited_for_others``)."""
    root = Path(os.environ["AUGSTUDY_TOY_ROOT"])
    try:
        fd = os.open(root / "first.flag", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        os.close(fd)
        first = True
    except FileExistsError:
        first = False
    out = toy_cell(config, stop_at_epoch, resume)
    if first:
        end = time.time() + 60
        while len(list(root.glob("toy/cells/*/metrics.json"))) < 2 and time.time() < end:
            time.sleep(0.02)
        out["versions"] = {"waited_for_others": str(len(list(root.glob("toy/cells/*/metrics.json"))) >= 2)}
    return out
