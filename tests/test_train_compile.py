"""training.compile modes with an eager fallback that says once why; opt-in determinism; fused AdamW."""
import warnings

import pytest
import torch
from torch import nn

from augstudy.train import compiled as compiled_mod
from augstudy.train.compiled import compile_mode, compiled_or_eager
from augstudy.train.device import set_cuda_flags
from augstudy.train.optim import build_optimizer


def test_modes():
    assert compile_mode(False) is None and compile_mode("none") is None and compile_mode(None) is None
    assert compile_mode(True) == "default" and compile_mode("max-autotune") == "max-autotune"
    fn = lambda x: x + 1  # noqa: E731
    assert compiled_or_eager(fn, False) is fn


def test_failed_compile_falls_back_to_eager_and_says_once(monkeypatch):
    seen = {}

    def broken_compile(fn, mode=None):
        seen["mode"] = mode

        def run(*a, **k):
            raise RuntimeError("backend exploded\nlong trace")

        return run

    monkeypatch.setattr(torch, "compile", broken_compile)
    monkeypatch.setattr(compiled_mod, "_SAID", set())
    calls = []

    def fn(x):
        calls.append(1)
        return x * 2

    call = compiled_or_eager(fn, "reduce-overhead")
    assert seen["mode"] == "reduce-overhead"
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        assert torch.equal(call(torch.ones(2)), torch.full((2,), 2.0))
        assert torch.equal(call(torch.ones(2)), torch.full((2,), 2.0))
        compiled_or_eager(fn, "reduce-overhead")(torch.ones(1))
    said = [str(m.message) for m in w]
    assert len(said) == 1 and "training.compile='reduce-overhead' fell back to eager" in said[0]
    assert "backend exploded" in said[0] and "long trace" not in said[0]
    assert not call.compiled() and len(calls) == 3


def test_a_model_bug_keeps_its_traceback(monkeypatch):
    monkeypatch.setattr(torch, "compile", lambda fn, mode=None: fn)

    def buggy(x):
        raise KeyError("my bug")

    with pytest.raises(KeyError, match="my bug"):
        compiled_or_eager(buggy, True)(torch.ones(1))


def test_cuda_flags_leave_the_cpu_alone():
    before = (torch.backends.cudnn.benchmark, torch.are_deterministic_algorithms_enabled())
    set_cuda_flags(torch.device("cpu"), True)
    assert (torch.backends.cudnn.benchmark, torch.are_deterministic_algorithms_enabled()) == before


def test_fused_adamw_only_when_asked():
    m = nn.Linear(2, 2)
    assert not build_optimizer(m, "adamw", 1e-3, 0.9, 0.0).defaults.get("fused")
    if torch.cuda.is_available():
        opt = build_optimizer(m.cuda(), "adamw", 1e-3, 0.9, 0.0, fused=True)
        assert opt.defaults["fused"]


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_flags_set_benchmark_or_determinism():
    set_cuda_flags(torch.device("cuda"), False)
    assert torch.backends.cudnn.benchmark and not torch.backends.cudnn.deterministic
    set_cuda_flags(torch.device("cuda"), True)
    assert not torch.backends.cudnn.benchmark and torch.backends.cudnn.deterministic
    assert torch.are_deterministic_algorithms_enabled()
    set_cuda_flags(torch.device("cuda"), False)
    assert not torch.are_deterministic_algorithms_enabled()
