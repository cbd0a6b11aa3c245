"""The removal report (BYOL Table 17): drops from the baseline paired by seed, 2-SE bars, the paper's drops,
rank correlations. Synthetic results tables only (tests/report_fixtures.py), no training."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from augstudy.report import plot_study
from augstudy.report.heatmap import method_label
from augstudy.report.removal import gaps, load_table17, rank_correlations, removal_table
from augstudy.report.results import load_study

from report_fixtures import write_study

BASE, COLOR, CROP, MINE = "Baseline", "Remove color (jittering and grayscale)", "Crop only", "my own removal"
LABELS = (BASE, "Remove flip", COLOR, CROP, MINE)
# per-seed drops (baseline - policy) for seeds 0, 1, 2
DROPS = {"simclr": {"Remove flip": (1, 1, 1), COLOR: (20, 22, 24), CROP: (25, 27, 35), MINE: (3, 4, 5)},
         "byol": {"Remove flip": (0, 1, 2), COLOR: (9, 9, 9), CROP: (12, 14, 16), MINE: (2, 2, 5)}}


def value(method, label, seed):
    base = {"simclr": 60.0, "byol": 65.0}[method] + seed
    return base if label == BASE else base - DROPS[method][label][seed]


def _study(tmp_path, baseline=BASE, **kw):
    d = write_study(tmp_path, name="rm", kind="list", labels=LABELS, methods=("simclr", "byol"), seeds=(0, 1, 2),
                    value=value, **kw)
    meta = json.loads((d / "study.json").read_text())
    if baseline:
        meta["grid"]["baseline"] = baseline
    (d / "study.json").write_text(json.dumps(meta))
    return d


def test_drops_are_paired_by_seed_with_their_standard_errors(tmp_path):
    rem = removal_table(load_study(_study(tmp_path)))
    assert rem.baseline == BASE and rem.policies == list(LABELS) and rem.methods == ["simclr", "byol"]
    assert rem.drop.loc[COLOR, "simclr"] == pytest.approx(22.0)
    assert rem.drop_se.loc[COLOR, "simclr"] == pytest.approx(2.0 / math.sqrt(3))  # sd 2 over 3 seeds
    assert rem.drop.loc[COLOR, "byol"] == pytest.approx(9.0) and rem.drop_se.loc[COLOR, "byol"] == pytest.approx(0.0)
    # the seed offset (+1 a seed on every policy) cancels in the paired drop but not in the top-1 spread
    assert rem.drop_se.loc["Remove flip", "simclr"] == pytest.approx(0.0)
    assert rem.top1_se.loc["Remove flip", "simclr"] == pytest.approx(1 / math.sqrt(3))
    assert rem.top1.loc[BASE, "byol"] == pytest.approx(66.0) and rem.drop.loc[BASE, "byol"] == 0


def test_paper_drops_are_matched_by_label_and_missing_elsewhere(tmp_path):
    rem = removal_table(load_study(_study(tmp_path)))
    t17 = load_table17()
    i = t17["settings"].index(COLOR)
    assert rem.paper_drop.loc[COLOR, "simclr"] == pytest.approx(t17["top1"]["simclr"][0] - t17["top1"]["simclr"][i])
    assert rem.paper_drop.loc[COLOR, "simclr"] == pytest.approx(22.2)
    assert rem.paper_drop.loc[CROP, "byol"] == pytest.approx(13.1)
    assert math.isnan(rem.paper_drop.loc[MINE, "byol"]) and rem.paper_drop.loc[BASE, "byol"] == 0


def test_a_failed_seed_leaves_the_others_paired(tmp_path):
    rem = removal_table(load_study(_study(tmp_path, status={("simclr", CROP, 2): "failed"})))
    assert rem.drop_n.loc[CROP, "simclr"] == 2 and rem.drop.loc[CROP, "simclr"] == pytest.approx(26.0)
    assert rem.drop_se.loc[CROP, "simclr"] == pytest.approx(1.0)  # drops 25, 27: sd sqrt(2), / sqrt(2)


def test_gaps_say_which_difference_is_beyond_two_standard_errors(tmp_path):
    rem = removal_table(load_study(_study(tmp_path)))
    g = {x.policy: x for x in gaps(rem, "simclr", "byol")}
    assert g[COLOR].diff == pytest.approx(13.0) and g[COLOR].se == pytest.approx(2 / math.sqrt(3)) and g[COLOR].beyond_2se
    assert g["Remove flip"].diff == pytest.approx(0.0) and not g["Remove flip"].beyond_2se
    assert g[CROP].se == pytest.approx(math.hypot(np.std([25, 27, 35], ddof=1), 2.0) / math.sqrt(3))


def test_rank_correlations_match_scipy(tmp_path):
    rem = removal_table(load_study(_study(tmp_path)))
    ranks = {r.what: r for r in rank_correlations(rem)}
    between = ranks[f"SimCLR vs {method_label('byol')} (this study)"]
    expected = stats.spearmanr(rem.top1["simclr"], rem.top1["byol"])
    assert between.n == 5 and between.rho == pytest.approx(expected.statistic)
    vs_paper = ranks["SimCLR vs the paper's SimCLR"]
    assert vs_paper.n == 4  # the baseline and the three Table 17 settings; "my own removal" has no paper value
    assert vs_paper.rho == pytest.approx(stats.spearmanr([0, 1, 22, 29], [0, 0.6, 22.2, 27.6]).statistic)
    assert "paper, same policies" in " ".join(ranks)


def test_plot_writes_the_drop_chart_table_and_report(tmp_path):
    d = _study(tmp_path)
    written = {p.name for p in plot_study(d)}
    assert {"removal_linear_top1.png", "removal_linear_top1.csv", "summary.md", "report.html"} <= written
    summary = (d / "figures" / "summary.md").read_text()
    assert "Removing transformations (BYOL Table 17)" in summary and "removal_linear_top1.png" in summary
    assert "| Remove color (jittering and grayscale) | 39.0 ± 1.2 | 22.0 ± 2.3 | 22.2 |" in summary
    assert "Spearman rank correlation" in summary
    csv = (d / "figures" / "removal_linear_top1.csv").read_text().splitlines()
    assert csv[0].startswith("policy,baseline,method,top1,top1_se,n_seeds,drop,drop_se,paired_seeds,paper_drop")
    assert "drop when a transformation is removed" in (d / "figures" / "report.html").read_text()


def test_a_list_study_without_baseline_draws_no_drop_chart(tmp_path):
    d = _study(tmp_path, baseline=None)
    written = {p.name for p in plot_study(d)}
    assert "bars_linear_top1.png" in written and not any(n.startswith("removal") for n in written)
    with pytest.raises(ValueError, match="names no baseline"):
        removal_table(load_study(d))
