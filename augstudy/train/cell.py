"""One cell: train one model from a :class:`CellConfig`, evaluate the frozen encoder, return the metrics.

``run_cell`` is a pure function of its config (no global state is read or left behind), so the
study runner can call it in another process or on a cluster worker.
"""
from __future__ import annotations

import hashlib
import math
import platform
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Union

import torch

from ..errors import ParamsError
from .config import CellConfig
from .allocator import keep_freed_memory
from .device import cpu_threads, resolve_device, uses_bf16
from .encoders import build_encoder, get_encoder
from .evaluate import evaluate
from .loop import train
from .method import get_method
from .views import ViewPipelines


@dataclass
class CellResult:
    """The outcome of one cell; ``to_dict()`` is the JSON-ready ``metrics.json`` (ARCHITECTURE.md)."""

    cell_id: str
    status: str  # done | diverged | paused (stopped at ``stop_at_epoch``, to be resumed from ``checkpoint``)
    linear_top1: Optional[float] = None  # percent, probe on h
    knn_top1: Optional[float] = None
    linear_top1_z: Optional[float] = None  # percent, probe on z = g(h); None unless asked
    knn_top1_z: Optional[float] = None
    loss_per_epoch: list[float] = field(default_factory=list)
    lr_per_epoch: list[float] = field(default_factory=list)  # learning rate after each epoch's last step
    train_seconds: float = 0.0
    eval_seconds: float = 0.0
    images_per_second: float = 0.0  # training images (each seen as 2 views by SimCLR) per second
    device: str = "cpu"
    seed: int = 0
    versions: dict[str, str] = field(default_factory=dict)
    error: Optional[str] = None
    #: per-example records of the evaluations (``label`` and each metric's predicted classes, test order);
    #: kept beside metrics.json as ``predictions.npz`` by the store, not part of ``to_dict()``
    predictions: Optional[dict] = field(default=None, repr=False, compare=False)
    #: a paused run's state (``augstudy.train.loop``): ``run_cell(resume=...)`` continues from it; not in ``to_dict()``
    checkpoint: Optional[bytes] = field(default=None, repr=False, compare=False)

    @property
    def final_loss(self) -> Optional[float]:
        return self.loss_per_epoch[-1] if self.loss_per_epoch else None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (non-finite floats become None)."""

        def clean(v: Any) -> Any:
            if isinstance(v, float) and not math.isfinite(v):
                return None
            if isinstance(v, list):
                return [clean(u) for u in v]
            return v

        return {k: clean(getattr(self, k)) for k in self.__dataclass_fields__ if k not in ("predictions", "checkpoint")}


def versions() -> dict[str, str]:
    """Versions of what a cell's numbers depend on, and the CPU's vector instruction set.

    The same code, config and seed give the same numbers bit for bit on one machine and software stack, but
    not across machines: torch's CPU kernels are chosen by ``cpu_capability`` (AVX2, AVX-512 ...) and round
    differently, and training amplifies the difference to seed-level noise (a pairwise cell, 39.3 against
    37.4 linear top-1). Recorded so that a difference between two runs can be traced.
    """
    from importlib.metadata import PackageNotFoundError, version

    import numpy
    import torchvision

    from .. import __version__

    try:
        numba = version("numba")
    except PackageNotFoundError:
        numba = "not installed"
    return {"augstudy": __version__, "torch": torch.__version__, "torchvision": torchvision.__version__,
            "numpy": numpy.__version__, "numba": numba, "python": platform.python_version(),
            "cpu_capability": torch.backends.cpu.get_cpu_capability(), "machine": platform.machine()}


def derive_seed(seed: int, stream: str) -> int:
    """An independent 63-bit seed for one random stream (``init``, ``augment``, ``batches``) of a cell."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{stream}".encode()).digest()[:8], "big") >> 1


def as_config(config: Union[CellConfig, dict]) -> CellConfig:
    """A validated :class:`CellConfig`; a bad key or value raises one line naming it."""
    if isinstance(config, CellConfig):
        return config
    from pydantic import ValidationError

    try:
        return CellConfig.model_validate(config)
    except ValidationError as e:
        err = e.errors()[0]
        key = ".".join(str(p) for p in err["loc"]) or "?"
        raise ParamsError(f"cell config {key}={err.get('input')!r}: {err['msg']}") from None


