import subprocess, sys
def test_importing_augstudy_and_its_report_leaves_the_matplotlib_backend_alone():
    """A notebook that chose a backend and then imports augstudy keeps it (no matplotlib.use at import)."""
    code = ("import matplotlib; matplotlib.use('svg'); import augstudy, augstudy.report, augstudy.report.heatmap, "
            "augstudy.report.strength, augstudy.report.comparison, augstudy.report.bars, augstudy.report.curves, augstudy.report.html, augstudy.ops.preview; "
            "print(matplotlib.get_backend())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().lower() == "svg"
