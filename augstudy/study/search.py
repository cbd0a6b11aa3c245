"""``grid: {kind: search}``: find the best policy within a budget, with Optuna's ask/tell interface.

A trial is a policy: ``n_ops`` (1..``max_ops``), the operators ``op1..op<max_ops>`` drawn from the pool
(the first ``n_ops`` in order; an operator drawn twice counts once, so ``max_ops: 2`` spans exactly the
pairwise grid, its diagonal included) and the ``space`` parameters. Each trial is an ordinary augstudy
cell (content-addressed, in the same store), trained on the training split minus a validation part
(``grid.validation``, the same for every trial) and scored on that part: the test set is never seen
while selecting. A trial whose cell is already done in the store is told its stored metrics, not
retrained.

The Optuna study lives in ``<results>/search.sqlite3`` (Optuna's RDB storage on SQLAlchemy). A run
killed at any point resumes with the same command: finished trials stay told, trials asked but never
told (the run died while they trained) are proposed again, their cells found done if they got that far.

When the budget is spent, the ``top_k`` policies (best validation score) are retrained on the full
training set with the study's seeds (at least 3) and evaluated once on the test set: those cells
(``split: test``) are the result.
"""
from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any, Optional

from ..errors import AugstudyError, SpecError
from ..registry import Registry
from .grid import GRIDS, Cell, GridRun, canonical_pipeline, shared_config
from .spec import SpaceParam, StudySpec
from ..train.config import CellConfig

#: The Optuna storage file in a search study's results folder.
STORAGE_FILE = "search.sqlite3"
#: The study's seeds are extended to this many for the final retrains (an interval needs them).
MIN_FINAL_SEEDS = 3
#: A search that has found no new cell in this many trials in a row has exhausted its space.
EXHAUSTED_AFTER = 50

#: Sampler name -> factory(seed, n_startup_trials) -> an Optuna sampler.
SAMPLERS: Registry = Registry("sampler")


def optuna_module():
    """``optuna``, or one line saying which extra installs it."""
    try:
        import optuna
    except ImportError:
        raise AugstudyError("grid kind 'search' needs optuna and sqlalchemy: pip install 'augstudy[search]'") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


@SAMPLERS.register("tpe")
def _tpe(seed: int, startup: int):
    import warnings

    optuna = optuna_module()
    with warnings.catch_warnings():  # multivariate and constant_liar are marked experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        # constant liar: trials running in parallel count as bad results, so parallel asks spread out
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup, multivariate=True, constant_liar=True)


@SAMPLERS.register("random")
def _random(seed: int, startup: int):
    return optuna_module().samplers.RandomSampler(seed=seed)


def _distribution(optuna, p: SpaceParam):
    d = optuna.distributions
    if p.choices is not None:
        return d.CategoricalDistribution(p.choices)
    if p.integer:
        return d.IntDistribution(int(p.low), int(p.high), log=p.log, step=int(p.step or 1))
    return d.FloatDistribution(p.low, p.high, log=p.log, step=p.step)


def _round(v: Any) -> Any:
    """Floats to 3 significant digits: readable policies, and near-equal ones share a cell."""
    return float(f"{v:.3g}") if isinstance(v, float) else v


