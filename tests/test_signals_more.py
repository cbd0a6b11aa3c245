"""More stops: a signal to a study running on a Dask LocalCluster, and a second Ctrl-C during the clean stop.

As in test_signals.py, no test waits for a number of seconds: the ``hold`` plugin operator records that a
cell started and blocks until the test releases it; a plugin tracker records that the clean stop reached
its ``close`` and blocks there. Signals are sent once those files exist; deadlines only bound a failure.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import psutil
import pytest
import yaml

from augstudy import run_study
from test_signals import DEADLINE, PLUGIN, finished_cells, gone, start_background, started_pids, study, wait_until

TRACKER = textwrap.dedent('''
    import os, pathlib, time
    from augstudy.study.tracking import TRACKERS, Tracker

    STATE = pathlib.Path(os.environ["AUGSTUDY_TEST_STATE"])

    @TRACKERS.register("stuck")
    class Stuck(Tracker):
        """Logs nothing; its close blocks until STATE/release-close exists (the test never writes it)."""

        def log(self, cell):
            pass

        def close(self):
            (STATE / "closing").write_text("")
            while not (STATE / "release-close").exists():
                time.sleep(0.05)
''')

def _stop(proc: subprocess.Popen, what: str) -> str:
    try:
        return proc.communicate(timeout=DEADLINE)[0].decode()
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError(f"the run did not stop on {what}")

def _resume(tmp_path, spec, monkeypatch, state=None, **kwargs):
    """Release the held cells and rerun the study here; the stored crop cell must not be recomputed."""
    root = tmp_path / "out" / "sig"
    crop = next(root.glob("cells/*/metrics.json"))
    stamp = crop.stat().st_mtime_ns
    state = state or tmp_path / "state"
    (state / "release").write_text("")
    monkeypatch.setenv("AUGSTUDY_TEST_STATE", str(state))
    monkeypatch.syspath_prepend(str(tmp_path))
    df = run_study(spec, out=tmp_path / "out", progress=False, **kwargs)
    assert len(df) == 4 and (df["status"] == "done").all()
    assert crop.stat().st_mtime_ns == stamp

@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    """One LocalCluster (2 worker processes, 1 thread each) for both signals: its workers import the
    ``hold`` plugin from a shared folder and watch a shared state folder (cleared by each test)."""
    distributed = pytest.importorskip("dask.distributed")
    shared = tmp_path_factory.mktemp("dask-shared")
    (shared / "state").mkdir()
    (shared / "hold_plugin.py").write_text(PLUGIN)
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    pythonpath = os.pathsep.join([str(shared), here, os.environ.get("PYTHONPATH", "")])
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AUGSTUDY_TEST_STATE", str(shared / "state"))
        mp.setenv("PYTHONPATH", pythonpath)
        mp.syspath_prepend(str(shared))  # spawned worker processes start with this process's sys.path
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                      protocol="tcp", dashboard_address=None) as cluster, \
                distributed.Client(cluster.scheduler_address, set_as_default=False) as client:
            yield shared, cluster.scheduler_address, client


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_a_study_on_a_dask_cluster_and_the_rerun_completes_it(tmp_path, monkeypatch, dask_cluster, sig):
    shared, address, client = dask_cluster
    state = shared / "state"
    for f in state.iterdir():  # the previous test's release and started files
        f.unlink()
    spec = study(tmp_path, 1)
    root = tmp_path / "out" / "sig"
    workers = set(client.run(os.getpid).values())  # the worker processes' pids
    env = {**os.environ, "AUGSTUDY_CACHE": str(tmp_path / "cache"), "AUGSTUDY_TEST_STATE": str(state)}
    proc = subprocess.Popen([sys.executable, "-m", "augstudy.cli", "run", str(spec), "--out", str(tmp_path / "out"),
                             "--scheduler", address], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True, cwd=tmp_path,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))  # a background job
    # the crop cell is stored and both cluster workers are inside a held cell: nothing else can finish
    wait_until(lambda: finished_cells(root) >= 1 and len(started_pids(shared) & workers) >= 2, proc,
               "one stored cell and 2 held cells on the cluster")
    tree = {proc.pid} | {p.pid for p in psutil.Process(proc.pid).children(recursive=True)}
    proc.send_signal(sig)
    out = _stop(proc, sig.name)
    assert proc.returncode == 128 + sig, out
    assert "Traceback" not in out, out
    lines = [ln for ln in out.splitlines() if "interrupted" in ln]
    assert lines == [f"interrupted ({sig.name}): 1 of 4 cells finished and saved; "
                     "rerun the same command to resume"], out
    assert not (root / ".lock").exists()
    assert json.loads((root / "study.json").read_text())["state"] == "interrupted"
    end = time.monotonic() + DEADLINE
    while not gone(tree):  # nothing the driver started outlives it
        assert time.monotonic() < end, f"processes of the run survive it: {sorted(tree)}"
        time.sleep(0.05)
    # the cluster forgets the interrupted study's cells: none is left queued to start later
    end = time.monotonic() + DEADLINE
    while client.run_on_scheduler(lambda dask_scheduler: [k for k in dask_scheduler.tasks if "augstudy-cell" in str(k)]):
        assert time.monotonic() < end, "the cluster still holds the interrupted study's cells"
        time.sleep(0.05)
    assert finished_cells(root) == 1
    assert all(psutil.pid_exists(p) for p in workers)  # the cluster is not ours to stop: it serves the resume
    _resume(tmp_path, spec, monkeypatch, state=state, scheduler=address)


def test_a_second_ctrl_c_during_the_clean_stop_ends_at_once_and_keeps_the_finished_cells(tmp_path, monkeypatch):
    spec_path = study(tmp_path, 1)
    spec = yaml.safe_load(spec_path.read_text())
    spec["plugins"].append("stuck_tracker")
    spec["tracking"] = {"kind": "stuck"}
    spec_path.write_text(yaml.safe_dump(spec))
    (tmp_path / "stuck_tracker.py").write_text(TRACKER)
    root = tmp_path / "out" / "sig"
    proc = start_background(tmp_path, spec_path)
    wait_until(lambda: finished_cells(root) >= 1 and started_pids(tmp_path), proc, "one stored cell and a held cell")
    crop = next(root.glob("cells/*/metrics.json"))
    kept = crop.read_bytes()
    proc.send_signal(signal.SIGINT)
    # the clean stop runs until the tracker's close, which would block for ever: a second Ctrl-C ends it
    wait_until(lambda: (tmp_path / "state" / "closing").exists(), proc, "the clean stop reaching the tracker")
    proc.send_signal(signal.SIGINT)
    out = _stop(proc, "the second SIGINT")
    assert proc.returncode == 130, out
    assert "Traceback" not in out, out
    assert [ln for ln in out.splitlines() if "interrupted" in ln] == [
        "interrupted (SIGINT): 1 of 4 cells finished and saved; rerun the same command to resume",
        "interrupted again (SIGINT): stopped at once; the cells that finished are saved; rerun the same command to "
        "resume"], out
    assert not (root / ".lock").exists()
    assert crop.read_bytes() == kept and finished_cells(root) == 1
    (tmp_path / "state" / "release-close").write_text("")  # the resume's own tracker must not block
    _resume(tmp_path, spec_path, monkeypatch, workers=1)
