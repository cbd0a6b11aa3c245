"""Report: `plot_study` / `augstudy plot` end to end on fake results (no training)."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from report_fixtures import default_value, write_study
from typer.testing import CliRunner

from augstudy.cli import app
from augstudy.errors import AugstudyError
from augstudy.report import plot_all, plot_study
from augstudy.report.heatmap import heatmap_figure
from augstudy.report.results import load_study
from augstudy.report.tables import pairwise_grid

OPS = ("crop", "color", "my_plugin")
PNG, PDF = b"\x89PNG\r\n\x1a\n", b"%PDF-"


def assert_valid(path):
    data = path.read_bytes()
    if path.suffix == ".png":
        assert data.startswith(PNG) and data.rstrip().endswith(b"IEND\xaeB`\x82"), path
        from PIL import Image

        with Image.open(path) as im:
            im.verify()
    elif path.suffix == ".pdf":
        assert data.startswith(PDF) and b"%%EOF" in data[-64:], path
    assert len(data) < 400_000, f"{path} is {len(data)} bytes"


def annotations(ax) -> dict[tuple[int, int], str]:
    """The texts drawn in each heatmap cell, by (row, col), read back from the axes."""
    cells = [t for t in ax.texts if t.get_text() and t.get_transform() == ax.transData]  # not the footnote
    return {(int(t.get_position()[1]), int(t.get_position()[0])): t.get_text() for t in cells}


def test_heatmap_annotations_are_the_tables_values(tmp_path):
    d = write_study(tmp_path, operators=OPS, status={("color", "crop"): "failed"}, curves="none")
    grid = pairwise_grid(load_study(d), "linear_top1")
    fig = heatmap_figure(grid, "t")
    ax, ax_avg = fig.axes[0], fig.axes[1]
    assert [t.get_text() for t in ax.get_yticklabels()] == list(OPS)
    assert [t.get_text() for t in ax.get_xticklabels()] == list(OPS)
    texts = annotations(ax)
    assert len(texts) == 9
    for i, a in enumerate(OPS):
        for j, b in enumerate(OPS):
            expected = "failed" if (a, b) == ("color", "crop") else f"{default_value('simclr', (a, b), 0):.1f}"
            assert texts[(i, j)] == expected
    avg = annotations(ax_avg)
    assert [avg[(i, 0)] for i in range(3)] == [f"{v:.1f}" for v in grid.row_average]
    assert [t.get_text() for t in ax_avg.get_xticklabels()] == ["Average"]


def test_pairwise_study_writes_every_file(tmp_path):
    d = write_study(tmp_path, name="pw", operators=OPS, methods=("simclr", "supervised"), seeds=(0, 1),
                    status={("crop", "my_plugin"): "failed"}, missing={("my_plugin", "crop")})
    written = plot_study(d)
    fig_dir = d / "figures"
    names = {p.name for p in written}
    for stem in ("heatmap_simclr_linear_top1", "heatmap_supervised_linear_top1", "paper_comparison_linear_top1"):
        assert {f"{stem}.png", f"{stem}.pdf"} <= names
    assert {"curves.png", "summary.md"} <= names
    assert all(p.parent == fig_dir and p.exists() for p in written)
    for p in written:
        if p.suffix in (".png", ".pdf"):
            assert_valid(p)
    assert not list(fig_dir.glob("*.tmp"))  # atomic writes leave no temp files
    # the data behind the heatmap is the table's, seeds pooled
    data = pd.read_csv(fig_dir / "heatmap_simclr_linear_top1.csv", index_col=0)
    table = pd.read_csv(d / "results.csv")
    sim = table[(table["method"] == "simclr") & (table["status"] == "done")]
    expected = sim.groupby(["op1", "op2"])["linear_top1"].mean()
    for (a, b), v in expected.items():
        assert data.loc[a, b] == pytest.approx(v, abs=1e-3)
    assert np.isnan(data.loc["crop", "my_plugin"]) and np.isnan(data.loc["my_plugin", "crop"])

    summary = (fig_dir / "summary.md").read_text()
    for needed in ("studies/pw.yaml", "synthetic", "resnet-tiny", "Test CPU", "1:02:05", "0.1.0", "2 seeds",
                   "Spearman rho vs the paper", "shared cells", "SimCLR: best cells", "Supervised: worst cells", "my_plugin"):
        assert needed in summary, needed
    for img in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", summary):
        assert (fig_dir / img).is_file(), img  # relative links resolve
    failed = summary.split("## Failed and missing cells")[1]
    assert "crop + my_plugin" in failed and "failed" in failed
    assert "my_plugin + crop" in failed and "missing" in failed
    assert "RuntimeError: boom \\| bad" in failed  # pipes escaped inside the Markdown table


def test_sweep_and_list_studies_and_knn(tmp_path):
    sweep = write_study(tmp_path, name="strength", kind="sweep", methods=("simclr", "supervised"), curves="json")
    names = {p.name for p in plot_study(sweep, metric="knn_top1")}
    assert {"strength_table_knn_top1.md", "strength_table_knn_top1.csv", "strength_table_knn_top1.tex",
            "strength_knn_top1.png", "strength_knn_top1.pdf", "curves.png", "summary_knn_top1.md"} <= names
    md = (sweep / "figures" / "strength_table_knn_top1.md").read_text()
    assert f"{default_value('simclr', '1/2', 0) - 3.0:.1f}" in md  # knn values, not linear
    knn_summary = (sweep / "figures" / "summary_knn_top1.md").read_text()
    assert "Color strength (Table 1)" in knn_summary
    assert "| cell | kNN top-1 (%) |" in knn_summary and "linear-eval" not in knn_summary.split("best cells")[1]

    lst = write_study(tmp_path, name="lst", kind="list", labels=("crop + color", "default"), status={"default": "failed"})
    written = plot_study(lst)
    assert {"bars_linear_top1.png", "summary.md"} <= {p.name for p in written}
    summary = (lst / "figures" / "summary.md").read_text()
    assert "| default | failed |" in summary


def test_plot_all_and_cli(tmp_path):
    write_study(tmp_path, name="a", operators=("crop", "color"), curves="none")
    write_study(tmp_path, name="b", kind="list", labels=("x", "y"), curves="none")
    paths = plot_all(tmp_path)
    assert tmp_path / "index.html" in paths  # a folder of studies also gets an index page
    assert {p.parent.parent.name for p in paths if p.name != "index.html"} == {"a", "b"}
    runner = CliRunner()
    res = runner.invoke(app, ["plot", str(tmp_path / "b"), "--metric", "knn_top1"])
    assert res.exit_code == 0, res.output
    assert str(tmp_path / "b" / "figures" / "summary_knn_top1.md") in res.output


def test_empty_directory_is_a_clear_error(tmp_path):
    with pytest.raises(AugstudyError, match="no results"):
        plot_all(tmp_path)
    res = CliRunner().invoke(app, ["plot", str(tmp_path)])
    assert res.exit_code == 2
    out = res.output.strip()
    assert "error:" in out and str(tmp_path) in out and "Traceback" not in out and len(out.splitlines()) <= 2
    res = CliRunner().invoke(app, ["plot", str(tmp_path), "--metric", "top5"])
    assert res.exit_code == 2 and "linear_top1 or knn_top1" in res.output


def test_replotting_without_cell_curves_keeps_the_earlier_curves_figure(tmp_path):
    """A clone of committed results has no cells/*/curve.csv: plot must not overwrite curves.png with an empty one."""
    d = write_study(tmp_path, name="pw", operators=OPS)
    plot_study(d)
    before = (d / "figures" / "curves.png").read_bytes()
    for f in d.glob("cells/*/curve.csv"):
        f.unlink()
    written = plot_study(d)
    assert "curves.png" not in {p.name for p in written}
    assert (d / "figures" / "curves.png").read_bytes() == before
    assert "curves.png" in (d / "figures" / "summary.md").read_text()
