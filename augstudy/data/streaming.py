"""Datasets too large to decode into memory: splits of image files, streamed in batches.

``open_dataset(name, params, stream, memory_budget)`` is how a cell gets its data. ``stream: false``
loads the dataset into memory (``load``); ``stream: true`` streams it from disk; ``stream: auto`` (the
default) streams when the decoded images the in-memory path would hold (``N x 3 x H x W`` bytes for
every image of the dataset, both splits) exceed ``memory_budget`` bytes (default
:data:`DEFAULT_MEMORY_FRACTION` of the memory available when the cell starts).

A streamed dataset is a plain :class:`~augstudy.data.base.Dataset` whose splits are :class:`FileSplit`
s: file paths and labels, decoded on demand by the same function as the in-memory path
(``imagefolder.decode``), so the same seed gives the same images in the same order, and the same
numbers. Only datasets registered in :data:`STREAMS` can stream (``imagefolder``); a plugin dataset
registers a stream source with ``@stream_source("name")``: a function of the dataset's params that
returns a :class:`StreamPlan`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Optional, Sequence, Union

import numpy as np
import torch

from ..errors import ParamsError
from ..registry import Registry
from .base import Dataset

#: ``stream: auto`` streams when the decoded dataset would take more than this fraction of available memory.
DEFAULT_MEMORY_FRACTION = 0.25


def _check(name: str, fn: Any) -> None:
    if not callable(fn):
        from ..errors import RegistrationError

        raise RegistrationError(f"@stream_source({name!r}) needs a function returning a StreamPlan")


#: Datasets that can stream: name -> ``fn(**params) -> StreamPlan`` (the dataset's own params).
STREAMS: Registry[Callable[..., "StreamPlan"]] = Registry(
    "streaming dataset", builtins=["augstudy.data.imagefolder"], entry_point_group="augstudy.streams", check=_check)


def stream_source(name: str) -> Callable:
    """Register ``fn(**params) -> StreamPlan`` as the way to stream the dataset ``name``."""
    return STREAMS.register(name)


def can_stream() -> list[str]:
    """Names of the datasets that can stream from disk."""
    return STREAMS.names()


class FileSplit:
    """A split as files: ``files`` (paths), ``labels`` int64 [N], decoded on demand to uint8 [3, H, W].

    ``decode(path) -> uint8 [H, W, 3]`` is the dataset's decoder (the same as its in-memory path);
    ``shape`` is ``(H, W)`` of every decoded image; ``num_workers`` is how many DataLoader worker
    processes decode in parallel (0: in this process).
    """

    def __init__(self, files: Sequence[str], labels, decode: Callable[[str], np.ndarray], shape: tuple[int, int],
                 num_workers: int = 0) -> None:
        self.files = list(files)
        self.labels = torch.as_tensor(np.asarray(labels, np.int64))
        if len(self.files) != len(self.labels):
            raise ValueError(f"FileSplit got {len(self.files)} files but {len(self.labels)} labels")
        self.decode, self.shape, self.num_workers = decode, (int(shape[0]), int(shape[1])), int(num_workers)

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        a = self.decode(self.files[i])
        if a.shape[:2] != self.shape:
            from ..errors import DataError

            raise DataError(f"image '{self.files[i]}' decodes to {a.shape[1]}x{a.shape[0]}, the split's images are "
                            f"{self.shape[1]}x{self.shape[0]}; set the dataset's size to resize them all")
        return torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1))), int(self.labels[i])

    @property
    def image_size(self) -> tuple[int, int]:
        return self.shape

    def subset(self, index: torch.Tensor) -> "FileSplit":
        """The files at ``index`` (int64), in that order."""
        idx = torch.as_tensor(index, dtype=torch.int64).tolist()
        return FileSplit([self.files[i] for i in idx], self.labels[idx], self.decode, self.shape, self.num_workers)

    def read(self, index: Sequence[int]) -> torch.Tensor:
        """Decode the files at ``index`` here: uint8 [k, 3, H, W]."""
        return torch.stack([self[int(i)][0] for i in index]) if len(index) else torch.zeros(0, 3, *self.shape, dtype=torch.uint8)

    def head(self, k: int) -> torch.Tensor:
        """The first ``k`` images (uint8 [k, 3, H, W])."""
        return self.read(range(min(k, len(self))))

    def loader(self, batches: Sequence[Sequence[int]], pin_memory: bool = False):
        """A DataLoader yielding ``(uint8 [B, 3, H, W], int64 [B])`` for each index batch, in order."""
        workers = usable_workers(self.num_workers)
        kwargs = {"prefetch_factor": 2, "multiprocessing_context": _worker_context()} if workers > 0 else {}
        return torch.utils.data.DataLoader(self, batch_sampler=batches, num_workers=workers,
                                           pin_memory=pin_memory, **kwargs)

    def batches(self, batch_size: int) -> Iterator[torch.Tensor]:
        """The images in order, ``batch_size`` at a time (uint8 CPU tensors); memory: a few batches."""
        order = [list(range(i, min(i + batch_size, len(self)))) for i in range(0, len(self), batch_size)]
        for x, _ in self.loader(order):
            yield x


def usable_workers(n: int) -> int:
    """``n``, or 0 in a daemonic process (a Dask worker by default), which may not start processes: the
    cell then decodes in its own process (the same batches; set Dask's ``distributed.worker.daemon:
    false`` to decode in parallel there)."""
    import multiprocessing

    return 0 if n > 0 and multiprocessing.current_process().daemon else n


def _worker_context():
    """The DataLoader workers' start method, named explicitly: inside a loky or Dask worker process the
    default context is the executor's own, which cannot start them. ``fork`` where there is one (Linux:
    nothing to pickle, the parent's imports are shared), else ``spawn``."""
    import multiprocessing

    return multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")


