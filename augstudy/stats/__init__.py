"""Statistics over results tables (floor 1: numpy, scipy, pandas only; knows nothing of models or the runner).

- :func:`interval` -- a mean over seeds with its 95% interval (with per-example records: a two-way
  seeds x examples variance; without: t over seeds; one seed: test examples only).
- :func:`paired` -- paired comparison of two policies on the same seeds and test examples.
- :func:`spearman_interval` -- Spearman rho against reference values, bootstrap over seeds and examples.
- :func:`tied_with_best` -- the policies not significantly worse than the best (Holm over paired tests).
- :func:`seeds_for_power` -- how many seeds give the wanted power to detect a difference.
- :func:`summarize` -- one row per method x policy x metric with mean, lower, upper, n_seeds,
  interval_kind and tied_with_best.
"""
from augstudy.stats.intervals import Interval, interval
from augstudy.stats.paired import Paired, paired
from augstudy.stats.power import seeds_for_power
from augstudy.stats.ties import holm, tied_with_best
from augstudy.stats.summary import summarize
from augstudy.stats.compare import compare
from augstudy.stats.rank import Rho, spearman_interval
from augstudy.stats.intervals import KINDS, mean_variance
from augstudy.stats.ties import vs_best

__all__ = ["Interval", "interval", "Paired", "paired", "seeds_for_power", "holm", "tied_with_best", "summarize", "compare",
           "Rho", "spearman_interval", "KINDS", "mean_variance", "vs_best"]
