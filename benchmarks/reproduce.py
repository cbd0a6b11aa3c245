"""Reproduce the paper's Figure 5 and Table 1 with the shipped studies, and check the result.

Runs ``studies/pairwise.yaml``, ``studies/color_strength.yaml`` and ``studies/quick.yaml`` through the
augstudy API exactly as ``augstudy run <study>`` / ``augstudy plot results/<study>`` would (cells already
done are reused; ``--force`` recomputes them), then prints each check as PASS / FAIL with its numbers:

* pairwise: Spearman rho >= 0.7 against Figure 5 over the 49 cells; (crop, color) and (color, crop) are
  the two best cells; mean of the off-diagonal cells > mean of the diagonal; wall time <= 15 minutes a seed
  (the issue: 15 minutes, or 45 with 3 seeds).
* color_strength: SimCLR linear top-1 rises with color strength 1/8 -> 1, monotone beyond seed noise
  (no step falls by more than 2 standard errors of the seed means, and "1" beats "1/8" by more than 2
  standard errors); "1 (+blur)" >= "1"; supervised does not rise with strength (rho <= 0).
* quick: crop + color (either order) is the best cell; wall time <= 2 minutes.
* cifar10_pairwise_cpu (real CIFAR-10, when ``AUGSTUDY_CIFAR10`` names the unzipped image folder, or
  with ``--check-only`` when its results exist): rho >= 0.5; crop + color (either order) is the best cell.

    python benchmarks/reproduce.py                 # run (or reuse) all three studies, plot, check
    python benchmarks/reproduce.py --check-only    # only read results/<study>/ and check
    python benchmarks/reproduce.py --studies pairwise quick --force

Wall times are the ones ``augstudy run`` records in ``results/<study>/study.json`` (a study run in
several sessions keeps the last session's). Exit status 0 when every check passes, 1 otherwise.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import rankdata, spearmanr

ROOT = Path(__file__).resolve().parents[1]
STUDIES = {"pairwise": 15 * 60, "color_strength": None, "quick": 2 * 60,
           "cifar10_pairwise_cpu": None}  # study -> wall-time budget (s)
MIN_RHO = {"pairwise": 0.7, "quick": 0.7, "cifar10_pairwise_cpu": 0.5}  # Spearman rho vs Figure 5 asked for
PAPER = json.loads((ROOT / "augstudy" / "reference" / "simclr_paper.json").read_text())
STRENGTH_ORDER = ["1/8", "1/4", "1/2", "1"]


def _run(name: str, force: bool) -> None:
    from augstudy.report import plot_study
    from augstudy.study import run_study

    run_study(ROOT / "studies" / f"{name}.yaml", out=ROOT / "results", force=force)
    plot_study(ROOT / "results" / name)


def _table(name: str) -> tuple[pd.DataFrame, dict]:
    d = ROOT / "results" / name
    meta = json.loads((d / "study.json").read_text())
    df = pd.read_csv(d / "results.csv")
    return df[df["status"] == "done"], meta


def _line(ok: bool, what: str) -> bool:
    print(f"  {'PASS' if ok else 'FAIL'}  {what}")
    return bool(ok)


def _wall(meta: dict, budget) -> list[bool]:
    """The last run's wall time against ``budget`` (s; None: only print it); a resumed study also shows its total."""
    secs = float(meta.get("wall_seconds") or float("nan"))
    total = float(meta.get("wall_seconds_total") or secs)
    hw = meta.get("hardware") or {}
    where = f"{hw.get('cpu', '?')}, {hw.get('cores', '?')} cores" + (f", {hw['gpu']}" if hw.get("gpu") else "")
    if total > secs + 1:
        where += f"; the last run; all runs of this study: {total / 60:.1f} min"
    if budget is None:
        print(f"  info  wall time {secs / 60:.1f} min ({where})")
        return []
    return [_line(secs <= budget, f"wall time {secs / 60:.1f} min <= {budget / 60:.0f} min ({where})")]


