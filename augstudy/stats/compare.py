"""Paired comparison of two named policies of a results table (the library side of ``augstudy compare``).

Names as in the table: a pipeline label (``"crop + color"``), a cell id prefix, or ``op1=crop,op2=color``.
"""
from __future__ import annotations

import difflib

import pandas as pd

from augstudy.errors import AugstudyError
from augstudy.stats.paired import Paired, paired
from augstudy.stats.summary import records_for


def select(table: pd.DataFrame, name: str) -> pd.DataFrame:
    """The rows a name designates; a name matching nothing raises one line listing close names."""
    name = name.strip()
    if "=" in name:
        mask = pd.Series(True, index=table.index)
        for part in name.split(","):
            key, _, value = part.partition("=")
            key, value = key.strip(), value.strip()
            if key not in table:
                raise AugstudyError(f"compare: unknown column {key!r} in {name!r}; valid: op1, op2, pipeline, param, method")
            mask &= table[key].astype(str) == value
        rows = table[mask]
    else:
        rows = table[table["pipeline"] == name]
        if rows.empty:
            ids = table[table["cell_id"].astype(str).str.startswith(name)]
            rows = table[table["pipeline"].isin(ids["pipeline"])] if not ids.empty else ids
    if rows.empty:
        labels = sorted(set(table["pipeline"].dropna().astype(str)))
        close = difflib.get_close_matches(name, labels, n=5, cutoff=0.3) or labels[:5]
        raise AugstudyError(f"compare: {name!r} matches no policy; close names: {', '.join(close)}")
    return rows


def methods_of(table: pd.DataFrame) -> list[str]:
    """The methods of a table, in order of appearance."""
    return [str(m) for m in dict.fromkeys(table["method"].dropna())] if "method" in table else []


def compare(table: pd.DataFrame, a: str, b: str, metric: str = "linear_top1", method: str | None = None,
            records=None) -> Paired:
    """Paired comparison (a - b) of two policies of one method on their common seeds (and, with
    per-example ``records`` of both, on the same test examples too; see ``augstudy.stats.paired``).

    ``method`` may be omitted when the table has one method; with several, name one (a comparison that
    pooled SimCLR and supervised cells would mean nothing).
    """
    methods = methods_of(table)
    if method is None and len(methods) > 1:
        raise AugstudyError(f"compare: the table has several methods ({', '.join(methods)}); name one with --method")
    if method is not None:
        if method not in methods:
            raise AugstudyError(f"compare: no method {method!r} in the table; methods: {', '.join(methods)}")
        table = table[table["method"] == method]
    done = table[table["status"] == "done"] if "status" in table else table
    ra = select(done, a).dropna(subset=[metric]).drop_duplicates("seed").set_index("seed", drop=False)
    rb = select(done, b).dropna(subset=[metric]).drop_duplicates("seed").set_index("seed", drop=False)
    common = sorted(ra.index.intersection(rb.index))
    ra, rb = ra.loc[common], rb.loc[common]
    return paired(ra[metric].to_numpy(), rb[metric].to_numpy(), records_for(records, ra, metric),
                  records_for(records, rb, metric))
