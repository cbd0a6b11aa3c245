"""A damaged cell (truncated, emptied, wrong-shaped, swapped or deleted metrics.json) is named, kept aside, recomputed."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from augstudy import run_study
from augstudy.study.spec import load_spec
from test_study_store import fake_cell, quick_spec


def _damage(kind: str, a: Path, b: Path) -> None:
    m = a / "metrics.json"
    if kind == "truncated":
        m.write_text(m.read_text()[:20])
    elif kind == "emptied":
        m.write_text("")
    elif kind == "list":
        m.write_text("[1, 2]")
    elif kind == "wrong_keys":
        m.write_text(json.dumps({"linear_top1": 3.0}))
    elif kind == "swapped":  # two cell folders' contents exchanged
        tmp = a.parent / "swap.tmp"
        a.rename(tmp)
        b.rename(a)
        tmp.rename(b)


@pytest.mark.parametrize("kind", ["truncated", "emptied", "list", "wrong_keys", "swapped"])
def test_damaged_cell_is_named_kept_and_recomputed(tmp_path, capsys, kind):
    spec = quick_spec(seeds=[0])
    df0 = run_study(spec, out=tmp_path, cell_fn=fake_cell, progress=False)
    n = len(df0)
    root = tmp_path / load_spec(spec).name
    cells = sorted(p for p in (root / "cells").iterdir() if p.is_dir())
    a, b = cells[0], cells[1]
    _damage(kind, a, b)
    capsys.readouterr()
    calls = []
    df = run_study(spec, out=tmp_path, cell_fn=lambda c: calls.append(c) or fake_cell(c), progress=False)
    out = capsys.readouterr().out
    damaged = [l for l in out.splitlines() if l.startswith("damaged cell")]
    expected = {a.name, b.name} if kind == "swapped" else {a.name}
    assert {l.split()[2] for l in damaged} == expected  # one line per damaged cell, naming it
    assert len(calls) == len(expected)  # recomputed by the same run, nothing else
    assert len(df) == n and (df["status"] == "done").all()
    kept = [p for p in (root / "cells").iterdir() if ".damaged-" in p.name]
    assert {p.name.split(".damaged-")[0] for p in kept} == expected  # the damaged copies are kept
    for cid in expected:
        assert json.loads((root / "cells" / cid / "metrics.json").read_text())["cell_id"] == cid
    assert df.sort_values("cell_id").reset_index(drop=True)[["cell_id", "linear_top1"]].equals(
        df0.sort_values("cell_id").reset_index(drop=True)[["cell_id", "linear_top1"]])


def test_deleted_metrics_is_recomputed(tmp_path):
    spec = quick_spec(seeds=[0])
    df0 = run_study(spec, out=tmp_path, cell_fn=fake_cell, progress=False)
    root = tmp_path / load_spec(spec).name
    victim = sorted(p for p in (root / "cells").iterdir() if p.is_dir())[0]
    (victim / "metrics.json").unlink()
    calls = []
    df = run_study(spec, out=tmp_path, cell_fn=lambda c: calls.append(c) or fake_cell(c), progress=False)
    assert len(calls) == 1 and len(df) == len(df0)


def test_overlong_study_name_is_one_line(tmp_path):
    from augstudy.errors import AugstudyError
    spec = quick_spec(seeds=[0])
    spec["name"] = "x" * 300
    with pytest.raises(AugstudyError) as e:
        load_spec(spec)
    assert "name" in str(e.value) and "100" in str(e.value)
