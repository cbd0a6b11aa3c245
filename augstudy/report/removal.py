"""Removal studies (BYOL, Grill et al. 2020, Table 17): each policy's drop from a baseline policy, per method.

A list study whose grid names a ``baseline`` (``study.json`` ``grid.baseline``) is a removal study: every
other policy is the baseline with something removed. For each method and policy the drop is the mean over
seeds of ``baseline - policy`` (paired by seed: the same seed gives both runs the same initialisation and
batch order), with its standard error over those seeds. The paper's drops come from its Table 17
(``augstudy/reference/byol_table17.json``), matched by label: a policy labelled as a Table 17 setting
(``Remove flip``, ``Crop only``, ...) is drawn beside it. Reads the results files only.
"""
from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Optional

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats

from ..errors import AugstudyError
from ..stats import KINDS, paired
from ..stats.summary import records_for
from ._io import save_figure, write_text
from .curves import METHOD_COLORS
from .heatmap import METRIC_LABELS, method_label
from .results import StudyResults
from .summary import Section, md_table

#: Colors of methods that ``curves.METHOD_COLORS`` lacks (none of them SimCLR's blue or supervised's red).
_FALLBACK_COLORS = ("#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf")
#: The paper's baseline setting (BYOL's full policy, Table 6).
PAPER_BASELINE = "Baseline"


@functools.cache
def load_table17() -> dict[str, Any]:
    """The raw Table 17 record (``augstudy/reference/byol_table17.json``)."""
    return json.loads(resources.files("augstudy").joinpath("reference/byol_table17.json").read_text(encoding="utf-8"))


def _key(label: str) -> str:
    return " ".join(str(label).lower().replace("\u2019", "'").split())


def paper_top1(method: str) -> dict[str, float]:
    """Table 17's top-1 of ``method`` (its base name: ``byol(momentum=0.99)`` -> ``byol``) by normalised
    setting name; empty when the paper has no such method."""
    t = load_table17()
    values = t["top1"].get(str(method).split("(")[0].strip().lower())
    return {} if values is None else {_key(s): float(v) for s, v in zip(t["settings"], values)}


def baseline_of(study: StudyResults) -> Optional[str]:
    """The baseline label of a removal study (``grid.baseline`` of ``study.json``), or None."""
    grid = study.meta.get("grid") or {}
    baseline = grid.get("baseline")
    return str(baseline) if study.kind == "list" and baseline else None


@dataclass
class Removal:
    """Top-1 and drops of a removal study, rows = policies in study order (baseline first), cols = methods."""

    baseline: str
    methods: list[str]
    policies: list[str]  # every label, baseline included, in display order
    top1: pd.DataFrame  # mean over done seeds
    top1_se: pd.DataFrame  # standard error over seeds (NaN with fewer than 2)
    n: pd.DataFrame  # seeds with a value
    drop: pd.DataFrame  # mean over seeds of (baseline - policy), paired by seed; 0 for the baseline
    drop_se: pd.DataFrame  # its standard error over seeds (NaN with fewer than 2 paired seeds)
    drop_n: pd.DataFrame  # paired seeds
    drop_lower: pd.DataFrame  # the drop's 95% paired interval (augstudy.stats.paired: over seeds and, where
    drop_upper: pd.DataFrame  # per-example records exist, test examples); NaN without one
    paper_drop: pd.DataFrame  # Table 17 (ImageNet): paper Baseline - setting, NaN where no setting matches
    drop_kinds: tuple = ()  # what the drop intervals account for (augstudy.stats.KINDS keys)

    @property
    def removed(self) -> list[str]:
        """The policies other than the baseline."""
        return [p for p in self.policies if p != self.baseline]


def _se(values: np.ndarray) -> float:
    return float(np.std(values, ddof=1) / math.sqrt(len(values))) if len(values) > 1 else math.nan


