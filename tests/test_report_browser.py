"""report.html rendered by headless Chromium (Debian's `chromium`); skipped when it is absent."""
from __future__ import annotations

import shutil
import subprocess

import pytest
from report_fixtures import write_study

from augstudy.report import plot_study

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (apt-get install chromium)")
def test_chromium_draws_the_heatmap(tmp_path):
    d = write_study(tmp_path, operators=("crop", "color"), status={("color", "crop"): "failed"})
    plot_study(d)
    page = d / "figures" / "report.html"
    out = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000",
                          "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    dom = out.stdout
    assert 'class="heatmaplayer mlayer"' in dom  # Plotly ran and drew the heatmap trace
    assert "crop" in dom and "2nd transformation" in dom
