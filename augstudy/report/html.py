"""``report.html``: one self-contained interactive page per study (Plotly offline, its JS inline once),
and ``index.html`` over a folder of studies. Reads the results files only."""
from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from ._io import write_text
from .results import StudyResults

_GLUE = """
<script>
// small glue: a click on a mark shows its cells' training curves (loss; lr on the right axis) and config
function showCell(ids){
  var box=document.getElementById('cell'), cells=window.CELLS||{}, out=[], traces=[];
  ids.forEach(function(id){
    var c=cells[id];
    if(!c){out.push('cell '+id+': its files (cells/'+id+'/) are not in this copy'); return;}
    var cfg=Object.assign({}, window.COMMON||{}, c.config||{}); delete cfg._lr_schedules;
    out.push('cell '+id+' ('+c.status+')'+(c.error?': '+c.error:''));
    Object.keys(c.metrics||{}).forEach(function(k){out.push('  '+k+' = '+c.metrics[k]);});
    if(out.length<60) Object.keys(cfg).sort().forEach(function(k){out.push('  '+k+': '+JSON.stringify(cfg[k]));});
    if(c.curve){
      var name=(cfg['labels.pipeline']||id)+' seed '+cfg.seed;
      var ep=c.curve.epoch||c.curve.loss.map(function(_, i){return i+1;});
      traces.push({x:ep, y:c.curve.loss, name:'loss, '+name, mode:'lines+markers'});
      var lr=typeof c.curve.lr==='number'?window.COMMON._lr_schedules[c.curve.lr]:c.curve.lr;
      if(lr) traces.push({x:ep, y:lr, name:'lr, '+name, yaxis:'y2', line:{dash:'dot'}});
    }
  });
  box.textContent=out.join('\\n');
  var cv=document.getElementById('curve');
  if(traces.length){
    cv.style.display='block';
    Plotly.newPlot(cv, traces, {title:{text:'training curves of the clicked cell'}, height:360,
      xaxis:{title:{text:'epoch'}}, yaxis:{title:{text:'loss'}},
      yaxis2:{title:{text:'learning rate'}, overlaying:'y', side:'right', showgrid:false}});
  } else { Plotly.purge(cv); cv.style.display='none'; }
}
document.querySelectorAll('.plotly-graph-div').forEach(function(g){
  if(!g.on || g.id==='curve') return;
  g.on('plotly_click', function(ev){
    var cd=ev.points[0].customdata;
    if(cd) showCell(String(cd).split(' ').filter(Boolean));
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
    every = t.groupby(["method", "policy"], sort=False).agg(
        runs=("cell_id", lambda s: " ".join(map(str, s))),
        statuses=("status", lambda s: ", ".join(f"{k} x{v}" if v > 1 else str(k) for k, v in s.value_counts().items())),
        errors=("error", lambda s: "; ".join(dict.fromkeys(str(e) for e in s.dropna())))).reset_index()
    out = keys.merge(agg, on=["method", "policy"], how="left").merge(every, on=["method", "policy"], how="left")
    st = study.policy_stats(metric)  # the 95% intervals (augstudy.stats): what the error bars draw, never the std
    if len(st) and "pipeline" in st:
        st = st.assign(policy=st["pipeline"].astype(str))[["method", "policy", "lower", "upper"]]
        out = out.merge(st.drop_duplicates(["method", "policy"]), on=["method", "policy"], how="left")
    else:
        out = out.assign(lower=np.nan, upper=np.nan)
    return out


def _error(a: pd.DataFrame) -> dict:
    """Plotly error bars from the 95% interval, asymmetric where it is (none where a policy has no interval)."""
    return {"array": (a["upper"] - a["mean"]).fillna(0), "arrayminus": (a["mean"] - a["lower"]).fillna(0)}


def _hover(r) -> str:
    s = f"{r.policy}<br>mean {r['mean']:.2f}" if pd.notna(r["mean"]) else f"{r.policy}<br>no done cell"
    if "lower" in r and pd.notna(r.get("lower")):
        s += f" [{r['lower']:.2f}, {r['upper']:.2f}]"
    elif pd.notna(r.get("std")):
        s += f" ± {r['std']:.2f} (sd)"
    cells = r.get("cells") if isinstance(r.get("cells"), str) and r.get("cells") else "-"
    s += f"<br>seeds {int(r['n_seeds']) if pd.notna(r['n_seeds']) else 0}<br>cells {cells}"
    if isinstance(r.get("statuses"), str) and r["statuses"] != "done" and not r["statuses"].startswith("done x"):
        s += f"<br>runs: {r['statuses']}" + (f"<br>{html.escape(r['errors'][:120])}" if r.get("errors") else "")
    return s


def _not_done(a: pd.DataFrame) -> pd.DataFrame:
    """The policies with no done seed (failed, diverged): drawn as marks of their own."""
    return a[a["mean"].isna()]


def figures(study: StudyResults, agg: pd.DataFrame, metric: str) -> list[go.Figure]:
    """The main view: a heatmap per method (pairwise: values in the cells, an x on cells with no done
    seed), a line over the sweep's columns (sweep), or bars (list). ``customdata`` holds cell ids."""
    figs = []
    if study.kind == "sweep":
        return [_sweep_figure(study, agg, metric)]
    for method, a in agg.groupby("method", sort=False):
        a = a.assign(hover=[_hover(r) for _, r in a.iterrows()])
        if study.kind == "pairwise":
            ops = study.order
            piv = {(r.op1, r.op2): r for _, r in a.iterrows()}
            z = [[piv[(o1, o2)]["mean"] if (o1, o2) in piv else None for o2 in ops] for o1 in ops]
            txt = [[piv[(o1, o2)]["hover"] if (o1, o2) in piv else "" for o2 in ops] for o1 in ops]
            cd = [[piv[(o1, o2)]["runs"] if (o1, o2) in piv else "" for o2 in ops] for o1 in ops]
            fig = go.Figure(go.Heatmap(z=z, x=ops, y=ops, text=txt, customdata=cd, hovertemplate="%{text}<extra></extra>",
                                       texttemplate="%{z:.1f}", colorscale="Viridis", colorbar={"title": {"text": metric}},
                                       name="cells"))
            bad = _not_done(a)
            if len(bad):
                fig.add_trace(go.Scatter(x=bad["op2"], y=bad["op1"], mode="markers+text", text=bad["statuses"],
                                         textposition="bottom center", customdata=bad["runs"], hovertext=bad["hover"],
                                         hovertemplate="%{hovertext}<extra></extra>", name="no done seed",
                                         marker={"symbol": "x", "size": 14, "color": "crimson"}, showlegend=False))
            fig.update_yaxes(autorange="reversed", title="1st transformation", type="category", categoryorder="array",
                             categoryarray=ops)
            fig.update_xaxes(title="2nd transformation", type="category", categoryorder="array", categoryarray=ops)
        else:
            a = a.set_index("policy").reindex([o for o in study.order if o in set(a["policy"])] or a["policy"]).reset_index()
            fig = go.Figure(go.Bar(x=a["policy"], y=a["mean"].fillna(0), error_y=_error(a), hovertext=a["hover"],
                                   text=[f"{v:.1f}" if pd.notna(v) else s for v, s in zip(a["mean"], a["statuses"])],
                                   customdata=a["runs"], hovertemplate="%{hovertext}<extra></extra>", name=method))
            fig.update_yaxes(title=metric)
        fig.update_layout(title=f"{study.name}: {method} ({metric}); click a cell for its curves and config",
                          height=600 if study.kind == "pairwise" else 420)
        figs.append(fig)
    from .removal import baseline_of, removal_plotly

    if baseline_of(study) is not None:  # a removal study: the drops from its baseline
        figs += removal_plotly(study, metric)
    return figs