def removal_table(study: StudyResults, metric: str = "linear_top1", baseline: Optional[str] = None) -> Removal:
    """The :class:`Removal` of ``study`` for ``metric`` (done cells only)."""
    baseline = baseline or baseline_of(study)
    if baseline is None:
        raise AugstudyError(f"{study.path}: not a removal study (its list grid names no baseline)")
    t = study.table
    done = t[(t["status"] == "done") & np.isfinite(pd.to_numeric(t[metric], errors="coerce"))] if metric in t else t.iloc[:0]
    # policies with no row at all (not run yet, e.g. a study run with --only) are left out; the summary lists them
    present = set(t["pipeline"])
    policies = [baseline] + [p for p in study.order if p != baseline and p in present]
    methods = list(study.methods)
    frames = {k: pd.DataFrame(np.nan, index=policies, columns=methods, dtype=float)
              for k in ("top1", "top1_se", "n", "drop", "drop_se", "drop_n", "drop_lower", "drop_upper", "paper_drop")}
    kinds = []
    for m in methods:
        per_seed = done[done["method"] == m].pivot_table(index="seed", columns="pipeline", values=metric, aggfunc="mean")
        by_policy = {q: g.drop_duplicates("seed").set_index("seed", drop=False)
                     for q, g in done[done["method"] == m].groupby("pipeline", sort=False)}
        paper = paper_top1(m)
        base_paper = paper.get(_key(PAPER_BASELINE))
        for p in policies:
            v = per_seed[p].dropna().to_numpy(float) if p in per_seed else np.array([])
            frames["n"].loc[p, m] = len(v)
            if len(v):
                frames["top1"].loc[p, m], frames["top1_se"].loc[p, m] = float(v.mean()), _se(v)
            if p in per_seed and baseline in per_seed:
                d = (per_seed[baseline] - per_seed[p]).dropna().to_numpy(float)
                frames["drop_n"].loc[p, m] = len(d)
                if len(d):
                    frames["drop"].loc[p, m], frames["drop_se"].loc[p, m] = float(d.mean()), _se(d)
                if len(d) and p != baseline:
                    rb, rp = by_policy[baseline], by_policy[p]
                    common = sorted(rb.index.intersection(rp.index))
                    rb, rp = rb.loc[common], rp.loc[common]
                    pr = paired(rb[metric].to_numpy(float), rp[metric].to_numpy(float),
                                records_for(study.records, rb, metric), records_for(study.records, rp, metric))
                    frames["drop_lower"].loc[p, m], frames["drop_upper"].loc[p, m] = pr.lower, pr.upper
                    if math.isfinite(pr.lower):
                        kinds.append(pr.kind)
            else:
                frames["drop_n"].loc[p, m] = 0
            setting = PAPER_BASELINE if p == baseline else p
            if base_paper is not None and _key(setting) in paper:
                frames["paper_drop"].loc[p, m] = base_paper - paper[_key(setting)]
    return Removal(baseline=baseline, methods=methods, policies=policies, **frames, drop_kinds=tuple(dict.fromkeys(kinds)))


@dataclass(frozen=True)
class Rank:
    """A Spearman rank correlation over ``n`` policies (NaN below 3)."""

    what: str
    rho: float
    p: float
    n: int

    def text(self) -> str:
        if not math.isfinite(self.rho):
            return f"{self.what}: not defined ({self.n} policies with both values)"
        return f"{self.what}: rho = {self.rho:.2f} (p = {self.p:.2g}, {self.n} policies)"


def _spearman(what: str, a: pd.Series, b: pd.Series) -> Rank:
    both = pd.concat([a, b], axis=1).dropna()
    if len(both) < 3 or both.iloc[:, 0].nunique() < 2 or both.iloc[:, 1].nunique() < 2:
        return Rank(what, math.nan, math.nan, len(both))
    r = stats.spearmanr(both.iloc[:, 0], both.iloc[:, 1])
    return Rank(what, float(r.statistic), float(r.pvalue), len(both))


def rank_correlations(rem: Removal) -> list[Rank]:
    """Spearman rho over the policies (baseline included): between every two methods of this study (their
    top-1), between the same two in the paper, and of each method's drops against the paper's."""
    out: list[Rank] = []
    ms = rem.methods
    for i, a in enumerate(ms):
        for b in ms[i + 1:]:
            la, lb = method_label(a), method_label(b)
            out.append(_spearman(f"{la} vs {lb} (this study)", rem.top1[a], rem.top1[b]))
            if rem.paper_drop[a].notna().any() and rem.paper_drop[b].notna().any():
                out.append(_spearman(f"{la} vs {lb} (paper, same policies)",
                                     -rem.paper_drop[a].where(rem.top1[a].notna()),
                                     -rem.paper_drop[b].where(rem.top1[b].notna())))
    for m in ms:
        if rem.paper_drop[m].notna().any():
            out.append(_spearman(f"{method_label(m)} vs the paper's {method_label(m)}", rem.drop[m], rem.paper_drop[m]))
    return out


