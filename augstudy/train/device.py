"""Where a cell runs: resolve ``"auto"`` to a device, and scope the CPU thread count to a cell."""
from __future__ import annotations

import contextlib
import re
from typing import Iterator, Optional

import torch


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` -> ``cuda`` when available else ``cpu``; ``cpu``, ``cuda``, ``cuda:N`` as given."""
    name = str(name).strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not re.fullmatch(r"cpu|cuda(:\d+)?", name):
        raise ValueError(f"training.device={name!r} is not valid; use auto, cpu, cuda or cuda:N")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"training.device={name!r} but CUDA is not available here; use auto or cpu")
    return torch.device(name)


@contextlib.contextmanager
def cpu_threads(threads: Optional[int]) -> Iterator[None]:
    """Use ``threads`` intra-op CPU threads inside the block (None: leave as is); restore after."""
    if threads is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(int(threads))
    try:
        yield
    finally:
        torch.set_num_threads(before)
