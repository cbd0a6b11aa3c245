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

With a pruner a trial trains to its first rung, is measured on the validation split and reported
(``trial.report``), and goes on or stops there. A trial that goes on resumes from its checkpoint at the rung
(``augstudy.train.loop``: the same curve as a run that never stopped, no epoch trained twice); one that
stops is recorded with status ``pruned`` and the epochs it reached.

- ``halving``: synchronous successive halving (:class:`SynchronousHalving`). Trials come in brackets sized
  to the budget left (all of a ``cells`` budget; the most whose epochs fit an ``epochs`` budget). Each
  trial waits at its rung (``HOLD``) until every open trial of its bracket is there, then the best
  ``n // reduction_factor`` go on (``decide``). A bracket is asked whole before its first rung is decided;
  the next opens when every trial of it has ended. After a kill, a trial promoted before it goes on
  (``promoted`` attribute), the others are measured again at their rung and decided with the rest.
- ``asha`` / ``hyperband``: Optuna's asynchronous ``SuccessiveHalvingPruner`` / ``HyperbandPruner``
  (``trial.should_prune``): a trial continues when it is in the best 1/``reduction_factor`` of the trials
  that reached its rung so far. The budget counts the epochs actually trained; a trial in flight holds its
  full ``training.epochs`` until it ends, so the budget is never overspent, and what a pruned trial did not
  train goes to new trials.

Parallel trials (``workers: N``, Dask): the runner asks for a trial whenever a worker is free; TPE
samples with the constant liar (running trials count as bad results), so parallel asks spread out.

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
from .grid import GRIDS, HOLD, Cell, GridRun, canonical_pipeline, shared_config
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
#: Pruner name -> factory(min_epochs, max_epochs, reduction_factor) -> an Optuna pruner.
PRUNERS: Registry = Registry("pruner")


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


@PRUNERS.register("none")
def _no_pruner(first: int, epochs: int, factor: int):
    return optuna_module().pruners.NopPruner()


