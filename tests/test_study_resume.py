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
import sys
sys.path.insert(0, {tests!r})
from test_study_resume import held_cell
from augstudy import run_study
run_study({spec!r}, out={out!r}, cell_fn=held_cell, progress=True)
"""
DEADLINE = 300.0  # seconds: a guard against a hang only; the tests wait for states


def held_cell(config):
    """fake_cell, except that once ``AUGSTUDY_HOLD_AFTER`` cells are stored, a cell writes ``started`` and
    blocks until ``release`` exists (in ``AUGSTUDY_HOLD_DIR``): the run is then certainly mid-grid."""
    hold = Path(os.environ["AUGSTUDY_HOLD_DIR"])
    if len(list((hold / "fake").glob("cells/*/metrics.json"))) >= int(os.environ["AUGSTUDY_HOLD_AFTER"]):
        (hold / "started").write_text(config.cell_id())
        while not (hold / "release").exists():
            time.sleep(0.05)
    return fake_cell(config)


def start_run(tmp_path, after_cells: int):
    spec = tmp_path / "study.yaml"
    spec.write_text(yaml.safe_dump(quick_spec(seeds=[0])))
    env = {**os.environ, "AUGSTUDY_HOLD_DIR": str(tmp_path), "AUGSTUDY_HOLD_AFTER": str(after_cells)}
    code = SCRIPT.format(tests=str(HERE), spec=str(spec), out=str(tmp_path))
    # started as a shell starts a background job: SIGINT ignored (augstudy installs its own handler)
    return spec, subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))


def interrupt_run(tmp_path, after_cells: int, sig: int):
    """Start a run in a subprocess, send ``sig`` once ``after_cells`` cells are stored and the next one is
    held (so no further cell can finish first); return its pieces."""
    spec, proc = start_run(tmp_path, after_cells)
    end = time.monotonic() + DEADLINE
    while not (tmp_path / "started").exists():
        assert proc.poll() is None, proc.stdout.read().decode()
        assert time.monotonic() < end, "the run never reached the held cell"
        time.sleep(0.05)
    proc.send_signal(sig)
    out = proc.communicate(timeout=DEADLINE)[0].decode()
    (tmp_path / "release").write_text("")
    return spec, tmp_path / "fake", proc, out


def test_kill_9_mid_grid_loses_no_completed_cell_and_the_rerun_completes_the_rest(tmp_path):
    spec, root, proc, _ = interrupt_run(tmp_path, 3, signal.SIGKILL)
    before = snapshot(root)
    n_before = len({Path(p).parent.name for p in before})
    assert n_before == 3
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
    assert proc.returncode != 0 and "interrupted (SIGINT): 2 of 9 cells finished" in out
    assert "rerun the same command to resume" in out
    assert not (root / ".lock").exists()
    assert json.loads((root / "study.json").read_text())["state"] == "interrupted"
    done = len(list(root.glob("cells/*/metrics.json")))
    table = (root / "results.csv").read_text().splitlines()
    assert len(table) == 1 + done  # the table matches the cells on disk
    df = run_study(spec, out=tmp_path, cell_fn=fake_cell, progress=False)
    assert len(df) == 9 and (df["status"] == "done").all()
