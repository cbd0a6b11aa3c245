"""``cifar10``, ``cifar100`` and ``stl10`` through torchvision, cached as uint8 ``.npy``.

``root`` is the torchvision root (default: ``<cache dir>/torchvision``). ``download: true`` fetches the
archive (needs a network; checked first with a short timeout so an offline machine fails at once).
``size`` resizes (shorter side, then center crop) as for ``imagefolder``. STL-10 uses its labelled
``train`` (5,000) and ``test`` (8,000) splits; the unlabelled split is not loaded.
"""
from __future__ import annotations

import socket
from pathlib import Path
from typing import Optional
from urllib.parse import urlparse

import numpy as np
import torch

from ..errors import AugstudyError, ParamsError, PathError
from .base import Dataset, Split
from .cache import cache_root, cached
from .imagefolder import _cache_root_for, resize_square
from .registry import dataset

#: Seconds to wait for the download host before declaring the machine offline.
NETWORK_TIMEOUT = 5.0
_VERSION = "1"


def check_network(url: str, timeout: float = NETWORK_TIMEOUT) -> None:
    """Raise a one-line error if ``url``'s host cannot be reached within ``timeout`` seconds."""
    u = urlparse(url)
    port = u.port or (443 if u.scheme == "https" else 80)
    try:
        socket.create_connection((u.hostname, port), timeout=timeout).close()
    except OSError as e:
        raise AugstudyError(f"download: true needs a network, but {u.hostname}:{port} cannot be reached ({e}); "
                            "download the archive elsewhere and pass root, or set download: false") from None


def _torchvision_split(cls, root: Path, download: bool, **kwargs):
    """One torchvision dataset object; a missing archive becomes a one-line error naming the root."""
    if download:
        check_network(cls.url)
        old = socket.getdefaulttimeout()
        socket.setdefaulttimeout(60)  # a stalled transfer fails instead of hanging
        try:
            return cls(str(root), download=True, **kwargs)
        except OSError as e:
            raise AugstudyError(f"downloading {cls.__name__} into '{root}' failed: {e}") from None
        finally:
            socket.setdefaulttimeout(old)
    try:
        return cls(str(root), download=False, **kwargs)
    except RuntimeError as e:
        raise PathError(f"{cls.__name__} not found under root '{root}' ({e}); pass download: true "
                                "(needs a network) or a root holding the extracted archive") from None


def _split(images_nhwc: np.ndarray, labels, size: Optional[int]) -> Split:
    if size:
        images_nhwc = np.stack([resize_square(a, size) for a in images_nhwc])
    images = np.ascontiguousarray(images_nhwc.transpose(0, 3, 1, 2))
    return Split(torch.from_numpy(images), torch.as_tensor(np.asarray(labels), dtype=torch.int64))


def _load(name: str, root: Optional[str], download: bool, size: Optional[int], cache: bool, get) -> Dataset:
    """Shared path: resolve root, check params, read (or load the cached arrays of) both splits."""
    if size is not None and (not isinstance(size, int) or size < 1):
        raise ParamsError(f"{name} size={size!r} must be a positive integer (pixels)")
    root_path = Path(root).expanduser() if root else cache_root() / "torchvision"
    if not download and not root_path.exists():
        raise PathError(f"{name} root '{root_path}' does not exist; pass download: true (needs a network) "
                                "or the folder holding the extracted archive")
    root_path.mkdir(parents=True, exist_ok=True)

    def build() -> Dataset:
        train, test, classes = get(root_path, download)
        return Dataset(_split(*train, size), _split(*test, size), list(classes),
                       info={"name": name, "root": str(root_path), "params": {"size": size}})

    cache_at = _cache_root_for(root_path, None)
    payload = {"name": name, "size": size, "version": _VERSION}
    if cache:  # a cached entry needs no torchvision files (and no download)
        return cached(name, payload, build, root=cache_at)
    return cached(name, payload, build, use_cache=False)


def _cifar(cls):
    def get(root: Path, download: bool):
        tr = _torchvision_split(cls, root, download, train=True)
        te = _torchvision_split(cls, root, False, train=False)
        return (tr.data, tr.targets), (te.data, te.targets), tr.classes
    return get


@dataset("cifar10")
def cifar10(root: Optional[str] = None, download: bool = False, size: Optional[int] = None,
            cache: bool = True) -> Dataset:
    """CIFAR-10 (Krizhevsky 2009): 50,000 train and 10,000 test images, 32x32, 10 classes (torchvision)."""
    from torchvision.datasets import CIFAR10

    return _load("cifar10", root, download, size, cache, _cifar(CIFAR10))


@dataset("cifar100")
def cifar100(root: Optional[str] = None, download: bool = False, size: Optional[int] = None,
             cache: bool = True) -> Dataset:
    """CIFAR-100 (Krizhevsky 2009): 50,000 train and 10,000 test images, 32x32, 100 fine classes (torchvision)."""
    from torchvision.datasets import CIFAR100

    return _load("cifar100", root, download, size, cache, _cifar(CIFAR100))


@dataset("stl10")
def stl10(root: Optional[str] = None, download: bool = False, size: Optional[int] = None,
          cache: bool = True) -> Dataset:
    """STL-10 (Coates et al. 2011): 5,000 labelled train and 8,000 test images, 96x96, 10 classes (torchvision)."""
    from torchvision.datasets import STL10

    def get(root_path: Path, dl: bool):
        tr = _torchvision_split(STL10, root_path, dl, split="train")
        te = _torchvision_split(STL10, root_path, False, split="test")
        return (tr.data.transpose(0, 2, 3, 1), tr.labels), (te.data.transpose(0, 2, 3, 1), te.labels), tr.classes

    return _load("stl10", root, download, size, cache, get)


__all__ = ["cifar10", "cifar100", "stl10", "check_network", "NETWORK_TIMEOUT"]
