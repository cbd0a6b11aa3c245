"""Datasets: the registry, the embedded ``synthetic`` default, cifar10/cifar100/stl10, imagefolder, batching, streaming."""
from .base import Dataset, Split
from .batcher import DeviceBatcher, StreamingBatcher, make_batcher
from .cache import cache_root
from .registry import available, dataset, describe, get, load
from .streaming import FileSplit, can_stream, open_dataset, stream_source

__all__ = ["Dataset", "Split", "dataset", "load", "available", "describe", "get", "DeviceBatcher",
           "StreamingBatcher", "make_batcher", "cache_root", "FileSplit", "can_stream", "open_dataset", "stream_source"]
