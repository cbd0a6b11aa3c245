"""Bad search input: one line each, naming the key and what is valid."""
from __future__ import annotations

import pytest

from augstudy.errors import AugstudyError, SpecError
from augstudy.study import validate_spec
from search_fixtures import search_spec, toy_cell


def spec_with(**grid):
    return search_spec(**grid)


@pytest.mark.parametrize("grid, words", [
    ({"space": {"color.strength": [1.5, 0.25]}}, ["grid.space.color.strength", "inverted range", "low < high"]),
    ({"space": {"color.strength": [0.5, 0.5]}}, ["grid.space.color.strength", "empty range"]),
    ({"space": {"color.strength": {"choices": []}}}, ["choices is empty"]),
    ({"space": {"color.strenght": [0.25, 1.5]}}, ["grid.space['color.strenght']", "no param 'strenght'", "strength"]),
    ({"space": {"solarize.threshold": [0.1, 0.9]}}, ["operator 'solarize' is not in grid.operators"]),
    ({"operators": ["crop", "colour"], "max_ops": 2, "space": {}}, ["grid.operators[1]", "colour", "color"]),
    ({"sampler": "tpee"}, ["grid.sampler", "unknown sampler 'tpee'", "did you mean 'tpe'", "random"]),
    ({"max_ops": 0}, ["grid.max_ops", "greater than or equal to 1"]),
    ({"max_ops": 5}, ["grid: max_ops 5 is more than the 4 operators", "1..4"]),
    ({"budget": {"cells": 0}}, ["grid.budget.cells", "greater than or equal to 1"]),
    ({"budget": {"hours": 0}}, ["grid.budget.hours", "greater than 0"]),
    ({"budget": {}}, ["grid.budget", "at least one of cells, epochs, hours"]),
    ({"budget": {"epochs": 1}}, ["grid.budget.epochs 1 is less than one cell's training.epochs (2)"]),
    ({"objective": "accuracy"}, ["unknown objective 'accuracy'", "knn_top1"]),
    ({"pruner": "halvng"}, ["grid.pruner", "unknown pruner 'halvng'", "did you mean 'halving'", "hyperband"]),
    ({"pruner": {"kind": "halving", "min_epochs": 2}}, ["grid.pruner.min_epochs 2 is not less than training.epochs (2)"]),
    ({"pruner": {"kind": "halving", "reduction_factor": 1}}, ["grid.pruner.reduction_factor", "greater than or equal to 2"]),
    ({"validation": 1.5}, ["grid.validation.fraction", "less than 1"]),
])
def test_bad_search_input_is_one_line_naming_the_key(grid, words):
    with pytest.raises(SpecError) as e:
        validate_spec(spec_with(**grid))
    msg = str(e.value)
    assert "\n" not in msg
    for w in words:
        assert w in msg, (w, msg)


def test_a_changed_search_space_under_an_existing_storage_file_says_which_key_and_how_to_start_anew(tmp_path):
    pytest.importorskip("optuna")
    from augstudy import run_study

    run_study(spec_with(budget={"cells": 2}, top_k=1), out=tmp_path, cell_fn=toy_cell, progress=False)
    with pytest.raises(SpecError) as e:
        run_study(spec_with(budget={"cells": 2}, top_k=1, space={"color.strength": [0.25, 1.0]}), out=tmp_path,
                  cell_fn=toy_cell, progress=False)
    msg = str(e.value)
    assert "grid.space changed since this search began" in msg and "delete" in msg and "search.sqlite3" in msg
    assert "\n" not in msg
    # a bigger budget is no change of space: the search goes on
    run_study(spec_with(budget={"cells": 3}, top_k=1), out=tmp_path, cell_fn=toy_cell, progress=False)


def test_only_does_not_apply_to_a_search(tmp_path):
    pytest.importorskip("optuna")
    from augstudy import run_study

    with pytest.raises(AugstudyError, match="--only selects cells of a fixed grid"):
        run_study(spec_with(), out=tmp_path, only=["crop"], cell_fn=toy_cell, progress=False)


def test_an_inverted_range_is_rejected_by_the_cli_without_a_traceback(tmp_path):
    import yaml
    from typer.testing import CliRunner

    from augstudy.cli import app

    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(spec_with(space={"color.strength": [1.5, 0.25]})))
    res = CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path)])
    assert res.exit_code == 2
    assert "inverted range" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "toy").exists()


def test_a_missing_optuna_names_the_extra(monkeypatch):
    import builtins

    from augstudy.study import search

    real = builtins.__import__

    def no_optuna(name, *a, **k):
        if name == "optuna" or name.startswith("optuna."):
            raise ImportError("No module named 'optuna'")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_optuna)
    with pytest.raises(AugstudyError, match=r"pip install 'augstudy\[search\]'"):
        search.optuna_module()
