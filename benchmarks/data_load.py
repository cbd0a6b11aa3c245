"""Data loading benchmark: first (decode) and cached loads of CIFAR-10 as an image folder; synthetic generation.

    python benchmarks/data_load.py --cifar-zip ../shared/data/cifar10-jpg.zip   # unzips to a temp dir
    python benchmarks/data_load.py --synthetic-only

CIFAR-10 (Krizhevsky, 2009) here is the public JPEG re-encoding in ImageFolder layout (50,000 train,
10,000 test, 32x32); it is for benchmarks only, never a test or a default. Prints a Markdown table for the
"Data" section of BENCHMARKS.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import torch


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def bench_imagefolder(zip_path: Path, rows: list) -> None:
    from augstudy.data import load

    tmp = Path(tempfile.mkdtemp(prefix="augstudy-cifar-"))
    try:
        _, t_unzip = timed(lambda: subprocess.run(["unzip", "-q", str(zip_path), "-d", str(tmp)], check=True))
        root = tmp if (tmp / "train").is_dir() else next(p for p in tmp.iterdir() if (p / "train").is_dir())
        ds, t_first = timed(lambda: load("imagefolder", root=str(root)))
        ds2, t_second = timed(lambda: load("imagefolder", root=str(root)))
        assert ds2.info["cache_hit"] and torch.equal(ds.train.images, ds2.train.images)
        shape = f"{len(ds.train)} + {len(ds.test)} x {ds.train.image_size[0]}x{ds.train.image_size[1]}"
        rows.append(("imagefolder, CIFAR-10 JPEG", shape, f"{t_first:.1f} s (decode, {len(ds.train) + len(ds.test)} files)",
                     f"{t_second:.2f} s", f"{t_first / t_second:.0f}x"))
        print(f"unzip {t_unzip:.1f} s; first {t_first:.1f} s; cached {t_second:.2f} s", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def bench_synthetic(rows: list) -> None:
    from augstudy.data import load
    from augstudy.data.synthetic import generate_split, parse_params

    p = parse_params(n_train=10000)
    _, t_1 = timed(lambda: generate_split(p, 0, 10000, n_jobs=1))
    _, t_2 = timed(lambda: generate_split(p, 0, 10000, n_jobs=2))
    rows.append(("synthetic, generate 10,000 (1 process)", "10000 x 32x32", f"{t_1:.1f} s", "", ""))
    rows.append(("synthetic, generate 10,000 (2 processes)", "10000 x 32x32", f"{t_2:.1f} s", "", ""))
    os.environ.setdefault("AUGSTUDY_CACHE", tempfile.mkdtemp(prefix="augstudy-cache-"))
    _, t_first = timed(lambda: load("synthetic"))
    ds, t_second = timed(lambda: load("synthetic"))
    assert ds.info["cache_hit"]
    rows.append(("synthetic, defaults (load)", f"{len(ds.train)} + {len(ds.test)} x 32x32", f"{t_first:.1f} s",
                 f"{t_second:.3f} s", f"{t_first / t_second:.0f}x"))
    print(f"synthetic: 10k 1 proc {t_1:.1f} s, 2 procs {t_2:.1f} s; default load {t_first:.1f} s, cached {t_second:.3f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cifar-zip", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/cifar10-jpg.zip")
    ap.add_argument("--synthetic-only", action="store_true")
    args = ap.parse_args()
    rows: list = []
    bench_synthetic(rows)
    if not args.synthetic_only:
        if not args.cifar_zip.is_file():
            raise SystemExit(f"no CIFAR-10 zip at {args.cifar_zip}; pass --cifar-zip or --synthetic-only")
        bench_imagefolder(args.cifar_zip, rows)
    print(f"\nMachine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}\n")
    print("| what | images | first load | cached load | speed-up |\n|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