class SynchronousHalving:
    """Synchronous successive halving (Jamieson & Talwalkar 2016): a bracket of n trials all train to the
    first rung; the best ``n // factor`` (at least 1) go on to the next rung, the rest stop there; and so on
    to the last epoch. Not an Optuna pruner: :class:`SearchRun` holds each trial at its rung until the
    bracket's last trial reaches it (``GridRun.decide``)."""

    synchronous = True

    def __init__(self, factor: int) -> None:
        self.factor = factor

    def keep(self, n: int) -> int:
        return max(1, n // self.factor)

    def cost(self, n: int, rungs: list[int], epochs: int) -> int:
        """Epochs a bracket of ``n`` trials trains."""
        total, prev, alive = 0, 0, n
        for r in [*rungs, epochs]:
            total += alive * (r - prev)
            prev, alive = r, self.keep(alive)
        return total

    def most_trials(self, epochs_left: int, rungs: list[int], epochs: int) -> int:
        """The largest bracket whose epochs fit ``epochs_left`` (0 when not even one trial does)."""
        n = 0
        while self.cost(n + 1, rungs, epochs) <= epochs_left:
            n += 1
        return n


@PRUNERS.register("halving")
def _halving(first: int, epochs: int, factor: int):
    return SynchronousHalving(factor)


@PRUNERS.register("asha")
def _asha(first: int, epochs: int, factor: int):
    return optuna_module().pruners.SuccessiveHalvingPruner(min_resource=first, reduction_factor=factor,
                                                           min_early_stopping_rate=0)


@PRUNERS.register("hyperband")
def _hyperband(first: int, epochs: int, factor: int):
    return optuna_module().pruners.HyperbandPruner(min_resource=first, max_resource=epochs, reduction_factor=factor)


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
        self.rungs = self.g.pruner.rungs(spec.training.epochs)  # epochs where a trial is measured, maybe stopped
        self._pending: dict[str, list[Any]] = {}  # cell id -> trials asked and not yet told (the first decides)
        self._revive: list[str] = []  # cells of trials a run that died had asked: proposed again first
        self._final: Optional[list[Cell]] = None
        self._final_asked = False
        self.sync: Optional[SynchronousHalving] = None
        self._held: dict[str, tuple[int, float]] = {}  # synchronous halving: cell id -> (its rung, value there)
        self._starved = False  # the sampler found no new cell for the open bracket: it closes as it is
        if not dry_run or self.path.exists():
            self._open()

    # --- storage ----------------------------------------------------------------------------------
    def fingerprint(self) -> dict[str, Any]:
        """What trials' values depend on: a storage file made with other values cannot be continued."""
        base = json.dumps({k: v for k, v in self.shared.items() if k != "plugins"}, sort_keys=True, default=str)
        out = {"operators": [json.dumps(s, sort_keys=True) if isinstance(s, dict) else s for s in self.g.operators],
               "max_ops": self.g.max_ops, "space": {k: v.model_dump() for k, v in self.g.space.items()},
               "objective": self.g.objective, "validation": self.g.validation.model_dump(),
               "method": self.spec.methods[0], "seed_of_trials": self.spec.seeds[0],
               "training settings": hashlib.sha256(base.encode()).hexdigest()[:12]}
        if self.g.pruner.kind != "none":  # (absent when none: storage files from before pruners stay valid)
            out["pruner"] = self.g.pruner.model_dump()
        return out

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
                    where = (f"grid.{key}" if key in ("operators", "max_ops", "space", "objective", "validation", "pruner")
                             else key)
                    raise SpecError(f"{self.spec.source or self.spec.name}: {where} changed since this search began "
                                    f"(was {_show(recorded.get(key))}, now {_show(mine[key])}) under {self.path}; "
                                    f"to start anew, delete {self.path} (done cells in cells/ are reused) "
                                    "or give the study another name")
        n = len(self.study.trials)
        startup = min(10, max(3, (self.g.budget.cells or 40) // 4))
        # seeded by the history length, so a resumed search does not replay the draws of the first run
        seed = int.from_bytes(hashlib.sha256(f"{self.g.seed}:{n}".encode()).digest()[:4], "big")
        self.study.sampler = SAMPLERS.get(self.g.sampler)(seed, startup)
        p = self.g.pruner
        pruner = PRUNERS.get(p.kind)(self.rungs[0] if self.rungs else 1, self.spec.training.epochs,
                                     p.reduction_factor)
        self.sync = pruner if getattr(pruner, "synchronous", False) else None
        self.study.pruner = self.optuna.pruners.NopPruner() if self.sync is not None else pruner
        running = self.optuna.trial.TrialState.RUNNING
        for frozen in self.study.get_trials(deepcopy=False, states=(running,)):  # asked by a run that died
            if not set(self.distributions) <= set(frozen.params):  # it died while Optuna drew them: never a cell
                self.study.tell(frozen.number, state=self.optuna.trial.TrialState.FAIL)
                continue
            cid = self._trial_cell(frozen.params, frozen.number).id
            if cid not in self._pending:
                self._revive.append(cid)
            self._pending.setdefault(cid, []).append(self.optuna.trial.Trial(self.study, frozen._trial_id))

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
                    trial=None if final else number, stop_at=None if final or not self.rungs else self.rungs[0])

    def _next_stop(self, epoch: int) -> Optional[int]:
        """The first rung after ``epoch`` (None: the last epoch)."""
        return next((r for r in self.rungs if r > epoch), None)

    def _finished(self) -> list[Any]:
        states = (self.optuna.trial.TrialState.COMPLETE, self.optuna.trial.TrialState.FAIL,
                  self.optuna.trial.TrialState.PRUNED)
        return self.study.get_trials(deepcopy=False, states=states) if self.study is not None else []

    def _spent(self) -> tuple[int, int, float, int]:
        """Distinct cells, epochs trained, compute seconds of the finished trials, and trials since the last new cell."""
        seen: dict[str, tuple[int, float]] = {}
        since_new = 0
        for t in sorted(self._finished(), key=lambda t: t.number):
            cid = t.user_attrs.get("cell_id")
            if cid is None:  # (a trial whose run died while its parameters were drawn: it trained nothing)
                continue
            if cid in seen:
                since_new += 1
            else:
                since_new = 0
                epochs = t.user_attrs.get("epochs")
                seen[cid] = (self.spec.training.epochs if epochs is None else int(epochs),
                             float(t.user_attrs.get("seconds") or 0.0))
        return (len(seen), sum(e for e, _ in seen.values()), sum(s for _, s in seen.values()), since_new)

    def _in_flight(self) -> int:
        """New cells asked and not yet told (each holds its full training.epochs of the budget until it ends)."""
        told = {t.user_attrs.get("cell_id") for t in self._finished()}
        return sum(cid not in told for cid in self._pending)

    def budget_left(self) -> bool:
        """Whether one more trial fits the budget, beside the trials in flight."""
        if self.sync is not None:
            return self._bracket_to_fill(open_new=False) is not None
        cells, epochs, seconds, since_new = self._spent()
        flying, b = self._in_flight(), self.g.budget
        if since_new >= EXHAUSTED_AFTER:
            return False
        if b.cells is not None and cells + flying + 1 > b.cells:
            return False
        if b.epochs is not None and epochs + (flying + 1) * self.spec.training.epochs > b.epochs:
            return False
        return b.hours is None or seconds < b.hours * 3600

    # --- synchronous halving: brackets ---------------------------------------------------------------
    def _brackets(self) -> dict[int, list[Any]]:
        out: dict[int, list[Any]] = {}
        for t in self.study.get_trials(deepcopy=False):
            if t.user_attrs.get("bracket") is not None:
                out.setdefault(int(t.user_attrs["bracket"]), []).append(t)
        return out

    def _bracket_size(self) -> int:
        """How many trials a new bracket gets from what is left of the budget."""
        cells, epochs, seconds, since_new = self._spent()
        b, e = self.g.budget, self.spec.training.epochs
        if since_new >= EXHAUSTED_AFTER or (b.hours is not None and seconds >= b.hours * 3600):
            return 0
        sizes = []
        if b.cells is not None:
            sizes.append(b.cells - cells)
        if b.epochs is not None:
            sizes.append(self.sync.most_trials(b.epochs - epochs, self.rungs, e))
        if not sizes:  # hours only: brackets in which one trial reaches the last epoch
            sizes.append(self.sync.factor ** len(self.rungs))
        return max(0, min(sizes))

    def _bracket_to_fill(self, open_new: bool) -> Optional[int]:
        """The bracket new trials go to: the open one while it has room, else (once every trial of it has
        ended) a new one sized to the budget left; None when there is none (full and running, or no budget)."""
        brackets = self._brackets()
        finished = {self.optuna.trial.TrialState.COMPLETE, self.optuna.trial.TrialState.FAIL,
                    self.optuna.trial.TrialState.PRUNED}
        if brackets:
            b = max(brackets)
            size = int(self.study.user_attrs.get(f"bracket {b}", 0))
            if len({t.user_attrs.get("cell_id") for t in brackets[b]}) < size and not self._starved:
                return b
            if any(t.state not in finished for t in brackets[b]):
                return None
            b += 1
        else:
            b = 0
        size = self._bracket_size()
        if size < 1:
            return None
        if open_new:
            self.study.set_user_attr(f"bracket {b}", size)
            self._starved = False
        return b

    def decide(self) -> list[tuple[str, Optional[Cell]]]:
        """Synchronous halving: once every open trial of the bracket waits at its rung, the best
        ``n // reduction_factor`` go on and the rest are pruned there."""
        if self.sync is None or not self._held:
            return []
        brackets = self._brackets()
        b = max(brackets)
        size = int(self.study.user_attrs.get(f"bracket {b}", 0))
        cells = {t.user_attrs.get("cell_id") for t in brackets[b]}
        if len(cells) < size and not self._starved:
            return []  # trials of the bracket still to be asked
        finished = {self.optuna.trial.TrialState.COMPLETE, self.optuna.trial.TrialState.FAIL,
                    self.optuna.trial.TrialState.PRUNED}
        open_cells = {t.user_attrs.get("cell_id") for t in brackets[b] if t.state not in finished}
        if not open_cells <= set(self._held):
            return []  # some are still training to the rung
        out: list[tuple[str, Optional[Cell]]] = []
        for rung in sorted({e for e, _ in self._held.values()}):
            group = [cid for cid, (e, _) in self._held.items() if e == rung]
            group.sort(key=lambda cid: (-self._held[cid][1], self._pending[cid][0].number))
            keep = self.sync.keep(len(group))
            for rank, cid in enumerate(group):
                self._held.pop(cid)
                if rank < keep:
                    for trial in self._pending[cid]:
                        trial.set_user_attr("promoted", rung)
                    out.append((cid, self._following(cid, rung)))
                else:
                    out.append((cid, None))
        return out

    def _following(self, cid: str, epoch: int) -> Cell:
        trial = self._pending[cid][0]
        following = self._trial_cell(trial.params, trial.number)
        following.stop_at = self._next_stop(epoch)
        return following

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
        out: list[Cell] = []
        while self._revive and len(out) < max(n, 1):  # trials asked by a run that died: from where they got
            ts = self._pending[self._revive.pop(0)]
            cell = self._trial_cell(ts[0].params, ts[0].number)
            if self.rungs:
                found = self.store.checkpoint(cell.id)
                reached = max([*self._reported(ts[0]), found[0] if found else 0])
                cell.stop_at = reached if reached else self.rungs[0]  # re-measured there, then decided
            out.append(cell)
        attempts = 0
        while len(out) < max(n, 1) and attempts < max(n, 1) + EXHAUSTED_AFTER and self.budget_left():
            attempts += 1  # the sampler may repeat cells in flight; those trials wait with them
            bracket = self._bracket_to_fill(open_new=True) if self.sync is not None else None
            trial = self.study.ask(self.distributions)
            cell = self._trial_cell(trial.params, trial.number)
            trial.set_user_attr("cell_id", cell.id)
            trial.set_user_attr("policy", cell.pipeline)
            if bracket is not None:
                trial.set_user_attr("bracket", bracket)
            if cell.id not in self._pending:
                out.append(cell)
            self._pending.setdefault(cell.id, []).append(trial)
        if self.sync is not None and not out and attempts >= max(n, 1) + EXHAUSTED_AFTER:
            self._starved = True  # the space has no new cell for this bracket: it is decided as it is
        if out or self._pending:  # trials in flight: their results come before the final retrains
            return out
        if not self._final_asked:
            self._final_asked = True
            self._final = self.final_cells()
            return list(self._final)
        return []

    def _reported(self, trial) -> list[int]:
        """The epochs at which ``trial`` was reported (from the storage)."""
        return list(self.study.get_trials(deepcopy=False)[trial.number].intermediate_values)

    def report(self, cell: Cell, metrics: dict) -> Optional[Cell]:
        trials = self._pending.get(cell.id)
        if not trials:
            return super().report(cell, metrics)
        epoch = len(metrics.get("loss_per_epoch") or [])
        value = metrics.get(self.g.objective)
        if value is None or not math.isfinite(float(value)):
            return None
        for trial in trials:
            if epoch not in self._reported(trial):  # (re-measured after a resume: already reported)
                trial.report(float(value), epoch)
        if self.sync is not None:
            promoted = self.study.get_trials(deepcopy=False)[trials[0].number].user_attrs.get("promoted")
            if promoted is not None and epoch <= promoted:  # decided before a kill: it goes on
                return self._following(cell.id, epoch)
            self._held[cell.id] = (epoch, float(value))
            return HOLD
        if trials[0].should_prune():
            return None
        return self._following(cell.id, epoch)

    def tell(self, cell: Cell, metrics: Optional[dict]) -> None:
        trials = self._pending.pop(cell.id, [])
        if not trials:
            return  # a final retrain: its result is the cell in the store
        status = (metrics or {}).get("status") or "failed"
        value = metrics.get(self.g.objective) if metrics and status in ("done", "pruned") else None
        ok = value is not None and math.isfinite(float(value))
        seconds = float((metrics or {}).get("train_seconds") or 0.0) + float((metrics or {}).get("eval_seconds") or 0.0)
        epochs = len((metrics or {}).get("loss_per_epoch") or [])
        for trial in trials:
            trial.set_user_attr("cell_id", cell.id)
            trial.set_user_attr("seconds", seconds)
            trial.set_user_attr("epochs", epochs)
            if status == "done" and ok:
                self.study.tell(trial, float(value))
            elif status == "pruned":
                trial.set_user_attr("status", "pruned")
                if ok and epochs not in self._reported(trial):
                    trial.report(float(value), epochs)
                self.study.tell(trial, state=self.optuna.trial.TrialState.PRUNED)
            else:
                trial.set_user_attr("status", status)
                self.study.tell(trial, state=self.optuna.trial.TrialState.FAIL)

    def describe_outcome(self) -> list[str]:
        ranking = self.ranking()
        if not ranking:
            return []
        cells, epochs, _, _ = self._spent()
        value, best = ranking[0]
        policy = best.user_attrs.get("policy")
        pruned = sum(t.state == self.optuna.trial.TrialState.PRUNED for t in self._finished())
        lines = [f"search: {len(self._finished())} trials ({pruned} pruned), {cells} cells, {epochs} epochs trained; "
                 "best on validation "
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
