"""What a dataset is: uint8 image tensors with labels, split into train and test."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import torch

from ..errors import DataError, ParamsError


@dataclass(frozen=True)
class Split:
    """One split: ``images`` uint8 ``[N, 3, H, W]`` and ``labels`` int64 ``[N]``.

    A split streamed from files (:class:`augstudy.data.streaming.FileSplit`) has the same ``labels``,
    ``image_size``, ``subset``, ``head`` and ``batches`` but no ``images`` tensor.
    """

    images: torch.Tensor
    labels: torch.Tensor

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.ndim != 4 or self.images.shape[1] != 3:
            raise DataError(f"Split.images must be uint8 [N, 3, H, W], got {self.images.dtype} {tuple(self.images.shape)}")
        if self.labels.dtype != torch.int64 or self.labels.shape != (self.images.shape[0],):
            raise DataError(f"Split.labels must be int64 [N] matching images, got {self.labels.dtype} {tuple(self.labels.shape)}")

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def image_size(self) -> tuple[int, int]:
        return int(self.images.shape[2]), int(self.images.shape[3])

    def subset(self, index: torch.Tensor) -> "Split":
        """The images at ``index`` (int64), in that order."""
        return Split(self.images[index], self.labels[index])

    def head(self, k: int) -> torch.Tensor:
        """The first ``k`` images (uint8 [k, 3, H, W])."""
        return self.images[:k]

    def batches(self, batch_size: int) -> Iterator[torch.Tensor]:
        """The images in order, ``batch_size`` at a time (uint8 CPU tensors); as :class:`~augstudy.data.streaming.FileSplit`."""
        for i in range(0, len(self), batch_size):
            yield self.images[i:i + batch_size]


@dataclass(frozen=True)
class Dataset:
    """Train and test splits plus class names; ``info`` holds provenance (cache path, params)."""

    train: Split
    test: Split
    classes: list[str]
    info: dict = field(default_factory=dict)

    @property
    def num_classes(self) -> int:
        return len(self.classes)


def per_class_subset(split, per_class: int | None, seed: int = 0):
    """At most ``per_class`` images of each class, drawn by a seeded permutation, in the split's order.

    Makes CPU-sized studies from real datasets (e.g. 500 CIFAR-10 images a class); ``None`` keeps all.
    """
    if per_class is None:
        return split
    if not isinstance(per_class, int) or per_class < 1:
        raise ParamsError(f"per-class subset size {per_class!r} must be a positive integer or null")
    order = torch.randperm(len(split), generator=torch.Generator().manual_seed(seed))
    labels = split.labels[order]
    rank = torch.zeros_like(labels)
    for c in labels.unique():
        mask = labels == c
        rank[mask] = torch.arange(int(mask.sum()))
    keep = order[rank < per_class].sort().values
    return split.subset(keep)


def holdout(dataset: Dataset, fraction: float, seed: int = 0) -> Dataset:
    """``dataset`` with ``fraction`` of its training split held out as the evaluation split.

    The held-out images (a seeded permutation, at least one, at most all but one) become ``test``; the
    rest stay ``train``. The original test split is not part of the result, so a model selected on it
    has never seen the test set. Both parts keep the training split's order.
    """
    n = len(dataset.train)
    if n < 2:
        raise ParamsError(f"a validation split needs at least 2 training images, the dataset has {n}")
    k = min(n - 1, max(1, round(fraction * n)))
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    val, rest = order[:k].sort().values, order[k:].sort().values
    tr = dataset.train
    return Dataset(tr.subset(rest), tr.subset(val), dataset.classes,
                   {**dataset.info, "validation": {"fraction": fraction, "seed": seed, "held_out": k}})
