"""report.html in headless Chromium (Debian's ``chromium``), driven by Playwright pointed at it (no
browser download): what a person sees: one mark per cell, the hover text, the curve a click draws,
no JavaScript error, nothing requested from the network. Skipped without chromium or playwright."""
from __future__ import annotations

import csv
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from report_fixtures import write_study

from augstudy.report import plot_study

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (apt-get install chromium)")


def _with_cell_files(d: Path) -> dict[str, dict]:
    """Give each fake cell what ``augstudy run`` stores beside it: config.json, failed.json, an lr column."""
    rows = {r["cell_id"]: r for r in csv.DictReader(open(d / "results.csv"))}
    for cid, r in rows.items():
        c = d / "cells" / cid
        labels = {k: r[k] for k in ("pipeline", "method", "op1", "op2") if r[k]} | {"seed": int(r["seed"])}
        (c / "config.json").write_text(json.dumps({"cell_id": cid, "method": r["method"], "seed": int(r["seed"]),
                                                   "training": {"epochs": 4, "lr": 0.002}, "labels": labels}))
        if r["status"] == "failed":
            (c / "failed.json").write_text(json.dumps({"cell_id": cid, "status": "failed", "error": r["error"]}))
        elif (c / "curve.csv").is_file():
            lines = (c / "curve.csv").read_text().splitlines()
            (c / "curve.csv").write_text("epoch,loss,lr\n" + "".join(f"{ln},{0.002 / int(ln.split(',')[0])}\n" for ln in lines[1:]))
    return rows


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if CHROMIUM is None:
        pytest.skip("no chromium on PATH (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


class Page:
    """A report opened in a fresh page, recording every request, console error and page error."""

    def __init__(self, browser, path: Path):
        self.page = browser.new_page(viewport={"width": 1200, "height": 900})
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.url = path.resolve().as_uri()
        self.page.goto(self.url)
        self.page.wait_for_selector(".main-svg")

    def point(self, n: int, x, y=None, trace: int = 0) -> tuple[float, float]:
        """Viewport pixel of data point (x, y) of figure ``n``; with ``y`` None, of the point of ``trace`` at x."""
        return tuple(self.page.evaluate(
            """([n, x, y, t]) => { const gd = document.querySelectorAll('.js-plotly-plot')[n]; gd.scrollIntoView();
                 const L = gd._fullLayout, r = gd.getBoundingClientRect();
                 const xl = L.xaxis.d2l(x);
                 const yl = y === null ? gd.calcdata[t].find(p => p.x === xl).y : L.yaxis.d2l(y);
                 return [r.left + L.xaxis._offset + L.xaxis.l2p(xl), r.top + L.yaxis._offset + L.yaxis.l2p(yl)]; }""",
            [n, x, y, trace]))

    def texts(self, selector: str, n: int = 0) -> list[str]:
        """The text of every element matching ``selector`` inside figure ``n``."""
        return self.page.evaluate("([s, n]) => [...document.querySelectorAll('.js-plotly-plot')[n].querySelectorAll(s)]"
                                  ".map(e => e.textContent)", [selector, n])

    def hover(self, xy) -> str:
        self.page.mouse.move(*xy)
        self.page.wait_for_selector(".hoverlayer .hovertext")
        return self.page.evaluate("[...document.querySelectorAll('.hoverlayer .hovertext')].map(e => e.textContent).join(' | ')")

    def click(self, xy) -> None:
        self.page.mouse.click(*xy)
        self.page.wait_for_selector("#curve .scatterlayer .trace")

    def close(self) -> None:
        assert self.errors == [], self.errors  # no JavaScript error
        assert self.requests == [self.url], self.requests  # nothing but the page itself
        self.page.close()


OPS = ("crop", "color", "blur")


def test_pairwise_report_with_failed_and_diverged_cells_as_a_person_sees_it(tmp_path, browser):
    d = write_study(tmp_path, operators=OPS, seeds=(0, 1), status={("color", "crop"): "failed", ("blur", "blur"): "diverged"})
    rows = _with_cell_files(d)
    plot_study(d)
    page = Page(browser, d / "figures" / "report.html")
    labels = page.texts(".heatmaplayer .heatmap-label text")
    assert len([t for t in labels if t.strip()]) == 7  # one value per cell with a done seed
    assert len(page.texts(".scatterlayer .point")) == 2  # an x on the failed and the diverged cell
    mean = sum(float(r["linear_top1"]) for r in rows.values() if r["pipeline"] == "crop + color") / 2
    tip = page.hover(page.point(0, "color", "crop"))  # row crop (1st), column color (2nd)
    assert "crop + color" in tip and f"mean {mean:.2f}" in tip and "seeds 2" in tip
    assert f"{mean:.1f}" in labels
    tip = page.hover(page.point(0, "crop", "color"))
    assert "color + crop" in tip and "failed" in tip
    page.click(page.point(0, "color", "crop"))
    curves = page.page.evaluate("document.getElementById('curve').data.map(t => [t.name, t.y])")
    (cid0, cid1) = [c for c, r in rows.items() if r["pipeline"] == "crop + color"]
    want = [float(r["loss"]) for r in csv.DictReader(open(d / "cells" / cid0 / "curve.csv"))]
    assert curves[0][1] == pytest.approx(want) and curves[0][0].startswith("loss, crop + color")
    assert any(n.startswith("lr") for n, _ in curves)
    text = page.page.inner_text("#cell")
    assert cid0 in text and cid1 in text and "training.epochs: 4" in text
    page.close()


def test_one_cell_report_and_a_sweep_report(tmp_path, browser):
    one = write_study(tmp_path, name="one", operators=("crop",))
    _with_cell_files(one)
    plot_study(one)
    page = Page(browser, one / "figures" / "report.html")
    assert page.texts(".heatmaplayer .heatmap-label text") != [] and len(page.texts(".heatmaplayer .heatmap-label text")) == 1
    assert "crop" in page.hover(page.point(0, "crop", "crop"))
    page.click(page.point(0, "crop", "crop"))
    assert "training.epochs: 4" in page.page.inner_text("#cell")
    page.close()

    sweep = write_study(tmp_path, name="sw", kind="sweep", methods=("simclr", "supervised"), status={"1/4": "failed"})
    _with_cell_files(sweep)
    plot_study(sweep)
    page = Page(browser, sweep / "figures" / "report.html")
    assert len(page.texts(".scatterlayer .trace")) == 6  # simclr, supervised, an x trace for each one's failed column, the paper's two rows
    points = page.page.evaluate("[...document.querySelectorAll('.js-plotly-plot')[0].querySelectorAll('.scatterlayer .trace')]"
                                ".map(t => t.querySelectorAll('.points .point').length)")
    assert points[:4] == [4, 1, 4, 1]  # a point per column with a done seed, an x on the failed one
    tip = page.hover(page.point(0, "1/2"))
    assert "1/2" in tip and "mean" in tip
    assert "SimCLR (paper)" in page.page.inner_text("table.t1")
    page.close()


@needs_chromium
def test_chromium_dump_dom_draws_the_heatmap(tmp_path):
    """The plain ``chromium --headless --dump-dom`` check (no Playwright needed)."""
    d = write_study(tmp_path, operators=("crop", "color"), status={("color", "crop"): "failed"})
    plot_study(d)
    page = d / "figures" / "report.html"
    out = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000",
                          "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    dom = out.stdout
    assert 'class="heatmaplayer mlayer"' in dom  # Plotly ran and drew the heatmap trace
    assert "crop" in dom and "2nd transformation" in dom
