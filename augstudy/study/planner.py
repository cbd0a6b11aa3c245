"""``augstudy plan``: how many seeds separate a difference of a given size, from a study's finished cells.

The seed-to-seed spread of a paired difference and the part of its variance that comes from the
finite test set (which more seeds do not remove) are estimated from the study's done cells: with
per-example records, from the seeds x examples table of differences of pairs of policies
(``augstudy.stats.intervals.components``); without, from the seed spread of each policy (a paired
difference of two independent runs: sqrt(2) times it). The seed count for the wanted power comes
from ``augstudy.stats.seeds_for_power``; the cost from the runner's own estimate (``estimate_seconds``).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

import numpy as np
import pandas as pd

from .. import records as records_mod
from .. import schema
from ..errors import AugstudyError
from ..stats.intervals import components
from ..stats.power import seeds_for_power
from ..stats.summary import records_for
from .grid import expand
from .runner import Plan, estimate_seconds
from .spec import StudySpec, load_spec
from .store import StudyStore, load_results

MAX_PAIRS = 40


@dataclass
class SeedPlan:
    detect: float
    power: float
    metric: str
    sd_diff: float  # seed-to-seed sd of a paired difference (points)
    test_var: float  # test-set variance of a difference (points^2); 0 without records
    source: str  # what the estimates come from
    n_seeds: Optional[int]  # None: no number of seeds reaches the power
    cells: int = 0  # cells of the study at that many seeds
    todo: int = 0  # of which not done yet
    eta: Optional[float] = None  # runner's estimate for the todo cells (seconds)

    def lines(self) -> list[str]:
        out = [f"{self.metric}: seed-to-seed sd of a paired difference {self.sd_diff:.2f} points, "
               f"test-set sd of a difference {np.sqrt(self.test_var):.2f} points ({self.source})"]
        if self.n_seeds is None:
            out.append(f"no number of seeds gives {self.power:.0%} power to detect {self.detect:g} points: the test "
                       "set's noise alone is too large; use a larger test set (or a larger --detect)")
            return out
        eta = "unknown (no finished cell has a time)" if self.eta is None else f"about {_hms(self.eta)}"
        out.append(f"{self.n_seeds} seeds give {self.power:.0%} power to detect a difference of {self.detect:g} points "
                   f"(paired test, alpha = 0.05)")
        out.append(f"cost: {self.cells} cells at {self.n_seeds} seeds, {self.todo} still to run, {eta} "
                   "(the runner's estimate: median time of this study's finished cells, over its workers)")
        return out


def _hms(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


def _table(spec: StudySpec, store: StudyStore) -> pd.DataFrame:
    rows = [r for r in (store.row(c) for c in expand(spec)) if r is not None]
    if rows:
        return schema.conform(rows)
    try:
        return load_results(store.root)  # committed results: the table without cells/
    except FileNotFoundError:
        return schema.conform([])


def estimate(table: pd.DataFrame, recs, metric: str) -> Optional[tuple[float, float, str]]:
    """``(sd_diff, test_var, source)`` from the done cells, or None when no policy has 2 seeds."""
    done = table[(table["status"] == "done")].dropna(subset=[metric]) if len(table) else table
    if done.empty:
        return None
    seed_vars, test_vars, n_pairs = [], [], 0
    for _, sub in done.groupby("method", sort=False):
        groups = [g.drop_duplicates("seed").set_index("seed", drop=False) for _, g in sub.groupby("pipeline", sort=False)]
        for a, b in zip(groups, groups[1:]):
            if n_pairs >= MAX_PAIRS:
                break
            common = sorted(a.index.intersection(b.index))
            if len(common) < 2:
                continue
            ra, rb = records_for(recs, a.loc[common], metric), records_for(recs, b.loc[common], metric)
            if ra is not None and rb is not None:
                sv, tv = components((ra.astype(float) - rb) * 100.0)
                seed_vars.append(sv)
                test_vars.append(tv)
                n_pairs += 1
        if not test_vars:
            for g in groups:
                if len(g) >= 2:
                    seed_vars.append(2 * float(g[metric].var(ddof=1)))
    if not seed_vars:
        return None
    if test_vars:
        return (float(np.sqrt(np.mean(seed_vars))), float(np.mean(test_vars)),
                f"from {len(test_vars)} pairs of policies with per-example records")
    return (float(np.sqrt(np.mean(seed_vars))), 0.0,
            f"from the seed spread of {len(seed_vars)} policies; no per-example records, so the test set's noise "
            "is not in it")


def plan_seeds(spec_or_path: Union[str, Path, StudySpec], detect: float, metric: str = "linear_top1",
               power: float = 0.8, out: Optional[Union[str, Path]] = None) -> Optional[SeedPlan]:
    """The seed plan of a study from its finished cells; None when they cannot tell (fewer than 2 seeds)."""
    if detect <= 0:
        raise AugstudyError(f"--detect {detect!r}: expected a positive difference in points of top-1, e.g. --detect 1.0")
    if metric not in schema.METRICS:
        raise AugstudyError(f"--metric {metric!r}: expected one of {', '.join(schema.METRICS)}")
    spec = load_spec(spec_or_path)
    if out is not None:
        spec = spec.model_copy(update={"output": str(out)})
    store = StudyStore(spec.study_dir, spec.name, spec.grid.kind)
    table = _table(spec, store)
    est = estimate(table, records_mod.load(store.root), metric)
    if est is None:
        return None
    sd_diff, test_var, source = est
    n = seeds_for_power(detect, max(sd_diff, 1e-9), power, test_var=test_var)
    result = SeedPlan(detect, power, metric, sd_diff, test_var, source, n)
    if n is not None:
        seeds = list(spec.seeds)[:n]
        seeds += [s for s in range(max(seeds) + 1, max(seeds) + 1 + n)][: n - len(seeds)]
        planned = spec.model_copy(update={"seeds": seeds})
        cells = expand(planned)
        todo = [c for c in {c.id: c for c in cells}.values() if not store.is_done(c.id)]
        result.cells, result.todo = len(cells), len(todo)
        plan = Plan(planned, planned.executor)
        result.eta = estimate_seconds(store, expand(spec), todo, plan)
        if result.eta is None and todo and table["train_seconds"].notna().any():
            # committed results without cells/: the same estimate from the table's training times
            result.eta = float(table["train_seconds"].median()) * len(todo) / min(max(1, plan.workers), len(todo))
    return result


def pilot_spec(spec_or_path: Union[str, Path, StudySpec]) -> StudySpec:
    """The study with its first 2 seeds (a pilot whose cells are those of the full study)."""
    spec = load_spec(spec_or_path)
    seeds = list(spec.seeds)[:2]
    if len(seeds) < 2:
        seeds = [seeds[0], seeds[0] + 1]
    return spec.model_copy(update={"seeds": seeds})
