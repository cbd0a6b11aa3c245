"""Issue 17's Goal, measured: policy search against the pairwise grid, on the embedded pairwise space
(``studies/pairwise.yaml``) and on the CIFAR-10 CPU subset (``studies/cifar10_pairwise_cpu.yaml``, when
``AUGSTUDY_CIFAR10`` names the image folder).

For each space:

1. **The pairwise grid on the test set**, with ``--seeds`` seeds (3): a real ``augstudy run`` of the study's
   pairwise grid; its best cell (mean over seeds) and that cell's 95% interval are the reference.
2. **The same n x n pipelines on the validation split** (10% of the training split, seed 0): what a search
   trial measures; each cell trained once (``run_cell``, cached in ``--out``).
3. **Searches** (``grid: {kind: search}``, ``max_ops: 2``, no space: exactly the pairwise space), TPE and random
   over ``--search-seeds`` seeds each, with a budget of ``--fraction`` (25%) of the grid's epochs (one seed's
   grid: n x n x epochs). Each search is a real search study (Optuna, its storage, its budget accounting, its
   top-1 retrain with 3 seeds on the full training set and the test set); its cell function reads the cells
   steps 1 and 2 measured, which are the very cells a search trial and a retrain train (the same config): a
   tabular benchmark, so ten searches cost no training beyond steps 1 and 2, and no number is made up.
4. Reported (a printed table, ``summary.csv``, ``curves.csv``, ``best_so_far.png`` under ``--out``): the best
   pairwise cell with its interval; per sampler, the median best-so-far validation score against epochs
   spent (TPE vs random at equal budget), and how many searches selected a policy whose retrained test mean
   is within the best pairwise cell's interval or above it (the Goal).

``--scale`` shrinks the data and the epochs (0.1: a tenth of the images, a tenth of the epochs, at least 2),
``--operators`` the pool, for a smoke run; the Goal's measurement is ``--scale 1`` with the study's 7 operators.

Smoke:  nice python benchmarks/search_vs_grid.py --scale 0.05 --operators crop,color,blur --out /tmp/svg
Full:   nice python benchmarks/search_vs_grid.py --workers 2 --out results/bench_search_vs_grid
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPACES = {"embedded": ROOT / "studies" / "pairwise.yaml", "cifar10": ROOT / "studies" / "cifar10_pairwise_cpu.yaml"}


def scaled(raw: dict, scale: float, operators: list[str] | None, seeds: int) -> dict:
    """The study with ``scale`` x its images and epochs (at least 2), the chosen pool and seeds."""
    spec = json.loads(json.dumps(raw))
    p = spec["dataset"].setdefault("params", {})
    for key, low in (("n_train", 128), ("n_test", 64), ("train_per_class", 20), ("test_per_class", 10)):
        if p.get(key) is not None:
            p[key] = max(low, int(round(p[key] * scale)))
    spec["training"]["epochs"] = max(2, int(round(spec["training"]["epochs"] * scale)))
    if operators:
        spec["grid"]["operators"] = operators
    spec["seeds"] = list(range(seeds))
    spec["methods"] = spec.get("methods", ["simclr"])[:1]
    spec.pop("executor", None)
    spec.pop("tracking", None)
    return spec


def measure_space(name: str, raw: dict, args) -> dict:
    from augstudy import run_study
    from augstudy.stats.intervals import interval
    from augstudy.study import validate_spec
    from augstudy.study.grid import expand
    from augstudy.train import run_cell
    from augstudy.train.config import ValidationSplit

    out = Path(args.out) / name
    spec = scaled(raw, args.scale, args.operators, args.seeds)
    spec["name"] = f"{name}_pairwise"
    ops = spec["grid"]["operators"]
    epochs = spec["training"]["epochs"]
    # 1. the pairwise grid on the test set, with its seeds
    test = run_study(spec, out=out, workers=args.workers, progress=True)
    test = test[test["status"] == "done"]
    by_policy = {pol: g for pol, g in test.groupby("policy")}
    means = {pol: g[args.metric].mean() for pol, g in by_policy.items()}
    best_policy = max(means, key=means.get)
    best_iv = interval(by_policy[best_policy][args.metric].to_numpy())
    # 2. the same pipelines on the validation split, seed 0 (what a search trial trains)
    from augstudy.data import load

    grid = validate_spec(spec)
    cache_path = out / "grid_on_validation.json"
    cache = json.loads(cache_path.read_text()) if cache_path.exists() else {}
    dataset = None
    for c in expand(grid):
        if c.seed != 0:
            continue
        key = json.dumps(list(c.config.pipeline))
        if key not in cache:
            if dataset is None:
                dataset = load(grid.dataset.name, **grid.dataset.params)
            r = run_cell(c.config.model_copy(update={"validation": ValidationSplit()}), dataset=dataset).to_dict()
            cache[key] = r
            print(f"validation {c.pipeline:<22} {args.metric} {r[args.metric]}", flush=True)
            out.mkdir(parents=True, exist_ok=True)
            cache_path.write_text(json.dumps(cache))
    cells = len(cache)
    grid_epochs = cells * epochs
    budget = max(epochs, int(args.fraction * grid_epochs))
    test_cells = {}
    for cid in test["cell_id"]:
        m = json.loads((out / spec["name"] / "cells" / cid / "metrics.json").read_text())
        cfg = json.loads((out / spec["name"] / "cells" / cid / "config.json").read_text())
        test_cells[(json.dumps(cfg["pipeline"]), cfg["seed"])] = m

    def lookup(config, **_):  # the measured cell of this config: a trial (validation) or a retrain (test)
        key = json.dumps(list(config.pipeline))
        r = dict(cache[key]) if config.validation is not None else dict(test_cells[(key, config.seed)])
        return {**r, "cell_id": config.cell_id()}

    # 3. searches: TPE and random, several seeds each, at the same budget
    rows, curves = [], {}
    for sampler in ("tpe", "random"):
        for seed in range(args.search_seeds):
            s = {**{k: v for k, v in spec.items() if k != "grid"}, "name": f"{name}_search_{sampler}_{seed}",
                 "grid": {"kind": "search", "operators": ops, "max_ops": 2, "budget": {"epochs": budget},
                          "sampler": sampler, "seed": seed, "top_k": 1, "objective": args.metric}}
            d = run_study(s, out=out, cell_fn=lookup, progress=False)
            v = d[d["split"] == "validation"].sort_values("trial")
            spent = v["epochs"].cumsum().tolist()
            best = v[args.metric].cummax().tolist()
            curves[(sampler, seed)] = list(zip(spent, best))
            t = d[d["split"] == "test"]
            iv = interval(t[args.metric].to_numpy())
            rows.append({"space": name, "sampler": sampler, "search_seed": seed, "trials": len(v),
                         "epochs_spent": int(v["epochs"].sum()), "budget_epochs": budget, "grid_epochs": grid_epochs,
                         "selected": t["policy"].iloc[0], "selected_validation": round(best[-1], 2),
                         "selected_test_mean": round(iv.mean, 2), "selected_test_lower": round(iv.lower, 2),
                         "selected_test_upper": round(iv.upper, 2), "best_cell": best_policy,
                         "best_cell_mean": round(best_iv.mean, 2), "best_cell_lower": round(best_iv.lower, 2),
                         "best_cell_upper": round(best_iv.upper, 2),
                         "goal_met": bool(iv.mean >= best_iv.lower)})
    return {"rows": rows, "curves": curves, "budget": budget, "grid_epochs": grid_epochs, "epochs": epochs}


def median_curve(curves: dict, sampler: str, budget: int) -> list[float]:
    """The median over search seeds of the best-so-far score at each epoch 1..budget (NaN before a first trial)."""
    out = []
    for e in range(1, budget + 1):
        vals = []
        for (s, _), pts in curves.items():
            if s == sampler:
                seen = [b for spent, b in pts if spent <= e]
                if seen:
                    vals.append(seen[-1])
        out.append(statistics.median(vals) if vals else float("nan"))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--spaces", default="embedded,cifar10", help="embedded, cifar10 (needs AUGSTUDY_CIFAR10)")
    ap.add_argument("--scale", type=float, default=1.0, help="fraction of the images and epochs (smoke: 0.05)")
    ap.add_argument("--operators", default=None, help="comma-separated pool (default: the study's 7)")
    ap.add_argument("--seeds", type=int, default=3, help="seeds of the pairwise grid and of the retrains")
    ap.add_argument("--search-seeds", type=int, default=5)
    ap.add_argument("--fraction", type=float, default=0.25, help="the search budget, a fraction of the grid's epochs")
    ap.add_argument("--metric", default="knn_top1")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--out", default="results/bench_search_vs_grid")
    args = ap.parse_args()
    args.operators = args.operators.split(",") if args.operators else None
    from augstudy.study.yaml_loader import load_yaml

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows, plots = [], {}
    for name in args.spaces.split(","):
        if name == "cifar10" and not os.environ.get("AUGSTUDY_CIFAR10"):
            print("cifar10: skipped (set AUGSTUDY_CIFAR10 to the unzipped CIFAR-10 image folder)")
            continue
        r = measure_space(name, load_yaml(SPACES[name]), args)
        rows += r["rows"]
        plots[name] = r
    if not rows:
        return
    with open(out / "summary.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(plots), figsize=(6 * len(plots), 4), squeeze=False)
    with open(out / "curves.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["space", "sampler", "epochs_spent", "median_best_so_far"])
        for ax, (name, r) in zip(axes[0], plots.items()):
            for sampler in ("tpe", "random"):
                med = median_curve(r["curves"], sampler, r["budget"])
                w.writerows([name, sampler, e + 1, round(v, 3)] for e, v in enumerate(med))
                ax.step(range(1, r["budget"] + 1), med, where="post", label=f"{sampler} (median of {args.search_seeds})")
            best = next(x for x in rows if x["space"] == name)
            ax.axhspan(best["best_cell_lower"], best["best_cell_upper"], color="gray", alpha=0.2,
                       label=f"best pairwise cell, test, 95% interval")
            ax.set_xlabel(f"training epochs spent (budget {r['budget']} of the grid's {r['grid_epochs']})")
            ax.set_ylabel(f"best-so-far {args.metric}, validation")
            ax.set_title(name)
            ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "best_so_far.png", dpi=120)
    print()
    print(f"{'space':<9} {'sampler':<7} {'searches':>8} {'goal met':>8} {'median sel. test':>16} "
          f"{'best cell [95% CI]':>22} {'median final best-so-far (val)':>30}")
    for name, r in plots.items():
        for sampler in ("tpe", "random"):
            sel = [x for x in rows if x["space"] == name and x["sampler"] == sampler]
            b = sel[0]
            med = median_curve(r["curves"], sampler, r["budget"])[-1]
            print(f"{name:<9} {sampler:<7} {len(sel):>8} {sum(x['goal_met'] for x in sel):>8} "
                  f"{statistics.median(x['selected_test_mean'] for x in sel):>16.2f} "
                  f"{b['best_cell_mean']:>8.2f} [{b['best_cell_lower']:.2f}, {b['best_cell_upper']:.2f}] "
                  f"{med:>30.2f}")
        print(f"  budget {r['budget']} epochs = {r['budget'] / r['grid_epochs']:.0%} of the grid's {r['grid_epochs']} "
              f"(one seed; {r['epochs']} epochs a cell); files: {out}/summary.csv, curves.csv, best_so_far.png")


if __name__ == "__main__":
    main()
