"""Where a cell runs: resolve ``"auto"`` to a device, scope the CPU thread count, bf16 autocast."""
from __future__ import annotations

import contextlib
import os
import re
from typing import Iterator, Optional

import torch

from ..errors import ParamsError


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` -> ``cuda`` when available else ``cpu``; ``cpu``, ``cuda``, ``cuda:N`` as given."""
    name = str(name).strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not re.fullmatch(r"cpu|cuda(:\d+)?", name):
        raise ParamsError(f"training.device={name!r} is not valid; use auto, cpu, cuda or cuda:N")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ParamsError(f"training.device={name!r} but CUDA is not available here; use auto or cpu")
    return torch.device(name)


def device_kind(name: str = "auto") -> str:
    """The device type a cell with ``training.device=name`` runs on here (``cpu`` or ``cuda``), without raising."""
    name = str(name).strip().lower()
    if name == "auto":
        return resolve_device("auto").type
    return "cuda" if name.startswith("cuda") else "cpu"


@contextlib.contextmanager
def cpu_threads(threads: Optional[int]) -> Iterator[None]:
    """Use ``threads`` intra-op CPU threads (torch and OpenCV) inside the block (None: leave as is); restore after."""
    if threads is None:
        yield
        return
    import cv2  # the operators' OpenCV calls (hue on the CPU) get the same thread budget

    before, cv_before = torch.get_num_threads(), cv2.getNumThreads()
    torch.set_num_threads(int(threads))
    cv2.setNumThreads(int(threads))
    try:
        yield
    finally:
        torch.set_num_threads(before)
        cv2.setNumThreads(cv_before)


def uses_bf16(device: torch.device, bf16: bool, cpu_bf16: bool) -> bool:
    """Whether a cell autocasts to bf16: ``bf16`` on CUDA, ``cpu_bf16`` on the CPU."""
    return bf16 if device.type == "cuda" else (cpu_bf16 and device.type == "cpu")


def autocast_for(device: torch.device, enabled: bool):
    """bf16 autocast on ``device`` when ``enabled``; a no-op context otherwise."""
    return torch.autocast(device.type, dtype=torch.bfloat16) if enabled else contextlib.nullcontext()


def set_cuda_flags(device: torch.device, deterministic: bool) -> None:
    """On CUDA: ``cudnn.benchmark`` (batch shapes are fixed), or with ``deterministic`` cudnn's deterministic
    kernels and ``torch.use_deterministic_algorithms`` (warn-only: an op without a deterministic CUDA kernel
    warns instead of stopping the cell). Every CUDA cell sets all three, so no cell inherits another's;
    on other devices nothing is touched."""
    if device.type != "cuda":
        return
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # cuBLAS's deterministic workspace
    torch.backends.cudnn.benchmark = not deterministic
    torch.backends.cudnn.deterministic = deterministic
    torch.use_deterministic_algorithms(deterministic, warn_only=True)