@dataclass(frozen=True)
class Gap:
    """``drop(a) - drop(b)`` for one policy, with its standard error (the two methods' SEs combined)."""

    policy: str
    a: str
    b: str
    diff: float
    se: float

    @property
    def beyond_2se(self) -> bool:
        return math.isfinite(self.se) and self.se > 0 and abs(self.diff) > 2 * self.se


def gaps(rem: Removal, a: str, b: str) -> list[Gap]:
    """Per removed policy: how much more method ``a`` loses than method ``b`` (positive: ``a`` loses more)."""
    return [Gap(p, a, b, float(rem.drop.loc[p, a] - rem.drop.loc[p, b]),
                float(math.hypot(rem.drop_se.loc[p, a], rem.drop_se.loc[p, b]))) for p in rem.removed]


def _pm(mean: float, se: float, digits: int = 1) -> str:
    if not math.isfinite(mean):
        return "-"
    return f"{mean:.{digits}f}" + (f" ± {2 * se:.{digits}f}" if math.isfinite(se) else "")


def markdown(rem: Removal, metric: str) -> str:
    """The table: per policy and method, top-1 and drop (± 2 SE over seeds) and the paper's drop; then the
    drop differences between the first method and each other one."""
    header = ["policy"]
    for m in rem.methods:
        lab = method_label(m)
        header += [f"{lab} top-1", f"{lab} drop"] + ([f"{lab} drop (paper)"] if rem.paper_drop[m].notna().any() else [])
    rows = []
    for p in rem.policies:
        row = [p + (" (baseline)" if p == rem.baseline and _key(p) != "baseline" else "")]
        for m in rem.methods:
            row += [_pm(rem.top1.loc[p, m], rem.top1_se.loc[p, m]),
                    "0" if p == rem.baseline else _pm(rem.drop.loc[p, m], rem.drop_se.loc[p, m])]
            if rem.paper_drop[m].notna().any():
                v = rem.paper_drop.loc[p, m]
                row.append(f"{v:.1f}" if math.isfinite(v) else "-")
        rows.append(row)
    text = md_table(header, rows)
    text += (f"\n{METRIC_LABELS.get(metric, metric)}; ± = 2 standard errors over seeds (drops paired by seed). "
             "Drop = baseline minus policy. Paper: ImageNet, ResNet-50, 300 epochs (Grill et al. 2020, Table 17).\n")
    if len(rem.methods) > 1:
        a = rem.methods[0]
        for b in rem.methods[1:]:
            text += f"\nDrop of {method_label(a)} minus drop of {method_label(b)} (± 2 SE; * beyond 2 SE):\n\n"
            text += md_table(["policy", "difference"],
                             [[g.policy, _pm(g.diff, g.se) + (" *" if g.beyond_2se else "")] for g in gaps(rem, a, b)])
    return text


def long_frame(rem: Removal) -> pd.DataFrame:
    """One row per policy x method: the numbers of the table (for the CSV)."""
    rows = []
    for p in rem.policies:
        for m in rem.methods:
            rows.append({"policy": p, "baseline": p == rem.baseline, "method": m,
                         "top1": rem.top1.loc[p, m], "top1_se": rem.top1_se.loc[p, m], "n_seeds": int(rem.n.loc[p, m]),
                         "drop": rem.drop.loc[p, m], "drop_se": rem.drop_se.loc[p, m],
                         "paired_seeds": int(rem.drop_n.loc[p, m]), "paper_drop": rem.paper_drop.loc[p, m]})
    return pd.DataFrame(rows)


