"""Shared helpers for the data tests: an isolated cache dir and small images written to disk."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture
def cache_env(tmp_path, monkeypatch) -> Path:
    """Point ``$AUGSTUDY_CACHE`` at a fresh temporary folder."""
    root = tmp_path / "augcache"
    monkeypatch.setenv("AUGSTUDY_CACHE", str(root))
    return root


def digest(*tensors) -> str:
    """sha256 of the bytes of the given tensors (shape included)."""
    h = hashlib.sha256()
    for t in tensors:
        a = np.ascontiguousarray(t.numpy())
        h.update(str(a.shape).encode() + str(a.dtype).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def write_image(path: Path, kind: str = "rgb", size=(12, 9), seed: int = 0, fmt: str | None = None) -> Path:
    """Write a small random image of ``kind`` (rgb, gray, rgba, gray16, palette) with PIL."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    w, h = size
    if kind == "rgb":
        img = Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), "RGB")
    elif kind == "gray":
        img = Image.fromarray(rng.integers(0, 256, (h, w), dtype=np.uint8), "L")
    elif kind == "rgba":
        img = Image.fromarray(rng.integers(0, 256, (h, w, 4), dtype=np.uint8), "RGBA")
    elif kind == "gray16":
        img = Image.fromarray(rng.integers(0, 65536, (h, w), dtype=np.uint16))
    elif kind == "palette":
        img = Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), "RGB").convert("P")
    else:
        raise ValueError(kind)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, format=fmt)
    return path
