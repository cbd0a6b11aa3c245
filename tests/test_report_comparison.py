"""Report: Spearman rank correlation against the paper's Figure 5 (fake results, no training)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from report_fixtures import write_study

from augstudy.report import paper
from augstudy.report.comparison import compare_with_paper, paper_values_for
from augstudy.report.results import load_study
from augstudy.report.tables import pairwise_grid

F5 = paper.figure5()


def paper_value(method, key, seed):
    return float(F5.loc[key[0], key[1]])


def grid_from(tmp_path, value, operators=paper.PAPER_OPERATORS, **kw):
    return pairwise_grid(load_study(write_study(tmp_path, operators=operators, value=value, curves="none", **kw)), "linear_top1")


def test_paper_data_and_citation():
    assert F5.shape == (7, 7) and list(F5.index) == list(paper.PAPER_OPERATORS)
    assert F5.loc["crop", "color"] == 56.3 and F5.loc["color", "crop"] == 55.8
    assert "Chen" in paper.citation() and "2002.05709" in paper.citation()
    assert paper.table1().loc["simclr", "1 (+blur)"] == 64.5
    assert paper.paper_operator("color(strength=0.5)") == "color" and paper.paper_operator("jpeg") is None
    assert paper.paper_strength("x", 0.125) == "1/8" and paper.paper_strength("1 (+blur)") == "1 (+blur)"


def test_rho_is_one_on_the_papers_own_numbers(tmp_path):
    comp = compare_with_paper(grid_from(tmp_path, paper_value))
    assert comp.rho == pytest.approx(1.0) and comp.n == 49
    assert np.allclose(comp.rank_diff, 0)


def test_rho_on_a_known_permutation(tmp_path):
    values = F5.to_numpy().ravel()
    perm = np.random.default_rng(0).permutation(49)
    permuted = pd.DataFrame(values[perm].reshape(7, 7), index=F5.index, columns=F5.columns)
    comp = compare_with_paper(grid_from(tmp_path, lambda m, k, s: float(permuted.loc[k[0], k[1]])))
    # Spearman by hand: Pearson correlation of the (average) ranks
    ra, rb = pd.Series(values[perm]).rank(), pd.Series(values).rank()
    assert comp.rho == pytest.approx(float(np.corrcoef(ra, rb)[0, 1]))
    assert comp.n == 49 and -1 < comp.rho < 1


def test_reversed_order_gives_minus_one(tmp_path):
    comp = compare_with_paper(grid_from(tmp_path, lambda m, k, s: 100.0 - paper_value(m, k, s)))
    assert comp.rho == pytest.approx(-1.0)


def test_plugins_and_missing_cells_are_left_out(tmp_path):
    ops = ("crop", "my_plugin", "color", "blur")
    grid = grid_from(tmp_path, lambda m, k, s: 50.0 if "my_plugin" in k else paper_value(m, k, s), operators=ops,
                     status={("crop", "blur"): "failed"})
    comp = compare_with_paper(grid)
    assert comp.shared_operators == ["crop", "color", "blur"]
    assert comp.n == 9 - 1 and comp.rho == pytest.approx(1.0)
    assert np.isnan(comp.paper_values[1]).all() and np.isnan(comp.paper_values[:, 1]).all()
    assert np.isnan(comp.rank_diff[0, 3]) and np.isnan(comp.rank_diff[1, 1])
    assert "8 shared cells" in comp.describe()


def test_too_few_shared_cells_is_undefined(tmp_path):
    comp = compare_with_paper(grid_from(tmp_path, lambda m, k, s: 10.0, operators=("crop", "jpeg")))
    assert comp.n == 1 and math.isnan(comp.rho) and "not defined" in comp.describe()
    assert paper_values_for(["crop", "jpeg"], ["crop"])[0, 0] == 33.1
