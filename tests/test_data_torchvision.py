"""cifar10 / cifar100 / stl10 through torchvision: a fake local CIFAR-10, the cache, and offline download errors.

Nothing here touches the network: download attempts run with the connection check forced to fail.
"""
from __future__ import annotations

import pickle
import socket
import time

import numpy as np
import pytest
import torch

from augstudy.data import load
from augstudy.errors import AugstudyError


def _fake_cifar10(root, n: int = 6) -> None:
    """Write a tiny CIFAR-10 in torchvision's pickle layout (n images per batch file)."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        entry = {"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), "labels": list(rng.integers(0, 10, n))}
        (folder / name).write_bytes(pickle.dumps(entry))
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": names}))


def test_cifar10_from_a_local_root_then_from_the_cache(tmp_path, monkeypatch):
    import torchvision.datasets.cifar as tv_cifar

    # The fake files have other checksums than the real archive.
    monkeypatch.setattr(tv_cifar.CIFAR10, "_check_integrity", lambda self: True)
    monkeypatch.setattr(tv_cifar, "check_integrity", lambda *a, **k: True)
    _fake_cifar10(tmp_path)
    ds = load("cifar10", root=str(tmp_path))
    assert ds.train.images.shape == (30, 3, 32, 32) and ds.test.images.shape == (6, 3, 32, 32)
    assert ds.classes[0] == "airplane" and ds.train.labels.dtype == torch.int64
    assert ds.info["cache_hit"] is False
    again = load("cifar10", root=str(tmp_path))
    assert again.info["cache_hit"] is True and torch.equal(again.train.images, ds.train.images)
    small = load("cifar10", root=str(tmp_path), size=16, cache=False)
    assert small.train.image_size == (16, 16)


def test_missing_data_without_download_names_the_root(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"cifar10 root '.*nowhere' does not exist.*download: true"):
        load("cifar10", root=str(tmp_path / "nowhere"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match=r"CIFAR100 not found under root '.*empty'"):
        load("cifar100", root=str(tmp_path / "empty"), cache=False)


@pytest.mark.parametrize("name", ["cifar10", "cifar100", "stl10"])
def test_download_without_a_network_fails_fast_with_one_line(tmp_path, monkeypatch, name):
    def offline(address, timeout=None, *a, **k):
        assert timeout is not None and timeout <= 10  # the check is bounded
        raise OSError("Network is unreachable")

    monkeypatch.setattr(socket, "create_connection", offline)
    t = time.monotonic()
    with pytest.raises(AugstudyError, match="download: true needs a network") as e:
        load(name, root=str(tmp_path / name), download=True, cache=False)
    assert "\n" not in str(e.value) and time.monotonic() - t < 30
    assert not any((tmp_path / name).rglob("*.tar.gz"))
