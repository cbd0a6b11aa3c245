"""A battery of bad study files: each, given to `augstudy run`, stops with exactly one line (no
traceback) that names the file, key or value, with exit status 2, before any cell runs."""
from __future__ import annotations

import pytest
import torch
from typer.testing import CliRunner

from augstudy.cli import app

GOOD = """name: bad
dataset: {name: synthetic, params: {n_train: 64, n_test: 64, size: 8}}
model: {encoder: resnet-tiny, encoder_params: {widths: [4], blocks: [1]}, projection_dim: 8}
training: {epochs: 1, batch_size: 32, threads: 1, device: cpu}
grid: {kind: pairwise, operators: [crop, color]}
"""


def good(**replace: str) -> str:
    """GOOD with whole lines replaced: ``good(training="training: {epochs: 0}")``."""
    lines = GOOD.splitlines()
    for key, line in replace.items():
        lines = [line if ln.startswith(f"{key}:") else ln for ln in lines]
        if not any(ln.startswith(f"{key}:") for ln in GOOD.splitlines()):
            lines.append(line)
    return "\n".join(lines) + "\n"


BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8))

# id -> (file contents: str, bytes, or None for a directory / "missing"), text the one line must contain
CASES = {
    "duplicate-key": (GOOD + "name: other\n", "duplicate key 'name'"),
    "non-utf8": (b"name: caf\xe9\n" + GOOD.encode(), "UTF-8"),
    "directory": (None, "directory"),
    "missing-file": ("missing", "not found"),
    "alias-bomb": (BOMB + GOOD, "alias"),
    "yaml-syntax": (GOOD + "grid: {kind: pairwise, operators: [crop\n", "line"),
    "tab-indent": (GOOD + "extra:\n\t- 1\n", "line"),
    "empty-file": ("", "empty"),
    "top-level-list": ("- name: bad\n", "mapping"),
    "unknown-top-key": (GOOD + "epochs: 3\n", "epochs"),
    "bad-name": (good(name="name: a/b"), "name"),
    "long-name": (good(name="name: " + "a" * 300), "name"),
    "seed-1e23": (GOOD + "seeds: [100000000000000000000000]\n", "seeds"),
    "seed-negative": (GOOD + "seeds: [-1]\n", "seeds"),
    "device-banana": (good(training="training: {epochs: 1, batch_size: 32, device: banana}"), "banana"),
    "device-cuda-no-gpu": (good(training="training: {epochs: 1, batch_size: 32, device: cuda}"), "cuda"),
    "epochs-1e12": (good(training="training: {epochs: 1000000000000, batch_size: 32, device: cpu}"), "epochs"),
    "epochs-zero": (good(training="training: {epochs: 0, batch_size: 32, device: cpu}"), "epochs"),
    "batch-size-zero": (good(training="training: {epochs: 1, batch_size: 0, device: cpu}"), "batch_size"),
    "lr-string": (good(training="training: {epochs: 1, batch_size: 32, lr: fast}"), "lr"),
    "width-minus-5": (good(model="model: {encoder: resnet-tiny, encoder_params: {width: -5}}"), "width"),
    "widths-negative": (good(model="model: {encoder: resnet-tiny, encoder_params: {widths: [-5], blocks: [1]}}"),
                        "widths"),
    "unknown-encoder": (good(model="model: {encoder: resnet9}"), "resnet9"),
    "unknown-operator": (good(grid="grid: {kind: pairwise, operators: [crop, blurr]}"), "blurr"),
    "operator-bad-value": (good(grid="grid: {kind: pairwise, operators: ['color(strength=-1)']}"), "strength"),
    "operator-unknown-param": (good(grid="grid: {kind: pairwise, operators: ['color(strenght=1)']}"), "strenght"),
    "operator-unparsable": (good(grid="grid: {kind: pairwise, operators: ['color(']}"), "color("),
    "grid-kind": (good(grid="grid: {kind: triangle, operators: [crop]}"), "triangle"),
    "no-grid": ("name: bad\n", "grid"),
    "unknown-method": (GOOD + "methods: [simclear]\n", "simclear"),
    "unknown-dataset": (good(dataset="dataset: {name: cifar11}"), "cifar11"),
    "dataset-unknown-param": (good(dataset="dataset: {name: synthetic, params: {sizee: 8}}"), "sizee"),
    "dataset-bad-value": (good(dataset="dataset: {name: synthetic, params: {size: -3}}"), "size"),
    "imagefolder-missing-root": (good(dataset="dataset: {name: imagefolder, params: {root: /nonexistent/pets}}"),
                                 "/nonexistent/pets"),
    "missing-plugin": (GOOD + "plugins: [no_such_plugin_module]\n", "no_such_plugin_module"),
    "unset-env-var": (good(dataset="dataset: {name: imagefolder, params: {root: '${AUGSTUDY_NO_SUCH_VAR}'}}"),
                      "AUGSTUDY_NO_SUCH_VAR"),
    "dask-without-address": (GOOD + "executor: {kind: dask}\n", "executor"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_study_file_gives_one_line_naming_the_problem(tmp_path, case):
    content, expected = CASES[case]
    if case == "device-cuda-no-gpu" and torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    path = tmp_path / "study.yaml"
    if content is None:
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content != "missing":
        path.write_text(content)
    r = CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path / "out")])
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output and len(lines) == 1, r.output
    line = lines[0]
    assert line.startswith("error: ") and expected in line, line
    names_file = str(path) in line or path.name in line
    assert names_file or case == "imagefolder-missing-root", f"the line does not name the file: {line}"
    assert not list((tmp_path / "out").glob("*/cells/*")), "a cell ran"