def _sweep_figure(study: StudyResults, agg: pd.DataFrame, metric: str) -> go.Figure:
    """Top-1 against the swept column, a line per method with its spread; the paper's Table 1 row on
    the right axis (its numbers are ImageNet's: compare the shape, not the level)."""
    from .strength import strength_table

    fig = go.Figure()
    for method, a in agg.groupby("method", sort=False):
        a = a.set_index("policy").reindex([o for o in study.order if o in set(a["policy"])] or a["policy"]).reset_index()
        a = a.assign(hover=[_hover(r) for _, r in a.iterrows()])
        fig.add_trace(go.Scatter(x=a["policy"], y=a["mean"], error_y=_error(a), mode="lines+markers",
                                 hovertext=a["hover"], customdata=a["runs"], hovertemplate="%{hovertext}<extra></extra>",
                                 name=f"{method} (this study)", marker={"size": 10}))
        bad = _not_done(a)
        if len(bad):
            fig.add_trace(go.Scatter(x=bad["policy"], y=[0] * len(bad), mode="markers+text", text=bad["statuses"],
                                     textposition="top center", customdata=bad["runs"], hovertext=bad["hover"],
                                     hovertemplate="%{hovertext}<extra></extra>", name=f"{method}: no done seed",
                                     marker={"symbol": "x", "size": 14, "color": "crimson"}))
    table = strength_table(study, metric)
    n_ours = len(table.grid.cols)
    for k, (label, _method, source) in enumerate(table.rows):
        if source == "paper":
            fig.add_trace(go.Scatter(x=table.grid.cols, y=table.mean[k][:n_ours], mode="lines+markers", yaxis="y2",
                                     name=label, line={"dash": "dash"}, marker={"symbol": "diamond"},
                                     hovertemplate=f"{label}<br>%{{x}}: %{{y:.1f}}<extra></extra>"))
    fig.update_layout(title=f"{study.name}: {metric} by {study.param or 'column'}; click a point for its curves and config",
                      height=460, xaxis={"title": {"text": study.param or "column"}, "type": "category"},
                      yaxis={"title": {"text": f"{metric} (this study)"}},
                      yaxis2={"title": {"text": "the paper's top-1 (ImageNet)"}, "overlaying": "y", "side": "right",
                              "showgrid": False}, legend={"orientation": "h", "y": -0.2})
    return fig


