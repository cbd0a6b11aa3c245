"""The aggregated table with intervals, for summary.md, the figures and the HTML report."""
from __future__ import annotations

import numpy as np
import pandas as pd

from augstudy.stats.intervals import interval
from augstudy.stats.ties import tied_with_best

KEYS = ["method", "pipeline", "op1", "op2", "param", "value"]


def summarize(table: pd.DataFrame, records: dict | None = None, metrics=None, alpha: float = 0.05) -> pd.DataFrame:
    """One row per method x policy x metric of a results table (one row per cell x seed).

    Columns: method, pipeline, op1, op2, param, value, metric, mean, lower, upper, n_seeds,
    interval_kind ("seeds+examples" | "seeds" | "examples" | "none") and tied_with_best (not
    significantly worse than the best policy of its method and metric: Holm over paired t-tests on
    seeds). ``records``: optional {(method, pipeline, metric): (seeds, examples) 0/1 array}; without
    it, intervals come from seeds only (interval_kind says so).
    """
    from augstudy.schema import FINISHED, METRICS

    df = table[table["status"].isin(FINISHED)] if "status" in table else table
    metrics = [m for m in (metrics or METRICS) if m in df and df[m].notna().any()]
    keys = [k for k in KEYS if k in df]
    rows = []
    for metric in metrics:
        for method, sub in df.groupby("method", dropna=False, sort=False):
            wide = sub.pivot_table(index="pipeline", columns="seed", values=metric, aggfunc="mean")
            tied = pd.Series(tied_with_best(wide.to_numpy(), alpha), index=wide.index) if len(wide) else None
            for pipe, g in sub.groupby("pipeline", dropna=False, sort=False):
                rec = (records or {}).get((method, pipe, metric))
                iv = interval(g[metric].to_numpy(), rec)
                first = g.iloc[0]
                rows.append({**{k: first[k] for k in keys}, "metric": metric, "mean": iv.mean, "lower": iv.lower,
                             "upper": iv.upper, "n_seeds": iv.n_seeds, "interval_kind": iv.kind,
                             "tied_with_best": bool(tied[pipe]) if tied is not None and pipe in tied.index else False})
    return pd.DataFrame(rows)
