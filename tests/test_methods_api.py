"""The open method API: any registered name in a cell config or a study's ``methods:``, typed params in the
operators' spec syntax (validated at load, one line when bad), params in the cell id, ids of param-less
specs unchanged (the committed results stay done), plugin methods named in a study file."""
import csv
from pathlib import Path

import pytest

from augstudy.errors import SpecError
from augstudy.study.grid import expand
from augstudy.study.spec import load_spec, validate_spec
from augstudy.train import CellConfig, get_method
from augstudy.train.method import REGISTRY, resolve_method

ROOT = Path(__file__).resolve().parents[1]


def spec(**over):
    return {"name": "t", "grid": {"kind": "pairwise", "operators": ["crop", "color"]},
            "training": {"batch_size": 128}, **over}


@pytest.mark.parametrize("study", ["quick", "pairwise", "color_strength"])
def test_committed_results_keep_their_cell_ids(study):
    """The cell ids of the committed studies (simclr/supervised, no params) are the ones in results.csv."""
    ids = {c.id for c in expand(load_spec(ROOT / "studies" / f"{study}.yaml"))}
    with open(ROOT / "results" / study / "results.csv") as f:
        committed = {r["cell_id"] for r in csv.DictReader(f)}
    assert ids == committed


def test_canonical_spec_and_cell_id():
    assert resolve_method("byol(momentum=0.996)") == "byol"  # the default: same cell as plain byol
    assert resolve_method({"method": "moco", "queue_size": 1024}) == "moco(queue_size=1024)"
    a, b = CellConfig(method="byol"), CellConfig(method="byol(momentum=0.996)")
    c = CellConfig(method="byol(momentum=0.99)")
    assert a.cell_id() == b.cell_id() != c.cell_id()
    assert c.method == "byol(momentum=0.99)" and get_method(c.method).name == "byol"


def test_every_builtin_method_is_registered():
    assert {"simclr", "supervised", "byol", "moco", "vicreg", "barlow_twins"} <= set(REGISTRY.names())


BAD = [
    (["byl"], "methods[0]: unknown method 'byl' (did you mean 'byol'?); registered: barlow_twins, byol"),
    (["simclr", "byol(momentum=1.5)"], "methods[1]: method 'byol': momentum=1.5: Input should be less than or equal to 1"),
    (["byol(momentun=0.99)"], "methods[0]: method 'byol' has no param 'momentun' (did you mean 'momentum'?); its params are: momentum"),
    (["moco(queue_size=64)"], "methods[0]: method 'moco': queue_size=64 is smaller than training.batch_size=128"),
    (["byol(momentum=0.9"], "methods[0]: cannot parse method spec 'byol(momentum=0.9'"),
    (["byol", "byol(momentum=0.996)"], "methods must be unique; repeated: 'byol'"),
]


@pytest.mark.parametrize("methods,message", BAD, ids=[m for _, m in BAD])
def test_bad_methods_give_one_line(methods, message):
    with pytest.raises(SpecError) as e:
        validate_spec(spec(methods=methods))
    assert message in str(e.value) and "\n" not in str(e.value)


def test_spec_methods_are_canonical():
    s = validate_spec(spec(methods=["simclr", "byol(momentum=0.996)", {"method": "moco", "temperature": 0.1}]))
    assert s.methods == ["simclr", "byol", "moco(temperature=0.1)"]
    assert [c.method for c in expand(s)][::4] == ["simclr", "byol", "moco(temperature=0.1)"]


PLUGIN = '''
import augstudy
from augstudy.train.methods import SimCLR
from augstudy.train.method import MethodParams


@augstudy.method("{name}")
class Plugin(SimCLR):
    class Params(MethodParams):
        scale: float = 1.0

    def forward(self, views):
        return self.params.scale * super().forward(views)
'''


def test_plugin_method_is_loaded_before_validation(tmp_path, monkeypatch):
    (tmp_path / "my_method_plugin_a.py").write_text(PLUGIN.format(name="my_scaled_simclr"))
    monkeypatch.syspath_prepend(str(tmp_path))
    with REGISTRY.snapshot():
        s = validate_spec(spec(methods=["my_scaled_simclr(scale=0.5)"], plugins=["my_method_plugin_a"]))
        assert s.methods == ["my_scaled_simclr(scale=0.5)"]
        with pytest.raises(SpecError, match=r"methods\[0\]: method 'my_scaled_simclr' has no param 'scal' "):
            validate_spec(spec(methods=["my_scaled_simclr(scal=0.5)"], plugins=["my_method_plugin_a"]))


def test_cli_lists_methods_with_params(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from augstudy.cli import app

    (tmp_path / "my_method_plugin_c.py").write_text(PLUGIN.format(name="my_listed_method"))
    monkeypatch.syspath_prepend(str(tmp_path))
    with REGISTRY.snapshot():
        res = CliRunner().invoke(app, ["methods", "--plugin", "my_method_plugin_c"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    for text in ("simclr", "supervised", "BYOL (Grill et al. 2020)", "queue_size=4096", "lambda_param=0.005",
                 "my_listed_method", "scale=1.0"):
        assert text in res.output, text


def test_only_filter_matches_a_method_by_name():
    from augstudy.study.grid import select

    cells = expand(validate_spec(spec(methods=["simclr", "moco(queue_size=1024)"])))
    assert {c.method for c in select(cells, ["method=moco"])} == {"moco(queue_size=1024)"}
    assert {c.method for c in select(cells, ["method=moco(queue_size=1024)"])} == {"moco(queue_size=1024)"}
    assert {c.method for c in select(cells, ["moco"])} == {"moco(queue_size=1024)"}