@dataclass
class StreamPlan:
    """What streaming a dataset takes: ``decoded_bytes`` (what the in-memory path would hold, known
    before anything is decoded) and ``open(num_workers) -> Dataset`` of :class:`FileSplit` s."""

    decoded_bytes: int
    open: Callable[[int], Dataset]


def default_loader_workers() -> int:
    """DataLoader worker processes per streaming cell: up to 4, fewer on a machine with fewer cores."""
    return max(1, min(4, (os.cpu_count() or 1) - 1))


def memory_budget_bytes(memory_budget: Optional[int] = None) -> int:
    """``memory_budget`` or :data:`DEFAULT_MEMORY_FRACTION` of the memory available now (psutil)."""
    if memory_budget is not None:
        return int(memory_budget)
    import psutil

    return int(psutil.virtual_memory().available * DEFAULT_MEMORY_FRACTION)


def check_stream(name: str, stream: Union[bool, str]) -> None:
    """``stream: true`` on a dataset that cannot stream: one line naming the key and those that can."""
    if stream is True and name not in STREAMS:
        raise ParamsError(f"dataset.stream: true: dataset {name!r} cannot stream from disk; datasets that can: "
                          f"{', '.join(can_stream()) or 'none'} (use stream: auto or false)")


def should_stream(name: str, params: dict[str, Any], stream: Union[bool, str] = "auto",
                  memory_budget: Optional[int] = None) -> Optional[StreamPlan]:
    """The plan to stream dataset ``name``, or None when it is to be loaded into memory."""
    check_stream(name, stream)
    if stream is False or name not in STREAMS:
        return None
    plan = STREAMS.get(name)(**params)
    if stream is True or plan.decoded_bytes > memory_budget_bytes(memory_budget):
        return plan
    return None


def open_dataset(name: str, params: dict[str, Any], stream: Union[bool, str] = "auto",
                 memory_budget: Optional[int] = None, loader_workers: Optional[int] = None) -> Dataset:
    """A cell's dataset: in memory (``load``) or streamed from disk, as ``stream`` and the budget say.

    The result says which in ``info["streamed"]``; a streamed dataset's splits are :class:`FileSplit` s.
    """
    from .registry import load

    plan = should_stream(name, params, stream, memory_budget)
    if plan is None:
        return load(name, **params)
    ds = plan.open(default_loader_workers() if loader_workers is None else loader_workers)
    return Dataset(ds.train, ds.test, ds.classes, {**ds.info, "name": name, "streamed": True,
                                                   "decoded_bytes": plan.decoded_bytes})
