"""Batches for training: on-device index batching for in-memory splits, a DataLoader for large folders.

:class:`DeviceBatcher` holds a split's uint8 tensor on the training device and draws shuffled batches
by index: no DataLoader worker round trip, one permutation per epoch from a seeded generator (every
index once per epoch; with ``drop_last`` the last ``N % batch_size`` of the order are left out), and the
conversion to float in [0, 1] happens on the device. :class:`StreamingBatcher` has the same interface for
image folders too large for memory: DataLoader workers decode and resize to a fixed size, and the
batch is moved to the device as uint8 and converted there, so the batched operators still run on the device.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Iterator, Optional, Sequence

import numpy as np
import torch

from .base import Split
from ..errors import ParamsError


class _ShuffledBatches:
    """Epoch orders and index batches shared by both batchers."""

    def __init__(self, n: int, batch_size: int, generator: Optional[torch.Generator], seed: Optional[int],
                 device, drop_last: bool, shuffle: bool) -> None:
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ParamsError(f"batch_size={batch_size!r} must be a positive integer")
        if drop_last and batch_size > n:
            raise ParamsError(f"batch_size={batch_size} is larger than the split ({n} images) with drop_last=True")
        if generator is not None and seed is not None:
            raise ValueError("pass either generator or seed, not both")
        if shuffle and generator is None and seed is None:
            raise ValueError("shuffle=True needs a seeded torch.Generator (generator=...) or seed=...")
        if generator is None and seed is not None:
            generator = torch.Generator().manual_seed(int(seed))
        if generator is not None and generator.device.type != "cpu":
            raise ValueError(f"the batch-order generator must live on the CPU, got {generator.device}")
        self.n, self.batch_size, self.drop_last, self.shuffle = n, batch_size, drop_last, shuffle
        self.generator = generator
        self.device = torch.device(device)

    def __len__(self) -> int:
        """Batches per epoch."""
        return self.n // self.batch_size if self.drop_last else math.ceil(self.n / self.batch_size)

    def epoch_order(self) -> torch.Tensor:
        """The next epoch's order of indices (a permutation if ``shuffle``); advances the generator."""
        if self.shuffle:
            return torch.randperm(self.n, generator=self.generator)
        return torch.arange(self.n)

    def iter_indices(self) -> Iterator[torch.Tensor]:
        """One epoch of index batches (CPU int64)."""
        order = self.epoch_order()
        for k in range(len(self)):
            yield order[k * self.batch_size:(k + 1) * self.batch_size]


class DeviceBatcher(_ShuffledBatches):
    """Shuffled batches ``(x float32 [B, 3, H, W] in [0, 1], labels int64 [B])`` of a split held on ``device``.

    Each iteration is one epoch. ``seed`` (or an explicit CPU ``generator``) fixes every epoch's order.
    """

    def __init__(self, split: Split, batch_size: int, generator: Optional[torch.Generator] = None,
                 device: str | torch.device = "cpu", drop_last: bool = True, shuffle: bool = True,
                 seed: Optional[int] = None) -> None:
        super().__init__(len(split), batch_size, generator, seed, device, drop_last, shuffle)
        self.images = split.images.to(self.device)  # uint8 on the device: 4x smaller than float
        self.labels = split.labels.to(self.device)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for idx in self.iter_indices():
            idx = idx.to(self.device, non_blocking=True)
            yield self.images.index_select(0, idx).float().div_(255.0), self.labels.index_select(0, idx)


class StreamingBatcher(_ShuffledBatches):
    """Like :class:`DeviceBatcher` for image files too many for memory: DataLoader workers decode each
    index batch of the seeded epoch order (the same order as :class:`DeviceBatcher` with the same
    generator), the uint8 batch is moved to ``device`` and converted there. Memory: a few batches.

    Give it a :class:`~augstudy.data.streaming.FileSplit` (``from_split``), or ``files``, ``labels`` and
    ``size`` (decoded by ``imagefolder.decode``, resized to ``size`` x ``size``).
    """

    def __init__(self, files: Sequence[Path], labels, size: int, batch_size: int,
                 generator: Optional[torch.Generator] = None, device: str | torch.device = "cpu",
                 drop_last: bool = True, shuffle: bool = True, seed: Optional[int] = None,
                 num_workers: Optional[int] = None, split=None) -> None:
        from .streaming import FileSplit, default_loader_workers

        if split is None:
            if len(files) != len(labels):
                raise ValueError(f"StreamingBatcher got {len(files)} files but {len(labels)} labels")
            if not isinstance(size, int) or size < 1:
                raise ParamsError(f"StreamingBatcher size={size!r} must be a positive integer (pixels)")
            from .imagefolder import decoder

            split = FileSplit([str(f) for f in files], labels, decoder(size), (size, size))
        super().__init__(len(split), batch_size, generator, seed, device, drop_last, shuffle)
        self.num_workers = default_loader_workers() if num_workers is None else num_workers
        self.split = split

    @classmethod
    def from_split(cls, split, batch_size: int, **kwargs) -> "StreamingBatcher":
        """Stream a :class:`~augstudy.data.streaming.FileSplit` (its ``num_workers`` unless given)."""
        kwargs.setdefault("num_workers", split.num_workers)
        return cls(split.files, split.labels, None, batch_size, split=split, **kwargs)

    @classmethod
    def from_folder(cls, root: str, split: str = "train", size: int = 32, test_fraction: float = 0.2,
                    split_seed: int = 0, **kwargs) -> "StreamingBatcher":
        """Stream the ``train`` or ``test`` split of an image folder (same layouts as ``imagefolder``)."""
        from .imagefolder import scan

        if split not in ("train", "test"):
            raise ValueError(f"split={split!r} must be 'train' or 'test'")
        index = scan(root, test_fraction, split_seed)
        files, labels = ((index.train_files, index.train_labels) if split == "train"
                         else (index.test_files, index.test_labels))
        batcher = cls(files, labels, size, **kwargs)
        batcher.classes = index.classes
        return batcher

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        from .streaming import FileSplit

        batches = [b.tolist() for b in self.iter_indices()]
        split = FileSplit(self.split.files, self.split.labels, self.split.decode, self.split.shape, self.num_workers)
        for x, y in split.loader(batches, pin_memory=self.device.type == "cuda"):
            yield (x.to(self.device, non_blocking=True).float().div_(255.0),
                   y.to(self.device, non_blocking=True))


def make_batcher(split, batch_size: int, generator: torch.Generator, device, drop_last: bool = True):
    """The batcher for ``split``: :class:`DeviceBatcher` for an in-memory :class:`Split`,
    :class:`StreamingBatcher` for a :class:`~augstudy.data.streaming.FileSplit` (same batch order)."""
    if isinstance(split, Split):
        return DeviceBatcher(split, batch_size, generator=generator, device=device, drop_last=drop_last)
    return StreamingBatcher.from_split(split, batch_size, generator=generator, device=device, drop_last=drop_last)
