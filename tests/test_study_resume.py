"""Resume after a crash: kill -9 (and Ctrl-C) a run mid-grid, rerun, nothing completed is touched."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from augstudy import run_study
from test_study_store import fake_cell, quick_spec, snapshot

HERE = Path(__file__).resolve().parent
SCRIPT = """
import signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)  # a shell's background job inherits SIGINT ignored
sys.path.insert(0, {tests!r})
from test_study_store import fake_cell
from augstudy import run_study
run_study({spec!r}, out={out!r}, cell_fn=fake_cell, progress=True)
"""


def start_run(tmp_path, delay="1.0"):
    spec = tmp_path / "study.yaml"
    spec.write_text(yaml.safe_dump(quick_spec(seeds=[0])))
    env = {**os.environ, "AUGSTUDY_FAKE_SLEEP": delay}
    code = SCRIPT.format(tests=str(HERE), spec=str(spec), out=str(tmp_path))
    return spec, subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def wait_for_cells(root: Path, n: int, proc, timeout: float = 60.0) -> None:
    end = time.time() + timeout
    while time.time() < end:
        if len(list(root.glob("cells/*/metrics.json"))) >= n:
            return
        assert proc.poll() is None, proc.stdout.read().decode()
        time.sleep(0.05)
    raise AssertionError(f"fewer than {n} cells finished in {timeout} s")


def interrupt_run(tmp_path, after_cells: int, sig: int):
    """Start a run in a subprocess, send ``sig`` once ``after_cells`` cells are done; return its pieces."""
    spec, proc = start_run(tmp_path)
    root = tmp_path / "fake"
    wait_for_cells(root, after_cells, proc)
    proc.send_signal(sig)
    out = proc.communicate(timeout=30)[0].decode()
    return spec, root, proc, out


def test_kill_9_mid_grid_loses_no_completed_cell_and_the_rerun_completes_the_rest(tmp_path):
    spec, root, proc, _ = interrupt_run(tmp_path, 3, signal.SIGKILL)
    before = snapshot(root)
    n_before = len({Path(p).parent.name for p in before})
    assert 3 <= n_before < 9
    assert (root / ".lock").exists()  # left behind by the killed run: stale, taken over below
    calls = []
    df = run_study(spec, out=tmp_path, cell_fn=lambda c: calls.append(1) or fake_cell(c), progress=False)
    assert len(calls) == 9 - n_before
    assert len(df) == 9 and (df["status"] == "done").all()
    after = snapshot(root)
    assert {k: v for k, v in after.items() if k in before} == before  # same bytes, same mtimes
    assert not list(root.rglob("*.tmp"))


def test_ctrl_c_stops_cleanly_releases_the_lock_and_keeps_finished_cells(tmp_path):
    spec, root, proc, out = interrupt_run(tmp_path, 2, signal.SIGINT)
    assert proc.returncode != 0 and "interrupted" in out and "rerun the same command to resume" in out
    assert not (root / ".lock").exists()
    assert json.loads((root / "study.json").read_text())["state"] == "interrupted"
    done = len(list(root.glob("cells/*/metrics.json")))
    table = (root / "results.csv").read_text().splitlines()
    assert len(table) == 1 + done  # the table matches the cells on disk
    df = run_study(spec, out=tmp_path, cell_fn=fake_cell, progress=False)
    assert len(df) == 9 and (df["status"] == "done").all()
