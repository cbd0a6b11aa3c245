"""The aggregated table with intervals, for summary.md, the figures and the HTML report."""
from __future__ import annotations

import numpy as np
import pandas as pd

from augstudy.stats.intervals import interval
from augstudy.stats.ties import vs_best

KEYS = ["method", "pipeline", "op1", "op2", "param", "value"]


def records_for(records, rows: pd.DataFrame, metric: str):
    """The (seeds, examples) records of ``rows`` (in their order): from an object with ``correct(cell_ids,
    metric)`` (``augstudy.records.StudyRecords``) or a dict {(method, pipeline, metric): array}; else None."""
    if records is None or rows.empty:
        return None
    if hasattr(records, "correct"):
        return records.correct(rows["cell_id"].astype(str), metric) if "cell_id" in rows else None
    first = rows.iloc[0]
    return records.get((first.get("method"), first.get("pipeline"), metric))


def summarize(table: pd.DataFrame, records=None, metrics=None, alpha: float = 0.05) -> pd.DataFrame:
    """One row per method x policy x metric of a results table (one row per cell x seed).

    Columns: method, pipeline, op1, op2, param, value, metric, mean, lower, upper, n_seeds, n_examples,
    interval_kind ("seeds+examples" | "seeds" | "examples" | "none"), p_vs_best (one-sided paired
    p-value against the best policy of its method and metric, uncorrected) and tied_with_best (not
    significantly worse than that best: Holm over those tests). ``records``: optional per-example
    records (see :func:`records_for`); without them intervals and tests use seeds only
    (interval_kind says so).
    """
    from augstudy.schema import METRICS

    df = table[table["status"] == "done"] if "status" in table else table
    metrics = [m for m in (metrics or METRICS) if m in df and df[m].notna().any()]
    keys = [k for k in KEYS if k in df]
    rows = []
    for metric in metrics:
        for method, sub in df[df[metric].notna()].groupby("method", dropna=False, sort=False):
            sub = sub.sort_values("seed", kind="stable")
            seeds = sorted(sub["seed"].unique())
            groups = list(sub.groupby("pipeline", dropna=False, sort=False))
            wide = np.full((len(groups), len(seeds)), np.nan)
            recs, ivs = [], []
            for k, (pipe, g) in enumerate(groups):
                g = g.drop_duplicates("seed")
                rec = records_for(records, g, metric)
                ivs.append(interval(g[metric].to_numpy(), rec))
                col = [seeds.index(s) for s in g["seed"]]
                wide[k, col] = g[metric].to_numpy()
                if rec is not None:  # records on the study's seed axis; rows of missing seeds stay unused
                    full = np.zeros((len(seeds), rec.shape[1]), dtype=bool)
                    full[col] = rec
                    rec = full
                recs.append(rec)
            same = all(r is not None for r in recs) and len({r.shape[1] for r in recs}) == 1
            tied, p, _ = vs_best(wide, recs if same else None, alpha)
            for k, (pipe, g) in enumerate(groups):
                iv, first = ivs[k], g.iloc[0]
                rows.append({**{c: first[c] for c in keys}, "metric": metric, "mean": iv.mean, "lower": iv.lower,
                             "upper": iv.upper, "n_seeds": iv.n_seeds, "n_examples": iv.n_examples,
                             "interval_kind": iv.kind, "p_vs_best": p[k], "tied_with_best": bool(tied[k])})
    return pd.DataFrame(rows)
