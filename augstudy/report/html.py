"""``report.html``: one self-contained interactive page per study (Plotly offline, its JS inline once),
and ``index.html`` over a folder of studies. Reads the results files only."""
from __future__ import annotations

import html
import json
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from ._io import write_text
from .results import StudyResults

_GLUE = """
<script>
function showCell(info){
  var d=document.getElementById('cell');
  d.textContent=info;
}
document.querySelectorAll('.plotly-graph-div').forEach(function(g){
  if(!g.on) return;
  g.on('plotly_click', function(ev){
    var p=ev.points[0]; var cd=p.customdata||[];
    var id=Array.isArray(cd)?cd[cd.length-1]:cd;
    var c=(window.CELLS||{})[id];
    showCell(c?JSON.stringify(c,null,1):'cell '+id+': no curves in this copy');
  });
});
</script>"""


def aggregate(study: StudyResults, metric: str) -> pd.DataFrame:
    """Per method x policy: mean, n_seeds, std and the cell ids of the done cells (the one place to
    point at a statistics module's summary later)."""
    t = study.table.copy()
    t["policy"] = t["pipeline"].astype(str)
    done = t[t["status"] == "done"]
    g = done.groupby(["method", "policy"], sort=False)
    agg = g.agg(mean=(metric, "mean"), std=(metric, "std"), n_seeds=(metric, "count"),
                cells=("cell_id", lambda s: " ".join(map(str, s)))).reset_index()
    keys = t.drop_duplicates(["method", "policy"])[["method", "policy", "op1", "op2"]]
    return keys.merge(agg, on=["method", "policy"], how="left")


def _hover(r) -> str:
    s = f"{r.policy}<br>mean {r['mean']:.2f}" if pd.notna(r["mean"]) else f"{r.policy}<br>no done cell"
    if "lower" in r and pd.notna(r.get("lower")):
        s += f" [{r['lower']:.2f}, {r['upper']:.2f}]"
    elif pd.notna(r.get("std")):
        s += f" ± {r['std']:.2f} (sd)"
    return s + f"<br>seeds {int(r['n_seeds']) if pd.notna(r['n_seeds']) else 0}<br>cells {r.get('cells') or '-'}"


def figures(study: StudyResults, agg: pd.DataFrame, metric: str) -> list[go.Figure]:
    figs = []
    for method, a in agg.groupby("method", sort=False):
        a = a.assign(hover=[_hover(r) for _, r in a.iterrows()], first=a["cells"].fillna("").str.split().str[0])
        if study.kind == "pairwise":
            ops = study.order
            piv = {(r.op1, r.op2): r for _, r in a.iterrows()}
            z = [[piv[(o1, o2)]["mean"] if (o1, o2) in piv else None for o2 in ops] for o1 in ops]
            txt = [[piv[(o1, o2)]["hover"] if (o1, o2) in piv else "" for o2 in ops] for o1 in ops]
            cd = [[piv[(o1, o2)]["first"] if (o1, o2) in piv else "" for o2 in ops] for o1 in ops]
            fig = go.Figure(go.Heatmap(z=z, x=ops, y=ops, text=txt, customdata=cd, hoverinfo="text",
                                       colorscale="Viridis", colorbar={"title": metric}))
            fig.update_yaxes(autorange="reversed", title="1st transformation")
            fig.update_xaxes(title="2nd transformation")
        else:
            a = a.set_index("policy").reindex([o for o in study.order if o in set(a["policy"])] or a["policy"]).reset_index()
            err = (a["upper"] - a["mean"]) if "upper" in a else a["std"]
            fig = go.Figure(go.Bar(x=a["policy"], y=a["mean"], error_y={"array": err}, text=a["hover"],
                                   customdata=a["first"], hoverinfo="text"))
            fig.update_yaxes(title=metric)
        fig.update_layout(title=f"{study.name}: {method} ({metric})", height=600 if study.kind == "pairwise" else 420)
        figs.append(fig)
    from .removal import baseline_of, removal_plotly

    if baseline_of(study) is not None:  # a removal study: the drops from its baseline
        figs += removal_plotly(study, metric)
    return figs


def _cells(study: StudyResults) -> dict:
    out = {}
    for d in sorted((study.path / "cells").glob("*/")) if (study.path / "cells").is_dir() else []:
        c = {}
        for name in ("config.json", "metrics.json"):
            if (d / name).is_file():
                c[name[:-5]] = json.loads((d / name).read_text())
        if (d / "curve.csv").is_file():
            c["curve"] = pd.read_csv(d / "curve.csv").to_dict("list")
        c.get("metrics", {}).pop("versions", None)
        out[d.name] = c
    return out


def headline(study: StudyResults, agg: pd.DataFrame) -> dict:
    best = agg.dropna(subset=["mean"]).sort_values("mean", ascending=False).head(1)
    done = int((study.table["status"] == "done").sum())
    return {"best": f"{best.iloc[0]['policy']} ({best.iloc[0]['mean']:.1f})" if len(best) else "-",
            "cells": f"{done}/{len(study.table)}"}


def write_report(study: StudyResults, metric: str, summary: str, extra: str = "") -> Path:
    """Write ``<study>/figures/report.html``; return its path."""
    agg = aggregate(study, metric)
    parts = [pio.to_html(f, full_html=False, include_plotlyjs=(i == 0)) for i, f in enumerate(figures(study, agg, metric))]
    h = headline(study, agg)
    cells = json.dumps(_cells(study)).replace("</", "<\\/")
    body = (f"<h1>{html.escape(study.name)}</h1><p>best: {html.escape(h['best'])}; cells done: {h['cells']}</p>"
            f"{extra}{''.join(parts)}<h2>Clicked cell</h2><pre id='cell'>click a cell (no curves in this copy"
            f"{'' if cells != '{}' else ''})</pre><h2>Summary</h2><pre style='white-space:pre-wrap'>{html.escape(summary)}</pre>")
    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'>"
            f"<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
            f"style-src 'unsafe-inline'; img-src data:; font-src data:\"><title>{html.escape(study.name)}</title></head>"
            f"<body><script>window.CELLS={cells};</script>{body}{_GLUE}</body></html>")
    return write_text(study.path / "figures" / "report.html", page)


def write_index(results_dir: Path, rows: list[dict]) -> Path:
    """``index.html`` linking every study's report with its headline."""
    trs = "".join(f"<tr><td><a href='{html.escape(r['name'])}/figures/report.html'>{html.escape(r['name'])}</a></td>"
                  f"<td>{html.escape(r['best'])}</td><td>{html.escape(r.get('rho', '-'))}</td><td>{r['cells']}</td></tr>" for r in rows)
    page = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>augstudy results</title></head><body>"
            "<h1>Studies</h1><table border=1><tr><th>study</th><th>best policy</th><th>rho vs paper</th><th>cells done</th></tr>"
            f"{trs}</table></body></html>")
    return write_text(Path(results_dir) / "index.html", page)


def index_row(study_dir: Path, metric: str) -> dict:
    """One index line: study name, best policy, rho against the paper (pairwise with SimCLR), cells done."""
    from .comparison import compare_with_paper
    from .results import load_study
    from .tables import pairwise_grid

    study = load_study(study_dir)
    row = {"name": study.path.name, **headline(study, aggregate(study, metric))}
    if study.kind == "pairwise" and "simclr" in study.methods:
        c = compare_with_paper(pairwise_grid(study, metric, "simclr"))
        row["rho"] = f"{c.rho:.2f} ({c.n} cells)" if c.n and c.rho == c.rho else "-"
    return row