def check_operator_contract(pipeline_op, base_crop_op, split, batch_size: int, device: torch.device, seed: int) -> None:
    """Every operator's output checked on a first batch, before any training step (one device sync).

    The batch is the split's first ``batch_size`` images, the draws come from a generator of their own:
    the cell's random streams, and so its numbers, are the same as without the check.
    """
    from ..ops.validation import checked_apply

    gen = torch.Generator(device=device).manual_seed(derive_seed(seed, "contract"))
    x = split.head(min(batch_size, len(split))).to(device).float().div_(255.0)
    if base_crop_op is not None:
        x = checked_apply(base_crop_op, x, gen)
    for op in (pipeline_op if isinstance(pipeline_op, ViewPipelines) else [pipeline_op]):  # each view's own
        if op is not None and len(getattr(op, "operators", [op])):
            checked_apply(op, x, gen)


def run_cell(config: Union[CellConfig, dict], dataset=None,
             progress: Optional[Callable[[int, float], None]] = None, stop_at_epoch: Optional[int] = None,
             resume: Optional[bytes] = None) -> CellResult:
    """Train one model as ``config`` says, evaluate its frozen encoder, return a :class:`CellResult`.

    ``dataset`` (an ``augstudy.data.Dataset``) skips loading ``config.dataset``; ``progress(epoch,
    loss)`` is called after each epoch. A NaN/inf loss gives status ``diverged``; any other error raises.

    ``stop_at_epoch`` (before ``training.epochs``) trains that far, evaluates, and returns status ``paused``
    with the ``checkpoint`` that ``resume`` continues from: the resumed cell's curve and metrics are those
    of a run that never stopped.
    """
    cfg = as_config(config)
    t = cfg.training
    device = resolve_device(t.device)
    keep_freed_memory()  # CPU augmentation reuses its freed batches instead of page-faulting new ones
    with cpu_threads(t.threads):
        from .. import data, ops

        if cfg.plugins:
            ops.load_plugins(cfg.plugins)
        pipeline_op = ops.build(list(cfg.pipeline))  # bad names fail here, before any data is loaded
        if cfg.view2 is not None:
            pipeline_op = ViewPipelines(pipeline_op, ops.build(list(cfg.view2)))
        base_crop_op = ops.build(cfg.protocol.base_crop) if cfg.protocol.base_crop is not None else None
        method_cls = get_method(cfg.method)
        get_encoder(cfg.model.encoder)
        if dataset is None:  # in memory, or streamed from disk when it would not fit (dataset.stream)
            d = cfg.dataset
            dataset = data.open_dataset(d.name, d.params, d.stream, d.memory_budget, d.loader_workers)
        if cfg.validation is not None:  # train on the rest, evaluate on the held-out part: the test split is never seen
            from ..data.base import holdout

            dataset = holdout(dataset, cfg.validation.fraction, cfg.validation.seed)
        image_size = max(dataset.train.image_size)

        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(derive_seed(cfg.seed, "init"))
            encoder = build_encoder(cfg.model.encoder, image_size, **cfg.model.encoder_params)
            model = method_cls(encoder, cfg, dataset.num_classes)
        check_operator_contract(pipeline_op, base_crop_op, dataset.train, t.batch_size, device, cfg.seed)
        aug_gen = torch.Generator(device=device).manual_seed(derive_seed(cfg.seed, "augment"))
        batch_gen = torch.Generator().manual_seed(derive_seed(cfg.seed, "batches"))
        # drop_last keeps every step's batch (and BatchNorm statistics) full; a split smaller than
        # one batch is one batch of all of it
        batcher = data.make_batcher(dataset.train, min(t.batch_size, len(dataset.train)), batch_gen, device,
                                    drop_last=True)

        outcome = train(model, batcher, cfg, device, pipeline_op, base_crop_op, aug_gen, progress,
                        stop_at_epoch=stop_at_epoch, resume=resume)
        status = "diverged" if outcome.diverged else "paused" if outcome.checkpoint is not None else "done"
        result = CellResult(cell_id=cfg.cell_id(), status=status, checkpoint=outcome.checkpoint,
                            loss_per_epoch=outcome.loss_per_epoch, lr_per_epoch=outcome.lr_per_epoch, train_seconds=outcome.seconds,
                            images_per_second=outcome.images_per_second, device=str(device), seed=cfg.seed,
                            versions=versions(), error=outcome.error)
        if outcome.diverged:
            return result
        start = time.perf_counter()
        predictions: dict = {}
        metrics = evaluate(model.encoder, dataset, cfg.evaluation, device, model.projector,
                           bf16=uses_bf16(device, t.bf16, t.cpu_bf16), channels_last=t.channels_last,
                           predictions=predictions)
        result.eval_seconds = time.perf_counter() - start
        result.predictions = {k: v.numpy() for k, v in predictions.items()}
        for key, value in metrics.items():
            setattr(result, key, value)
        return result
