"""A stand-in trainer for the search tests (tests only, never the product): a known optimum, no training.

The score is a function of the policy only: ``crop`` first scores 25, ``color`` second 25, ``color``
anywhere at strength 1.0 up to 50 more (less the further the strength is from 1), every operator past two
costs 5. The optimum (100) is ``crop | color(strength=1)``.
"""
from __future__ import annotations

import os
import re
import time

POOL = ["crop", "color", "blur", "rotate"]


def score(pipeline: list[str]) -> float:
    s = 25.0 * (pipeline[0] == "crop") + 25.0 * (len(pipeline) >= 2 and pipeline[1].startswith("color"))
    colors = [p for p in pipeline if p.startswith("color")]
    if colors:
        m = re.search(r"strength=([0-9.]+)", colors[0])
        strength = float(m.group(1)) if m else 1.0  # the operator's default strength is 1.0
        s += 50.0 * (1.0 - abs(strength - 1.0))
    return s - 5.0 * max(0, len(pipeline) - 2)


def toy_cell(config):
    delay = float(os.environ.get("AUGSTUDY_FAKE_SLEEP", "0"))
    if delay:
        time.sleep(delay)
    s = score(list(config.pipeline)) + 0.1 * config.seed
    return {"cell_id": config.cell_id(), "status": "done", "linear_top1": s, "knn_top1": s,
            "linear_top1_z": None, "knn_top1_z": None, "loss_per_epoch": [1.0] * config.training.epochs,
            "train_seconds": 0.01, "eval_seconds": 0.0, "images_per_second": 1.0, "device": "cpu",
            "seed": config.seed, "versions": {}, "error": None}


def search_spec(**grid):
    g = {"kind": "search", "operators": list(POOL), "max_ops": 3, "space": {"color.strength": [0.25, 1.5]},
         "budget": {"cells": 6}, "sampler": "tpe", "seed": 0}
    g.update(grid)
    return {"name": "toy", "seeds": [0], "training": {"epochs": 2}, "grid": g,
            "executor": {"kind": "local", "workers": 1}}
