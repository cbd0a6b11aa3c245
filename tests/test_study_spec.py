"""Study specs: validation messages, grid expansion, cell filters, the shipped study files."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from augstudy.cli import app
from augstudy.study import SpecError, expand, load_spec, select, validate_spec

ROOT = Path(__file__).resolve().parents[1]
SEVEN = ["crop", "cutout", "color", "sobel", "noise", "blur", "rotate"]


def spec(**over):
    base = {"name": "t", "grid": {"kind": "pairwise", "operators": ["crop", "color"]}}
    base.update(over)
    return base


# --- grid expansion -------------------------------------------------------------------------------

def test_pairwise_seven_operators_gives_the_papers_49_cells_row_by_row():
    cells = expand(validate_spec(spec(grid={"kind": "pairwise", "operators": SEVEN})))
    assert len(cells) == 49
    assert [(c.op1, c.op2) for c in cells] == [(a, b) for a in SEVEN for b in SEVEN]
    diag = [c for c in cells if c.op1 == c.op2]
    assert len(diag) == 7
    assert all(c.config.pipeline == [c.op1] and c.pipeline == c.op1 for c in diag)
    crop_color = cells[2]
    assert crop_color.config.pipeline == ["crop", "color"] and crop_color.pipeline == "crop + color"
    assert cells[SEVEN.index("color") * 7].config.pipeline == ["color", "crop"]  # order matters
    assert len({c.id for c in cells}) == 49


def test_sweep_varies_the_target_param_and_adds_named_extras():
    s = validate_spec(spec(grid={"kind": "sweep", "pipeline": ["crop", "color"], "target": "color", "param": "strength",
                                 "values": [0.125, 0.25, 0.5, 1.0], "labels": ["1/8", "1/4", "1/2", "1"],
                                 "extra": {"1 (+blur)": ["crop", "color(strength=1.0)", "blur(p=0.5)"]}}))
    cells = expand(s)
    assert [c.pipeline for c in cells] == ["1/8", "1/4", "1/2", "1", "1 (+blur)"]
    assert cells[0].config.pipeline == ["crop", "color(strength=0.125)"]
    assert [c.value for c in cells] == [0.125, 0.25, 0.5, 1.0, None]
    assert {c.param for c in cells} == {"strength"}
    assert cells[4].config.pipeline == ["crop", "color", "blur(p=0.5)"]  # defaults drop out: canonical specs
    assert s.grid.describe() == {"kind": "sweep", "param": "strength", "target": "color",
                                 "labels": ["1/8", "1/4", "1/2", "1", "1 (+blur)"]}


def test_methods_x_seeds_x_grid_in_spec_order():
    s = validate_spec(spec(methods=["simclr", "supervised"], seeds=[0, 1, 2],
                           grid={"kind": "list", "pipelines": {"none": [], "crop+color": ["crop", "color"]}}))
    cells = expand(s)
    assert len(cells) == 2 * 3 * 2
    assert [(c.method, c.seed, c.pipeline) for c in cells[:4]] == [
        ("simclr", 0, "none"), ("simclr", 0, "crop+color"), ("simclr", 1, "none"), ("simclr", 1, "crop+color")]
    assert cells[-1].method == "supervised" and cells[-1].seed == 2
    assert [c.index for c in cells] == list(range(12))
    assert len({c.id for c in cells}) == 12


def test_cell_id_is_content_addressed():
    a = expand(validate_spec(spec(grid={"kind": "list", "pipelines": {"x": ["color"]}})))[0]
    b = expand(validate_spec(spec(name="other", grid={"kind": "list", "pipelines": {"y": [{"op": "color", "strength": 1.0}]}})))[0]
    c = expand(validate_spec(spec(grid={"kind": "list", "pipelines": {"x": ["color"]}}, training={"epochs": 3})))[0]
    d = expand(validate_spec(spec(grid={"kind": "list", "pipelines": {"x": ["color"]}}, training={"threads": 1})))[0]
    assert a.id == b.id  # same resolved config, whatever the label, study or spelling
    assert a.id != c.id
    assert a.id == d.id  # threads are an execution detail


def test_only_filters_by_operator_method_seed_and_id():
    cells = expand(validate_spec(spec(methods=["simclr", "supervised"], grid={"kind": "pairwise", "operators": SEVEN})))
    assert len(select(cells, ["color"])) == 2 * 13
    assert len(select(cells, ["op1=color", "method=simclr"])) == 7
    assert len(select(cells, ["crop,blur", "supervised"])) == 24
    assert [c.id for c in select(cells, [f"id={cells[5].id[:6]}"])] == [cells[5].id]
    with pytest.raises(ValueError, match="unknown key 'colour'; valid keys: op, op1"):
        select(cells, ["colour=red"])


@pytest.mark.parametrize("path,count", [("quick.yaml", 9), ("pairwise.yaml", 49 * 3), ("color_strength.yaml", 12 * 5),
                                        ("cifar10_pairwise.yaml", 49), ("cifar10_color_strength.yaml", 10)])
def test_shipped_studies_validate_and_expand(path, count):
    s = load_spec(ROOT / "studies" / path)
    assert len(expand(s)) == count
    if "cifar10" in path:
        assert s.training.batch_size >= 512 and s.training.temperature == 0.5
        assert s.model.encoder == "resnet18"


def test_pairwise_study_has_the_papers_seven_operators():
    s = load_spec(ROOT / "studies" / "pairwise.yaml")
    assert s.grid.describe()["operators"] == SEVEN


# --- bad specs: each message names the key path, the value and what is valid -----------------------

BAD = [
    (spec(epochs=10), "epochs: unknown key; valid keys here: name, description, dataset"),
    (spec(training={"lrr": 0.1}), "training.lrr: unknown key; valid keys here: epochs, batch_size"),
    (spec(training={"epochs": 0}), "training.epochs: got 0; input should be greater than or equal to 1"),
    (spec(grid={"kind": "pairs", "operators": ["crop"]}), "grid.kind: 'pairs' is not a grid kind; valid: pairwise, sweep, list"),
    (spec(grid={"kind": "pairwise", "operators": ["crop", "colr"]}),
     "grid.operators[1]: unknown operator 'colr' (did you mean 'color'?); registered: blur"),
    (spec(grid={"kind": "pairwise", "operators": ["crop", "color(strength=-1)"]}), "grid.operators[1]: ['color(strength=-1)'] is not a valid pipeline"),
    (spec(grid={"kind": "pairwise", "operators": ["crop", "crop(scale_min=0.5)"]}), "operator names must be unique; repeated: 'crop'"),
    (spec(methods=["byl"]), "methods[0]: unknown method 'byl' (did you mean 'byol'?); registered: "),
    (spec(seeds=[0, 0]), "seeds: seeds must be unique; repeated: '0'"),
    (spec(grid={"kind": "sweep", "pipeline": ["crop", "color"], "target": "blur", "param": "strength", "values": [0.5]}),
     "grid.target 'blur' is not in grid.pipeline; one of: crop, color"),
    (spec(grid={"kind": "sweep", "pipeline": ["color"], "param": "strength", "values": [0.5, 1.0], "labels": ["1/2"]}),
     "grid.labels has 1 labels for 2 values; give one label per value"),
    (spec(grid={"kind": "sweep", "pipeline": ["color"], "param": "strenght", "values": [0.5]}),
     "grid.values[0]: [{'op': 'color', 'strenght': 0.5}] is not a valid pipeline"),
    (spec(executor={"kind": "dask"}), "executor: executor.kind 'dask' needs executor.address"),
    (spec(executor={"kind": "local", "workers": 0}), "executor.workers: got 0; input should be greater than or equal to 1"),
    (spec(plugins=["no_such_plugin_module_xyz"]), "plugins[0]: plugin module 'no_such_plugin_module_xyz' could not be imported"),
    ({"grid": {"kind": "pairwise", "operators": ["crop"]}}, "name: required key is missing"),
    (spec(name="bad/name"), "name: got 'bad/name'; string should match pattern"),
    (spec(protocol={"name": "asymmetric", "base_crop": "crops"}), "protocol.base_crop: unknown operator 'crops'"),
    (spec(dataset={"name": "cifar"}), "dataset.name: unknown name 'cifar' (did you mean 'cifar10'?); registered: "),
    (spec(model={"encoder": "resnet-18"}), "model.encoder: unknown name 'resnet-18' (did you mean 'resnet18'?)"),
]


@pytest.mark.parametrize("data,message", BAD, ids=[m.split(":")[0] for _, m in BAD])
def test_bad_spec_message(data, message):
    with pytest.raises(SpecError) as e:
        validate_spec(data)
    assert message in str(e.value)


def test_bad_yaml_and_missing_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ngrid: [unclosed\n")
    with pytest.raises(SpecError, match=r"bad.yaml: not valid YAML at line 3"):
        load_spec(bad)
    with pytest.raises(FileNotFoundError, match="study file not found: .*nope.yaml"):
        load_spec(tmp_path / "nope.yaml")


def test_cli_prints_spec_errors_as_one_line_without_traceback(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump(spec(training={"batch_size": "big"})))
    res = CliRunner().invoke(app, ["run", str(f), "--dry-run"])
    assert res.exit_code == 2
    assert "Traceback" not in res.output
    assert "s.yaml: training.batch_size: got 'big'; input should be a valid integer" in res.output.replace("\n", "")


def test_environment_variables_expand_in_string_values(monkeypatch):
    data = spec(dataset={"name": "imagefolder", "params": {"root": "${AUGSTUDY_TEST_ROOT:-/fallback}/cifar"}})
    monkeypatch.delenv("AUGSTUDY_TEST_ROOT", raising=False)
    unset = spec(dataset={"name": "imagefolder", "params": {"root": "${AUGSTUDY_TEST_ROOT}"}})
    with pytest.raises(SpecError, match=r"dataset\.params\.root: environment variable AUGSTUDY_TEST_ROOT is not set"):
        validate_spec(unset)
    assert validate_spec(data).dataset.params["root"] == "/fallback/cifar"
    monkeypatch.setenv("AUGSTUDY_TEST_ROOT", "/data")
    assert validate_spec(data).dataset.params["root"] == "/data/cifar"
