"""Report: the color-strength table (Table 1) in Markdown, LaTeX and CSV (fake results, no training)."""
from __future__ import annotations

import io
import math
import re

import pandas as pd
import pytest
from report_fixtures import write_study

from augstudy.report import paper
from augstudy.report.results import load_study
from augstudy.report.strength import strength_rho, strength_table, to_csv, to_latex, to_markdown

OURS = {"1/8": 10.0, "1/4": 20.0, "1/2": 30.0, "1": 40.0, "1 (+blur)": 50.0}


def parse_markdown(text: str) -> list[list[str]]:
    lines = [ln for ln in text.strip().splitlines() if ln.startswith("|")]
    assert re.fullmatch(r"\|(-+:?\|)+", lines[1]), lines[1]  # the separator row
    return [[c.strip() for c in re.split(r"(?<!\\)\|", ln)[1:-1]] for ln in [lines[0], *lines[2:]]]


def parse_latex(text: str) -> list[list[str]]:
    assert text.count(r"\begin{tabular}") == 1 and text.count(r"\end{tabular}") == 1
    body = text.split(r"\toprule")[1].split(r"\bottomrule")[0].replace(r"\midrule", "")
    rows = [r.strip() for r in body.split(r"\\") if r.strip()]
    return [[c.strip() for c in r.split("&")] for r in rows]


@pytest.fixture
def table(tmp_path):
    d = write_study(tmp_path, kind="sweep", methods=("simclr", "supervised"), seeds=(0, 1),
                    value=lambda m, k, s: OURS[k] + (5.0 if m == "supervised" else 0.0) + 2.0 * s,
                    status={("supervised", "1/4", 0): "failed", ("supervised", "1/4", 1): "failed"})
    return strength_table(load_study(d), "linear_top1")


def test_markdown_table_holds_ours_beside_the_paper(table):
    rows = parse_markdown(to_markdown(table))
    header, body = rows[0], {r[0]: r[1:] for r in rows[1:]}
    assert header == ["Method", "1/8", "1/4", "1/2", "1", "1 (+blur)", "AutoAug"]
    assert list(body) == ["SimCLR (this study)", "SimCLR (paper)", "Supervised (this study)", "Supervised (paper)"]
    assert body["SimCLR (this study)"][:5] == ["11.0 ± 12.7", "21.0 ± 12.7", "31.0 ± 12.7", "41.0 ± 12.7", "51.0 ± 12.7"]  # 95% interval, 2 seeds
    assert body["SimCLR (this study)"][5] == "—"  # AutoAug: paper only
    assert body["Supervised (this study)"][1] == "failed"
    t1 = paper.table1()
    for method, label in (("simclr", "SimCLR (paper)"), ("supervised", "Supervised (paper)")):
        assert [float(v) for v in body[label]] == list(t1.loc[method, header[1:]])


def test_latex_table_parses_and_holds_the_numbers(table):
    rows = parse_latex(to_latex(table, caption="Strength 100% & more"))
    assert rows[0][0] == "Method" and rows[0][1:] == ["1/8", "1/4", "1/2", "1", "1 (+blur)", "AutoAug"]
    body = {r[0]: r[1:] for r in rows[1:]}
    assert body["SimCLR (this study)"][0] == r"11.0 $\pm$ 12.7"
    assert body["SimCLR (paper)"] == ["59.6", "61.0", "62.6", "63.2", "64.5", "61.1"]
    assert body["Supervised (this study)"][1] == "failed" and body["Supervised (this study)"][5] == "--"
    assert r"100\% \& more" in to_latex(table, caption="100% & more")


def test_csv_has_means_and_stds(table):
    df = pd.read_csv(io.StringIO(to_csv(table)))
    ours = df[(df["method"] == "simclr") & (df["source"] == "ours")].iloc[0]
    assert ours["1/2"] == pytest.approx(31.0) and ours["1/2 std"] == pytest.approx(math.sqrt(2), abs=1e-3)
    sup = df[(df["method"] == "supervised") & (df["source"] == "ours")].iloc[0]
    assert math.isnan(sup["1/4"])
    assert df[df["source"] == "paper"]["AutoAug"].tolist() == [61.1, 77.1]


def test_rank_correlation_with_table1(table):
    rho, n = strength_rho(table)
    assert n == 5 and rho == pytest.approx(1.0)  # both increase with strength


def test_sweep_over_another_parameter_has_no_paper_rows(tmp_path):
    d = write_study(tmp_path, kind="sweep", labels=("sigma 0.5", "sigma 1", "sigma 2"))
    t = strength_table(load_study(d), "linear_top1")
    assert [r[2] for r in t.rows] == ["ours"] and t.columns == ["sigma 0.5", "sigma 1", "sigma 2"]
    assert t.paper_only == []


def test_long_column_labels_wrap_on_the_figure_axis(tmp_path):
    from augstudy.report.strength import strength_figure

    d = write_study(tmp_path, kind="sweep", labels=("1/2", "1 (+blur)", "1 (+blur x 64/224)"))
    t = strength_table(load_study(d), "linear_top1")
    fig = strength_figure(t, "t", "linear_top1", None)
    ticks = [lab.get_text() for lab in fig.axes[0].get_xticklabels()]
    assert ticks[:2] == ["1/2", "1 (+blur)"] and ticks[2] == "1 (+blur x\n64/224)"
