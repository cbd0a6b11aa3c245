"""Several methods in one study: a heatmap per method, a method x policy table, and the Spearman rank
correlation between methods (where their rankings agree) in summary.md; from results files only."""
import math

import pandas as pd
import pytest
from scipy.stats import spearmanr

from augstudy.report.methods import policy_table, rank_agreement
from augstudy.report.plot import plot_study
from augstudy.report.results import load_study
from augstudy.report.tables import label_grid, pairwise_grid
from report_fixtures import write_study

OPS = ("crop", "color", "blur")
# simclr and byol rank the 9 policies the same way (byol = simclr + 5); moco reverses simclr's order
ORDER = {(a, b): 3 * i + j for i, a in enumerate(OPS) for j, b in enumerate(OPS)}


def value(method, key, seed):
    base = 20.0 + 3.0 * ORDER[key] + 0.1 * seed
    return {"simclr": base, "byol": base + 5.0, "moco(queue_size=1024)": 80.0 - base}[method]


@pytest.fixture
def pairwise(tmp_path):
    return write_study(tmp_path, "multi", methods=("simclr", "byol", "moco(queue_size=1024)"), seeds=(0, 1), value=value)


def test_policy_table_and_rank_agreement_from_the_grids(pairwise):
    study = load_study(pairwise)
    grids = {m: pairwise_grid(study, "linear_top1", m) for m in study.methods}
    means, texts = policy_table(grids)
    assert list(means.columns) == ["simclr", "byol", "moco(queue_size=1024)"] and len(means) == 9
    assert means.loc["crop + color", "simclr"] == pytest.approx(value("simclr", ("crop", "color"), 0) + 0.05)
    # ± the half-width of the 95% interval over 2 seeds (t with 1 df: 12.71 x sd 0.0707 / sqrt 2 = 0.64), not the std (0.07)
    assert texts.loc["blur", "byol"] == "49.0 ± 0.6"
    pairs = {(r["a"], r["b"]): r for r in rank_agreement(means)}
    assert pairs[("simclr", "byol")]["rho"] == pytest.approx(1.0)
    assert pairs[("simclr", "moco(queue_size=1024)")]["rho"] == pytest.approx(-1.0)
    assert pairs[("simclr", "byol")]["best_a"] == pairs[("simclr", "byol")]["best_b"] == "blur"


def test_rho_is_scipys_spearman_over_the_shared_policies():
    means = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0, float("nan")], "b": [2.0, 1.0, 4.0, 3.0, 9.0]},
                         index=list("pqrst"))
    (r,) = rank_agreement(means)
    assert r["n"] == 4 and r["rho"] == pytest.approx(spearmanr([1, 2, 3, 4], [2, 1, 4, 3]).statistic)
    (short,) = rank_agreement(means.iloc[:2])
    assert math.isnan(short["rho"])  # fewer than 3 shared policies: not defined


def test_plot_writes_a_heatmap_per_method_and_the_methods_section(pairwise):
    written = {p.name for p in plot_study(pairwise)}
    assert {"heatmap_simclr_linear_top1.png", "heatmap_byol_linear_top1.png",
            "heatmap_moco(queue_size=1024)_linear_top1.png", "methods_linear_top1.csv",
            "methods_linear_top1.png"} <= written
    summary = (pairwise / "figures" / "summary.md").read_text()
    assert "## Methods x policies" in summary
    assert "| SimCLR vs BYOL | 1.00 | 9 | blur / blur |" in summary
    assert "| SimCLR vs MoCo v2(queue_size=1024) | -1.00 | 9 | blur / crop |" in summary
    csv = pd.read_csv(pairwise / "figures" / "methods_linear_top1.csv", index_col="policy")
    assert csv.shape == (9, 3)


def test_sweep_with_several_methods_gets_the_table(tmp_path):
    d = write_study(tmp_path, "sw", kind="sweep", methods=("simclr", "vicreg"))
    plot_study(d)
    summary = (d / "figures" / "summary.md").read_text()
    assert "## Methods x policies" in summary and "SimCLR vs VICReg" in summary
    study = load_study(d)
    means, _ = policy_table({m: label_grid(study, "linear_top1", [m]) for m in study.methods})
    assert list(means.index) == study.order


def test_one_method_has_no_methods_section(tmp_path):
    d = write_study(tmp_path, "one")
    plot_study(d)
    assert "Methods x policies" not in (d / "figures" / "summary.md").read_text()
