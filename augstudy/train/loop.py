"""The training loop shared by every method: batching, views, optimiser, schedule, divergence.

A run can stop after an epoch and go on later exactly as if it had not stopped (a search's pruner trains a
trial to a rung, and continues only the promising ones): ``stop_at_epoch`` ends training after that
epoch with :attr:`TrainOutcome.checkpoint` set, the bytes of every state the following epochs depend on
(the method's ``state_dict``, with any target networks, queues and buffers, and what a method keeps in
``get_extra_state``; the optimiser, the schedule, the augmentation and batch-order generators, the step and
the curve so far); ``resume`` (those bytes) continues from there. The schedule always spans
``training.epochs``, so the resumed run's curve is the uninterrupted run's, bit for bit on the CPU.
"""
from __future__ import annotations

import io
import math
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import torch

from .config import CellConfig
from .compiled import compiled_or_eager
from .device import autocast_for, set_cuda_flags, uses_bf16
from .method import Method
from .optim import build_optimizer, warmup_cosine


@dataclass
class TrainOutcome:
    """What a training run produced: per-epoch mean loss, whether it diverged, and its cost."""

    loss_per_epoch: list[float] = field(default_factory=list)
    lr_per_epoch: list[float] = field(default_factory=list)  # learning rate after each epoch's last step
    diverged: bool = False
    error: Optional[str] = None
    seconds: float = 0.0
    images: int = 0
    #: the state after the last epoch when training stopped before ``training.epochs`` (``stop_at_epoch``)
    checkpoint: Optional[bytes] = field(default=None, repr=False)

    @property
    def images_per_second(self) -> float:
        return self.images / self.seconds if self.seconds > 0 else 0.0


def train(model: Method, batcher, config: CellConfig, device: torch.device, pipeline_op, base_crop_op,
          aug_generator: torch.Generator, progress: Optional[Callable[[int, float], None]] = None,
          stop_at_epoch: Optional[int] = None, resume: Optional[bytes] = None) -> TrainOutcome:
    """Train ``model`` in place; ``batcher`` yields one epoch of ``(x float [0, 1] on device, labels)`` per
    iteration and has ``len()`` = batches per epoch and ``batch_size`` (``augstudy.data.DeviceBatcher``).

    A NaN or infinite loss stops training with ``diverged`` set (checked every step on the CPU,
    once an epoch on CUDA to avoid a sync per step).

    ``stop_at_epoch`` stops after that epoch (< ``training.epochs``: with a checkpoint); ``resume`` is the
    checkpoint of an earlier run of the same config, continued from its epoch (see the module docstring).
    """
    t = config.training
    steps_per_epoch = len(batcher)
    lr = t.lr * batcher.batch_size / 256 if t.scale_lr else t.lr
    memory_format = torch.channels_last if t.channels_last else torch.contiguous_format
    model.to(device=device, memory_format=memory_format).train()  # before the optimiser: fused AdamW needs it
    optimizer = build_optimizer(model, t.optimizer, lr, t.momentum, t.weight_decay, fused=device.type == "cuda")
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, warmup_cosine(t.epochs * steps_per_epoch, round(t.warmup_epochs * steps_per_epoch)))
    loss_fn = compiled_or_eager(model, t.compile)
    set_cuda_flags(device, t.deterministic)
    check_each_step = device.type != "cuda"
    bf16 = uses_bf16(device, t.bf16, t.cpu_bf16)

    out = TrainOutcome()
    start = time.perf_counter()
    step, total_steps, first = 0, t.epochs * steps_per_epoch, 1
    batch_generator = getattr(batcher, "generator", None)
    if resume is not None:
        state = torch.load(io.BytesIO(resume), map_location="cpu", weights_only=True)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        aug_generator.set_state(state["aug_generator"])
        if batch_generator is not None:
            batch_generator.set_state(state["batch_generator"])
        step, first = state["step"], state["epoch"] + 1
        out.loss_per_epoch, out.lr_per_epoch = list(state["loss_per_epoch"]), list(state["lr_per_epoch"])
        out.images, prior_seconds = state["images"], state["seconds"]
    else:
        prior_seconds = 0.0
    last = t.epochs if stop_at_epoch is None else min(stop_at_epoch, t.epochs)
    if last < first - 1:
        raise ValueError(f"cannot stop at epoch {last}: the checkpoint resumed is at epoch {first - 1}")
    for epoch in range(first, last + 1):
        model.on_epoch_start(epoch, t.epochs)
        total = torch.zeros((), device=device)
        for x, y in batcher:
            inputs = model.make_inputs(x, y, pipeline_op, base_crop_op, aug_generator)
            inputs = tuple(v.contiguous(memory_format=memory_format) if v.ndim == 4 else v for v in inputs)
            with autocast_for(device, bf16):
                loss = loss_fn(*inputs)
            if check_each_step and not math.isfinite(loss.item()):
                total = loss.detach()
                break
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            step += 1
            with torch.no_grad():
                model.on_after_step(step, total_steps)
            total += loss.detach()
            out.images += int(x.shape[0])
        mean = total.item() / steps_per_epoch
        if not math.isfinite(mean):
            out.diverged = True
            out.error = f"loss became {mean} in epoch {epoch}"
            break
        out.loss_per_epoch.append(mean)
        out.lr_per_epoch.append(float(schedule.get_last_lr()[0]))
        if progress is not None:
            progress(epoch, mean)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    out.seconds = prior_seconds + time.perf_counter() - start
    if not out.diverged and last < t.epochs:
        out.checkpoint = _checkpoint(model, optimizer, schedule, aug_generator, batch_generator, step, last, out)
    model.eval()
    return out


def _checkpoint(model, optimizer, schedule, aug_generator, batch_generator, step: int, epoch: int,
                out: TrainOutcome) -> bytes:
    """The bytes ``train(resume=...)`` continues from (tensors and plain values only: loadable weights-only)."""
    state = {"epoch": epoch, "step": step, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
             "schedule": schedule.state_dict(),
             "aug_generator": aug_generator.get_state(),
             "batch_generator": batch_generator.get_state() if batch_generator is not None else None,
             "loss_per_epoch": list(out.loss_per_epoch), "lr_per_epoch": list(out.lr_per_epoch),
             "images": out.images, "seconds": out.seconds}
    buf = io.BytesIO()
    torch.save(state, buf)
    return buf.getvalue()
