"""report.html and index.html: self-contained Plotly pages (read as files; no browser here)."""
from __future__ import annotations

import json
import re
from pathlib import Path

from report_fixtures import write_study

from augstudy.report import plot_all, plot_study

OPS = ("crop", "color", "blur")


def _figs(page: str) -> list[dict]:
    """The figure data passed to Plotly.newPlot on the page."""
    return [json.loads(m)[0] for m in re.findall(r'Plotly\.newPlot\(\s*"[^"]+",\s*(\[.*?\]),\s*\{', page, re.S)]


def test_report_self_contained_one_mark_per_cell_with_failed_and_diverged(tmp_path):
    d = write_study(tmp_path, operators=OPS, seeds=(0, 1),
                    status={("color", "crop"): "failed", ("blur", "blur"): "diverged"})
    plot_study(d)
    page = (d / "figures" / "report.html").read_text()
    assert len(page) < 5_000_000
    assert page.count("plotly.js v") <= 2 and "Plotly.newPlot" in page  # the library inline, once
    assert not re.search(r'<(script|link|img)[^>]+(src|href)=["\']?https?:', page)  # nothing fetched
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    heat = _figs(page)[0]  # then the comparison with the paper
    z = heat["z"]
    assert len(z) == 3 and all(len(r) == 3 for r in z)
    assert z[OPS.index("color")][OPS.index("crop")] is None and z[OPS.index("blur")][OPS.index("blur")] is None
    assert sum(v is not None for r in z for v in r) == 7
    hover = heat["text"][OPS.index("crop")][OPS.index("color")]
    assert hover.startswith("crop + color<br>mean ") and "seeds 2" in hover
    assert "no done cell" in heat["text"][OPS.index("color")][OPS.index("crop")]
    assert "CELLS=" in page and "plotly_click" in page


def test_report_one_cell_study_and_index(tmp_path):
    one = write_study(tmp_path, name="one", operators=("crop",))
    write_study(tmp_path, name="two", kind="list", labels=("a", "b"))
    plot_all(tmp_path)
    heat = _figs((one / "figures" / "report.html").read_text())[0]
    assert heat["z"] == [[heat["z"][0][0]]] and heat["z"][0][0] is not None
    bars = _figs((tmp_path / "two" / "figures" / "report.html").read_text())
    assert bars[0]["type"] == "bar" and list(bars[0]["x"]) == ["a", "b"]
    index = (tmp_path / "index.html").read_text()
    assert "one/figures/report.html" in index and "two/figures/report.html" in index
    assert "1/1" in index and "2/2" in index


def test_147_cell_report_with_every_cells_curve_stays_under_5_mb(tmp_path):
    ops = ("crop", "cutout", "color", "sobel", "noise", "blur", "rotate")
    d = write_study(tmp_path, operators=ops, seeds=(0, 1, 2), epochs=22)
    for c in (d / "cells").iterdir():  # what a run stores beside: the config and the lr column
        (c / "config.json").write_text(json.dumps({"cell_id": c.name, "seed": 0, "training": {"epochs": 22, "lr": 0.004},
                                                   "labels": {"pipeline": c.name}}))
        lines = (c / "curve.csv").read_text().splitlines()[1:]
        (c / "curve.csv").write_text("epoch,loss,lr\n" + "".join(f"{ln},{0.004 / (1 + i)!r}\n" for i, ln in enumerate(lines)))
    plot_study(d)
    page = (d / "figures" / "report.html").read_text()
    assert len(page.encode()) < 5_000_000
    cells = json.loads(re.search(r"window\.CELLS=(\{.*?\});</script>", page).group(1))
    common = json.loads(re.search(r"window\.COMMON=(\{.*?\});", page).group(1))
    assert len(cells) == 147 and all(len(c["curve"]["loss"]) == 22 for c in cells.values())
    assert common["_lr_schedules"][cells[next(iter(cells))]["curve"]["lr"]][:2] == [0.004, 0.002]
    assert common["training.epochs"] == 22 and "training.epochs" not in next(iter(cells.values()))["config"]