class SearchRun(GridRun):
    """The ask/tell side of ``grid: {kind: search}`` (see the module docstring)."""

    adaptive = True

    def __init__(self, spec: StudySpec, store, only: Optional[list[str]] = None, dry_run: bool = False) -> None:
        super().__init__(spec, store)
        if only:
            raise AugstudyError("--only selects cells of a fixed grid; a search proposes its own (drop --only)")
        self.g = spec.grid
        self.optuna = optuna_module()
        self.path = Path(store.root) / STORAGE_FILE
        self.names = [n for n in self.g.pool()]
        self.distributions = {"n_ops": self.optuna.distributions.IntDistribution(1, self.g.max_ops),
                              **{f"op{i + 1}": self.optuna.distributions.CategoricalDistribution(self.names)
                                 for i in range(self.g.max_ops)},
                              **{k: _distribution(self.optuna, p) for k, p in self.g.space.items()}}
        self.shared = shared_config(spec)
        self.study = None
        self._pending: dict[str, list[Any]] = {}  # cell id -> trials asked and not yet told
        self._final: Optional[list[Cell]] = None
        self._final_asked = False
        if not dry_run or self.path.exists():
            self._open()

    # --- storage ----------------------------------------------------------------------------------
    def fingerprint(self) -> dict[str, Any]:
        """What trials' values depend on: a storage file made with other values cannot be continued."""
        base = json.dumps({k: v for k, v in self.shared.items() if k != "plugins"}, sort_keys=True, default=str)
        return {"operators": [json.dumps(s, sort_keys=True) if isinstance(s, dict) else s for s in self.g.operators],
                "max_ops": self.g.max_ops, "space": {k: v.model_dump() for k, v in self.g.space.items()},
                "objective": self.g.objective, "validation": self.g.validation.model_dump(),
                "method": self.spec.methods[0], "seed_of_trials": self.spec.seeds[0],
                "training settings": hashlib.sha256(base.encode()).hexdigest()[:12]}

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        storage = f"sqlite:///{self.path.resolve()}"
        self.study = self.optuna.create_study(storage=storage, study_name=self.spec.name, direction="maximize",
                                              load_if_exists=True)
        mine = self.fingerprint()
        recorded = self.study.user_attrs.get("fingerprint")
        if recorded is None:
            self.study.set_user_attr("fingerprint", mine)
        else:
            for key in mine:
                if recorded.get(key) != mine[key]:
                    where = f"grid.{key}" if key in ("operators", "max_ops", "space", "objective", "validation") else key
                    raise SpecError(f"{self.spec.source or self.spec.name}: {where} changed since this search began "
                                    f"(was {_show(recorded.get(key))}, now {_show(mine[key])}) under {self.path}; "
                                    f"to start anew, delete {self.path} (done cells in cells/ are reused) "
                                    "or give the study another name")
        n = len(self.study.trials)
        startup = min(10, max(3, (self.g.budget.cells or 40) // 4))
        # seeded by the history length, so a resumed search does not replay the draws of the first run
        seed = int.from_bytes(hashlib.sha256(f"{self.g.seed}:{n}".encode()).digest()[:4], "big")
        self.study.sampler = SAMPLERS.get(self.g.sampler)(seed, startup)
        running = self.optuna.trial.TrialState.RUNNING
        for frozen in self.study.get_trials(deepcopy=False, states=(running,)):  # asked by a run that died
            self._pending.setdefault(self._trial_cell(frozen.params, frozen.number).id, []).append(
                self.optuna.trial.Trial(self.study, frozen._trial_id))

    # --- trials as cells --------------------------------------------------------------------------
    def _trial_cell(self, params: dict[str, Any], number: Optional[int], seed: Optional[int] = None,
                    final: bool = False) -> Cell:
        pool = self.g.pool()
        chosen = list(dict.fromkeys(params[f"op{i + 1}"] for i in range(params["n_ops"])))
        pipeline = []
        for name in chosen:
            extra = {k.partition(".")[2]: _round(v) for k, v in params.items() if k.partition(".")[0] == name}
            pipeline.append({"op": name, **pool[name], **extra} if pool[name] or extra else name)
        canon = canonical_pipeline(pipeline)
        config = CellConfig(method=self.spec.methods[0], seed=self.spec.seeds[0] if seed is None else seed,
                            pipeline=canon, validation=None if final else self.g.validation, **self.shared)
        return Cell(index=number if number is not None else -1, config=config, pipeline=" + ".join(canon),
                    trial=None if final else number)

    def _finished(self) -> list[Any]:
        states = (self.optuna.trial.TrialState.COMPLETE, self.optuna.trial.TrialState.FAIL)
        return self.study.get_trials(deepcopy=False, states=states) if self.study is not None else []

    def _spent(self) -> tuple[int, int, float, int]:
        """Distinct cells, epochs, compute seconds of the finished trials, and trials since the last new cell."""
        seen: dict[str, float] = {}
        since_new = 0
        for t in sorted(self._finished(), key=lambda t: t.number):
            cid = t.user_attrs.get("cell_id")
            if cid in seen:
                since_new += 1
            else:
                since_new = 0
                seen[cid] = float(t.user_attrs.get("seconds") or 0.0)
        cells = len(seen)
        return cells, cells * self.spec.training.epochs, sum(seen.values()), since_new

    def budget_left(self, asking: int = 0) -> bool:
        """Whether one more trial fits the budget, with ``asking`` new cells already asked and not told."""
        cells, epochs, seconds, since_new = self._spent()
        b = self.g.budget
        if since_new >= EXHAUSTED_AFTER:
            return False
        if b.cells is not None and cells + asking + 1 > b.cells:
            return False
        if b.epochs is not None and epochs + (asking + 1) * self.spec.training.epochs > b.epochs:
            return False
        return b.hours is None or seconds < b.hours * 3600

    def final_seeds(self) -> list[int]:
        seeds = list(self.spec.seeds)
        while len(seeds) < MIN_FINAL_SEEDS:
            seeds.append(max(seeds) + 1)
        return seeds

    def ranking(self) -> list[tuple[float, Any]]:
        """(value, trial) of the best trial of each distinct cell, best first."""
        best: dict[str, Any] = {}
        for t in self._finished():
            if t.state == self.optuna.trial.TrialState.COMPLETE and t.value is not None:
                cid = t.user_attrs.get("cell_id")
                if cid not in best or t.value > best[cid].value:
                    best[cid] = t
        return sorted(((t.value, t) for t in best.values()), key=lambda vt: (-vt[0], vt[1].number))

    def final_cells(self) -> list[Cell]:
        """The top-k policies retrained on the full training set with the final seeds (tested once)."""
        n = len(self.study.trials) if self.study is not None else 0
        cells = []
        for rank, (_, t) in enumerate(self.ranking()[: self.g.top_k]):
            for seed in self.final_seeds():
                c = self._trial_cell(t.params, None, seed=seed, final=True)
                c.index = n + len(cells)
                cells.append(c)
        return cells

    # --- the protocol -----------------------------------------------------------------------------
    def cells(self) -> list[Cell]:
        out: dict[str, Cell] = {}
        trials = self.study.get_trials(deepcopy=False) if self.study is not None else []
        for t in sorted(trials, key=lambda t: t.number):
            if set(self.distributions) <= set(t.params):
                c = self._trial_cell(t.params, t.number)
                out.setdefault(c.id, c)
        if self._final is not None or (self.study is not None and not self._pending and not self.budget_left()):
            for c in self._final if self._final is not None else self.final_cells():
                out.setdefault(c.id, c)
        return list(out.values())

    def planned(self) -> list[Cell]:
        return self.cells()

    def ask(self, n: int) -> list[Cell]:
        if self.study is None:
            return []
        if self._pending:  # trials asked by a run that died, or not yet told
            return [self._trial_cell(ts[0].params, ts[0].number) for ts in self._pending.values()][:max(n, 1)]
        out: list[Cell] = []
        while len(out) < max(n, 1) and self.budget_left(asking=len(out)):
            trial = self.study.ask(self.distributions)
            cell = self._trial_cell(trial.params, trial.number)
            trial.set_user_attr("cell_id", cell.id)
            trial.set_user_attr("policy", cell.pipeline)
            if cell.id not in self._pending:
                out.append(cell)
            self._pending.setdefault(cell.id, []).append(trial)
        if out:
            return out
        if not self._final_asked:
            self._final_asked = True
            self._final = self.final_cells()
            return list(self._final)
        return []

    def tell(self, cell: Cell, metrics: Optional[dict]) -> None:
        trials = self._pending.pop(cell.id, [])
        if not trials:
            return  # a final retrain: its result is the cell in the store
        value = metrics.get(self.g.objective) if metrics and metrics.get("status") == "done" else None
        ok = value is not None and math.isfinite(float(value))
        seconds = float((metrics or {}).get("train_seconds") or 0.0) + float((metrics or {}).get("eval_seconds") or 0.0)
        for trial in trials:
            trial.set_user_attr("cell_id", cell.id)
            trial.set_user_attr("seconds", seconds)
            trial.set_user_attr("epochs", len((metrics or {}).get("loss_per_epoch") or []))
            if ok:
                self.study.tell(trial, float(value))
            else:
                trial.set_user_attr("status", (metrics or {}).get("status") or "failed")
                self.study.tell(trial, state=self.optuna.trial.TrialState.FAIL)

    def describe_outcome(self) -> list[str]:
        ranking = self.ranking()
        if not ranking:
            return []
        cells, epochs, _, _ = self._spent()
        value, best = ranking[0]
        policy = best.user_attrs.get("policy")
        lines = [f"search: {len(self._finished())} trials, {cells} cells, {epochs} epochs; best on validation "
                 f"({self.g.objective}): {policy} {value:.2f}%"]
        finals = [c for c in (self._final or self.final_cells()) if self.store.is_done(c.id)]
        if finals:
            lines.append(f"top {min(self.g.top_k, len(ranking))} retrained on the full training set with seeds "
                         f"{self.final_seeds()} and tested once: augstudy plot {self.store.root}")
        return lines


def _show(v: Any) -> str:
    text = json.dumps(v, sort_keys=True, default=str)
    return text if len(text) <= 120 else text[:117] + "..."


GRIDS.add("search", SearchRun)