def paper_section(study: StudyResults, metric: str) -> tuple[str, list[go.Figure]]:
    """The comparison with the paper: pairwise, this study's SimCLR cells against Figure 5 (a scatter
    over the shared cells, with Spearman rho); sweeps, rho against Table 1 (its row is in the line view)."""
    if study.kind == "pairwise":
        if "simclr" not in study.methods:
            return "", []
        from .comparison import compare_with_paper
        from .tables import pairwise_grid

        grid = pairwise_grid(study, metric, "simclr")
        comp = compare_with_paper(grid)
        xs, ys, names = [], [], []
        for i, a in enumerate(grid.rows):
            for j, b in enumerate(grid.cols):
                if np.isfinite(comp.paper_values[i, j]) and np.isfinite(grid.mean[i, j]):
                    xs.append(float(comp.paper_values[i, j]))
                    ys.append(float(grid.mean[i, j]))
                    names.append(a if a == b else f"{a} + {b}")
        if not xs:
            return f"<p>{html.escape(comp.describe())}.</p>", []
        fig = go.Figure(go.Scatter(x=xs, y=ys, mode="markers", text=names, marker={"size": 9},
                                   hovertemplate="%{text}<br>paper %{x:.1f}<br>this study %{y:.2f}<extra></extra>"))
        fig.update_layout(title=f"SimCLR against the paper's Figure 5: {comp.describe()}", height=480,
                          xaxis={"title": {"text": "the paper's linear top-1 (ImageNet)"}},
                          yaxis={"title": {"text": f"this study's {metric}"}})
        return (f"<p>{html.escape(comp.describe())}. The paper's numbers are ImageNet linear evaluation: "
                "the ranks are what compare.</p>"), [fig]
    if study.kind == "sweep":
        from .strength import strength_rho, strength_table

        table = strength_table(study, metric)
        rho, n = strength_rho(table)
        out = table.frame().to_html(border=0, classes="t1")  # Table 1: this study's rows beside the paper's
        if n:
            text = (f"Spearman rho of SimCLR against the paper's Table 1 row: {rho:.2f} over {n} strengths"
                    if np.isfinite(rho) else f"Spearman rho against Table 1: not defined ({n} shared strengths)")
            out = f"<p>{html.escape(text)} (the paper's rows are the dashed lines, right axis).</p>" + out
        return out, []
    return "", []


