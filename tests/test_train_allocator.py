"""Process settings of a cell: glibc malloc thresholds (keep_freed_memory), torch and OpenCV thread counts."""
import platform
import subprocess
import sys

import pytest

glibc = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


@pytest.mark.skipif(not glibc, reason="glibc only")
def test_thresholds_are_raised_on_glibc_and_the_call_is_idempotent():
    code = ("from augstudy.train.allocator import keep_freed_memory as k; "
            "import torch; a = k(); b = k(); x = torch.empty(64 << 20, dtype=torch.uint8); del x; print(a, b)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", "True"]


def test_run_cell_calls_it(monkeypatch):
    from augstudy.train import cell

    from test_train_cell import _cfg, _tiny_dataset

    calls = []
    monkeypatch.setattr(cell, "keep_freed_memory", lambda: calls.append(1) or True)
    cell.run_cell(_cfg(training={"epochs": 1}), _tiny_dataset(n_train=64, n_test=32))
    assert calls == [1]


def test_cpu_threads_scopes_torch_and_opencv_threads():
    import cv2
    import torch

    from augstudy.train.device import cpu_threads

    before = (torch.get_num_threads(), cv2.getNumThreads())
    with cpu_threads(1):
        assert (torch.get_num_threads(), cv2.getNumThreads()) == (1, 1)
    assert (torch.get_num_threads(), cv2.getNumThreads()) == before
