"""Experiment trackers (TensorBoard, MLflow, Weights & Biases), chosen by a study file's ``tracking:``.

The driver logs each cell from its stored files (``config.json``, ``metrics.json`` or ``failed.json``,
``curve.csv``) right after the store records it, so trackers never run inside training workers and
need no hooks in the trainer. A tracker is a class in :data:`TRACKERS` (a plugin registers more with
``@TRACKERS.register("name")``) with a pydantic ``Params`` model for its keys, ``package``/``extra``
naming what it needs installed, ``log(cell)`` and ``close()``.

Logging never breaks a study: :class:`Tracking` reports a tracker's first failure once, on stderr,
and stops using it; the cells still finish and are stored.
"""
from __future__ import annotations

import csv
import importlib.util
import json
import math
import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict

from ..errors import SpecError
from ..registry import Registry, UnknownNameError, ParamsError

TRACKERS: Registry[type["Tracker"]] = Registry("tracker", builtins=["augstudy.study.tracking"],
                                               entry_point_group="augstudy.trackers")
#: the final metrics a tracker logs (percent top-1 of the probes), when a cell has them
FINAL_METRICS = ("linear_top1", "knn_top1", "linear_top1_z", "knn_top1_z", "train_seconds", "eval_seconds",
                 "images_per_second")


class TrackingSpec(BaseModel):
    """A study file's ``tracking:`` section: ``kind`` plus that tracker's own keys."""

    model_config = ConfigDict(extra="allow")
    kind: str

    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


