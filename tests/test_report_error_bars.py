"""The figures' error bars are the 95% intervals of augstudy.stats (asymmetric where the interval is), never ± std."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.container import BarContainer, ErrorbarContainer  # noqa: E402

from augstudy.report.bars import bars_figure  # noqa: E402
from augstudy.report.results import load_study  # noqa: E402
from augstudy.report.strength import strength_figure, strength_table  # noqa: E402
from augstudy.report.tables import Grid, label_grid  # noqa: E402
from report_fixtures import write_study  # noqa: E402

LABELS = ("a", "b", "c")


def _spread(method, key, seed):  # seeds 0, 1, 2 -> v - 2, v, v + 2: sd 2; the 95% t half-width 4.97
    return 40.0 + 5 * LABELS.index(key) + 2.0 * (seed - 1)


def _bar_segments(ax):
    """(lower, upper) x-extent of each horizontal error bar, bars in drawing order."""
    out = []
    for c in ax.containers:
        if isinstance(c, BarContainer) and c.errorbar is not None:
            segs = c.errorbar.lines[2][0].get_segments()
            out += [(min(s[0][0], s[1][0]), max(s[0][0], s[1][0])) for s in segs]
    return out


def test_bars_draw_the_interval_not_the_std(tmp_path):
    study = load_study(write_study(tmp_path, kind="list", labels=LABELS, seeds=(0, 1, 2), value=_spread))
    grid = label_grid(study, "linear_top1")
    stats = study.policy_stats("linear_top1").set_index("pipeline")
    fig = bars_figure(grid, "t", "top-1")
    segs = _bar_segments(fig.axes[0])
    plt.close(fig)
    assert len(segs) == len(LABELS)
    for (lo, hi), lab in zip(segs, LABELS):
        assert (lo, hi) == pytest.approx((stats.loc[lab, "lower"], stats.loc[lab, "upper"]))
        mean = stats.loc[lab, "mean"]
        assert hi - mean == pytest.approx(4.303 * 2 / np.sqrt(3), abs=1e-3)  # t(0.975, 2) sd / sqrt(n)
        assert hi - mean != pytest.approx(grid.std[0, LABELS.index(lab)])  # not ± std (2.0)
    assert "95% interval over training seeds only" in fig.axes[0].get_xlabel()


def test_bars_are_asymmetric_where_the_interval_is():
    mean = np.array([[50.0, 60.0]])
    grid = Grid(["simclr"], ["x", "y"], mean, np.array([[1.0, 1.0]]), np.array([[3, 3]]), np.array([[3, 3]]),
                np.array([["done", "done"]], dtype=object), 3, half=np.array([[2.0, 3.0]]),
                kinds=("seeds+examples",), lower=np.array([[49.0, 55.0]]), upper=np.array([[53.0, 61.0]]))
    fig = bars_figure(grid, "t", "top-1")
    segs = _bar_segments(fig.axes[0])
    plt.close(fig)
    assert segs == [pytest.approx((49.0, 53.0)), pytest.approx((55.0, 61.0))]
    assert "training seeds and test examples" in fig.axes[0].get_xlabel()


def test_sweep_curve_draws_the_interval(tmp_path):
    study = load_study(write_study(tmp_path, kind="sweep", seeds=(0, 1, 2)))
    table = strength_table(study, "linear_top1")
    fig = strength_figure(table, "t", "linear_top1", "strength")
    ours = fig.axes[0]
    bars = [c for c in ours.containers if isinstance(c, ErrorbarContainer)]
    i = table.grid.rows.index("simclr")
    segs = bars[0].lines[2][0].get_segments()
    plt.close(fig)
    got = [(min(s[0][1], s[1][1]), max(s[0][1], s[1][1])) for s in segs]
    ok = np.isfinite(table.grid.lower[i])
    want = list(zip(table.grid.lower[i][ok], table.grid.upper[i][ok]))
    assert got == [pytest.approx(w) for w in want] and len(got) >= 3