def _round(v):
    return float(f"{v:.5g}") if isinstance(v, float) and np.isfinite(v) else v


def _flat(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict) and v:
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


_METRIC_KEYS = ("linear_top1", "knn_top1", "linear_top1_z", "knn_top1_z", "train_seconds", "device")


def cells_data(study: StudyResults) -> tuple[dict, dict]:
    """``(COMMON, CELLS)`` for the click view, from ``cells/<id>/`` of the table's cells: the config keys
    every cell shares once (and ``_lr_schedules``, each distinct lr curve once), and per cell its own
    keys, status, a few metrics and its curve (5 digits; ``epoch`` left out when 1..n, ``lr`` an index)."""
    root = study.path / "cells"
    cells: dict = {}
    configs: dict = {}
    schedules: dict = {}
    for cid in dict.fromkeys(study.table["cell_id"].astype(str)):
        d = root / cid
        if not d.is_dir():
            continue
        c: dict = {}
        if (d / "config.json").is_file():
            configs[cid] = {k: v for k, v in _flat(json.loads((d / "config.json").read_text())).items() if k not in ("cell_id", "labels.cell_id")}
        m = next((json.loads((d / f).read_text()) for f in ("metrics.json", "failed.json") if (d / f).is_file()), {})
        c["status"] = m.get("status", "?")
        if m.get("error"):
            c["error"] = str(m["error"])[:300]
        c["metrics"] = {k: _round(m[k]) for k in _METRIC_KEYS if m.get(k) is not None}
        if (d / "curve.csv").is_file():
            curve = pd.read_csv(d / "curve.csv")
            c["curve"] = {k: [_round(float(v)) for v in curve[k]] for k in curve.columns}
            if c["curve"].get("epoch") == list(range(1, len(curve) + 1)):
                del c["curve"]["epoch"]  # 1..n: implied
            if "lr" in c["curve"]:  # one schedule is shared by many cells: kept once, cells point at it
                key = json.dumps(c["curve"]["lr"])
                c["curve"]["lr"] = schedules.setdefault(key, len(schedules))
        cells[cid] = c
    common: dict = {}
    if configs:
        first, *rest = configs.values()
        common = {k: v for k, v in first.items() if all(k in o and o[k] == v for o in rest)}
        if not rest:  # one cell: keep what names it beside its curve
            common = {k: v for k, v in common.items() if not k.startswith("labels.") and k not in ("seed",)}
    for cid, cfg in configs.items():
        cells[cid]["config"] = {k: v for k, v in cfg.items() if k not in common}
    common["_lr_schedules"] = [json.loads(k) for k in schedules]
    return common, cells


def headline(study: StudyResults, agg: pd.DataFrame) -> dict:
    best = agg.dropna(subset=["mean"]).sort_values("mean", ascending=False).head(1)
    done = int((study.table["status"] == "done").sum())
    return {"best": f"{best.iloc[0]['policy']} ({best.iloc[0]['mean']:.1f})" if len(best) else "-",
            "cells": f"{done}/{len(study.table)}"}