@dataclass
class StoredCell:
    """One finished cell as the store wrote it."""

    cell_id: str
    dir: Path
    config: dict
    status: str  # done | diverged | failed
    metrics: dict  # metrics.json, or failed.json for a failed cell
    curve: list[dict] = field(default_factory=list)  # rows of curve.csv: epoch, loss[, lr]

    @classmethod
    def read(cls, cell_dir: Path | str) -> "StoredCell":
        d = Path(cell_dir)
        config = json.loads((d / "config.json").read_text())
        found = d / "metrics.json" if (d / "metrics.json").is_file() else d / "failed.json"
        metrics = json.loads(found.read_text())
        curve = []
        if (d / "curve.csv").is_file():
            with open(d / "curve.csv", newline="") as f:
                curve = [{k: float(v) for k, v in row.items() if v not in (None, "")} for row in csv.DictReader(f)]
        return cls(d.name, d, config, str(metrics.get("status") or "failed"), metrics, curve)

    @property
    def labels(self) -> dict:
        return self.config.get("labels") or {}

    @property
    def run_name(self) -> str:
        """``<pipeline>.<method>.seed<N>``, safe as a folder name (``crop+color.simclr.seed0``)."""
        lab = self.labels
        pipe = str(lab.get("pipeline") or self.cell_id).replace(" ", "")
        name = f"{pipe}.{lab.get('method') or self.config.get('method')}.seed{lab.get('seed', self.config.get('seed'))}"
        return re.sub(r"[^A-Za-z0-9_.+()=-]+", "_", name)

    def final(self) -> dict[str, float]:
        """The cell's final metrics (finite numbers only)."""
        out = {k: float(self.metrics[k]) for k in FINAL_METRICS if _finite(self.metrics.get(k))}
        losses = [r["loss"] for r in self.curve if _finite(r.get("loss"))]
        if losses:
            out["final_loss"] = losses[-1]
        return out

    def has_lr(self) -> bool:
        return bool(self.curve) and all("lr" in r for r in self.curve)

    def params(self) -> dict[str, Any]:
        """The resolved config flattened to ``section.key`` -> str/int/float/bool (lists as JSON)."""
        cfg = {k: v for k, v in self.config.items() if k not in ("labels",)}
        return _flatten(cfg)

    def files(self) -> list[Path]:
        return sorted(p for p in self.dir.iterdir() if p.is_file() and not p.name.startswith("."))


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _flatten(d: dict, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out.update(_flatten(v, key + "."))
        elif isinstance(v, (str, int, float, bool)):
            out[key] = v
        else:  # None, lists, empty dicts
            out[key] = json.dumps(v)
    return out


class Tracker:
    """Base class: ``Params`` (its keys in ``tracking:``), ``package`` to import, ``extra`` to install."""

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")

    package: str = ""
    extra: str = ""

    def __init__(self, study_dir: Path, study: str, params: BaseModel) -> None:
        self.study_dir, self.study, self.params = Path(study_dir), study, params

    def log(self, cell: StoredCell) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def close(self) -> None:
        pass


@TRACKERS.register("tensorboard")
class TensorBoardTracker(Tracker):
    """Event files per cell under ``<logdir>/<run name>/`` (default ``<study>/tensorboard``): the loss
    and learning rate per epoch, the final metrics, and the resolved config as hparams."""

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")
        logdir: Optional[str] = None

    package = "tensorboard"
    extra = "tensorboard"

    def log(self, cell: StoredCell) -> None:
        from torch.utils.tensorboard import SummaryWriter
        from torch.utils.tensorboard.summary import hparams

        root = Path(self.params.logdir) if self.params.logdir else self.study_dir / "tensorboard"
        run = root / cell.run_name
        shutil.rmtree(run, ignore_errors=True)  # a cell run again (--force) replaces its old run
        with SummaryWriter(str(run)) as w:
            for r in cell.curve:
                step = int(r["epoch"])
                if _finite(r.get("loss")):
                    w.add_scalar("loss", r["loss"], step)
                if _finite(r.get("lr")):
                    w.add_scalar("lr", r["lr"], step)
            last = int(cell.curve[-1]["epoch"]) if cell.curve else 0
            final = {f"metrics/{k}": v for k, v in cell.final().items()}
            for k, v in final.items():
                w.add_scalar(k, v, last)
            hp = {**cell.params(), "cell_id": cell.cell_id, "status": cell.status}
            for summary in hparams(hp, final):
                w.file_writer.add_summary(summary)
            if cell.status != "done":
                w.add_text("status", f"{cell.status}: {cell.metrics.get('error') or ''}")


@TRACKERS.register("mlflow")
class MlflowTracker(Tracker):
    """One MLflow run per cell (params, per-epoch metrics, final metrics, the cell's files as artifacts)
    in one experiment per study; a local store in the study folder (``<study>/mlflow.db``, artifacts in
    ``<study>/mlartifacts``) unless ``tracking_uri`` is given."""

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")
        tracking_uri: Optional[str] = None
        experiment: Optional[str] = None  # default: the study name

    package = "mlflow"
    extra = "mlflow"

    def __init__(self, study_dir: Path, study: str, params: BaseModel) -> None:
        super().__init__(study_dir, study, params)
        from mlflow.tracking import MlflowClient

        local = params.tracking_uri is None  # MLflow's own local store: a SQLite file (its file store is retired)
        self.study_dir.mkdir(parents=True, exist_ok=True)
        self.uri = params.tracking_uri or f"sqlite:///{(self.study_dir / 'mlflow.db').resolve()}"
        self.client = MlflowClient(tracking_uri=self.uri)
        name = params.experiment or study
        exp = self.client.get_experiment_by_name(name)
        artifacts = (self.study_dir / "mlartifacts").resolve().as_uri() if local else None
        self.experiment_id = (exp.experiment_id if exp is not None
                              else self.client.create_experiment(name, artifact_location=artifacts))

    def log(self, cell: StoredCell) -> None:
        from mlflow.entities import Metric, Param, RunTag

        for old in self.client.search_runs([self.experiment_id], f"tags.`augstudy.cell_id` = '{cell.cell_id}'"):
            self.client.delete_run(old.info.run_id)  # a cell run again (--force) replaces its old run
        tags = {"augstudy.cell_id": cell.cell_id, "augstudy.study": self.study, "augstudy.status": cell.status,
                **{f"augstudy.{k}": str(v) for k, v in cell.labels.items() if v is not None}}
        run = self.client.create_run(self.experiment_id, run_name=cell.run_name, tags=tags)
        rid, now = run.info.run_id, int(time.time() * 1000)
        params = [Param(k, str(v)[:6000]) for k, v in cell.params().items()]
        metrics = [Metric(key, r[key], now, int(r["epoch"])) for r in cell.curve for key in ("loss", "lr")
                   if _finite(r.get(key))]
        last = int(cell.curve[-1]["epoch"]) if cell.curve else 0
        metrics += [Metric(k, v, now, last) for k, v in cell.final().items()]
        for i in range(0, max(len(params), len(metrics)), 100):  # MLflow takes at most 100 params per batch
            self.client.log_batch(rid, metrics=metrics[i:i + 100], params=params[i:i + 100], tags=[])
        if cell.metrics.get("error"):
            self.client.set_tag(rid, "augstudy.error", str(cell.metrics["error"])[:5000])
        for path in cell.files():
            self.client.log_artifact(rid, str(path))
        self.client.set_terminated(rid, "FINISHED" if cell.status == "done" else "FAILED")


@TRACKERS.register("wandb")
class WandbTracker(Tracker):
    """One W&B run per cell in a group per study (``mode: offline`` by default: run folders under
    ``<study>/wandb/``, to ``wandb sync`` later)."""

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")
        mode: Literal["offline", "online", "disabled"] = "offline"
        project: str = "augstudy"
        entity: Optional[str] = None
        group: Optional[str] = None  # default: the study name
        dir: Optional[str] = None  # default: the study folder

    package = "wandb"
    extra = "wandb"

    def log(self, cell: StoredCell) -> None:
        import wandb

        folder = Path(self.params.dir) if self.params.dir else self.study_dir
        folder.mkdir(parents=True, exist_ok=True)
        settings = wandb.Settings(silent=True, console="off", save_code=False, disable_git=True,
                                  x_disable_stats=True, x_disable_meta=True)
        run = wandb.init(project=self.params.project, entity=self.params.entity, mode=self.params.mode,
                         group=self.params.group or self.study, name=cell.run_name, job_type=cell.labels.get("method"),
                         dir=str(folder), config={**cell.params(), "cell_id": cell.cell_id},
                         tags=[cell.status], settings=settings, reinit="create_new")
        try:
            for r in cell.curve:
                row = {k: r[k] for k in ("loss", "lr") if _finite(r.get(k))}
                run.log({"epoch": int(r["epoch"]), **row}, step=int(r["epoch"]))
            run.summary.update({**cell.final(), "status": cell.status, "cell_id": cell.cell_id})
        finally:
            run.finish(exit_code=0 if cell.status == "done" else 1)


# --- the study's side -------------------------------------------------------------------------------

def check_tracking(tracking: Optional[TrackingSpec]) -> None:
    """At spec load: the kind is registered, its keys are valid, its package is installed (one line if not)."""
    if tracking is None:
        return
    try:
        cls = TRACKERS.get(tracking.kind)
        TRACKERS.validate_params(tracking.kind, tracking.params())
    except UnknownNameError as e:
        raise SpecError(f"tracking.kind: {e}") from None
    except ParamsError as e:
        raise SpecError(f"tracking: {e}") from None
    if cls.package and importlib.util.find_spec(cls.package) is None:
        raise SpecError(f"tracking.kind {tracking.kind!r} needs the {cls.package!r} package, which is not installed: "
                        f"pip install 'augstudy[{cls.extra or cls.package}]'")


class Tracking:
    """The runner's handle: ``log(cell_dir)`` after the store writes a cell, ``close()`` at the end.

    A no-op without ``tracking:``. A tracker that fails (starting, logging or closing) is reported once
    and not used again; the study goes on.
    """

    def __init__(self, tracking: Optional[TrackingSpec], study_dir: Path, study: str) -> None:
        self.kind = tracking.kind if tracking is not None else None
        self.tracker: Optional[Tracker] = None
        self.logged = 0
        self.without_lr = 0
        self.error: Optional[str] = None
        if tracking is None:
            return
        try:
            cls = TRACKERS.get(tracking.kind)
            self.tracker = cls(Path(study_dir), study, TRACKERS.validate_params(tracking.kind, tracking.params()))
        except Exception as e:  # noqa: BLE001 - logging never breaks a study
            self._fail("could not start", e)

    def log(self, cell_dir: Path) -> None:
        if self.tracker is None:
            return
        try:
            cell = StoredCell.read(cell_dir)
            self.tracker.log(cell)
        except Exception as e:  # noqa: BLE001
            self._fail(f"could not log cell {Path(cell_dir).name}", e)
            return
        self.logged += 1
        self.without_lr += bool(cell.curve) and not cell.has_lr()

    def close(self) -> None:
        if self.tracker is None:
            return
        try:
            self.tracker.close()
        except Exception as e:  # noqa: BLE001
            self._fail("could not close", e)
        if self.without_lr:
            print(f"tracking ({self.kind}): {self.without_lr} cell(s) stored no learning rate in curve.csv; "
                  "logged their loss only", file=sys.stderr)
        self.tracker = None

    def _fail(self, what: str, e: Exception) -> None:
        self.error = f"{type(e).__name__}: {e}"
        print(f"tracking ({self.kind}) {what}: {self.error}; the study goes on without it", file=sys.stderr)
        tracker, self.tracker = self.tracker, None
        if tracker is not None:
            try:
                tracker.close()
            except Exception:  # noqa: BLE001
                pass