def pairwise_grid(df: pd.DataFrame, ops: list[str]) -> np.ndarray:
    """Linear top-1 as a [row = 1st op, col = 2nd op] matrix (seeds averaged)."""
    m = df.groupby(["op1", "op2"])["linear_top1"].mean()
    return np.array([[m.get((a, b), np.nan) for b in ops] for a in ops])


def rank_gaps(g: np.ndarray, paper: np.ndarray, ops: list[str], k: int = 6) -> list[tuple[str, float, float, float]]:
    """The ``k`` cells whose rank among the grid's cells differs most from their rank in the paper:
    (cell, ours, paper's, rank difference; positive = ranked lower here than in the paper, as in the comparison
    figure's third panel). Says which cells hold rho down."""
    ok = np.isfinite(g)
    diff = np.full(g.shape, np.nan)
    diff[ok] = rankdata(paper[ok]) - rankdata(g[ok])
    order = np.argsort(-np.abs(np.nan_to_num(diff, nan=0.0)), axis=None)[:min(k, int(ok.sum()))]
    cells = [np.unravel_index(f, g.shape) for f in order]
    return [(ops[i] if i == j else f"{ops[i]}+{ops[j]}", g[i, j], paper[i, j], diff[i, j]) for i, j in cells]


def check_pairwise(name: str, budget) -> list[bool]:
    df, meta = _table(name)
    df = df.assign(op2=df["op2"].fillna(df["op1"]))
    ops = list(meta["grid"]["operators"])
    g = pairwise_grid(df, ops)
    f5 = PAPER["figure5"]
    paper = pd.DataFrame(f5["top1"], index=f5["operators"], columns=f5["operators"]).loc[ops, ops].to_numpy()
    ok = np.isfinite(g)
    results = []
    print(f"{name}: {int(ok.sum())} cells done of {g.size}")
    width = max(len(o) for o in ops)
    print("  " + " " * width + "".join(f"{o[:7]:>8s}" for o in ops))
    for i, a in enumerate(ops):
        print("  " + f"{a:<{width}s}" + "".join(f"{v:8.1f}" for v in g[i]))
    rho = spearmanr(g[ok], paper[ok]).statistic if ok.sum() >= 3 else float("nan")
    want = MIN_RHO[name]
    results.append(_line(ok.all() and rho >= want, f"Spearman rho vs Figure 5 = {rho:.3f} over {int(ok.sum())} cells (>= {want})"))
    if ok.sum() >= 3:
        gaps = rank_gaps(g, paper, ops)
        print("  info  largest rank gaps (cell: ours / paper's, rank difference, + = lower here): "
              + "; ".join(f"{c} {v:.1f} / {p:.1f} ({d:+.0f})" for c, v, p, d in gaps))
    if "crop" in ops and "color" in ops:
        flat = [(g[i, j], ops[i], ops[j]) for i in range(len(ops)) for j in range(len(ops)) if ok[i, j]]
        flat.sort(reverse=True)
        top2 = {(a, b) for _, a, b in flat[:2]}
        top = ", ".join(f"{a}+{b} {v:.1f}" for v, a, b in flat[:4])
        pair = {("crop", "color"), ("color", "crop")}
        if name == "pairwise":
            results.append(_line(top2 == pair, f"(crop, color) and (color, crop) are the two best cells (best: {top})"))
        else:  # quick and CIFAR-10: crop + color in either order is the best cell
            results.append(_line((flat[0][1], flat[0][2]) in pair, f"crop + color is the best cell (best: {top})"))
    diag, off = np.diag(g), g[~np.eye(len(ops), dtype=bool)]
    results.append(_line(np.nanmean(off) > np.nanmean(diag),
                         f"mean off-diagonal {np.nanmean(off):.1f} > mean diagonal {np.nanmean(diag):.1f}"))
    seeds = max(1, len(meta.get("seeds") or [0]))
    return results + _wall(meta, budget * min(seeds, 3) if budget else budget)


