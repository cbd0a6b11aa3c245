"""Which code path an operator takes, and a counter of the torch calls (and host syncs) it makes.

Two paths: on the CPU the compiled per-image kernels (:mod:`.cpu_kernels`) and per-subset work,
tuned for speed there; on every other device (CUDA) the *tensor path*: batched torch ops with no
device-to-host synchronisation and the same ops whatever the random draws (branch-free masks over
the whole batch, ``torch.where`` / ``lerp``), so a GPU never waits on the host and the step is one
``torch.compile`` graph. :func:`tensor_path` forces the tensor path on the CPU too, which is how the
tests hold it to being sync-free without a GPU (``tests/test_sync_free.py``).
"""
from __future__ import annotations

import contextlib
import contextvars
from collections import Counter
from typing import Iterator

import torch
from torch.utils._python_dispatch import TorchDispatchMode

_FORCE_TENSOR_PATH: contextvars.ContextVar[bool] = contextvars.ContextVar("augstudy_force_tensor_path", default=False)


def uses_cpu_kernels(device: torch.device | str) -> bool:
    """True where the CPU path runs: a CPU device, unless :func:`tensor_path` is in force."""
    return torch.device(device).type == "cpu" and not _FORCE_TENSOR_PATH.get()


@contextlib.contextmanager
def tensor_path() -> Iterator[None]:
    """Inside the block, CPU batches take the tensor path (the one CUDA takes)."""
    token = _FORCE_TENSOR_PATH.set(True)
    try:
        yield
    finally:
        _FORCE_TENSOR_PATH.reset(token)


#: aten ops that make the host wait for the device (a value or a data-dependent shape comes back).
SYNC_OPS = frozenset({
    "_local_scalar_dense",  # .item(), int(t), float(t), bool(t), Python `if tensor:`
    "is_nonzero", "item", "nonzero", "argwhere", "masked_select", "unique", "_unique", "_unique2",
    "unique_consecutive", "unique_dim", "bincount", "histc", "_assert_async", "equal",
})
#: aten ops that bring host data (a Python list, a NumPy array) onto the device.
HOST_TO_DEVICE_OPS = frozenset({"lift_fresh", "lift_fresh_copy"})


class OpCounter(TorchDispatchMode):
    """Counts every aten op dispatched inside the block (``ops``) and those that sync the host (``syncs``).

    Also counted as syncs: ``index`` / ``index_put`` with a boolean mask (data-dependent shape),
    ``repeat_interleave`` without ``output_size``; host data brought in (``torch.tensor([...])``)
    is counted in ``host_copies``. ``Tensor.tolist`` and ``Tensor.numpy`` do not dispatch: they are
    counted by patching them for the block.
    """

    def __init__(self) -> None:
        super().__init__()
        self.ops: Counter[str] = Counter()
        self.syncs: Counter[str] = Counter()
        self.host_copies: Counter[str] = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = func._schema.name.split("::")[-1]
        self.ops[name] += 1
        if name in SYNC_OPS:
            self.syncs[name] += 1
        elif name in ("index", "index_put", "index_put_", "_index_put_impl_") and _has_bool_index(args):
            self.syncs[name + "(bool mask)"] += 1
        elif name == "repeat_interleave" and kwargs.get("output_size") is None and len(args) < 4:
            self.syncs[name] += 1
        if name in HOST_TO_DEVICE_OPS:
            self.host_copies[name] += 1
        return func(*args, **kwargs)

    def __enter__(self):
        self._patched = [(name, getattr(torch.Tensor, name)) for name in ("tolist", "numpy")]
        for name, original in self._patched:
            setattr(torch.Tensor, name, self._counting(name, original))
        return super().__enter__()

    def __exit__(self, *exc):
        for name, original in self._patched:
            setattr(torch.Tensor, name, original)
        return super().__exit__(*exc)

    def _counting(self, name, original):
        def wrapper(tensor, *args, **kwargs):
            self.syncs[name] += 1
            return original(tensor, *args, **kwargs)

        return wrapper

    @property
    def total_ops(self) -> int:
        return sum(self.ops.values())

    @property
    def total_syncs(self) -> int:
        return sum(self.syncs.values())


def _has_bool_index(args) -> bool:
    indices = args[1] if len(args) > 1 else None
    if not isinstance(indices, (list, tuple)):
        return False
    return any(isinstance(i, torch.Tensor) and i.dtype == torch.bool for i in indices)
