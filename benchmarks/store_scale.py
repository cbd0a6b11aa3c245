"""Store scale: per-cell overhead of the results store and the progress display, up to 10,000 cells.

    python benchmarks/store_scale.py                 # 10,000 synthetic cell outcomes (no training)
    python benchmarks/store_scale.py --cells 2000 --dir /some/disk

A pairwise grid of 10 operators x 100 seeds (10,000 cells) is expanded; each synthetic outcome is
written the way ``run_study`` writes it (``StudyStore.write_cell``: config.json, log.txt, curve.csv,
metrics.json, each atomic and fsynced; the open table updated in place, its files rewritten when due)
and shown by the progress display (a ``Reporter`` on a forced terminal, output to /dev/null: the line
per cell and the live bar). Prints the per-cell time by block of cells, the final table write, and,
for comparison, one full rebuild of the table from every cell's files (what the store did after every
cell before it kept the table open). No training; nothing is downloaded.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from rich.console import Console

from augstudy import results_table
from augstudy.study import StudyStore, expand, validate_spec
from augstudy.study.progress import Reporter

OPS = ["crop", "color", "blur", "flip", "rotate", "color_drop", "cutout", "noise", "sobel", "solarize"]


def outcome(cell, i: int) -> dict:
    h = int(cell.id[:8], 16)
    return {"cell_id": cell.id, "log": "", "metrics": {
        "cell_id": cell.id, "status": "done", "linear_top1": h % 1000 / 10, "knn_top1": h % 997 / 10,
        "linear_top1_z": None, "knn_top1_z": None, "loss_per_epoch": [5.0, 4.0 + h % 7 / 10],
        "train_seconds": 0.5, "eval_seconds": 0.1, "images_per_second": 100.0, "device": "cpu",
        "seed": cell.seed, "versions": {}, "error": None}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", type=int, default=10_000, help="number of cells (a multiple of 100)")
    ap.add_argument("--dir", type=Path, default=None, help="where to write the store (default: a temp dir)")
    args = ap.parse_args()
    seeds = max(1, args.cells // len(OPS) ** 2)
    spec = validate_spec({"name": "scale", "grid": {"kind": "pairwise", "operators": OPS}, "seeds": list(range(seeds))})
    t = time.perf_counter()
    cells = expand(spec)
    t_expand = time.perf_counter() - t
    base = Path(tempfile.mkdtemp(prefix="augstudy-scale-", dir=args.dir))
    try:
        store = StudyStore(base / "scale", "scale", "pairwise")
        store.write_study({"name": "scale", "grid": spec.grid.describe()})
        t = time.perf_counter()
        store.rebuild_table(cells)
        t_open = time.perf_counter() - t
        reporter = Reporter(enabled=True)
        with open(os.devnull, "w") as devnull:
            reporter.out = Console(file=devnull, force_terminal=True, highlight=False, soft_wrap=True)
            reporter.err = Console(file=devnull, force_terminal=True)
            reporter.start(spec, "benchmark", len(cells), 0, cells, None)
            per_cell = []
            for i, cell in enumerate(cells):
                t = time.perf_counter()
                store.write_cell(cell, outcome(cell, i))
                reporter.cell_done(cell, store.row(cell))
                per_cell.append(time.perf_counter() - t)
            reporter.stop()
        t = time.perf_counter()
        df = store.write_table()
        t_final = time.perf_counter() - t
        assert len(df) == len(cells) and (df["status"] == "done").all()
        t = time.perf_counter()
        rebuilt = results_table.derive(store.root)
        t_full = time.perf_counter() - t
        assert len(rebuilt.table) == len(cells) and not rebuilt.stale_tables
    finally:
        shutil.rmtree(base, ignore_errors=True)

    n = len(cells)
    print(f"{n} cells ({len(OPS)} operators pairwise x {seeds} seeds); {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores; store under {args.dir or tempfile.gettempdir()}")
    print(f"expand {t_expand:.2f} s, open the table {t_open:.2f} s (once per run)")
    print("| cells | mean ms/cell | median | p99 | max |")
    print("|---|---|---|---|---|")
    block = max(1, n // 10)
    for start in range(0, n, block):
        ms = [x * 1000 for x in per_cell[start:start + block]]
        q = sorted(ms)
        print(f"| {start + 1}-{start + len(ms)} | {statistics.mean(ms):.2f} | {statistics.median(ms):.2f} | "
              f"{q[int(0.99 * (len(q) - 1))]:.2f} | {q[-1]:.1f} |")
    print(f"final table write ({n} rows, csv + parquet): {t_final * 1000:.0f} ms")
    print(f"a full rebuild from every cell's files (the old per-cell cost): {t_full * 1000:.0f} ms")


if __name__ == "__main__":
    main()
