"""Keep freed CPU memory in the process instead of handing it back to the OS (glibc malloc).

Batched augmentation allocates and frees multi-megabyte tensors several times a step. By default
glibc returns such blocks to the OS (``munmap``, heap trimming), and the next allocation page-faults
them back in: about 20% of the SimCLR view pipeline's time at 32 px on one thread (BENCHMARKS.md,
"Operators"). Raising the mmap and trim thresholds keeps those pages mapped and reused. The cost is
that a worker's resident memory does not shrink after a peak, which a training process does not mind.
"""
from __future__ import annotations

import ctypes
import platform

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameter codes in glibc's <malloc.h>
_THRESHOLD = 1 << 30  # bytes: blocks below this come from (and go back to) the process heap

_done: bool | None = None


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds once per process; False where the C library is not glibc."""
    global _done
    if _done is None:
        _done = False
        if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
            try:
                mallopt = ctypes.CDLL("libc.so.6").mallopt
            except (OSError, AttributeError):
                return False
            _done = bool(mallopt(_M_MMAP_THRESHOLD, _THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, _THRESHOLD))
    return _done
