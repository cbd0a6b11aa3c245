"""One source of truth: cells/ is the truth; results.csv/.parquet are derived, and every reader rebuilds them.

A hand-edited, duplicated, stale, missing or garbage table file gives the same table through every
reader (``load_results``, the report's ``load_study``, ``augstudy compare``, ``augstudy plot``); a cell
whose recorded id disagrees with its folder or with the hash of its config is named, not read.
"""
from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

from augstudy import load_results, run_study
from augstudy.cli import app
from augstudy.report.results import load_study
from augstudy.schema import conform
from test_study_store import fake_cell, quick_spec

LABELS = ["cell_id", "method", "seed", "op1", "op2", "pipeline", "linear_top1", "knn_top1", "status"]


def _csv(root):
    return pd.read_csv(root / "results.csv")


def _edit(kind: str, root) -> None:
    csv, pq = root / "results.csv", root / "results.parquet"
    if kind == "csv_value":  # the hand edit of issue 21: 12.5 -> 99.0
        df = _csv(root)
        df.loc[0, "linear_top1"] = 99.0
        df.to_csv(csv, index=False)
    elif kind == "parquet_value":
        df = pd.read_parquet(pq)
        df.loc[1, "linear_top1"] = -5.0
        df.to_parquet(pq, index=False)
    elif kind == "csv_duplicate_row":  # averaged as if it were another seed, before
        df = _csv(root)
        pd.concat([df, df.iloc[[2]]]).to_csv(csv, index=False)
    elif kind == "csv_stale_row_missing":  # a finished cell without its row
        _csv(root).iloc[1:].to_csv(csv, index=False)
    elif kind == "csv_row_without_cell":
        df = _csv(root)
        extra = df.iloc[[0]].copy()
        extra["cell_id"] = "0123456789abcdef"
        pd.concat([df, extra]).to_csv(csv, index=False)
    elif kind == "csv_missing":
        csv.unlink()
    elif kind == "parquet_missing":
        pq.unlink()
    elif kind == "both_missing":
        csv.unlink()
        pq.unlink()
    elif kind == "parquet_garbage":
        pq.write_bytes(b"PAR1 not really")
    elif kind == "csv_garbage":
        csv.write_bytes(b"\xff\xfe\x00garbage\n\x00")
    else:  # pragma: no cover
        raise AssertionError(kind)


def _compare_line(root):
    res = CliRunner().invoke(app, ["compare", str(root), "crop + color", "crop"])
    assert res.exit_code == 0, res.output
    return [l for l in res.output.splitlines() if not l.startswith("augstudy:")][0]


@pytest.fixture
def study(tmp_path):
    df0 = run_study(quick_spec(), out=tmp_path, cell_fn=fake_cell, progress=False)
    root = tmp_path / "fake"
    return root, df0, _compare_line(root)


