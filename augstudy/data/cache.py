"""On-disk cache of decoded or generated datasets: one folder of uint8 ``.npy`` arrays per key.

The cache root is ``$AUGSTUDY_CACHE`` if set, else the user cache dir (``platformdirs``;
``~/.cache/augstudy`` on Linux). An entry is a folder ``<root>/<name>/<key>/`` holding
``{train,test}_{images,labels}.npy`` and ``meta.json``; it is written to a temporary folder and
renamed into place, so a reader never sees a half-written entry.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .base import Dataset, Split

_ARRAYS = ("train_images", "train_labels", "test_images", "test_labels")


def cache_root() -> Path:
    """The cache root: ``$AUGSTUDY_CACHE`` or the user cache dir for ``augstudy``."""
    env = os.environ.get("AUGSTUDY_CACHE")
    if env:
        return Path(env).expanduser()
    try:
        from platformdirs import user_cache_dir
    except ImportError:  # pragma: no cover - platformdirs is a declared dependency
        return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "augstudy"
    return Path(user_cache_dir("augstudy", appauthor=False))


def cache_key(payload: Any) -> str:
    """A short stable hash of a JSON-able payload (params plus a code version)."""
    blob = json.dumps(payload, sort_keys=True, default=str).encode("utf-8", "surrogateescape")  # non-UTF-8 paths
    return hashlib.sha256(blob).hexdigest()[:16]


def entry_dir(name: str, key: str, root: Path | None = None) -> Path:
    """Where the entry ``key`` of dataset ``name`` lives (it may not exist yet)."""
    return Path(root if root is not None else cache_root()) / name / key


def load_entry(path: Path) -> Dataset | None:
    """The dataset cached at ``path``, or None if there is no complete entry there."""
    path = Path(path)
    meta_file = path / "meta.json"
    if not meta_file.is_file():
        return None
    meta = json.loads(meta_file.read_text())
    arrays = {k: np.load(path / f"{k}.npy") for k in _ARRAYS}
    info = dict(meta.get("info", {}), cache=str(path), cache_hit=True)
    return Dataset(
        train=Split(torch.from_numpy(arrays["train_images"]), torch.from_numpy(arrays["train_labels"])),
        test=Split(torch.from_numpy(arrays["test_images"]), torch.from_numpy(arrays["test_labels"])),
        classes=list(meta["classes"]),
        info=info,
    )


def save_entry(path: Path, dataset: Dataset) -> Path:
    """Write ``dataset`` to ``path`` atomically (temp folder + rename); an existing entry wins."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        tmp.chmod(0o755)  # mkdtemp makes it private; a cache next to shared data should be readable
        arrays = {
            "train_images": dataset.train.images, "train_labels": dataset.train.labels,
            "test_images": dataset.test.images, "test_labels": dataset.test.labels,
        }
        for k, t in arrays.items():
            np.save(tmp / f"{k}.npy", np.ascontiguousarray(t.cpu().numpy()))
        info = {k: v for k, v in dataset.info.items() if k not in ("cache", "cache_hit")}
        (tmp / "meta.json").write_text(json.dumps({"classes": dataset.classes, "info": info},
                                                  indent=1, default=str))
        try:
            os.replace(tmp, path)
        except OSError:  # another process finished the same entry first: keep theirs
            if not (path / "meta.json").is_file():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return path


def cached(name: str, payload: Any, build, root: Path | None = None, use_cache: bool = True) -> Dataset:
    """Load the entry for ``(name, payload)`` or ``build()`` it and save it; ``info['cache']`` says where."""
    path = entry_dir(name, cache_key(payload), root)
    if use_cache:
        hit = load_entry(path)
        if hit is not None:
            return hit
    ds = build()
    if use_cache:
        try:
            save_entry(path, ds)
        except OSError as e:  # a read-only cache must not stop a run
            import warnings

            warnings.warn(f"could not write the dataset cache at {path}: {e}", stacklevel=2)
            path = None
    info = dict(ds.info, cache=str(path) if use_cache and path else None, cache_hit=False)
    return Dataset(ds.train, ds.test, ds.classes, info)
