"""Datasets: the registry, the embedded ``synthetic`` default, cifar10/cifar100/stl10, imagefolder, batching."""
from .base import Dataset, Split
from .batcher import DeviceBatcher, StreamingBatcher
from .cache import cache_root
from .registry import available, dataset, describe, get, load

__all__ = ["Dataset", "Split", "dataset", "load", "available", "describe", "get", "DeviceBatcher",
           "StreamingBatcher", "cache_root"]