def removal_figure(rem: Removal, title: str, metric: str) -> Figure:
    """Two panels, one row per removed policy: this study's drops (one bar per method, error bars from the
    drop's 95% paired interval, asymmetric where it is) and the paper's (ImageNet) drops beside them."""
    pol = rem.removed
    n, k = len(pol), max(1, len(rem.methods))
    fig, axes = plt.subplots(1, 2, figsize=(10.5, 0.42 * n * k + 1.8), sharey=True, sharex=True,
                             gridspec_kw={"width_ratios": [1.25, 1]})
    y = np.arange(n)
    height = 0.8 / k
    for panel, (ax, values, errors, name) in enumerate(
            [(axes[0], rem.drop, True, "this study"), (axes[1], rem.paper_drop, None, "paper (ImageNet, Table 17)")]):
        for i, m in enumerate(rem.methods):
            v = values.loc[pol, m].to_numpy(float)
            if panel == 1 and not np.isfinite(v).any():
                continue
            yi = y + (i - (k - 1) / 2) * height
            err = None
            if errors is not None:  # (2, n): drop - lower, upper - drop; 0 where a drop has no interval
                lo, hi = v - rem.drop_lower.loc[pol, m].to_numpy(float), rem.drop_upper.loc[pol, m].to_numpy(float) - v
                ok = np.isfinite(lo) & np.isfinite(hi)
                err = np.vstack([np.where(ok, lo, 0.0), np.where(ok, hi, 0.0)]) if ok.any() else None
            ax.barh(yi, np.nan_to_num(v), height=height * 0.9, color=METHOD_COLORS.get(m, _FALLBACK_COLORS[i % len(_FALLBACK_COLORS)]),
                    xerr=err, label=method_label(m), error_kw={"lw": 0.8, "capsize": 2})
            for j in range(n):
                e = 0.0 if err is None else float(err[1, j] if v[j] >= 0 else err[0, j])
                x = v[j] if math.isfinite(v[j]) else 0.0
                ax.text(x + (e if x >= 0 else -e), yi[j], f" {v[j]:.1f} " if math.isfinite(v[j]) else " no value ",
                        va="center", ha="left" if x >= 0 else "right", fontsize=7)
        ax.axvline(0, color="black", lw=0.6)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel(f"drop from the baseline ({METRIC_LABELS.get(metric, metric) if panel == 0 else 'linear top-1'}, points)",
                      fontsize=8)
        ax.margins(x=0.18)
        ax.legend(fontsize=7, frameon=False, loc="lower right")
    axes[0].set_yticks(y, pol, fontsize=8)
    axes[0].invert_yaxis()
    over = "; ".join(KINDS[k] for k in rem.drop_kinds) or "none (one seed, no per-example records)"
    fig.suptitle(f"{title}\n(error bars: the drop's 95% paired interval over {over})", fontsize=10)
    fig.tight_layout()
    return fig


def removal_sections(study: StudyResults, metric: str, out: Path, sfx: str, written: list[Path],
                     sections: list[Section]) -> Removal:
    """Draw the drop chart, write the table (Markdown in the summary, CSV beside it) and the rank
    correlations; add the section; return the :class:`Removal`."""
    rem = removal_table(study, metric)
    stem = out / f"removal_{sfx}"
    seeds = study.n_seeds
    written += save_figure(removal_figure(rem, f"{study.name}: drop when a transformation is removed, "
                                               f"{seeds} seed{'s' if seeds != 1 else ''}", metric), stem)
    written.append(write_text(stem.with_suffix(".csv"), long_frame(rem).round(4).to_csv(index=False, lineterminator="\n")))
    text = (f"Baseline: **{rem.baseline}**; every other policy removes transformations from it. "
            f"Data: [`{stem.name}.csv`]({stem.name}.csv).\n\n" + markdown(rem, metric))
    ranks = rank_correlations(rem)
    after = "Spearman rank correlation over the policies:\n\n" + "".join(f"- {r.text()}\n" for r in ranks) if ranks else ""
    sections.append(Section("Removing transformations (BYOL Table 17)", text, [f"{stem.name}.png"], after))
    return rem


def removal_plotly(study: StudyResults, metric: str) -> list:
    """report.html: the drop chart as one interactive bar figure (this study's methods with the drops' 95%
    paired intervals, and the paper's)."""
    import plotly.graph_objects as go

    rem = removal_table(study, metric)
    pol = rem.removed
    fig = go.Figure()
    for m in rem.methods:
        fig.add_bar(name=method_label(m), y=pol, x=rem.drop.loc[pol, m], orientation="h",
                    error_x={"array": rem.drop_upper.loc[pol, m] - rem.drop.loc[pol, m],
                             "arrayminus": rem.drop.loc[pol, m] - rem.drop_lower.loc[pol, m]})
        if rem.paper_drop[m].notna().any():
            fig.add_bar(name=f"{method_label(m)} (paper)", y=pol, x=rem.paper_drop.loc[pol, m], orientation="h",
                        marker_pattern_shape="/")
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title=f"drop from {rem.baseline} (points)")
    fig.update_layout(barmode="group", title=f"{study.name}: drop when a transformation is removed (95% paired intervals)",
                      height=120 + 60 * len(pol))
    return [fig]
