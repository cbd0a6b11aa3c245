"""Atomic file writes, used by every room: write a temp file beside the target, fsync, rename into place.

A reader never sees half a file, and a run killed mid-write leaves only a ``.<name>.*.tmp`` file
(which the store removes under its lock). Files get the mode the user's umask gives a new file
(0644 under the usual 022), not ``mkstemp``'s private 0600, so a lab's shared results folder stays
readable by colleagues.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable

TMP_SUFFIX = ".tmp"


def _umask_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write(path: Path | str, write: Callable[[str], None], durable: bool = True) -> Path:
    """Call ``write(tmp_path)`` to fill a temp file beside ``path``, fsync it and rename it to ``path``.

    ``durable=False`` skips the fsync: the rename still makes the write atomic for readers and for a
    killed process; only a power loss can then leave the file empty, for files whose loss is detected
    and repaired (a cell's side files before its metrics.json, the derived results tables).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TMP_SUFFIX, dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        if durable:
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
        os.chmod(tmp, _umask_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_bytes(path: Path | str, data: bytes, durable: bool = True) -> Path:
    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:
            f.write(data)

    return atomic_write(path, write, durable=durable)


def atomic_write_text(path: Path | str, text: str, durable: bool = True) -> Path:
    """``text`` as UTF-8 with ``\\n`` line ends."""
    return atomic_write_bytes(path, text.encode("utf-8"), durable=durable)


def atomic_write_json(path: Path | str, obj: Any, durable: bool = True) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=str, allow_nan=True) + "\n",
                             durable=durable)
