"""SIGINT and SIGTERM stop `augstudy run` cleanly, in the background, with 1 and 2 workers.

No test here waits for a number of seconds: a plugin operator (``hold``) records that its cell started
(a file named after the worker's pid) and then blocks until the test writes ``release``; the tests
send the signal once those files exist. Deadlines only bound a failure.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest
import yaml

from augstudy import run_study

PLUGIN = textwrap.dedent('''
    import os, pathlib, time
    import augstudy
    from augstudy.ops import Operator

    STATE = pathlib.Path(os.environ["AUGSTUDY_TEST_STATE"])
    (STATE / f"imported-{os.getpid()}").write_text("")

    @augstudy.operator("hold")
    class Hold(Operator):
        """Blocks its cell until STATE/release exists; records the pid of the process running it."""

        def apply(self, x, params):
            (STATE / f"started-{os.getpid()}").write_text("")
            while not (STATE / "release").exists():
                time.sleep(0.05)
            return x
''')

DEADLINE = 300.0  # seconds: only a guard against a hang, never a condition of success


def study(tmp_path: Path, workers: int) -> Path:
    spec = {"name": "sig", "plugins": ["hold_plugin"],
            "dataset": {"name": "synthetic", "params": {"n_train": 64, "n_test": 64, "size": 8}},
            "model": {"encoder": "resnet-tiny", "encoder_params": {"widths": [4], "blocks": [1]}, "projection_dim": 8},
            "training": {"epochs": 1, "batch_size": 32, "threads": 1, "device": "cpu"},
            "protocol": {"name": "asymmetric", "base_crop": None},
            "evaluation": {"linear_max_iter": 5, "knn_k": 5},
            "grid": {"kind": "pairwise", "operators": ["crop", "hold"]},  # crop alone, then 3 held cells
            "executor": {"kind": "local", "workers": workers}}
    path = tmp_path / "sig.yaml"
    path.write_text(yaml.safe_dump(spec))
    (tmp_path / "hold_plugin.py").write_text(PLUGIN)
    (tmp_path / "state").mkdir()
    return path


def env_for(tmp_path: Path) -> dict:
    here = str(Path(__file__).resolve().parents[1])
    path = os.pathsep.join([str(tmp_path), here, os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path, "AUGSTUDY_TEST_STATE": str(tmp_path / "state"),
            "AUGSTUDY_CACHE": str(tmp_path / "cache")}


def start_background(tmp_path: Path, spec: Path) -> subprocess.Popen:
    """`augstudy run` as a shell starts a background job: SIGINT ignored (inherited), its own session."""
    def as_background_job():
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    return subprocess.Popen([sys.executable, "-m", "augstudy.cli", "run", str(spec), "--out", str(tmp_path / "out")],
                            env=env_for(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            preexec_fn=as_background_job, start_new_session=True, cwd=tmp_path)


def wait_until(condition, proc: subprocess.Popen, what: str) -> None:
    end = time.monotonic() + DEADLINE
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(f"the run ended (exit {proc.returncode}) before {what}:\n{proc.stdout.read().decode()}")
        if time.monotonic() > end:
            proc.kill()
            raise AssertionError(f"no {what} after {DEADLINE} s:\n{proc.stdout.read().decode()}")
        time.sleep(0.05)


def started_pids(tmp_path: Path) -> set[int]:
    return {int(p.name.split("-")[1]) for p in (tmp_path / "state").glob("started-*")}


def finished_cells(root: Path) -> int:
    return len(list(root.glob("cells/*/metrics.json")))


def gone(pids) -> bool:
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                return False
        except psutil.NoSuchProcess:
            pass
    return True


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("workers", [1, 2])
def test_a_signal_stops_a_background_run_cleanly_and_the_rerun_completes_it(tmp_path, sig, workers):
    spec = study(tmp_path, workers)
    root = tmp_path / "out" / "sig"
    proc = start_background(tmp_path, spec)
    # the crop cell is stored and every worker is inside a held cell: nothing can finish before the signal
    wait_until(lambda: finished_cells(root) >= 1 and len(started_pids(tmp_path)) >= workers, proc,
               f"one stored cell and {workers} held cell(s)")
    tree = {proc.pid} | {p.pid for p in psutil.Process(proc.pid).children(recursive=True)}
    proc.send_signal(sig)
    try:
        out = proc.communicate(timeout=DEADLINE)[0].decode()
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError(f"the run did not stop on {sig.name}")
    assert proc.returncode == 128 + sig, out
    assert "Traceback" not in out and "Warning" not in out, out
    lines = [ln for ln in out.splitlines() if "interrupted" in ln]
    assert lines == [f"interrupted ({sig.name}): 1 of 4 cells finished and saved; rerun the same command to resume"], out
    assert not (root / ".lock").exists()
    assert json.loads((root / "study.json").read_text())["state"] == "interrupted"
    assert finished_cells(root) == 1 and len((root / "results.csv").read_text().splitlines()) == 2
    end = time.monotonic() + DEADLINE
    while not gone(tree | started_pids(tmp_path)):  # the held workers would block for ever
        assert time.monotonic() < end, f"processes of the run survive it: {sorted(tree)}"
        time.sleep(0.05)
    # resume: the held cells now pass; the stored crop cell is not recomputed
    crop_metrics = next(root.glob("cells/*/metrics.json"))
    stamp = crop_metrics.stat().st_mtime_ns
    (tmp_path / "state" / "release").write_text("")
    os.environ["AUGSTUDY_TEST_STATE"] = str(tmp_path / "state")
    sys.path.insert(0, str(tmp_path))
    try:
        df = run_study(spec, out=tmp_path / "out", workers=1, progress=False)
    finally:
        sys.path.remove(str(tmp_path))
        del os.environ["AUGSTUDY_TEST_STATE"]
    assert len(df) == 4 and (df["status"] == "done").all()
    assert crop_metrics.stat().st_mtime_ns == stamp


def test_sigint_during_start_up_is_one_line_and_exit_130(tmp_path):
    """A signal while the study loads (its plugin is being imported) stops it without a traceback."""
    spec = study(tmp_path, 1)
    proc = start_background(tmp_path, spec)
    wait_until(lambda: (tmp_path / "state" / f"imported-{proc.pid}").exists(), proc, "the plugin import")
    proc.send_signal(signal.SIGINT)
    out = proc.communicate(timeout=DEADLINE)[0].decode()
    assert proc.returncode == 130, out
    assert "Traceback" not in out, out
    assert len([ln for ln in out.splitlines() if "interrupted (SIGINT)" in ln]) == 1, out
    assert not (tmp_path / "out" / "sig" / ".lock").exists()
