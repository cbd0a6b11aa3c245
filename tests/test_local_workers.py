"""The local loky workers keep running for the whole study: a worker whose memory grows (its dataset cache,
torch's allocator pools) is not restarted by loky's leak heuristic, so no "A worker stopped while some
jobs were given to the executor" warning interleaves with the progress display."""
from __future__ import annotations

import os
import time
import warnings

from augstudy import run_study
from test_study_store import fake_cell, quick_spec

_kept: list = []  # per worker process: memory the cells keep, as a dataset cache does


def growing_cell(config):
    """A cell that keeps 120 MB more each time and takes long enough for loky's memory check (1 s) to run."""
    import numpy as np

    _kept.append(np.ones(120 * 2**20, np.uint8))  # written, so resident
    time.sleep(1.1)
    return {**fake_cell(config), "device": f"pid {os.getpid()}"}


def test_workers_whose_memory_grows_are_not_restarted(tmp_path):
    spec = quick_spec(seeds=list(range(12)), grid={"kind": "list", "pipelines": {"crop": ["crop"]}},
                      executor={"kind": "local", "workers": 2})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = run_study(spec, out=tmp_path, cell_fn=growing_cell, progress=False)
    assert len(df) == 12 and (df["status"] == "done").all()
    # one worker runs >= 6 cells: after its 4th it keeps 360 MB more than after its 1st, and loky's
    # heuristic (300 MB) would restart it, so a third pid would run its 5th
    assert df["device"].nunique() == 2, df["device"].tolist()
    assert not [w for w in caught if "A worker stopped" in str(w.message)]


def env_cell(config):
    """A cell that reports what ``AUGSTUDY_TEST_ENV`` is in the worker that ran it."""
    return {**fake_cell(config), "device": os.environ.get("AUGSTUDY_TEST_ENV", "unset")}


def test_workers_kept_from_an_earlier_study_see_the_environment_as_it_is_now(tmp_path, monkeypatch):
    # loky reuses its workers between run_study calls of one process; a worker started before a variable
    # changed must not run the next study's cells (this made a streaming-search test fail in a full run:
    # its cell read AUGSTUDY_TOY_ROOT, set after an earlier test had started the workers)
    spec = quick_spec(seeds=[0, 1], grid={"kind": "list", "pipelines": {"crop": ["crop"]}},
                      executor={"kind": "local", "workers": 2})
    monkeypatch.setenv("AUGSTUDY_TEST_ENV", "first")
    first = run_study(spec, out=tmp_path / "a", cell_fn=env_cell, progress=False)
    monkeypatch.setenv("AUGSTUDY_TEST_ENV", "second")
    second = run_study(spec, out=tmp_path / "b", cell_fn=env_cell, progress=False)
    assert first["device"].tolist() == ["first", "first"] and second["device"].tolist() == ["second", "second"]