KINDS = ["csv_value", "parquet_value", "csv_duplicate_row", "csv_stale_row_missing", "csv_row_without_cell",
         "csv_missing", "parquet_missing", "both_missing", "parquet_garbage", "csv_garbage"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_reader_gives_the_cells_table(study, kind, capsys):
    root, df0, compare0 = study
    _edit(kind, root)
    capsys.readouterr()
    via_api = load_results(root)
    err = capsys.readouterr().err
    pd.testing.assert_frame_equal(via_api, df0)
    changed = [f"results.{ext}" for ext in ("csv", "parquet") if kind.startswith(ext) or kind == "both_missing"]
    for f in changed:  # named in one line, and rebuilt
        assert any(str(root / f) in line and "rebuilt from cells/" in line for line in err.splitlines()), err
    pd.testing.assert_frame_equal(conform(pd.read_parquet(root / "results.parquet")), df0)
    assert list(_csv(root)["cell_id"]) == list(df0["cell_id"])
    assert _csv(root)["linear_top1"].tolist() == pytest.approx(df0["linear_top1"].tolist())
    _edit(kind, root)  # the report reads the same table
    report = load_study(root).table
    pd.testing.assert_frame_equal(report[LABELS], df0[LABELS])
    _edit(kind, root)  # and so does the CLI
    assert _compare_line(root) == compare0


def test_plot_draws_the_cells_not_a_hand_edited_csv(study):
    root, df0, _ = study
    assert CliRunner().invoke(app, ["plot", str(root)]).exit_code == 0
    heatmap = sorted((root / "figures").glob("heatmap_simclr_*.csv"))[0]
    before = heatmap.read_text()
    _edit("csv_value", root)
    res = CliRunner().invoke(app, ["plot", str(root)])
    assert res.exit_code == 0, res.output
    assert heatmap.read_text() == before


def test_an_agreeing_table_is_not_rewritten_or_reported(study, capsys):
    root, df0, _ = study
    stamps = {f: (root / f).stat().st_mtime_ns for f in ("results.csv", "results.parquet")}
    capsys.readouterr()
    load_results(root)
    load_study(root)
    assert capsys.readouterr().err == ""
    assert stamps == {f: (root / f).stat().st_mtime_ns for f in ("results.csv", "results.parquet")}


def _cells(root):
    return sorted(p for p in (root / "cells").iterdir() if p.is_dir())


def test_swapped_cell_folders_are_named_not_swapped(study, capsys):
    root, df0, _ = study
    a, b = _cells(root)[:2]
    tmp = a.parent / "swap"
    a.rename(tmp)
    b.rename(a)
    tmp.rename(b)
    capsys.readouterr()
    df = load_results(root)
    err = capsys.readouterr().err
    assert {l.split()[3] for l in err.splitlines() if "damaged cell" in l} == {a.name, b.name}
    assert set(df["cell_id"]) == set(df0["cell_id"]) - {a.name, b.name}  # left out, never given each other's values
    kept = df0.set_index("cell_id").loc[df["cell_id"], "linear_top1"].tolist()
    assert df["linear_top1"].tolist() == kept


def test_config_edited_after_the_run_is_damaged_and_recomputed(study, capsys):
    root, df0, _ = study
    victim = _cells(root)[0]
    cfg = json.loads((victim / "config.json").read_text())
    cfg["training"]["epochs"] += 1  # the config no longer hashes to the recorded id
    (victim / "config.json").write_text(json.dumps(cfg))
    capsys.readouterr()
    df = load_results(root)
    err = capsys.readouterr().err
    assert f"damaged cell {victim.name}" in err and "hashes to" in err
    assert victim.name not in set(df["cell_id"])
    calls = []
    df = run_study(quick_spec(), out=root.parent, cell_fn=lambda c: calls.append(1) or fake_cell(c), progress=False)
    assert len(calls) == 1
    pd.testing.assert_frame_equal(df, df0)


def test_cells_alone_rebuild_the_table_without_study_json(study):
    root, df0, _ = study
    (root / "study.json").unlink()
    (root / "results.csv").unlink()
    (root / "results.parquet").unlink()
    df = load_results(root)  # from each cell's config.json labels, one row per cell folder
    cols = [c for c in LABELS if c not in ("study",)]
    pd.testing.assert_frame_equal(df.sort_values("cell_id").reset_index(drop=True)[cols],
                                  df0.sort_values("cell_id").reset_index(drop=True)[cols])


def test_a_table_without_cells_is_read_as_it_is(study):
    root, df0, _ = study
    shutil.rmtree(root / "cells")  # results committed without their cells
    (root / "results.parquet").unlink()
    pd.testing.assert_frame_equal(load_results(root), df0)


def test_rows_of_cells_whose_folders_are_gone_are_kept(study, capsys):
    """Results copied or pruned without all their cells (a clone has none, a partial rerun some): the table
    file's rows of the listed cells without a folder stay in the table, said in one line, through the loader
    and through a run that recomputes only some cells; nothing computed is lost from the table."""
    root, df0, _ = study
    gone = _cells(root)[:7]  # 18 cells: 7 folders removed, as in a clone where a rerun has redone 5
    for d in gone:
        shutil.rmtree(d)
    capsys.readouterr()
    df = load_results(root)
    err = capsys.readouterr().err
    pd.testing.assert_frame_equal(df, df0)
    assert sum("7 row(s) kept from the table file" in line for line in err.splitlines()) == 1, err
    kept_id = gone[0].name
    spec = quick_spec()
    other = df0[df0["cell_id"] != kept_id]
    only = [f"op1={other.iloc[0]['op1']}", f"op2={other.iloc[0]['op2']}"]
    run_study(spec, out=root.parent, cell_fn=fake_cell, progress=False, only=only)  # recompute a few
    after = conform(pd.read_parquet(root / "results.parquet"))
    assert list(after["cell_id"]) == list(df0["cell_id"])  # every row still there, in the study's order
    assert after["linear_top1"].tolist() == pytest.approx(df0["linear_top1"].tolist())
    (root / "results.csv").unlink(), (root / "results.parquet").unlink()  # no table file: nothing to keep them from
    assert kept_id not in set(load_results(root)["cell_id"])