def write_report(study: StudyResults, metric: str, summary: str, extra: str = "") -> Path:
    """Write ``<study>/figures/report.html``; return its path. ``extra``: more HTML under the headline."""
    agg = aggregate(study, metric)
    paper_html, paper_figs = paper_section(study, metric)
    figs = figures(study, agg, metric) + paper_figs
    parts = [pio.to_html(f, full_html=False, include_plotlyjs=(i == 0), config={"displaylogo": False})
             for i, f in enumerate(figs)]
    main, paper_parts = parts[:len(parts) - len(paper_figs)], parts[len(parts) - len(paper_figs):]
    h = headline(study, agg)
    common, cells = cells_data(study)
    data = (f"window.COMMON={json.dumps(common)};window.CELLS={json.dumps(cells, separators=(',', ':'))};"
            ).replace("</", "<\\/")
    counts = study.table["status"].value_counts()
    state = ", ".join(f"{n} {s}" for s, n in counts.items())
    desc = study.meta.get("description") or ""
    no_cells = "" if cells else " (this copy has no cells/ folder: the curves and configs are in the run's own results)"
    body = (f"<h1>{html.escape(study.name)}</h1>" + (f"<p>{html.escape(desc)}</p>" if desc else "")
            + f"<p>best: {html.escape(h['best'])}; cells done: {h['cells']} ({html.escape(state)})</p>{extra}"
            + "".join(main)
            + f"<h2>Clicked cell</h2><div id='curve' class='plotly-graph-div' style='display:none'></div>"
            + f"<pre id='cell'>click a cell of a figure above for its training curves and resolved config{no_cells}</pre>"
            + (f"<h2>{'Table 1 and the paper' if study.kind == 'sweep' else 'Against the paper'}</h2>{paper_html}{''.join(paper_parts)}" if paper_html or paper_parts else "")
            + f"<h2>Summary</h2><pre style='white-space:pre-wrap'>{html.escape(summary)}</pre>")
    return write_text(study.path / "figures" / "report.html", _page(study.name, body, f"<script>{data}</script>", _GLUE))


def _page(title: str, body: str, head_script: str = "", glue: str = "") -> str:
    """A self-contained page: every script inline, a policy that forbids any network request."""
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'>"
            f"<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
            f"style-src 'unsafe-inline'; img-src data:; font-src data:\"><title>{html.escape(title)}</title>"
            f"<style>body{{font-family:sans-serif;max-width:1100px;margin:1em auto}}pre{{background:#f6f6f6;padding:.5em;white-space:pre-wrap}}table.t1 td,table.t1 th{{padding:2px 8px;text-align:right}}</style>"
            f"</head><body>{head_script}{body}{glue}</body></html>")


def write_search_report(study: StudyResults, board: pd.DataFrame, hist: pd.DataFrame, objective: str,
                        importances: dict, snippet: str, summary: str) -> Path:
    """``report.html`` of a search study: the leaderboard, the optimisation history (hover: trial and
    policy), Optuna's parameter importances, the selected policy as YAML and the summary."""
    figs = []
    if len(hist):
        fig = go.Figure()
        fig.add_trace(go.Scatter(x=hist["epochs_spent"], y=hist[objective], mode="markers", name="trial",
                                 text=[f"trial {t}: {p}" for t, p in zip(hist["trial"], hist["policy"])],
                                 hovertemplate="%{text}<br>%{y:.1f} after %{x} epochs<extra></extra>", opacity=0.6))
        fig.add_trace(go.Scatter(x=hist["epochs_spent"], y=hist["best_so_far"], mode="lines", line_shape="hv",
                                 name="best so far"))
        fig.update_layout(title=f"{study.name}: optimisation history", xaxis_title="training epochs spent",
                          yaxis_title=f"{objective}, validation split", height=420)
        figs.append(fig)
    if importances:
        names = list(importances)[::-1]
        fig = go.Figure(go.Bar(x=[importances[n] for n in names], y=names, orientation="h"))
        fig.update_layout(title="parameter importances (Optuna)", height=160 + 30 * len(names))
        figs.append(fig)
    parts = [pio.to_html(f, full_html=False, include_plotlyjs=(i == 0), config={"displaylogo": False})
             for i, f in enumerate(figs)]
    table = board.drop(columns=["policy"], errors="ignore").head(20).round(2).to_html(index=False, border=0, classes="t1", na_rep="-") if len(board) else ""
    body = (f"<h1>{html.escape(study.name)}</h1><h2>Leaderboard</h2>{table}" + "".join(parts)
            + (f"<h2>The selected policy as a study file snippet</h2><pre>{html.escape(snippet)}</pre>" if snippet else "")
            + f"<h2>Summary</h2><pre style='white-space:pre-wrap'>{html.escape(summary)}</pre>")
    return write_text(study.path / "figures" / "report.html", _page(study.name, body))


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