def _step_se(df: pd.DataFrame, a: str, b: str) -> float:
    """Standard error of mean(b) - mean(a) over seeds (unpaired): the seed noise a step must beat."""
    xa, xb = (df.loc[df["pipeline"] == k, "linear_top1"] for k in (a, b))
    if len(xa) < 2 or len(xb) < 2:
        return float("nan")
    return float(np.sqrt(xa.var(ddof=1) / len(xa) + xb.var(ddof=1) / len(xb)))


def check_strength(name: str, budget) -> list[bool]:
    """Table 1: SimCLR rises 1/8 -> 1, monotone beyond seed noise (no step falls by more than 2 standard
    errors, and 1 is above 1/8 by more than 2 of them); "1 (+blur)" >= "1"; supervised does not rise."""
    df, meta = _table(name)
    print(f"{name}: {len(df)} cells done")
    results = []
    for method in ("simclr", "supervised"):
        dm = df[df["method"] == method]
        m = dm.groupby("pipeline", sort=False)["linear_top1"].mean()
        sd = dm.groupby("pipeline", sort=False)["linear_top1"].std()
        print(f"  {method:10s} " + "  ".join(f"{k}: {v:.1f} +- {sd.get(k, np.nan):.1f}" for k, v in m.items()))
        vals = [m.get(k, np.nan) for k in STRENGTH_ORDER]
        rho = spearmanr(range(len(vals)), vals).statistic if np.isfinite(vals).all() else float("nan")
        if method == "simclr":
            steps = [(a, b, m.get(b, np.nan) - m.get(a, np.nan), _step_se(dm, a, b))
                     for a, b in zip(STRENGTH_ORDER, STRENGTH_ORDER[1:])]
            falls = [f"{a} -> {b} {d:+.1f} (2 SE {2 * se:.1f})" for a, b, d, se in steps if not d >= -2 * se]
            total_se = _step_se(dm, STRENGTH_ORDER[0], STRENGTH_ORDER[-1])
            rise = vals[-1] - vals[0]
            results.append(_line(rise > 2 * total_se and not falls,
                                 f"SimCLR rises with strength 1/8 -> 1, monotone beyond seed noise: 1/8 {vals[0]:.1f} "
                                 f"-> 1 {vals[-1]:.1f} ({rise:+.1f}, 2 SE {2 * total_se:.1f}); rho = {rho:.2f}; "
                                 f"steps that fall: {', '.join(falls) or 'none'}"))
            blur = m.get("1 (+blur)", np.nan)
            results.append(_line(blur >= vals[-1], f'SimCLR "1 (+blur)" {blur:.1f} >= "1" {vals[-1]:.1f} '
                                                   f'({blur - vals[-1]:+.1f}, 2 SE {2 * _step_se(dm, "1", "1 (+blur)"):.1f})'))
        else:
            results.append(_line(rho <= 0, f"supervised does not rise with strength: rho = {rho:.2f}, "
                                           f"1/8 {vals[0]:.1f} -> 1 {vals[-1]:.1f}"))
    return results + _wall(meta, budget)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default = [n for n in STUDIES if n != "cifar10_pairwise_cpu"]
    if os.environ.get("AUGSTUDY_CIFAR10") or (ROOT / "results" / "cifar10_pairwise_cpu" / "results.csv").exists():
        default.append("cifar10_pairwise_cpu")
    ap.add_argument("--studies", nargs="+", default=default, choices=list(STUDIES))
    ap.add_argument("--check-only", action="store_true", help="do not run, only check results/<study>/")
    ap.add_argument("--force", action="store_true", help="recompute cells already done")
    args = ap.parse_args(argv)
    results = []
    for name in args.studies:
        if not args.check_only:
            _run(name, args.force)
        if name == "color_strength":
            results += check_strength(name, STUDIES[name])
        else:
            results += check_pairwise(name, STUDIES[name])
    print(f"{sum(results)}/{len(results)} checks pass")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
