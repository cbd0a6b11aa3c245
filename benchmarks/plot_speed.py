"""How long `augstudy plot` takes on the 147-cell results/pairwise, with all the statistics.

Runs the CLI in a subprocess on a temporary copy of results/pairwise (so the committed figures stay
as they are) and reports its wall time and CPU time (user + sys), then the statistics alone in this
process (summarize with intervals and ties, rho with its 2000-replicate bootstrap).

``--records synthetic`` adds per-example records to the copy (each row's correct examples drawn at
its recorded accuracy over a 1000-example test set, seeded): the committed pairwise results have
none, and this times the with-records statistics at full size. They are timing input only, never
written into results/.

    python benchmarks/plot_speed.py [--records none|synthetic] [--repeat 3]
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def synthetic_records(study: Path, n_examples: int = 1000) -> None:
    import pandas as pd

    from augstudy.atomic import atomic_write_bytes
    from augstudy.records import StudyRecords

    t = pd.read_csv(study / "results.csv")
    rng = np.random.default_rng(0)
    label = (np.arange(n_examples) % 10).astype(np.int16)
    preds = {}
    for m in ("linear_top1", "knn_top1"):
        acc = t[m].to_numpy() / 100
        right = rng.random((len(t), n_examples)) < acc[:, None]
        preds[m] = np.where(right, label[None, :], (label[None, :] + 1) % 10).astype(np.int16)
    atomic_write_bytes(study / "predictions.npz", StudyRecords(list(t["cell_id"]), label, preds).to_bytes())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", choices=("none", "synthetic"), default="none")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryDirectory() as tmp:
        study = Path(tmp) / "pairwise"
        study.mkdir()
        for name in ("results.csv", "study.json"):
            shutil.copy(ROOT / "results" / "pairwise" / name, study / name)
        if args.records == "synthetic":
            synthetic_records(study)
        for k in range(args.repeat):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "augstudy.cli", "plot", str(study)], check=True, env=env,
                           stdout=subprocess.DEVNULL)
            wall = time.perf_counter() - t0
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            print(f"augstudy plot (records: {args.records}) run {k + 1}: wall {wall:.1f} s, cpu {cpu:.1f} s")
        sys.path.insert(0, str(ROOT))
        from augstudy.report.comparison import rho_interval
        from augstudy.report.results import load_study
        from augstudy.report.tables import pairwise_grid

        t0, c0 = time.perf_counter(), time.process_time()
        s = load_study(study)
        s.policy_stats("linear_top1")
        grid = pairwise_grid(s, "linear_top1")
        r = rho_interval(s, grid, "linear_top1")
        print(f"statistics alone (summarize + grid + rho bootstrap): wall {time.perf_counter() - t0:.2f} s, "
              f"cpu {time.process_time() - c0:.2f} s; {r.describe()}")
    print(f"load average at the end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
