"""benchmarks/install_wheels.py: unpacks the wheels of what this Python lacks, leaves installed ones alone."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "install_wheels.py"


def _wheel(folder: Path, dist: str, module: str) -> Path:
    path = folder / f"{dist}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(f"{module}/__init__.py", "VALUE = 42\n")
        z.writestr(f"{dist}-1.0.dist-info/METADATA", f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    return path


def test_unpacks_missing_and_skips_installed(tmp_path):
    wheels, site = tmp_path / "wheels", tmp_path / "site"
    wheels.mkdir()
    _wheel(wheels, "augstudy_absent_dist", "augstudy_absent_mod")
    _wheel(wheels, "pytest", "pytest_shadow")  # installed here: must not be unpacked
    out = subprocess.run([sys.executable, str(SCRIPT), "--wheels", str(wheels), "--site", str(site)],
                         capture_output=True, text=True, check=True).stdout
    assert (site / "augstudy_absent_mod" / "__init__.py").read_text() == "VALUE = 42\n"
    assert not (site / "pytest_shadow").exists()
    assert "unpack  augstudy_absent_dist-1.0" in out and "have    pytest" in out
    # a second run counts what the first unpacked as installed
    again = subprocess.run([sys.executable, str(SCRIPT), "--wheels", str(wheels), "--site", str(site)],
                           capture_output=True, text=True, check=True).stdout
    assert "have    augstudy-absent-dist 1.0" in again
