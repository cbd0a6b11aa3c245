"""Plugin operators that break the operator contract are named in one line before any training step,
in `augstudy run` (the cell fails) and in `augstudy preview` (exit 2, no PNG); a plugin bug keeps its
traceback; a plain function given to @augstudy.operator is an apply-only operator, or refused in one line."""
from __future__ import annotations

import sys
import textwrap

import pytest
import torch
from typer.testing import CliRunner

from augstudy import ops, run_study
from augstudy.cli import app
from augstudy.errors import OperatorContractError, RegistrationError
from augstudy.ops.registry import REGISTRY
from augstudy.ops.validation import check_output, checked_apply

PLUGIN = textwrap.dedent('''
    import torch
    import augstudy
    from augstudy.ops import Operator

    @augstudy.operator("c_uint8")
    class ToUint8(Operator):
        def apply(self, x, params):
            return (x * 255).to(torch.uint8)

    @augstudy.operator("c_range")
    class TimesFifty(Operator):
        def apply(self, x, params):
            return x * 50

    @augstudy.operator("c_nan")
    class NaNs(Operator):
        def apply(self, x, params):
            return x * float("nan")

    @augstudy.operator("c_shape")
    class HalfSize(Operator):
        def apply(self, x, params):
            return x[:, :, ::2, ::2]

    @augstudy.operator("c_dtype")
    class Double(Operator):
        def apply(self, x, params):
            return x.double()

    @augstudy.operator("c_bug")
    class Buggy(Operator):
        def apply(self, x, params):
            return x.no_such_method()

    @augstudy.operator("c_invert")
    def invert(x, amount: float = 1.0):
        """A plain function: an apply-only operator."""
        return x + amount * (1 - 2 * x)
''')

CASES = {  # operator -> what the one line must say
    "c_uint8": "operator 'c_uint8' returned uint8 [",
    "c_range": "operator 'c_range' returned values in [",
    "c_nan": "operator 'c_nan' returned NaN or infinite values",
    "c_shape": "operator 'c_shape' returned float32 [",
    "c_dtype": "operator 'c_dtype' returned float64 [",
}


@pytest.fixture()
def plugin(tmp_path, monkeypatch):
    (tmp_path / "contract_plugin.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("contract_plugin", None)
    with REGISTRY.snapshot():
        yield "contract_plugin"
    sys.modules.pop("contract_plugin", None)


def tiny(op: str, plugin: str) -> dict:
    return {"name": f"contract_{op}", "plugins": [plugin],
            "dataset": {"name": "synthetic", "params": {"n_train": 64, "n_test": 64, "size": 8}},
            "model": {"encoder": "resnet-tiny", "encoder_params": {"widths": [4], "blocks": [1]}, "projection_dim": 8},
            "training": {"epochs": 1, "batch_size": 32, "threads": 1, "device": "cpu"},
            "protocol": {"name": "asymmetric", "base_crop": None},
            "evaluation": {"linear_max_iter": 5, "knn_k": 5},
            "grid": {"kind": "list", "pipelines": {op: [op]}}}


@pytest.mark.parametrize("op", list(CASES))
def test_run_fails_the_cell_naming_the_operator_before_training(plugin, tmp_path, op):
    df = run_study(tiny(op, plugin), out=tmp_path / "out", workers=1, progress=False)
    assert list(df["status"]) == ["failed"]
    error = df["error"][0]
    assert error.startswith(f"OperatorContractError: {CASES[op]}") and "\n" not in error, error
    assert "expected" in error
    assert df["final_loss"].isna().all() and df["train_seconds"].isna().all()  # no training step was taken


@pytest.mark.parametrize("op", list(CASES))
def test_preview_refuses_the_operator_in_one_line(plugin, tmp_path, op):
    out = tmp_path / "p.png"
    r = CliRunner().invoke(app, ["preview", "--ops", f"crop,{op}", "--plugin", plugin, "--out", str(out), "--draws", "1"])
    text = r.output
    assert r.exit_code == 2, text
    lines = [ln for ln in text.splitlines() if ln.strip()]
    assert len(lines) == 1 and CASES[op] in lines[0] and "Traceback" not in text, text
    assert not out.exists()


def test_a_bug_in_a_plugin_operator_keeps_its_traceback(plugin, tmp_path):
    r = CliRunner().invoke(app, ["preview", "--ops", "c_bug", "--plugin", plugin, "--out", str(tmp_path / "p.png")])
    assert r.exit_code == 1
    text = r.output
    assert "Traceback" in text and "AttributeError" in text and "no_such_method" in text, text
    assert "bug in the plugin code at" in text and "contract_plugin.py" in text, text


def test_a_plain_function_is_an_apply_only_operator(plugin, tmp_path):
    ops.load_plugins([plugin])
    op = ops.build("c_invert(amount=0.5)")
    x = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    y = checked_apply(op, x, torch.Generator().manual_seed(0))
    assert torch.allclose(y, x + 0.5 * (1 - 2 * x)) and op.spec() == "c_invert(amount=0.5)"
    df = run_study(tiny("c_invert", plugin), out=tmp_path / "out", workers=1, progress=False)
    assert list(df["status"]) == ["done"]
    with pytest.raises(ValueError, match="operator 'c_invert' has no param 'amout'"):
        ops.build("c_invert(amout=1)")


def test_a_function_with_two_required_parameters_is_refused_at_registration():
    with REGISTRY.snapshot():
        with pytest.raises(RegistrationError, match=r"@operator\('c_two'\) on 'two'.*without a default are x, y"):
            @ops.operator("c_two")
            def two(x, y):
                return x


def test_the_range_tolerance_lets_rounding_through():
    x = torch.rand(2, 3, 4, 4)
    check_output("op", x, (x + 1e-4).clamp(max=1 + 1e-4))
    with pytest.raises(OperatorContractError, match=r"tolerance 0.001"):
        check_output("op", x, x + 0.01 + (1 - x.max()))
