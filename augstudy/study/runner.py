"""``run_study``: expand a study, skip the cells already done, run the rest, keep the store current."""
from __future__ import annotations

import contextlib
import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Union

import pandas as pd

from .. import __version__, records
from ..errors import AugstudyError
from .executors import CellFn, DaskPool, LocalPool, visible_gpus
from .grid import HOLD, Cell, open_grid, shared_config
from .lock import StudyLock
from .progress import Reporter
from ..signals import Interrupted, deferred, stops_on_signals
from .spec import ExecutorConfig, StudySpec, check_device_here, load_spec
from .store import StudyStore
from .tracking import Tracking


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


class Plan:
    """How the cells will run: executor, workers, threads per cell, GPUs."""

    def __init__(self, spec: StudySpec, executor: ExecutorConfig) -> None:
        self.executor = executor
        self.cores = _cores()
        self.gpus: list[int] = []
        workers = executor.workers
        if executor.kind == "local" and spec.training.device in ("auto", "cuda"):
            self.gpus = list(executor.gpus) if executor.gpus is not None else visible_gpus()
            if len(self.gpus) > 1:
                workers = len(self.gpus)  # one cell per GPU
        self.workers = min(workers, self.cores) if not self.gpus else workers
        per_worker = max(1, self.cores // self.workers)
        wanted = spec.training.threads
        # local: workers x threads never exceeds the cores; dask: the spec's value (workers decide otherwise)
        self.threads = (min(wanted or per_worker, per_worker) if executor.kind == "local" else wanted)

    def describe(self) -> str:
        if self.executor.kind == "dask":
            return f"dask at {self.executor.address}" + (f", {self.threads} threads per cell" if self.threads else "")
        gpus = f", one cell per GPU {self.gpus}" if len(self.gpus) > 1 else ""
        return f"local, {self.workers} worker{'s' * (self.workers > 1)} x {self.threads} thread{'s' * (self.threads > 1)}{gpus}"


def _hardware() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = None
    try:
        import torch

        if torch.cuda.is_available():
            gpu = f"{torch.cuda.get_device_name(0)} x {torch.cuda.device_count()}"
    except Exception:  # noqa: BLE001
        pass
    return {"cpu": cpu, "cores": _cores(), "gpu": gpu, "hostname": platform.node()}


def _study_info(spec: StudySpec, plan: Plan, cells: list[Cell], previous: Optional[dict]) -> dict[str, Any]:
    import torch

    return {
        "name": spec.name, "description": spec.description,
        "study_file": str(Path(spec.source).resolve()) if spec.source else None,
        "grid": spec.grid.describe(),
        **spec.model_dump(mode="json", include={"dataset", "model", "training", "protocol", "evaluation",
                                                "methods", "seeds", "plugins", "tracking"}),
        "executor": {**spec.executor.model_dump(mode="json"), "kind": plan.executor.kind,
                     "address": plan.executor.address, "workers": plan.workers, "threads": plan.threads,
                     "gpus": plan.gpus},
        "cells": len(cells), "hardware": _hardware(),
        "wall_seconds": None, "wall_seconds_total": (previous or {}).get("wall_seconds_total") or 0.0,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "finished": None, "state": "running",
        "augstudy_version": __version__, "torch_version": torch.__version__,
    }


def estimate_seconds(store: StudyStore, cells: list[Cell], todo: list[Cell], plan: Plan) -> Optional[float]:
    """Wall-time estimate for ``todo``: the median time of this study's finished cells, over the workers."""
    times = []
    for c in cells:
        m = store.metrics(c.id)
        if m and m.get("train_seconds") is not None:
            times.append(float(m["train_seconds"]) + float(m.get("eval_seconds") or 0.0))
    if not todo:
        return 0.0
    if not times:
        return None
    parallel = max(1, plan.workers)
    return statistics.median(times) * len(todo) / min(parallel, len(todo))


def _task(c: Cell, plan: Plan, cell_fn: Optional[CellFn], store: StudyStore, force: bool) -> dict:
    """The executor's task for ``c``: its config, and where it stops and resumes (a pruner's rungs)."""
    config = c.config.canonical()
    config["training"]["threads"] = plan.threads
    task = {"config": config, "cell_id": c.id, "cell_fn": cell_fn}
    if c.stop_at is not None:
        task["stop_at_epoch"] = c.stop_at
    found = None if force else store.checkpoint(c.id)
    if found is not None and (c.stop_at is None or found[0] <= c.stop_at):
        task["resume"] = found[1]  # a paused cell goes on from its checkpoint, not from scratch
    return task


def _pool(plan: Plan, store: StudyStore, size: int):
    """The executor's pool: Dask, or ``size`` local workers (this process alone when 1)."""
    if plan.executor.kind == "dask":
        return DaskPool(plan.executor.address)
    return LocalPool(size, gpus=plan.gpus or None, lock_dir=str(store.root))


def _probe_cell(spec: StudySpec) -> Cell:
    """A cell with the study's shared settings (its dataset is what an adaptive grid's cells will load)."""
    from ..train.config import CellConfig

    return Cell(index=-1, config=CellConfig(method=spec.methods[0], seed=spec.seeds[0], **shared_config(spec)),
                pipeline="")


def prepare_datasets(todo: list[Cell]) -> None:
    """Load each dataset the cells to run use, once, in this process, before any cell starts.

    A bad dataset (a missing root, a wrong param) then stops the study with one line instead of
    failing every cell, and the decoded/generated arrays are cached for the workers to reuse.
    """
    from ..data import open_dataset

    seen: set[str] = set()
    for cell in todo:
        ds = cell.config.dataset
        key = json.dumps(ds.model_dump(mode="json"), sort_keys=True)
        if key in seen:
            continue
        seen.add(key)
        try:  # a dataset that streams is listed and checked, not decoded
            open_dataset(ds.name, ds.params, ds.stream, ds.memory_budget, ds.loader_workers)
        except AugstudyError as e:
            raise AugstudyError(f"dataset {ds.name!r} could not be loaded: {e}") from None


@stops_on_signals
def run_study(spec_or_path: Union[str, Path, dict, StudySpec], out: Optional[Union[str, Path]] = None,
              workers: Optional[int] = None, scheduler: Optional[str] = None, dry_run: bool = False,
              force: bool = False, only: Optional[list[str]] = None, progress: bool = True,
              cell_fn: Optional[Callable] = None, add_records: bool = False) -> pd.DataFrame:
    """Run a study (a YAML path, dict or :class:`StudySpec`); return its results table.

    Cells already done (their ``metrics.json`` exists) are skipped unless ``force``; ``only`` filters
    cells (see :func:`augstudy.study.grid.select`). ``out`` overrides the spec's ``output`` folder,
    ``workers`` the local worker count, ``scheduler`` runs on the Dask cluster at that address.
    ``dry_run`` runs nothing and returns the planned cells with a ``state`` column (done / to run).
    ``cell_fn(config) -> result`` replaces :func:`augstudy.train.run_cell` (tests, custom trainers).
    ``add_records`` also reruns the done cells that lack per-example records (``predictions.npz``, cells
    from before records existed); a cell is a pure function of its config, so its metrics come out the same.
    """
    spec = load_spec(spec_or_path)
    if out is not None:
        spec = spec.model_copy(update={"output": str(out)})
    executor = spec.executor
    if scheduler:
        executor = ExecutorConfig(kind="dask", address=scheduler, workers=executor.workers)
    if workers is not None:
        executor = executor.model_copy(update={"workers": max(1, int(workers))})
    plan = Plan(spec, executor)
    store = StudyStore(spec.study_dir, spec.name, spec.grid.kind)
    grid = open_grid(spec, store, only=only, dry_run=dry_run)  # the grid kind's ask/tell side
    cells, selected = grid.cells(), grid.planned()
    def needs_run(c: Cell) -> bool:  # --force, --add-records on a cell without records, or not done
        lacks_records = add_records and not (store.cell_dir(c.id) / records.FILE).is_file()
        return force or lacks_records or not store.is_done(c.id)

    todo, seen = [], set()
    for c in selected:
        if needs_run(c) and c.id not in seen:
            seen.add(c.id)
            todo.append(c)
    reporter = Reporter(enabled=progress)
    n_done = sum(store.is_done(c.id) for c in selected)
    eta = estimate_seconds(store, cells, todo, plan)
    if dry_run:
        reporter.dry_run(spec, plan.describe(), selected, store, todo, n_done, eta)
        rows = [{**c.labels(), "state": "to run" if c in todo else "done"} for c in selected]
        return pd.DataFrame(rows)

    if (todo or grid.adaptive) and cell_fn is None and plan.executor.kind == "local":
        check_device_here(spec.model_copy(update={"executor": executor}))
        prepare_datasets(todo or [_probe_cell(spec)])
    with StudyLock(store.root):
        store.remove_partial_writes()  # left by a run killed mid-write; nobody else writes while we hold the lock
        for c in {c.id: c for c in selected}.values():  # a damaged cell is named, kept aside, recomputed
            why = store.damage(c.id)
            if why is not None:
                print(f"damaged cell {c.id} ({c.pipeline}): {why}; moved to {store.set_aside(c.id)}, recomputing")
        previous = store.read_study()
        if not todo and not grid.adaptive and previous is not None:  # nothing to run: keep the recorded wall time and dates
            df = store.rebuild_table(cells)
            records.write_study(store.root, [c.id for c in cells])
            reporter.summary(spec, df, 0.0)
            return df
        t0 = time.time()
        # the total wall time carries over only while earlier runs' cells are part of the result
        kept = any(store.is_done(c.id) and c.id not in seen for c in cells)
        info = _study_info(spec, plan, cells, previous if kept else None)
        store.write_study(info)
        df = store.rebuild_table(cells)
        reporter.start(spec, plan.describe(), len(selected), n_done, todo, eta)
        finished, trained = 0, set()
        running: dict[str, Cell] = {}  # cells handed to the executor, by id
        tracking = Tracking(spec.tracking, store.root, spec.name)  # logs each stored cell; never stops the study
        # a fixed grid's cells all at once (at most as many workers as cells); a search as slots free up
        pool = _pool(plan, store, plan.workers if grid.adaptive else min(plan.workers, max(1, len(todo))))

        held: dict[str, tuple[Cell, dict]] = {}  # paused at a rung until the grid decides (grid.decide)

        def submit(c: Cell) -> None:
            running[c.id] = c
            pool.submit(_task(c, plan, cell_fn, store, force))

        def settle() -> bool:
            """Go on with or prune the held cells the grid can decide now; whether it decided any."""
            decided = grid.decide()
            for cid, following in decided:  # held cells whose rung is now complete
                waited, paused = held.pop(cid)
                if following is not None:
                    submit(following)  # goes on from its checkpoint
                else:
                    finish(waited, {**paused, "metrics": {**paused["metrics"], "status": "pruned"}})
            return bool(decided)

        def finish(cell: Cell, outcome: dict) -> None:
            nonlocal finished
            store.write_cell(cell, outcome)  # updates the open table incrementally
            tracking.log(store.cell_dir(cell.id))
            trained.add(cell.id)
            grid.tell(cell, outcome.get("metrics"))
            finished += 1
            reporter.cell_done(cell, store.row(cell))

        try:
            with contextlib.closing(pool):  # closed on any exit: the executor stops its workers
                # ask/tell, streaming: whenever a worker is free the grid is asked for more (a fixed grid
                # proposes every cell at the first ask, a search one trial per free worker)
                while True:
                    if len(pool) < plan.workers:
                        batch, moved = grid.ask(plan.workers - len(pool)), False
                        for c in batch:
                            if c.id in running:
                                continue  # already training (a search groups such repeats under the one cell)
                            moved = True
                            if c.id in trained or not needs_run(c):
                                grid.tell(c, store.metrics(c.id))  # found done in the store: told, not retrained
                            else:
                                submit(c)
                        if grid.adaptive and batch:
                            store.rebuild_table(grid.cells())  # the proposed cells get their rows in the open table
                        if moved and len(pool) < plan.workers:
                            continue  # room for more: ask again (a grid with nothing to add returns [])
                    if not len(pool):
                        if held and settle():
                            continue
                        if held:
                            raise AugstudyError(f"bug: {len(held)} cell(s) held at their rung and nothing running "
                                                f"to decide them ({', '.join(held)})")
                        break
                    reporter.total = max(reporter.total, finished + len(pool))
                    outcome = pool.next()
                    with deferred():  # a signal here waits until the cell and the table are written
                        cell = running.pop(outcome["cell_id"])
                        metrics = outcome.get("metrics")
                        if metrics is not None and metrics.get("status") == "paused":  # at a rung
                            store.write_checkpoint(cell.id, len(metrics.get("loss_per_epoch") or []),
                                                   outcome["checkpoint"])
                            following = grid.report(cell, metrics)
                            if following is HOLD:  # waits at its rung for the others (a synchronous pruner)
                                held[cell.id] = (cell, outcome)
                            elif following is not None:
                                submit(following)  # goes on from the checkpoint
                            else:
                                finish(cell, {**outcome, "metrics": {**metrics, "status": "pruned"}})
                        else:
                            finish(cell, outcome)
                        settle()
            info["state"] = "finished"
        except KeyboardInterrupt as e:
            info["state"] = "interrupted"
            reporter.interrupted(finished, max(len(todo), finished), e.name if isinstance(e, Interrupted) else "SIGINT")
            e.reported = True
            raise
        finally:
            tracking.close()
            cells = grid.cells()
            df = store.rebuild_table(cells) if grid.adaptive else store.write_table()
            records.write_study(store.root, [c.id for c in cells])  # the study's per-example records, in one file
            wall = time.time() - t0
            info.update(cells=len(cells), wall_seconds=round(wall, 3),
                        wall_seconds_total=round(info["wall_seconds_total"] + wall, 3),
                        finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                        compute_seconds=round(float(df["train_seconds"].fillna(0).sum()), 3))
            store.write_study(info)
            reporter.stop()
        reporter.summary(spec, df, wall)
        for line in grid.describe_outcome():
            reporter.print(line)
    return df
